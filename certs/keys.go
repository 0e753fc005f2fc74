package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrWrongPassphrase is wrapped by every error that means "the passphrase
// does not open this key file". Callers test it with errors.Is to ask again.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// wrongPassphraseError names the key file and says what to check; it is
// ErrWrongPassphrase for errors.Is.
type wrongPassphraseError struct{ name string }

func (e *wrongPassphraseError) Error() string {
	return "certs: 口令错误 / wrong passphrase for " + e.name + ": check ZHENGXIN_PASSPHRASE (the passphrase given at init)"
}

func (e *wrongPassphraseError) Is(target error) bool { return target == ErrWrongPassphrase }

// PEM block types read and written by this package.
const (
	pemEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
	pemPrivateKey          = "PRIVATE KEY"
	pemECPrivateKey        = "EC PRIVATE KEY"
	pemPublicKey           = "PUBLIC KEY"
	pemCertificate         = "CERTIFICATE"
	pemCRL                 = "X509 CRL"
)

// KDFIterations is the PBKDF2-HMAC-SM3 iteration count used when writing key
// files. About 0.1 s on the reference machine: slow enough to make guessing
// a passphrase costly, fast enough for a CLI that opens a key per command.
const KDFIterations = 100_000

// maxPEMInput bounds every PEM/DER input this package parses.
const maxPEMInput = 1 << 20

// GenerateKey returns a new SM2 key pair from crypto/rand.
func GenerateKey() (*sm2.PrivateKey, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generating SM2 key: %w", err)
	}
	return k, nil
}

// keyEncrypter is PBES2 (RFC 8018, OID 1.2.840.113549.1.5.13) with
// PBKDF2-HMAC-SM3 and SM4-CBC: the standard container with national
// algorithms inside. OpenSSL 3.0 knows SM4-CBC but not the hmacWithSM3 PRF,
// so it cannot open these files; gmsm, Tongsuo and GmSSL can.
var keyEncrypter = pkcs.NewPBESEncrypter(pkcs.SM4CBC, pkcs.NewPBKDF2Opts(pkcs.SM3, 16, KDFIterations))

// MarshalPrivateKeyPEM encodes key as an "ENCRYPTED PRIVATE KEY" PEM block
// (PKCS#8 EncryptedPrivateKeyInfo, PBES2 with PBKDF2-HMAC-SM3 and SM4-CBC).
// An empty passphrase is refused: keys are never stored in the clear.
func MarshalPrivateKeyPEM(key *sm2.PrivateKey, passphrase []byte) ([]byte, error) {
	if key == nil {
		return nil, errors.New("certs: no private key to encode")
	}
	if len(passphrase) == 0 {
		return nil, errors.New("certs: empty passphrase: private keys are always stored encrypted, give a passphrase")
	}
	der, err := pkcs8.MarshalPrivateKey(key, passphrase, keyEncrypter)
	if err != nil {
		return nil, fmt.Errorf("certs: encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM reads an SM2 private key from PEM: an "ENCRYPTED
// PRIVATE KEY" (PKCS#8 PBES2, opened with passphrase), or, for keys made by
// other tools, an unencrypted "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY"
// (SEC 1) on the SM2 curve. A wrong passphrase gives an error wrapping
// ErrWrongPassphrase; anything that is not an SM2 key says what it is.
func ParsePrivateKeyPEM(data, passphrase []byte) (*sm2.PrivateKey, error) {
	return parsePrivateKeyPEM(data, passphrase, "private key")
}

func parsePrivateKeyPEM(data, passphrase []byte, name string) (*sm2.PrivateKey, error) {
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("certs: %s is %d bytes, too large for a key file (limit %d)", name, len(data), maxPEMInput)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("certs: %s is not PEM: expected a -----BEGIN ENCRYPTED PRIVATE KEY----- block", name)
	}
	var key any
	var err error
	switch block.Type {
	case pemEncryptedPrivateKey:
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("certs: %s is encrypted: give its passphrase", name)
		}
		key, err = decryptPKCS8(block.Bytes, passphrase, name)
		if err != nil {
			return nil, err
		}
	case pemPrivateKey:
		key, err = smx509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: %s: corrupt PKCS#8 private key: %v", name, err)
		}
	case pemECPrivateKey:
		key, err = smx509.ParseTypedECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: %s: corrupt SEC 1 EC private key: %v", name, err)
		}
	default:
		return nil, fmt.Errorf("certs: %s holds a %q PEM block, expected an ENCRYPTED PRIVATE KEY (SM2)", name, block.Type)
	}
	return sm2PrivateKey(key, name)
}

// decryptPKCS8 opens an EncryptedPrivateKeyInfo. It first reads the key
// derivation parameters itself, so a crafted file cannot ask for an
// unbounded amount of work or memory, and tells a damaged file from a
// wrong passphrase.
func decryptPKCS8(der, passphrase []byte, name string) (any, error) {
	if err := checkKDFCost(der); err != nil {
		return nil, fmt.Errorf("certs: %s: %v", name, err)
	}
	key, _, err := pkcs8.ParsePrivateKey(der, passphrase)
	if err != nil {
		// With a wrong key, CBC decryption ends in bad padding (usually) or
		// in garbage that does not parse as PKCS#8 (about 1 in 256).
		if errors.Is(err, pkcs.ErrPBEDecryption) || isPKCS8ParseError(err) {
			return nil, &wrongPassphraseError{name}
		}
		return nil, fmt.Errorf("certs: %s: cannot decrypt private key: %v", name, err)
	}
	return key, nil
}

// isPKCS8ParseError reports whether err came from parsing the decrypted
// plaintext, which, the container having parsed, means the key was wrong.
func isPKCS8ParseError(err error) bool {
	var se asn1.StructuralError
	var sy asn1.SyntaxError
	if errors.As(err, &se) || errors.As(err, &sy) {
		return true
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "x509:") || strings.Contains(msg, "padding")
}

// Limits on what an encrypted key file may ask of its reader.
var (
	maxKDFIterations int64 = 10_000_000 // PBKDF2 / PBES1
	maxScryptMemory  int64 = 256 << 20  // 128 * N * r bytes
	maxScryptP       int64 = 16
)

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidSMPBES = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 4, 1, 5, 2}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidSMKDF  = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 4, 1, 5, 1}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

// checkKDFCost reads the key-derivation parameters of an
// EncryptedPrivateKeyInfo (RFC 5208, RFC 8018 A.2-A.4, RFC 7914 §7) and
// refuses costs beyond the limits above:
//
//	EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
//	PBES2-params  ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
//	PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, ... }
//	scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter INTEGER, blockSize INTEGER, parallelizationParameter INTEGER, ... }
//	PBEParameter  ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }   -- PBES1, PKCS#12
func checkKDFCost(der []byte) error {
	in := cryptobyte.String(der)
	var epki, alg, data cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&epki, cbasn1.SEQUENCE) || !in.Empty() ||
		!epki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!epki.ReadASN1(&data, cbasn1.OCTET_STRING) || !epki.Empty() ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return errors.New("corrupt encrypted private key: not a PKCS#8 EncryptedPrivateKeyInfo")
	}
	if !oid.Equal(oidPBES2) && !oid.Equal(oidSMPBES) {
		// PBES1 and PKCS#12 schemes: PBEParameter.
		return checkIterations(alg)
	}
	var params, kdf cryptobyte.String
	var kdfOID asn1.ObjectIdentifier
	if !alg.ReadASN1(&params, cbasn1.SEQUENCE) ||
		!params.ReadASN1(&kdf, cbasn1.SEQUENCE) ||
		!kdf.ReadASN1ObjectIdentifier(&kdfOID) {
		return errors.New("corrupt encrypted private key: malformed PBES2 parameters")
	}
	switch {
	case kdfOID.Equal(oidPBKDF2), kdfOID.Equal(oidSMKDF):
		return checkIterations(kdf)
	case kdfOID.Equal(oidScrypt):
		return checkScrypt(kdf)
	}
	return fmt.Errorf("unsupported key derivation function %v: expected PBKDF2", kdfOID)
}

// checkIterations reads SEQUENCE { salt OCTET STRING, iterationCount INTEGER, ... }.
func checkIterations(s cryptobyte.String) error {
	var p, salt cryptobyte.String
	var iter int64
	if !s.ReadASN1(&p, cbasn1.SEQUENCE) ||
		!p.ReadASN1(&salt, cbasn1.OCTET_STRING) ||
		!p.ReadASN1Integer(&iter) || iter < 1 {
		return errors.New("corrupt encrypted private key: malformed key derivation parameters")
	}
	if iter > maxKDFIterations {
		return fmt.Errorf("key file asks for %d key derivation iterations, more than the limit %d", iter, maxKDFIterations)
	}
	return nil
}

// checkScrypt reads scrypt-params and bounds memory and parallelism.
func checkScrypt(s cryptobyte.String) error {
	var p, salt cryptobyte.String
	var n, r, par int64
	if !s.ReadASN1(&p, cbasn1.SEQUENCE) ||
		!p.ReadASN1(&salt, cbasn1.OCTET_STRING) ||
		!p.ReadASN1Integer(&n) || !p.ReadASN1Integer(&r) || !p.ReadASN1Integer(&par) ||
		n < 2 || r < 1 || par < 1 {
		return errors.New("corrupt encrypted private key: malformed scrypt parameters")
	}
	if r > maxScryptMemory/128 || n > maxScryptMemory/(128*r) || par > maxScryptP {
		return fmt.Errorf("key file asks for scrypt N=%d r=%d p=%d, more than the limits (%d MiB, p<=%d)", n, r, par, maxScryptMemory>>20, maxScryptP)
	}
	return nil
}

// sm2PrivateKey accepts only SM2 keys and names anything else.
func sm2PrivateKey(key any, name string) (*sm2.PrivateKey, error) {
	switch k := key.(type) {
	case *sm2.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve == sm2.P256() {
			return new(sm2.PrivateKey).FromECPrivateKey(k)
		}
	}
	return nil, fmt.Errorf("certs: %s is %s, expected an SM2 key", name, describeKey(key))
}

// describeKey names a key type for error messages ("an RSA-2048 private key").
func describeKey(key any) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("an RSA-%d private key", k.N.BitLen())
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA-%d public key", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "an ECDSA " + curveName(k.Curve) + " private key"
	case *ecdsa.PublicKey:
		return "an ECDSA " + curveName(k.Curve) + " public key"
	case ed25519.PrivateKey:
		return "an Ed25519 private key"
	case ed25519.PublicKey:
		return "an Ed25519 public key"
	case nil:
		return "no key"
	}
	return fmt.Sprintf("a %T key", key)
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown-curve"
	}
	return c.Params().Name
}

// WriteKeyFile writes key, encrypted under passphrase, to path with mode
// 0600. It writes a temporary file in the same directory, syncs it and
// renames it into place, so a crash leaves either the old file or the new
// one. An existing file is an error unless overwrite is true.
func WriteKeyFile(path string, key *sm2.PrivateKey, passphrase []byte, overwrite bool) error {
	if !overwrite {
		// Fast path; the hard link below is what makes it race-free.
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("certs: %s already exists: refusing to overwrite a key file (remove it first, or ask to overwrite)", path)
		}
	}
	data, err := MarshalPrivateKeyPEM(key, passphrase)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600, overwrite)
}

// writeFileAtomic is temp file + fsync + rename (+ directory fsync). Without
// overwrite the temp file is hard-linked into place instead, which fails
// if path exists, so two writers cannot both think they created it.
func writeFileAtomic(path string, data []byte, mode os.FileMode, overwrite bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if overwrite {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
		os.Remove(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("certs: %s already exists: refusing to overwrite a key file (remove it first, or ask to overwrite)", path)
		}
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: makes the rename durable where supported
		d.Close()
	}
	return nil
}

// ReadKeyFile reads an SM2 private key file written by WriteKeyFile (or an
// unencrypted SM2 PKCS#8 / SEC 1 file from another tool). Errors name the
// file; a wrong passphrase wraps ErrWrongPassphrase.
func ReadKeyFile(path string, passphrase []byte) (*sm2.PrivateKey, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return parsePrivateKeyPEM(data, passphrase, path)
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMInput+1))
	if err != nil {
		return nil, fmt.Errorf("certs: reading %s: %w", path, err)
	}
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("certs: %s is larger than %d bytes: not a key or certificate file", path, maxPEMInput)
	}
	return data, nil
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo holding an SM2 key, in
// either encoding found in the wild: algorithm id-ecPublicKey with the SM2
// curve 1.2.156.10197.1.301 as parameter (GM/T 0015, OpenSSL 1.1, most
// Chinese CAs), or algorithm 1.2.156.10197.1.301 itself (as OpenSSL 3 may
// write), with the curve parameter or without it.
func ParsePublicKey(der []byte) (*ecdsa.PublicKey, error) {
	if len(der) > maxPEMInput {
		return nil, errors.New("certs: public key too large")
	}
	alg, params, point, err := parseSPKI(der)
	if err != nil {
		return nil, fmt.Errorf("certs: corrupt public key: %v", err)
	}
	if alg.Equal(oidSM2) && len(params) == 0 {
		// Algorithm OID alone: the curve is implied.
		pub, err := sm2.NewPublicKey(point)
		if err != nil {
			return nil, fmt.Errorf("certs: corrupt SM2 public key point: %v", err)
		}
		return pub, nil
	}
	key, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		if alg.Equal(oidECPublicKey) && !bytes.Equal(params, oidSM2DER) {
			return nil, fmt.Errorf("certs: public key is on an unsupported elliptic curve, expected SM2: %v", err)
		}
		return nil, fmt.Errorf("certs: corrupt public key: %v", err)
	}
	return sm2PublicKey(key, "public key")
}

// parseSPKI splits SubjectPublicKeyInfo ::= SEQUENCE { algorithm
// AlgorithmIdentifier, subjectPublicKey BIT STRING } into the algorithm
// OID, the raw parameter bytes (nil if absent) and the key bytes.
func parseSPKI(der []byte) (alg asn1.ObjectIdentifier, params, key []byte, err error) {
	in := cryptobyte.String(der)
	var spki, algID cryptobyte.String
	var bits asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&algID, cbasn1.SEQUENCE) ||
		!algID.ReadASN1ObjectIdentifier(&alg) ||
		!spki.ReadASN1BitString(&bits) || !spki.Empty() {
		return nil, nil, nil, errors.New("malformed SubjectPublicKeyInfo")
	}
	if !algID.Empty() {
		params = algID
	}
	return alg, params, bits.RightAlign(), nil
}

var (
	oidSM2         = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSM2DER      = []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d}
)

func sm2PublicKey(key any, name string) (*ecdsa.PublicKey, error) {
	if k, ok := key.(*ecdsa.PublicKey); ok && k.Curve == sm2.P256() {
		return k, nil
	}
	return nil, fmt.Errorf("certs: %s is %s, expected an SM2 public key", name, describeKey(key))
}

// ParsePublicKeyPEM parses a "PUBLIC KEY" PEM block (see ParsePublicKey).
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("certs: public key is not PEM: expected a -----BEGIN PUBLIC KEY----- block")
	}
	if block.Type != pemPublicKey {
		return nil, fmt.Errorf("certs: found a %q PEM block, expected a PUBLIC KEY (SM2)", block.Type)
	}
	return ParsePublicKey(block.Bytes)
}

// MarshalPublicKeyPEM encodes an SM2 public key as a "PUBLIC KEY" PEM block
// (id-ecPublicKey + SM2 curve, the form every SM2 library reads).
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve != sm2.P256() {
		return nil, errors.New("certs: not an SM2 public key")
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// Sign signs msg with key: SM2 with Z_A over user ID "1234567812345678"
// and SM3, DER SEQUENCE{r, s}.
func Sign(key *sm2.PrivateKey, msg []byte) ([]byte, error) {
	sig, err := key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("certs: signing: %w", err)
	}
	return sig, nil
}

// Verify checks a DER SM2 signature made as Sign makes them.
func Verify(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if pub == nil || pub.Curve != sm2.P256() {
		return false
	}
	return sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
}
