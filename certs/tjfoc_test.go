package certs

import (
	"crypto/ecdsa"
	"crypto/rand"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"
	"github.com/zhengxin/zhengxin/verify/report"
)

// Interop with github.com/tjfoc/gmsm v1.4.1, an independent Go SM2
// implementation: its artifacts (../shared/interop/tjfoc, made by a small
// program with tjfoc) and signatures made here in-test both ways.

const tjfocDir = "../../shared/interop/tjfoc"

func readInterop(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tjfocDir, name))
	if os.IsNotExist(err) {
		t.Skipf("interop sample %s not found (it lives in ../shared/interop outside the repository)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fromTjfoc(p *tjsm2.PublicKey) *ecdsa.PublicKey {
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: p.X, Y: p.Y}
}

func TestTjfocSamples(t *testing.T) {
	pubPEM := readInterop(t, "gmsm_sm2.pub.pem")
	msg := readInterop(t, "gmsm_message.txt")
	sig := readInterop(t, "gmsm_message.sig.der")
	pub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(pub, msg, sig) {
		t.Error("tjfoc signature over gmsm_message.txt does not verify")
	}
	if Verify(pub, append(msg, ' '), sig) {
		t.Error("tjfoc signature verifies over a changed message")
	}
	// tjfoc reads the same key the same way.
	tjPub, err := tjx509.ReadPublicKeyFromPem(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !fromTjfoc(tjPub).Equal(pub) {
		t.Error("tjfoc and we parse gmsm_sm2.pub.pem to different keys")
	}

	certPEM := readInterop(t, "gmsm_selfsigned.pem")
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Fatalf("tjfoc cert signed with %v", cert.SignatureAlgorithm)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("tjfoc self-signature: %v", err)
	}
	pool, err := LoadPEMBundle(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.VerifyChain(cert, nil, cert.NotBefore.Add(time.Hour), nil); err != nil {
		t.Errorf("tjfoc cert pinned as anchor: %v", err)
	}
}

func TestTjfocSignsWeVerify(t *testing.T) {
	k, err := tjsm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("signed by tjfoc/gmsm 电子证照")
	sig, err := k.Sign(rand.Reader, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(fromTjfoc(&k.PublicKey), msg, sig) {
		t.Fatal("tjfoc signature does not verify with ours")
	}

	// A tjfoc root and leaf: our pool verifies the chain.
	root := &tjx509.Certificate{
		SerialNumber: big.NewInt(1), Subject: Name{CommonName: "tjfoc root"}.pkix(),
		NotBefore: t0, NotAfter: t0.Add(year), BasicConstraintsValid: true, IsCA: true,
		KeyUsage: tjx509.KeyUsageCertSign | tjx509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3, 4},
		SignatureAlgorithm: tjx509.SM2WithSM3,
	}
	rootDER, err := tjx509.CreateCertificate(root, root, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	lk, _ := tjsm2.GenerateKey(rand.Reader)
	leaf := &tjx509.Certificate{
		SerialNumber: big.NewInt(2), Subject: Name{CommonName: "tjfoc leaf"}.pkix(),
		NotBefore: t0, NotAfter: t0.Add(year), KeyUsage: tjx509.KeyUsageDigitalSignature,
		SignatureAlgorithm: tjx509.SM2WithSM3,
	}
	rootCert, _ := tjx509.ParseCertificate(rootDER)
	leafDER, err := tjx509.CreateCertificate(leaf, rootCert, &lk.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ourRoot, err := ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	ourLeaf, err := ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	pool := NewPool()
	pool.AddAnchor(ourRoot)
	if _, err := pool.VerifyChain(ourLeaf, nil, t0.Add(time.Hour), nil); err != nil {
		t.Fatalf("tjfoc-made chain: %v", err)
	}
	// The tjfoc leaf has no extKeyUsage extension: unrestricted (RFC 5280).
	if len(ourLeaf.Extensions) == 0 || hasEKU(ourLeaf) {
		t.Fatal("test assumption: tjfoc leaf without EKU")
	}
	if _, err := pool.VerifyChain(ourLeaf, nil, t0.Add(time.Hour), OIDExtKeyUsageSealSigning); err != nil {
		t.Fatalf("leaf without EKU, asked for seal-signing: %v", err)
	}

	// Control: with SignatureAlgorithm left unset, tjfoc v1.4.1 signs
	// SM3(Z_A || SM3(TBS)) - the hash-of-hash trap of STANDARDS.md §2.5 -
	// while labelling it SM2-with-SM3. That must not verify.
	leaf.SignatureAlgorithm = 0
	hohDER, err := tjx509.CreateCertificate(leaf, rootCert, &lk.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	hoh, err := ParseCertificate(hohDER)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyChain(hoh, nil, t0.Add(time.Hour), nil)
	wantReason(t, err, report.SigCryptoFailure, "")
}

func TestWeSignTjfocVerifies(t *testing.T) {
	p := fixturePKI(t)
	msg := []byte("signed by Zhengxin")
	sig, err := Sign(p.signerKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := MarshalPublicKeyPEM(pub(p.signerKey))
	tjPub, err := tjx509.ReadPublicKeyFromPem(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !tjPub.Verify(msg, sig) {
		t.Error("tjfoc rejects our signature")
	}
	if tjPub.Verify([]byte("signed by ZhengxiN"), sig) {
		t.Error("tjfoc accepts our signature over another message (control)")
	}
	// Our certificates: tjfoc parses them and checks each link.
	parse := func(c *smx509.Certificate) *tjx509.Certificate {
		tc, err := tjx509.ReadCertificateFromPem(EncodeCertificatePEM(c))
		if err != nil {
			t.Fatalf("tjfoc cannot parse %s: %v", c.Subject.CommonName, err)
		}
		return tc
	}
	root, agency, signer, seal := parse(p.root), parse(p.agency), parse(p.signer), parse(p.seal)
	if err := agency.CheckSignatureFrom(root); err != nil {
		t.Errorf("tjfoc: agency under root: %v", err)
	}
	if err := signer.CheckSignatureFrom(agency); err != nil {
		t.Errorf("tjfoc: signer under agency: %v", err)
	}
	if err := seal.CheckSignatureFrom(agency); err != nil {
		t.Errorf("tjfoc: seal under agency: %v", err)
	}
	if err := signer.CheckSignatureFrom(root); err == nil {
		t.Error("tjfoc: signer verifies under the root (control)")
	}
}
