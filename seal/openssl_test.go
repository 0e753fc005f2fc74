package seal

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

// opensslVerify checks an SM2 signature with the OpenSSL CLI (user ID
// 1234567812345678, which OpenSSL 3 needs spelled out); false if it does not
// verify. It skips when openssl is not installed.
func opensslVerify(t *testing.T, cert *smx509.Certificate, msg, sig []byte) bool {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	spki, err := smx509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}),
		"msg":     msg,
		"sig":     sig,
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(openssl, "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678", "-signature", "sig", "msg")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatalf("openssl: %v", err)
	}
	return err == nil
}

// TestOpenSSLVerifiesOurSignatures: OpenSSL, an independent SM2
// implementation, accepts the maker signature over DER(SES_SealInfo) and
// the signer signature over DER(TBS_Sign), and rejects a wrong input.
func TestOpenSSLVerifiesOurSignatures(t *testing.T) {
	p := getPKI(t)
	der, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerify(t, p.maker, s.RawSealInfo, s.SignedValue) {
		t.Error("openssl does not verify our maker signature")
	}
	if opensslVerify(t, p.maker, s.makerSeqInput(), s.SignedValue) {
		t.Error("openssl verifies our maker signature over the wrong input")
	}
	sigDER, err := SignData(der, p.signer, p.signerKey, []byte("doc"), "doc", testNow)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ParseSignature(sigDER)
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerify(t, p.signer, sig.RawTBSSign, sig.SignatureValue) {
		t.Error("openssl does not verify our SES_Signature")
	}
}

// TestOpenSSLVerifiesOfdrw: the ofdrw samples' signatures check out with
// OpenSSL too, so our acceptance of them is not our code agreeing with
// itself.
func TestOpenSSLVerifiesOfdrw(t *testing.T) {
	s, err := ParseSeal(readInterop(t, "UserV4.esl"))
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerify(t, s.MakerCert, s.RawSealInfo, s.SignedValue) {
		t.Error("openssl does not verify ofdrw's V4 maker signature over DER(SES_SealInfo)")
	}
	v1, err := ParseSeal(readInterop(t, "UserV1.esl"))
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerify(t, v1.MakerCert, v1.makerSeqInput(), v1.SignedValue) {
		t.Error("openssl does not verify ofdrw's V1 maker signature over SEQUENCE{sealInfo, cert, alg}")
	}
}
