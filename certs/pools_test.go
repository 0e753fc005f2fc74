package certs

import (
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/verify/report"
)

// TestPools: two deployments (two roots), one counter trusting both: each
// signer is found and chains within its own pool; a revocation in one pool
// is reported as such, not as "no chain" from the other; a certificate
// neither knows has no chain; an agency CA of one deployment does not
// lend its trust to the other.
func TestPools(t *testing.T) {
	a := fixturePKI(t)
	b, err := makePKI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := makePKI() // trusted by nobody
	if err != nil {
		t.Fatal(err)
	}
	poolOf := func(p *testPKI) *Pool {
		pool := NewPool()
		pool.AddAnchor(p.root)
		pool.AddIntermediate(p.agency)
		pool.AddCertificate(p.signer)
		return pool
	}
	pa, pb := poolOf(a), poolOf(b)
	ps := Pools{pa, pb}
	at := t0.Add(time.Hour)
	for name, p := range map[string]*testPKI{"a": a, "b": b} {
		got, err := ps.CertificateByKID(KID(p.signer))
		if err != nil || got != p.signer {
			t.Fatalf("%s: signer by kid: %v", name, err)
		}
		chain, err := ps.VerifyChain(p.signer, nil, at, OIDExtKeyUsageLicenseSigning)
		if err != nil || len(chain) != 3 || chain[2] != p.root {
			t.Fatalf("%s: chain %d, %v", name, len(chain), err)
		}
	}
	if _, err := ps.CertificateByKID(KID(c.signer)); report.ReasonOf(err) != report.NoCertificateChainFound {
		t.Errorf("unknown kid: %v", err)
	}
	if _, err := ps.VerifyChain(c.signer, []*smx509.Certificate{c.agency}, at, nil); report.ReasonOf(err) != report.NoCertificateChainFound {
		t.Errorf("untrusted chain: %v", err)
	}
	// b's signer presented with a's agency CA as intermediate: still b's
	// pool that decides, and it chains b's signer only through b's agency.
	if _, err := ps.VerifyChain(b.signer, []*smx509.Certificate{a.agency}, at, nil); err != nil {
		t.Errorf("b's signer with a foreign intermediate: %v", err)
	}
	// Revoked in b: CERT_REVOKED, not pool a's "no chain".
	crl, err := b.agencyCA().NewCRL([]Revocation{{Serial: b.signer.SerialNumber, At: t0.Add(30 * time.Minute), Reason: ReasonKeyCompromise}}, 1, t0.Add(40*time.Minute), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.AddCRL(crl); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.VerifyChain(b.signer, nil, at, nil); report.ReasonOf(err) != report.CertRevoked {
		t.Errorf("revoked in b: %v (%s)", err, report.ReasonOf(err))
	}
	// The order of the pools does not change the answer.
	if _, err := (Pools{pb, pa}).VerifyChain(b.signer, nil, at, nil); report.ReasonOf(err) != report.CertRevoked {
		t.Errorf("revoked in b, b first: %v", err)
	}
	if _, err := (Pools{}).VerifyChain(a.signer, nil, at, nil); report.ReasonOf(err) != report.NoCertificateChainFound {
		t.Errorf("no pools: %v", err)
	}
}
