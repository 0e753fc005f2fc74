package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

var testPass = []byte("correct horse battery staple")

func TestKeyRoundTrip(t *testing.T) {
	p := fixturePKI(t)
	pemBytes, err := MarshalPrivateKeyPEM(p.signerKey, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
		t.Fatalf("not an encrypted PKCS#8 PEM: %.40q", pemBytes)
	}
	// The container is PBES2 with PBKDF2-HMAC-SM3 and SM4-CBC: check the
	// OIDs in the DER, not just that our reader agrees with our writer.
	block, _ := pem.Decode(pemBytes)
	for name, oid := range map[string][]byte{
		"PBES2":       {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d},
		"PBKDF2":      {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c},
		"hmacWithSM3": {0x06, 0x09, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11, 0x02},
		"SM4-CBC":     {0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x68, 0x02},
	} {
		if !bytes.Contains(block.Bytes, oid) {
			t.Errorf("encrypted key lacks the %s OID", name)
		}
	}
	if bytes.Contains(block.Bytes, p.signerKey.D.Bytes()) {
		t.Fatal("private scalar appears in clear in the encrypted key")
	}
	got, err := ParsePrivateKeyPEM(pemBytes, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(p.signerKey) {
		t.Fatal("parsed key differs from the original")
	}
}

func TestKeyErrors(t *testing.T) {
	p := fixturePKI(t)
	enc, err := MarshalPrivateKeyPEM(p.signerKey, testPass)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := smx509.MarshalPKCS8PrivateKey(rsaKey)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := smx509.MarshalPKCS8PrivateKey(ecKey)
	ecSEC1, _ := smx509.MarshalECPrivateKey(ecKey)
	// An RSA key encrypted under our passphrase: decrypts fine, wrong type.
	rsaEnc, err := encryptForTest(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Replace(enc, []byte("MI"), []byte("!!"), 1)

	cases := []struct {
		name, want string
		data, pass []byte
		wrongPass  bool
	}{
		{"wrong passphrase", "certs: 口令错误 / wrong passphrase for private key", enc, []byte("hunter2-not-it"), true},
		{"no passphrase", "is encrypted: give its passphrase", enc, nil, false},
		{"not PEM", "is not PEM", []byte("hello"), testPass, false},
		{"corrupt base64", "is not PEM", corrupt, testPass, false},
		{"corrupt DER", "corrupt encrypted private key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), testPass, false},
		{"certificate", `holds a "CERTIFICATE" PEM block, expected an ENCRYPTED PRIVATE KEY (SM2)`, EncodeCertificatePEM(p.root), testPass, false},
		{"RSA PKCS#8", "is an RSA-1024 private key, expected an SM2 key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}), nil, false},
		{"RSA encrypted", "is an RSA-1024 private key, expected an SM2 key", rsaEnc, testPass, false},
		{"P-256 PKCS#8", "is an ECDSA P-256 private key, expected an SM2 key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), nil, false},
		{"P-256 SEC1", "is an ECDSA P-256 private key, expected an SM2 key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecSEC1}), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParsePrivateKeyPEM(c.data, c.pass)
			if err == nil {
				t.Fatalf("parsed %v, want error", k != nil)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "certs: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line prefixed certs:", err)
			}
			if errors.Is(err, ErrWrongPassphrase) != c.wrongPass {
				t.Errorf("errors.Is(ErrWrongPassphrase) = %v, want %v", !c.wrongPass, c.wrongPass)
			}
			if bytes.Contains([]byte(err.Error()), c.pass) && len(c.pass) > 0 {
				t.Errorf("error echoes the passphrase")
			}
		})
	}
	if _, err := MarshalPrivateKeyPEM(p.signerKey, nil); err == nil {
		t.Error("marshal with empty passphrase succeeded; keys must never be stored in the clear")
	}
}

// encryptForTest encrypts any key the way MarshalPrivateKeyPEM does.
func encryptForTest(key any) ([]byte, error) {
	der, err := pkcs8MarshalForTest(key, testPass)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

func pkcs8MarshalForTest(key any, pass []byte) ([]byte, error) {
	return pkcs8.MarshalPrivateKey(key, pass, keyEncrypter)
}

func TestWriteKeyFile(t *testing.T) {
	p := fixturePKI(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "signer.key")
	if err := WriteKeyFile(path, p.signerKey, testPass, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	err = WriteKeyFile(path, p.sealKey, testPass, false)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite without asking: err = %v", err)
	}
	k, err := ReadKeyFile(path, testPass)
	if err != nil || !k.Equal(p.signerKey) {
		t.Fatalf("file was changed by a refused overwrite (err %v)", err)
	}
	if err := WriteKeyFile(path, p.sealKey, testPass, true); err != nil {
		t.Fatal(err)
	}
	k, err = ReadKeyFile(path, testPass)
	if err != nil || !k.Equal(p.sealKey) {
		t.Fatalf("overwrite did not take: %v", err)
	}
	_, err = ReadKeyFile(path, []byte("nope"))
	if !errors.Is(err, ErrWrongPassphrase) || err.Error() != "certs: 口令错误 / wrong passphrase for "+path+": check ZHENGXIN_PASSPHRASE (the passphrase given at init)" {
		t.Errorf("wrong passphrase error = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing.key"), testPass); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("missing file error = %v", err)
	}
}

func TestSignVerify(t *testing.T) {
	p := fixturePKI(t)
	msg := []byte("营业执照 91350100M000100Y43")
	sig, err := Sign(p.signerKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(pub(p.signerKey), msg, sig) {
		t.Fatal("own signature does not verify")
	}
	if Verify(pub(p.sealKey), msg, sig) || Verify(pub(p.signerKey), append(msg, '!'), sig) {
		t.Fatal("signature verifies with the wrong key or message")
	}
	// The default-ID signature must also verify through the explicit UID
	// API (independently computed Z_A with "1234567812345678").
	if !sm2.VerifyASN1WithSM2(pub(p.signerKey), []byte("1234567812345678"), msg, sig) {
		t.Fatal("signature is not over Z_A with the default user ID")
	}
}

func TestPEMHelpersErrors(t *testing.T) {
	p := fixturePKI(t)
	key, _ := MarshalPrivateKeyPEM(p.signerKey, testPass)
	if _, err := ParseCertificatePEM(key); err == nil || !strings.Contains(err.Error(), `"ENCRYPTED PRIVATE KEY" PEM block, expected a CERTIFICATE`) {
		t.Errorf("ParseCertificatePEM(key) = %v", err)
	}
	if _, err := ParseCertificatesPEM(append(EncodeCertificatePEM(p.root), key...)); err == nil || !strings.Contains(err.Error(), "expected only CERTIFICATE") {
		t.Errorf("ParseCertificatesPEM(cert+key) = %v", err)
	}
	if _, err := ParseCertificatesPEM([]byte("nothing")); err == nil || !strings.Contains(err.Error(), "no certificate found") {
		t.Errorf("ParseCertificatesPEM(nothing) = %v", err)
	}
	if _, err := ParseCertificatePEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}})); err == nil || !strings.HasPrefix(err.Error(), "certs: corrupt certificate") {
		t.Errorf("corrupt certificate = %v", err)
	}
	if _, err := ParseCRL(EncodeCertificatePEM(p.root)); err == nil || !strings.Contains(err.Error(), "expected an X509 CRL") {
		t.Errorf("ParseCRL(cert) = %v", err)
	}
	if _, err := ParsePublicKeyPEM(EncodeCertificatePEM(p.root)); err == nil || !strings.Contains(err.Error(), "expected a PUBLIC KEY") {
		t.Errorf("ParsePublicKeyPEM(cert) = %v", err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := MarshalPublicKeyPEM(&ecKey.PublicKey); err == nil {
		t.Error("MarshalPublicKeyPEM accepted a P-256 key")
	}
	spki, _ := smx509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if _, err := ParsePublicKey(spki); err == nil || !strings.Contains(err.Error(), "ECDSA P-256 public key, expected an SM2") {
		t.Errorf("ParsePublicKey(P-256) = %v", err)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	spki, _ = smx509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if _, err := ParsePublicKey(spki); err == nil || !strings.Contains(err.Error(), "RSA-1024 public key, expected an SM2") {
		t.Errorf("ParsePublicKey(RSA) = %v", err)
	}
	// Round trip through our public key PEM.
	pemBytes, err := MarshalPublicKeyPEM(pub(p.sealKey))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePublicKeyPEM(pemBytes)
	if err != nil || !got.Equal(pub(p.sealKey)) {
		t.Errorf("public key round trip: %v", err)
	}
}

// TestKDFCostBounds: a key file cannot make the reader do unbounded work.
func TestKDFCostBounds(t *testing.T) {
	p := fixturePKI(t)
	enc := func(e pkcs.PBESEncrypter) []byte {
		der, err := pkcs8.MarshalPrivateKey(p.signerKey, testPass, e)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
	}
	pbkdf2 := enc(pkcs.NewPBESEncrypter(pkcs.SM4CBC, pkcs.NewPBKDF2Opts(pkcs.SM3, 16, 1000)))
	scrypt := enc(pkcs.NewPBESEncrypter(pkcs.SM4CBC, pkcs.NewScryptOpts(16, 1024, 8, 1)))
	for name, data := range map[string][]byte{"pbkdf2": pbkdf2, "scrypt": scrypt} {
		if k, err := ParsePrivateKeyPEM(data, testPass); err != nil || !k.Equal(p.signerKey) {
			t.Errorf("%s within limits: %v", name, err)
		}
	}
	oldI, oldM := maxKDFIterations, maxScryptMemory
	defer func() { maxKDFIterations, maxScryptMemory = oldI, oldM }()
	maxKDFIterations, maxScryptMemory = 999, 512<<10
	if _, err := ParsePrivateKeyPEM(pbkdf2, testPass); err == nil || !strings.Contains(err.Error(), "1000 key derivation iterations, more than the limit 999") {
		t.Errorf("pbkdf2 beyond limit: %v", err)
	}
	if _, err := ParsePrivateKeyPEM(scrypt, testPass); err == nil || !strings.Contains(err.Error(), "scrypt N=1024 r=8 p=1") {
		t.Errorf("scrypt beyond limit: %v", err)
	}
}
