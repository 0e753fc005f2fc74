package certs

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/verify/report"
)

// trust is verify.Trust copied verbatim from verify/verify.go: the verify
// package imports certs, so a test here cannot import it back.
type trust interface {
	VerifyChain(cert *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error)
	CertificateByKID(kid []byte) (*smx509.Certificate, error)
}

var _ trust = (*Pool)(nil)

func rootPool(p *testPKI) *Pool {
	pool := NewPool()
	pool.AddAnchor(p.root)
	return pool
}

func wantReason(t *testing.T, err error, r report.Reason, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", r)
	}
	if got := report.ReasonOf(err); got != r {
		t.Fatalf("reason %q, want %q (error: %v)", got, r, err)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func TestIssuedProfiles(t *testing.T) {
	p := fixturePKI(t)
	if !p.root.IsCA || p.root.MaxPathLen != 1 || p.root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("root: CA %v pathlen %d KU %v", p.root.IsCA, p.root.MaxPathLen, p.root.KeyUsage)
	}
	if !p.agency.IsCA || p.agency.MaxPathLen != 0 || !p.agency.MaxPathLenZero {
		t.Errorf("agency CA: CA %v pathlen %d zero %v", p.agency.IsCA, p.agency.MaxPathLen, p.agency.MaxPathLenZero)
	}
	if CreditCodeOf(p.agency) != codeA || CreditCodeOf(p.signer) != codeA {
		t.Errorf("credit code: agency %q signer %q", CreditCodeOf(p.agency), CreditCodeOf(p.signer))
	}
	if p.signer.Subject.Organization[0] != "福州市市场监督管理局" || p.signer.Subject.Country[0] != "CN" {
		t.Errorf("signer subject %v", p.signer.Subject)
	}
	for _, c := range []struct {
		cert *smx509.Certificate
		ku   x509.KeyUsage
		role string
	}{
		{p.signer, x509.KeyUsageDigitalSignature, RoleLicenseSigner},
		{p.seal, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, RoleSealSigner},
		{p.maker, x509.KeyUsageDigitalSignature, RoleSealMaker},
	} {
		if c.cert.IsCA || c.cert.KeyUsage != c.ku || RoleOf(c.cert) != c.role {
			t.Errorf("%s: CA %v KU %v role %q", c.cert.Subject.CommonName, c.cert.IsCA, c.cert.KeyUsage, RoleOf(c.cert))
		}
		if c.cert.SignatureAlgorithm != smx509.SM2WithSM3 {
			t.Errorf("%s signed with %v", c.cert.Subject.CommonName, c.cert.SignatureAlgorithm)
		}
		if c.cert.SerialNumber.BitLen() > 128 || c.cert.SerialNumber.BitLen() < 64 {
			t.Errorf("serial %x is not a random 128-bit number", c.cert.SerialNumber)
		}
	}
	if p.signer.SerialNumber.Cmp(p.seal.SerialNumber) == 0 {
		t.Error("two certificates got the same serial")
	}
	s := CertificateSummary(p.signer)
	for _, want := range []string{"CN=电子证照签发 License Signer", codeA, p.signer.SerialNumber.Text(16), "2026-11-23T08:00:00Z", "2031-11-22T08:00:00Z"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

func TestIssueRefusals(t *testing.T) {
	p := fixturePKI(t)
	leafKey, _ := GenerateKey()
	cases := []struct {
		name string
		ca   CA
		at   time.Time
		want string
		ca2  bool
	}{
		{"non-CA issuer", CA{p.signer, p.signerKey}, t0.Add(time.Hour), "is not a CA certificate", false},
		{"expired issuer", p.agencyCA(), t0.Add(11 * year), "expired at 2036", false},
		{"issuer not yet valid", p.agencyCA(), t0.Add(-time.Hour), "is not valid until", false},
		{"key of another cert", CA{p.agency, p.rootKey}, t0.Add(time.Hour), "does not belong to issuer", false},
		{"agency issuing a CA", p.agencyCA(), t0.Add(time.Hour), "path length 0", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.ca2 {
				_, err = c.ca.NewAgencyCA(pub(leafKey), Name{CommonName: "sub", CreditCode: codeB}, c.at, year)
			} else {
				_, err = c.ca.Issue(LicenseSigner, pub(leafKey), Name{CommonName: "x"}, c.at, year)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "certs: ") {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	if _, err := p.rootCA().NewAgencyCA(pub(leafKey), Name{CommonName: "no code"}, t0, year); err == nil || !strings.Contains(err.Error(), "credit code") {
		t.Errorf("agency without credit code: %v", err)
	}
	if _, err := p.rootCA().NewAgencyCA(pub(leafKey), Name{CommonName: "bad code", CreditCode: "91350100M000100Y44"}, t0, year); err == nil || !strings.Contains(err.Error(), "check character") {
		t.Errorf("agency with bad check character: %v", err)
	}
	// Validity beyond the issuer's is clamped to it.
	c, err := p.agencyCA().Issue(SealMaker, pub(leafKey), Name{CommonName: "long"}, t0.Add(year), 30*year)
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotAfter.Equal(p.agency.NotAfter) {
		t.Errorf("NotAfter %v, want clamped to issuer's %v", c.NotAfter, p.agency.NotAfter)
	}
}

func TestCheckCreditCode(t *testing.T) {
	// Codes verified in STANDARDS.md §5.2.
	for _, ok := range []string{"91350100M000100Y43", "11100000000013338W", "11430000006122244L", "11330105002500287C", "91370406L24894136J", "11420503087246977F"} {
		if err := CheckCreditCode(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"91350100M000100Y4", "91350100M000100Y42", "9135010OM000100Y43", "91350100m000100Y43"} {
		if CheckCreditCode(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestVerifyChain(t *testing.T) {
	p := fixturePKI(t)
	pool := rootPool(p)
	at := t0.Add(year)
	chain, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, at, OIDExtKeyUsageLicenseSigning)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 3 || !chain[0].Equal(p.signer) || !chain[1].Equal(p.agency) || !chain[2].Equal(p.root) {
		t.Fatalf("chain %v", chain)
	}
	// Again, now with the agency->root link cached.
	if _, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, at, OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.VerifyChain(p.seal, []*smx509.Certificate{p.agency}, at, OIDExtKeyUsageSealSigning); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.VerifyChain(p.maker, []*smx509.Certificate{p.agency}, at, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("wrong EKU", func(t *testing.T) {
		_, err := pool.VerifyChain(p.seal, []*smx509.Certificate{p.agency}, at, OIDExtKeyUsageLicenseSigning)
		wantReason(t, err, report.ChainConstraintsFailure, "license-signing")
	})
	t.Run("expired leaf", func(t *testing.T) {
		_, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, t0.Add(6*year), nil)
		wantReason(t, err, report.CertExpired, "expired at 2031-11-22")
	})
	t.Run("not yet valid", func(t *testing.T) {
		_, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, t0.Add(-time.Hour), nil)
		wantReason(t, err, report.NotYetValid, "not valid until")
	})
	t.Run("expired intermediate", func(t *testing.T) {
		_, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, t0.Add(12*year), nil)
		wantReason(t, err, report.CertExpired, "")
	})
	t.Run("missing intermediate", func(t *testing.T) {
		_, err := pool.VerifyChain(p.signer, nil, at, nil)
		wantReason(t, err, report.NoCertificateChainFound, "does not chain to a trusted root")
	})
	t.Run("other root", func(t *testing.T) {
		other, err := makePKI()
		if err != nil {
			t.Fatal(err)
		}
		_, err = rootPool(other).VerifyChain(p.signer, []*smx509.Certificate{p.agency}, at, nil)
		wantReason(t, err, report.NoCertificateChainFound, "")
	})
	t.Run("tampered leaf signature", func(t *testing.T) {
		raw := bytes.Clone(p.signer.Raw)
		raw[len(raw)-5] ^= 0x40
		forged, err := smx509.ParseCertificate(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pool.VerifyChain(forged, []*smx509.Certificate{p.agency}, at, nil)
		wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
	})
	t.Run("non-CA issuer", func(t *testing.T) {
		k, _ := GenerateKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: Name{CommonName: "under a leaf"}.pkix(),
			NotBefore: t0, NotAfter: t0.Add(year), KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := smx509.CreateCertificate(rand.Reader, tmpl, p.signer, pub(k), p.signerKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := smx509.ParseCertificate(der)
		_, err = pool.VerifyChain(c, []*smx509.Certificate{p.signer, p.agency}, at, nil)
		wantReason(t, err, report.ChainConstraintsFailure, "is not a CA certificate")
	})
	t.Run("path length exceeded", func(t *testing.T) {
		subKey, _ := GenerateKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: Name{CommonName: "sub CA"}.pkix(),
			NotBefore: t0, NotAfter: t0.Add(year), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
		der, _ := smx509.CreateCertificate(rand.Reader, tmpl, p.agency, pub(subKey), p.agencyKey)
		sub, _ := smx509.ParseCertificate(der)
		leaf, err := CA{sub, subKey}.Issue(LicenseSigner, pub(subKey), Name{CommonName: "deep"}, t0, year)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pool.VerifyChain(leaf, []*smx509.Certificate{sub, p.agency}, at, nil)
		wantReason(t, err, report.ChainConstraintsFailure, "path length of 0")
	})
	t.Run("leaf as anchor", func(t *testing.T) {
		pinned := NewPool()
		pinned.AddAnchor(p.signer)
		chain, err := pinned.VerifyChain(p.signer, nil, at, OIDExtKeyUsageLicenseSigning)
		if err != nil || len(chain) != 1 {
			t.Fatalf("pinned leaf: %v %v", chain, err)
		}
	})
	t.Run("agency as anchor", func(t *testing.T) {
		bundle := EncodeCertificatePEM(p.agency)
		ap, err := LoadPEMBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		chain, err := ap.VerifyChain(p.signer, nil, at, OIDExtKeyUsageLicenseSigning)
		if err != nil || len(chain) != 2 {
			t.Fatalf("agency anchor: %v %v", chain, err)
		}
	})
}

func TestCertificateByKID(t *testing.T) {
	p := fixturePKI(t)
	pool := rootPool(p)
	pool.AddIntermediate(p.agency)
	pool.AddCertificate(p.signer)
	for _, c := range []*smx509.Certificate{p.root, p.agency, p.signer} {
		got, err := pool.CertificateByKID(KID(c))
		if err != nil || !got.Equal(c) {
			t.Errorf("%s: %v", c.Subject.CommonName, err)
		}
	}
	// Known by kid first, then offered as an intermediate: still used.
	p2 := rootPool(p)
	p2.AddCertificate(p.agency)
	p2.AddIntermediate(p.agency)
	if _, err := p2.VerifyChain(p.signer, nil, t0.Add(time.Hour), nil); err != nil {
		t.Errorf("intermediate added after kid-only entry: %v", err)
	}
	_, err := pool.CertificateByKID(KID(p.seal))
	wantReason(t, err, report.NoCertificateChainFound, "no certificate with kid")
	_, err = pool.CertificateByKID([]byte{1, 2})
	wantReason(t, err, report.NoCertificateChainFound, "expected 8")
}

func TestCRL(t *testing.T) {
	p := fixturePKI(t)
	at := t0.Add(year)
	crl, err := p.agencyCA().NewCRL([]Revocation{
		{Serial: p.signer.SerialNumber, At: t0.Add(2 * year), Reason: ReasonSuperseded},
		{Serial: p.seal.SerialNumber, At: t0.Add(2 * year), Reason: ReasonKeyCompromise},
	}, 1, t0.Add(year), t0.Add(year+7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if crl.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Errorf("CRL signed with %v", crl.SignatureAlgorithm)
	}
	parsed, err := ParseCRL(EncodeCRLPEM(crl))
	if err != nil {
		t.Fatal(err)
	}
	pool := rootPool(p)
	if err := pool.AddCRL(parsed); err == nil || !strings.Contains(err.Error(), "not in the pool") {
		t.Fatalf("CRL of an unknown issuer: %v", err)
	}
	pool.AddIntermediate(p.agency)
	if err := pool.AddCRL(parsed); err != nil {
		t.Fatal(err)
	}
	// Superseded at t0+2y: a chain checked at t0+1y still passes, at t0+3y not.
	if _, err := pool.VerifyChain(p.signer, nil, at, nil); err != nil {
		t.Fatalf("superseded later: %v", err)
	}
	_, err = pool.VerifyChain(p.signer, nil, t0.Add(3*year), nil)
	wantReason(t, err, report.CertRevoked, "superseded")
	// Key compromise reaches back.
	_, err = pool.VerifyChain(p.seal, nil, at, nil)
	wantReason(t, err, report.CertRevoked, "key compromise")
	// Not listed.
	if _, err := pool.VerifyChain(p.maker, nil, at, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("revoked issuer", func(t *testing.T) {
		rootCRL, err := p.rootCA().NewCRL([]Revocation{{Serial: p.agency.SerialNumber, At: t0, Reason: ReasonCACompromise}}, 1, t0.Add(year), t0.Add(2*year))
		if err != nil {
			t.Fatal(err)
		}
		pool := rootPool(p)
		if err := pool.AddCRL(rootCRL); err != nil {
			t.Fatal(err)
		}
		_, err = pool.VerifyChain(p.maker, []*smx509.Certificate{p.agency}, at, nil)
		wantReason(t, err, report.CertRevoked, "CA compromise")
	})
	t.Run("forged CRL", func(t *testing.T) {
		raw := bytes.Clone(crl.Raw)
		raw[len(raw)-3] ^= 1
		bad, err := ParseCRL(raw)
		if err != nil {
			t.Fatal(err)
		}
		pool := rootPool(p)
		pool.AddIntermediate(p.agency)
		if err := pool.AddCRL(bad); err == nil || !strings.Contains(err.Error(), "does not verify") {
			t.Fatalf("forged CRL accepted: %v", err)
		}
	})
	t.Run("newest wins", func(t *testing.T) {
		empty, err := p.agencyCA().NewCRL(nil, 2, t0.Add(2*year), t0.Add(3*year))
		if err != nil {
			t.Fatal(err)
		}
		pool := rootPool(p)
		pool.AddIntermediate(p.agency)
		pool.AddCRL(empty)
		pool.AddCRL(parsed) // older (number 1): ignored
		if _, err := pool.VerifyChain(p.seal, nil, at, nil); err != nil {
			t.Fatalf("older CRL replaced a newer one: %v", err)
		}
	})
}

func TestLoadPEMBundleErrors(t *testing.T) {
	p := fixturePKI(t)
	key, _ := MarshalPrivateKeyPEM(p.signerKey, testPass)
	for _, c := range []struct {
		data []byte
		want string
	}{
		{nil, "holds no certificate"},
		{[]byte("garbage"), "holds no certificate"},
		{append(EncodeCertificatePEM(p.root), key...), `"ENCRYPTED PRIVATE KEY"`},
	} {
		if _, err := LoadPEMBundle(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

func TestVerifyChainConcurrent(t *testing.T) {
	p := fixturePKI(t)
	pool := rootPool(p)
	done := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			var err error
			for j := 0; j < 5 && err == nil; j++ {
				_, err = pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, t0.Add(time.Hour), OIDExtKeyUsageLicenseSigning)
			}
			done <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// impostorAgency makes a CA certificate that copies the real agency CA's
// subject and key identifier but certifies attackerKey, "signed by the
// root" with attackerKey too: what a forger can make without the root's
// key.
func impostorAgency(t *testing.T, p *testPKI, attackerKey *sm2.PrivateKey) *smx509.Certificate {
	t.Helper()
	fakeRoot := &x509.Certificate{RawSubject: p.root.RawSubject, SubjectKeyId: p.root.SubjectKeyId}
	tmpl := &x509.Certificate{SerialNumber: p.agency.SerialNumber, RawSubject: p.agency.RawSubject, SubjectKeyId: p.agency.SubjectKeyId,
		NotBefore: p.agency.NotBefore, NotAfter: p.agency.NotAfter, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, fakeRoot, &attackerKey.PublicKey, attackerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.RawSubject, p.agency.RawSubject) || !bytes.Equal(c.SubjectKeyId, p.agency.SubjectKeyId) || !bytes.Equal(c.AuthorityKeyId, p.root.SubjectKeyId) {
		t.Fatal("impostor does not copy the agency's names and key identifiers")
	}
	return c
}

// TestSignatureCacheNeverPassesForgeries warms the pool's signature cache
// with the real chain, then presents certificates that look like it
// (same subjects, same key identifiers, same DER except one byte): each
// must fail exactly as on a cold pool.
func TestSignatureCacheNeverPassesForgeries(t *testing.T) {
	p := fixturePKI(t)
	at := t0.Add(year)
	pool := rootPool(p)
	real := []*smx509.Certificate{p.agency}
	for i := 0; i < 2; i++ {
		if _, err := pool.VerifyChain(p.signer, real, at, OIDExtKeyUsageLicenseSigning); err != nil {
			t.Fatal(err)
		}
	}
	if n := pool.sigs.len(); n != 2 {
		t.Fatalf("warm pool caches %d signatures, want 2 (signer <- agency, agency <- root)", n)
	}
	// The same DER parsed again is a different object: still a cache hit.
	again, _ := smx509.ParseCertificate(bytes.Clone(p.signer.Raw))
	if _, err := pool.VerifyChain(again, real, at, OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
	reparse := func(raw []byte) *smx509.Certificate {
		t.Helper()
		c, err := smx509.ParseCertificate(raw)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("leaf signature altered", func(t *testing.T) {
		raw := bytes.Clone(p.signer.Raw)
		raw[len(raw)-5] ^= 0x40
		_, err := pool.VerifyChain(reparse(raw), real, at, OIDExtKeyUsageLicenseSigning)
		wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
	})
	t.Run("leaf content altered, signature kept", func(t *testing.T) {
		raw := bytes.Clone(p.signer.Raw)
		i := bytes.Index(raw, []byte("License Signer"))
		if i < 0 {
			t.Fatal("common name not found in the DER")
		}
		raw[i] = 'l'
		forged := reparse(raw)
		if forged.Subject.CommonName != "电子证照签发 license Signer" {
			t.Fatalf("altered common name %q", forged.Subject.CommonName)
		}
		_, err := pool.VerifyChain(forged, real, at, OIDExtKeyUsageLicenseSigning)
		wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
	})
	t.Run("intermediate altered", func(t *testing.T) {
		raw := bytes.Clone(p.agency.Raw)
		raw[len(raw)-5] ^= 0x40
		_, err := rootPoolWarm(t, p).VerifyChain(p.signer, []*smx509.Certificate{reparse(raw)}, at, OIDExtKeyUsageLicenseSigning)
		wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
	})
	attacker, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	fake := impostorAgency(t, p, attacker)
	t.Run("real leaf, impostor issuer", func(t *testing.T) {
		// The cached link is (signer, real agency); the impostor has the
		// same subject and key identifier but another DER and key.
		_, err := pool.VerifyChain(p.signer, []*smx509.Certificate{fake}, at, OIDExtKeyUsageLicenseSigning)
		wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
	})
	t.Run("same-subject leaf from impostor issuer", func(t *testing.T) {
		leaf, err := CA{Cert: fake, Key: attacker}.Issue(LicenseSigner, pub(attacker), Name{CommonName: p.signer.Subject.CommonName}, t0, 5*year)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(leaf.RawSubject, p.signer.RawSubject) || !bytes.Equal(leaf.AuthorityKeyId, p.signer.AuthorityKeyId) {
			t.Fatal("impostor leaf does not copy the signer's subject and authority key id")
		}
		for _, inter := range [][]*smx509.Certificate{real, {fake}, {fake, p.agency}} {
			_, err = pool.VerifyChain(leaf, inter, at, OIDExtKeyUsageLicenseSigning)
			wantReason(t, err, report.SigCryptoFailure, "forged or corrupted")
		}
	})
	// The real chain still verifies after all that.
	if _, err := pool.VerifyChain(p.signer, real, at, OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
}

// rootPoolWarm is a root pool that has verified the real chain once.
func rootPoolWarm(t *testing.T, p *testPKI) *Pool {
	pool := rootPool(p)
	if _, err := pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, t0.Add(year), nil); err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestSignatureCacheKeepsTimeAndCRLChecks: the cache holds signatures
// only; validity, EKU and revocation are decided on every call.
func TestSignatureCacheKeepsTimeAndCRLChecks(t *testing.T) {
	p := fixturePKI(t)
	at := t0.Add(year)
	pool := rootPool(p)
	pool.AddIntermediate(p.agency)
	for _, c := range []*smx509.Certificate{p.signer, p.seal} {
		if _, err := pool.VerifyChain(c, nil, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := pool.VerifyChain(p.signer, nil, t0.Add(6*year), nil)
	wantReason(t, err, report.CertExpired, "expired at")
	_, err = pool.VerifyChain(p.signer, nil, t0.Add(-time.Hour), nil)
	wantReason(t, err, report.NotYetValid, "not valid until")
	_, err = pool.VerifyChain(p.seal, nil, at, OIDExtKeyUsageLicenseSigning)
	wantReason(t, err, report.ChainConstraintsFailure, "license-signing")

	crl, err := p.agencyCA().NewCRL([]Revocation{{Serial: p.signer.SerialNumber, At: t0, Reason: ReasonKeyCompromise}}, 1, t0.Add(year), t0.Add(2*year))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.AddCRL(crl); err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyChain(p.signer, nil, at, nil)
	wantReason(t, err, report.CertRevoked, "key compromise")
	if _, err := pool.VerifyChain(p.seal, nil, at, nil); err != nil {
		t.Fatalf("seal certificate is not on the CRL: %v", err)
	}
	// A revoked intermediate, after warm-up, through the root's CRL.
	rootCRL, err := p.rootCA().NewCRL([]Revocation{{Serial: p.agency.SerialNumber, At: t0, Reason: ReasonCACompromise}}, 1, t0.Add(year), t0.Add(2*year))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.AddCRL(rootCRL); err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyChain(p.seal, nil, at, nil)
	wantReason(t, err, report.CertRevoked, "CA compromise")
}

func TestSigCacheBounded(t *testing.T) {
	c := sigCache{half: 4}
	parent := []byte("parent")
	keep := []byte("in use")
	c.add(keep, parent)
	for i := 0; i < 100; i++ {
		c.add([]byte{byte(i)}, parent)
		if !c.has(keep, parent) {
			t.Fatalf("entry in use evicted after %d additions", i+1)
		}
		if n := c.len(); n > 8 {
			t.Fatalf("%d entries, bound is 8", n)
		}
	}
	if c.has([]byte{0}, parent) {
		t.Error("oldest unused entry still cached")
	}
	if !c.has([]byte{99}, parent) {
		t.Error("newest entry not cached")
	}
	if c.has(keep, []byte("other parent")) || c.has([]byte("in us"), parent) {
		t.Error("cache matched on a different parent or child")
	}
}

// TestSignatureCacheConcurrent runs good and forged chains at once on a
// pool whose cache is tiny (constant eviction); go test -race checks the
// locking, the results check that no forgery passes meanwhile.
func TestSignatureCacheConcurrent(t *testing.T) {
	p := fixturePKI(t)
	at := t0.Add(year)
	pool := rootPool(p)
	pool.sigs.half = 1
	raw := bytes.Clone(p.signer.Raw)
	raw[len(raw)-5] ^= 0x40
	forged, err := smx509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	inter := []*smx509.Certificate{p.agency}
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		go func() {
			for j := 0; j < 4; j++ {
				switch i % 3 {
				case 0:
					if _, err := pool.VerifyChain(p.signer, inter, at, OIDExtKeyUsageLicenseSigning); err != nil {
						errs <- err
						return
					}
				case 1:
					if _, err := pool.VerifyChain(forged, inter, at, OIDExtKeyUsageLicenseSigning); report.ReasonOf(err) != report.SigCryptoFailure {
						errs <- fmt.Errorf("forged leaf: %v", err)
						return
					}
				case 2:
					if _, err := pool.VerifyChain(p.seal, inter, at, OIDExtKeyUsageSealSigning); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := pool.sigs.len(); n > 2 {
		t.Errorf("%d cached signatures, bound is 2", n)
	}
}
