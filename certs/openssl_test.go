package certs

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/verify/report"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// These tests hold our PKI against OpenSSL 3 (TOOLING.md §1), the
// independent reference: OpenSSL checks what we make, we check what
// OpenSSL makes. OpenSSL 3.0's default SM2 ID is empty, so every command
// passes distid 1234567812345678 explicitly (GM/T 0009 default, ours).

const distid = "distid:1234567812345678"

func needOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl binary not found: install it (apt-get install -y --no-install-recommends openssl) to run the OpenSSL interop tests")
	}
	return path
}

// ossl runs openssl in dir and returns its combined output.
func ossl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustOSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := ossl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSSLVerifiesOurChain(t *testing.T) {
	needOpenSSL(t)
	p := fixturePKI(t)
	dir := t.TempDir()
	for name, c := range map[string]*smx509.Certificate{"root.pem": p.root, "agency.pem": p.agency, "signer.pem": p.signer, "seal.pem": p.seal, "maker.pem": p.maker} {
		writeFile(t, dir, name, EncodeCertificatePEM(c))
	}
	// Every link, one at a time (a full-chain check applies the distid
	// only at depth 0: TOOLING.md §1).
	for _, link := range [][2]string{{"root.pem", "agency.pem"}, {"agency.pem", "signer.pem"}, {"agency.pem", "seal.pem"}, {"agency.pem", "maker.pem"}} {
		out := mustOSSL(t, dir, "verify", "-vfyopt", distid, "-partial_chain", "-CAfile", link[0], link[1])
		if !strings.Contains(out, link[1]+": OK") {
			t.Errorf("openssl verify %s under %s: %s", link[1], link[0], out)
		}
	}
	// Controls: the wrong issuer, and the empty ID OpenSSL uses by default,
	// must both fail, or the checks above prove nothing.
	if out, err := ossl(t, dir, "verify", "-vfyopt", distid, "-partial_chain", "-CAfile", "root.pem", "signer.pem"); err == nil {
		t.Errorf("openssl accepted the signer under the root directly: %s", out)
	}
	if out, err := ossl(t, dir, "verify", "-partial_chain", "-CAfile", "agency.pem", "signer.pem"); err == nil {
		t.Errorf("openssl accepted our signature with the empty SM2 ID: %s", out)
	}

	text := func(name string) string { return mustOSSL(t, dir, "x509", "-noout", "-text", "-in", name) }
	for name, wants := range map[string][]string{
		"root.pem":   {"Signature Algorithm: SM2-with-SM3", "ASN1 OID: SM2", "CA:TRUE, pathlen:1", "Certificate Sign, CRL Sign", "C = CN"},
		"agency.pem": {"Signature Algorithm: SM2-with-SM3", "CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign", "serialNumber = " + codeA},
		"signer.pem": {"Signature Algorithm: SM2-with-SM3", "CA:FALSE", "X509v3 Key Usage: critical\n                Digital Signature\n", "1.3.6.1.4.1.32473.2026.1.1", "serialNumber = " + codeA},
		"seal.pem":   {"CA:FALSE", "Digital Signature, Non Repudiation", "1.3.6.1.4.1.32473.2026.1.2"},
		"maker.pem":  {"CA:FALSE", "Digital Signature\n", "1.3.6.1.4.1.32473.2026.1.3"},
	} {
		got := text(name)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("openssl x509 -text %s lacks %q", name, w)
			}
		}
	}

	// Our CRL: OpenSSL reads it; its signature (checked by openssl dgst
	// over the TBS bytes, since `openssl crl` has no distid option) holds.
	crl, err := p.agencyCA().NewCRL([]Revocation{{Serial: p.seal.SerialNumber, At: t0, Reason: ReasonKeyCompromise}}, 42, t0, t0.Add(year))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "crl.pem", EncodeCRLPEM(crl))
	out := mustOSSL(t, dir, "crl", "-noout", "-text", "-in", "crl.pem")
	for _, w := range []string{"Signature Algorithm: SM2-with-SM3", strings.ToUpper(p.seal.SerialNumber.Text(16)), "Key Compromise", "X509v3 CRL Number: \n                42"} {
		if !strings.Contains(out, w) {
			t.Errorf("openssl crl -text lacks %q:\n%s", w, out)
		}
	}
	agencyPub, _ := MarshalPublicKeyPEM(pub(p.agencyKey))
	writeFile(t, dir, "agency.pub", agencyPub)
	writeFile(t, dir, "crl.tbs", crl.RawTBSRevocationList)
	writeFile(t, dir, "crl.sig", crl.Signature)
	if out := mustOSSL(t, dir, "dgst", "-sm3", "-verify", "agency.pub", "-sigopt", distid, "-signature", "crl.sig", "crl.tbs"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl rejects our CRL signature: %s", out)
	}

	// A plain signature.
	msg := []byte("营业执照 signed by Zhengxin")
	sig, err := Sign(p.signerKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	signerPub, _ := MarshalPublicKeyPEM(pub(p.signerKey))
	writeFile(t, dir, "signer.pub", signerPub)
	writeFile(t, dir, "msg", msg)
	writeFile(t, dir, "msg.sig", sig)
	if out := mustOSSL(t, dir, "dgst", "-sm3", "-verify", "signer.pub", "-sigopt", distid, "-signature", "msg.sig", "msg"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl rejects our signature: %s", out)
	}
}

func TestOurPoolVerifiesOpenSSLChain(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	mustOSSL(t, dir, "genpkey", "-algorithm", "SM2", "-out", "ca.key")
	mustOSSL(t, dir, "req", "-new", "-x509", "-key", "ca.key", "-sm3", "-sigopt", distid,
		"-subj", "/CN=OpenSSL SM2 Root/O=Probe/C=CN", "-days", "3650",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt")
	mustOSSL(t, dir, "genpkey", "-algorithm", "SM2", "-out", "ee.key")
	mustOSSL(t, dir, "req", "-new", "-key", "ee.key", "-sm3", "-sigopt", distid, "-subj", "/CN=OpenSSL Leaf/C=CN", "-out", "ee.csr")
	writeFile(t, dir, "ee.ext", []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=1.3.6.1.4.1.32473.2026.1.1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	mustOSSL(t, dir, "x509", "-req", "-in", "ee.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-sm3", "-sigopt", distid, "-vfyopt", distid,
		"-CAcreateserial", "-days", "365", "-extfile", "ee.ext", "-out", "ee.crt")
	// The same leaf signed with OpenSSL's default (empty) ID: a control.
	mustOSSL(t, dir, "x509", "-req", "-in", "ee.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-sm3", "-vfyopt", distid,
		"-CAcreateserial", "-days", "365", "-extfile", "ee.ext", "-out", "ee-emptyid.crt")

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ca, err := ParseCertificatePEM(read("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	ee, err := ParseCertificatePEM(read("ee.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := LoadPEMBundle(read("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	// Check inside the validity OpenSSL gave (it uses the wall clock).
	at := ee.NotBefore.Add(1)
	chain, err := pool.VerifyChain(ee, nil, at, OIDExtKeyUsageLicenseSigning)
	if err != nil {
		t.Fatalf("OpenSSL-made chain: %v", err)
	}
	if len(chain) != 2 || !chain[1].Equal(ca) {
		t.Fatalf("chain %v", chain)
	}
	bad, err := ParseCertificatePEM(read("ee-emptyid.crt"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyChain(bad, nil, at, nil)
	wantReason(t, err, report.SigCryptoFailure, "")

	// An OpenSSL CRL (openssl ca -gencrl) revoking the leaf.
	os.Mkdir(filepath.Join(dir, "db"), 0o700)
	writeFile(t, dir, "db/index.txt", nil)
	writeFile(t, dir, "db/crlnumber", []byte("07\n"))
	writeFile(t, dir, "ca.cnf", []byte("[ca]\ndefault_ca = CA_default\n[CA_default]\ndatabase = ./db/index.txt\ncrlnumber = ./db/crlnumber\ndefault_md = sm3\ndefault_crl_days = 30\nnew_certs_dir = ./db\nserial = ./db/serial\npolicy = policy_any\n[policy_any]\ncommonName = supplied\n"))
	mustOSSL(t, dir, "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-revoke", "ee.crt", "-crl_reason", "keyCompromise")
	mustOSSL(t, dir, "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-sigopt", distid, "-out", "crl.pem")
	crl, err := ParseCRL(read("crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(ee.SerialNumber) != 0 {
		t.Fatalf("CRL number %v entries %v", crl.Number, crl.RevokedCertificateEntries)
	}
	if err := pool.AddCRL(crl); err != nil {
		t.Fatalf("OpenSSL CRL signature: %v", err)
	}
	_, err = pool.VerifyChain(ee, nil, at, nil)
	wantReason(t, err, report.CertRevoked, "key compromise")

	// A signature by openssl dgst, with and without the ID.
	writeFile(t, dir, "msg", []byte("message from OpenSSL"))
	mustOSSL(t, dir, "dgst", "-sm3", "-sign", "ee.key", "-sigopt", distid, "-out", "msg.sig", "msg")
	mustOSSL(t, dir, "dgst", "-sm3", "-sign", "ee.key", "-out", "msg-emptyid.sig", "msg")
	eePub := ee.PublicKey.(*ecdsa.PublicKey)
	if !Verify(eePub, read("msg"), read("msg.sig")) {
		t.Error("OpenSSL signature with distid 1234567812345678 does not verify")
	}
	if Verify(eePub, read("msg"), read("msg-emptyid.sig")) {
		t.Error("OpenSSL signature with the empty ID verifies: Z_A is not being used")
	}

	// Keys from OpenSSL: the plain genpkey file, its public key, and the
	// same key encrypted by OpenSSL (PBES2, SM4-CBC, HMAC-SHA256: OpenSSL
	// 3.0 has no hmacWithSM3 PRF).
	key, err := ParsePrivateKeyPEM(read("ee.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(eePub) {
		t.Fatal("OpenSSL private key does not match its certificate")
	}
	mustOSSL(t, dir, "pkey", "-in", "ee.key", "-pubout", "-out", "ee.pub")
	pk, err := ParsePublicKeyPEM(read("ee.pub"))
	if err != nil || !pk.Equal(eePub) {
		t.Fatalf("OpenSSL public key: %v", err)
	}
	mustOSSL(t, dir, "pkcs8", "-topk8", "-in", "ee.key", "-v2", "sm4-cbc", "-v2prf", "hmacWithSHA256", "-passout", "pass:s3cret", "-out", "ee-enc.key")
	encKey, err := ParsePrivateKeyPEM(read("ee-enc.key"), []byte("s3cret"))
	if err != nil || !encKey.Equal(key) {
		t.Fatalf("OpenSSL-encrypted key: %v", err)
	}
	mustOSSL(t, dir, "pkcs8", "-topk8", "-in", "ee.key", "-scrypt", "-passout", "pass:s3cret", "-out", "ee-scrypt.key")
	scKey, err := ParsePrivateKeyPEM(read("ee-scrypt.key"), []byte("s3cret"))
	if err != nil || !scKey.Equal(key) {
		t.Fatalf("OpenSSL scrypt-encrypted key: %v", err)
	}
	if _, err := ParsePrivateKeyPEM(read("ee-enc.key"), []byte("s3creT")); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase on OpenSSL key: %v", err)
	}
	// Our key in a file OpenSSL signs with? OpenSSL cannot open our
	// PBKDF2-HMAC-SM3 files; an unencrypted export would be needed. The
	// other direction: sign with the OpenSSL key through our API.
	sig, err := Sign(key, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "x", []byte("x"))
	writeFile(t, dir, "x.sig", sig)
	if out := mustOSSL(t, dir, "dgst", "-sm3", "-verify", "ee.pub", "-sigopt", distid, "-signature", "x.sig", "x"); !strings.Contains(out, "Verified OK") {
		t.Errorf("openssl: %s", out)
	}
}

// TestSPKIEncodings: both SubjectPublicKeyInfo forms for SM2 parse to the
// same key: id-ecPublicKey + SM2 curve (what OpenSSL 3.0.19 and tjfoc
// write), and the SM2 algorithm OID (GM/T 0015-2023, other OpenSSL 3
// builds), with and without the curve parameter.
func TestSPKIEncodings(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	mustOSSL(t, dir, "genpkey", "-algorithm", "SM2", "-out", "k.pem")
	mustOSSL(t, dir, "pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "k.der")
	der, err := os.ReadFile(filepath.Join(dir, "k.der"))
	if err != nil {
		t.Fatal(err)
	}
	alg, params, point, err := parseSPKI(der)
	if err != nil {
		t.Fatal(err)
	}
	if !alg.Equal(oidECPublicKey) || !bytes.Equal(params, oidSM2DER) {
		t.Fatalf("OpenSSL wrote algorithm %v params %x; test assumptions are off", alg, params)
	}
	want, err := ParsePublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	for name, spki := range map[string][]byte{
		"SM2 OID with curve":    buildSPKI(oidSM2, oidSM2, point),
		"SM2 OID without curve": buildSPKI(oidSM2, nil, point),
	} {
		got, err := ParsePublicKey(spki)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("%s: different key", name)
		}
	}
	// Wrong curve and wrong type are named.
	p256 := buildSPKI(oidECPublicKey, asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, point)
	if _, err := ParsePublicKey(p256); err == nil || !strings.Contains(err.Error(), "expected SM2") {
		t.Errorf("P-256 curve SPKI: %v", err)
	}
	if _, err := ParsePublicKey(der[:len(der)-1]); err == nil || !strings.HasPrefix(err.Error(), "certs: corrupt public key") {
		t.Errorf("truncated SPKI: %v", err)
	}

	// A certificate carrying the SM2-algorithm-OID SPKI chains too.
	p := fixturePKI(t)
	k, _ := GenerateKey()
	c, err := p.agencyCA().Issue(LicenseSigner, pub(k), Name{CommonName: "alg-OID SPKI"}, t0, year)
	if err != nil {
		t.Fatal(err)
	}
	_, _, kpoint, _ := parseSPKI(c.RawSubjectPublicKeyInfo)
	alt := resignWithSPKI(t, c, buildSPKI(oidSM2, oidSM2, kpoint), p.agencyKey)
	if !bytes.Contains(alt.RawSubjectPublicKeyInfo, []byte{0x30, 0x14, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x06, 0x08}) {
		t.Fatalf("SPKI not in algorithm-OID form: %x", alt.RawSubjectPublicKeyInfo)
	}
	if !alt.PublicKey.(*ecdsa.PublicKey).Equal(pub(k)) {
		t.Fatal("algorithm-OID SPKI certificate has a different key")
	}
	if _, err := rootPool(p).VerifyChain(alt, []*smx509.Certificate{p.agency}, t0.Add(year/2), OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
	// And OpenSSL 3 reads such a certificate and checks its signature.
	writeFile(t, dir, "alt.pem", EncodeCertificatePEM(alt))
	writeFile(t, dir, "agency.pem", EncodeCertificatePEM(p.agency))
	if out, err := ossl(t, dir, "verify", "-vfyopt", distid, "-partial_chain", "-CAfile", "agency.pem", "alt.pem"); err != nil || !strings.Contains(out, "alt.pem: OK") {
		t.Errorf("OpenSSL rejects the algorithm-OID SPKI certificate: %v %s", err, out)
	}
}

func buildSPKI(alg, curve asn1.ObjectIdentifier, point []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			if curve != nil {
				b.AddASN1ObjectIdentifier(curve)
			}
		})
		b.AddASN1BitString(point)
	})
	return b.BytesOrPanic()
}

// resignWithSPKI replaces the SubjectPublicKeyInfo inside cert's TBS and
// signs the result with key (SM2, default ID), giving a certificate that
// differs only in how its key is encoded.
func resignWithSPKI(t *testing.T, cert *smx509.Certificate, spki []byte, key *sm2.PrivateKey) *smx509.Certificate {
	t.Helper()
	in := cryptobyte.String(cert.RawTBSCertificate)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) {
		t.Fatal("bad TBS")
	}
	newBody := bytes.Replace(body, cert.RawSubjectPublicKeyInfo, spki, 1)
	var nb cryptobyte.Builder
	nb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(newBody) })
	newTBS := nb.BytesOrPanic() // re-encode the length for the new size
	sig, err := Sign(key, newTBS)
	if err != nil {
		t.Fatal(err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501})
		})
		b.AddASN1BitString(sig)
	})
	c, err := smx509.ParseCertificate(cb.BytesOrPanic())
	if err != nil {
		t.Fatalf("re-signed certificate: %v", err)
	}
	return c
}
