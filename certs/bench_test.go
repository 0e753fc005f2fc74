package certs

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Benchmarks with their baselines in the same file, so ratios can be taken
// from one run:
//
//	chain verify (3 certificates, through Pool) / (2 x BenchmarkSM2VerifyRaw)
//
// The goal is <= 1.3. Run: go test ./certs -run '^$' -bench . -cpu 1

// benchMsg is about the size of a certificate TBS, so the raw verify does
// the same SM3 work as a certificate signature check.
var benchMsg = make([]byte, 420)

func BenchmarkSM2SignRaw(b *testing.B) {
	k, _ := sm2.GenerateKey(rand.Reader)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, benchMsg, sm2.DefaultSM2SignerOpts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSM2VerifyRaw(b *testing.B) {
	k, _ := sm2.GenerateKey(rand.Reader)
	sig, _ := k.Sign(rand.Reader, benchMsg, sm2.DefaultSM2SignerOpts)
	b.ReportAllocs()
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, benchMsg, sig) {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkGenerateKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateKey(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueLicenseSigner(b *testing.B) {
	p := fixturePKI(b)
	k, _ := GenerateKey()
	ca := p.agencyCA()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ca.Issue(LicenseSigner, pub(k), Name{CommonName: "bench"}, t0, year); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyChain3 verifies signer -> agency CA -> root through a
// warm Pool, the intermediate presented as the caller would (parsed from
// the signed object each time is the caller's cost, not ours).
func BenchmarkVerifyChain3(b *testing.B) {
	p := fixturePKI(b)
	pool := rootPool(p)
	inter := []*smx509.Certificate{p.agency}
	at := t0.Add(year)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pool.VerifyChain(p.signer, inter, at, OIDExtKeyUsageLicenseSigning); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyChain3Cold uses a fresh Pool each time: both signatures
// are checked (the upper bound, e.g. a CLI run verifying one license).
func BenchmarkVerifyChain3Cold(b *testing.B) {
	p := fixturePKI(b)
	inter := []*smx509.Certificate{p.agency}
	at := t0.Add(year)
	b.ReportAllocs()
	for b.Loop() {
		pool := rootPool(p)
		if _, err := pool.VerifyChain(p.signer, inter, at, OIDExtKeyUsageLicenseSigning); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmx509Verify is gmsm's general path validator on the same
// chain, for comparison with Pool.
func BenchmarkSmx509Verify(b *testing.B) {
	p := fixturePKI(b)
	roots := smx509.NewCertPool()
	roots.AddCert(p.root)
	inter := smx509.NewCertPool()
	inter.AddCert(p.agency)
	opts := smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t0.Add(year), KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.signer.Verify(opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePrivateKeyPEM(b *testing.B) {
	p := fixturePKI(b)
	data, _ := MarshalPrivateKeyPEM(p.signerKey, testPass)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePrivateKeyPEM(data, testPass); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainVsRaw interleaves a warm 3-certificate chain verification
// and a raw SM2 verification of a certificate-sized message in the same
// loop, so the ratio survives a noisy shared machine. It reports
// chain-ns/op, raw-ns/op and ratio = chain / (2 x raw); the goal is <= 1.3.
func BenchmarkChainVsRaw(b *testing.B) {
	p := fixturePKI(b)
	pool := rootPool(p)
	inter := []*smx509.Certificate{p.agency}
	at := t0.Add(year)
	k := p.signerKey
	sig, _ := k.Sign(rand.Reader, p.signer.RawTBSCertificate, sm2.DefaultSM2SignerOpts)
	msg := p.signer.RawTBSCertificate
	var chainT, rawT time.Duration
	for b.Loop() {
		s := time.Now()
		if _, err := pool.VerifyChain(p.signer, inter, at, OIDExtKeyUsageLicenseSigning); err != nil {
			b.Fatal(err)
		}
		m := time.Now()
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify failed")
		}
		e := time.Now()
		chainT += m.Sub(s)
		rawT += e.Sub(m)
	}
	n := float64(b.N)
	b.ReportMetric(float64(chainT.Nanoseconds())/n, "chain-ns/op")
	b.ReportMetric(float64(rawT.Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(chainT)/(2*float64(rawT)), "ratio")
}
