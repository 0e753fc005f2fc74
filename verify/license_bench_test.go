package verify

import (
	"context"
	"crypto/rand"
	"encoding/asn1"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify/report"
)

// BenchmarkRawSM2Verify is the baseline: one SM2 verify of a message the
// size of a license's ToBeSigned bytes.
func BenchmarkRawSM2Verify(b *testing.B) {
	k := seedKey(b, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkVerifyLicenseQR verifies a business license QR fully offline:
// Base45, zlib, CBOR, digests, signature, chain from a cached pool, CRL,
// status list lookup, report.
func BenchmarkVerifyLicenseQR(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := VerifyLicenseQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}

func BenchmarkVerifyPresentationQR(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_presentation_sm2.txt"))
	o := vectorOptions(pool, sl, v)
	o.Nonces = nil
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := VerifyPresentationQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}

// memoTrust remembers VerifyChain results: what the pipeline costs when
// the pool caches leaf links too (certs.Pool caches CA links only, so
// BenchmarkVerifyLicenseQR pays a second SM2 verify for the signer
// certificate on every call). Benchmark only: a real cache must forget on
// new CRLs and trust lists.
type memoTrust struct {
	Trust
	mu   sync.Mutex
	memo map[string][]*smx509.Certificate
}

func (m *memoTrust) VerifyChain(c *smx509.Certificate, im []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error) {
	m.mu.Lock()
	ch, ok := m.memo[string(c.Raw)]
	m.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := m.Trust.VerifyChain(c, im, at, eku)
	if err == nil {
		m.mu.Lock()
		m.memo[string(c.Raw)] = ch
		m.mu.Unlock()
	}
	return ch, err
}

func BenchmarkVerifyLicenseQRChainCached(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	o.Trust = &memoTrust{Trust: pool, memo: map[string][]*smx509.Certificate{}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := VerifyLicenseQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}

// BenchmarkCPURatio measures CPU time (getrusage, not wall time) per
// operation of the license QR pipeline and of a raw SM2 verify, in
// alternating batches, so the ratio holds on a machine shared with other
// jobs. It does a fixed amount of work (run once by the framework). Run:
// go test ./verify -run XXX -bench CPURatio -cpu 1 -v
func BenchmarkCPURatio(b *testing.B) {
	t := b
	pool, sl := loadVectorTrust(t)
	v := readVector(t, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	oc := o
	oc.Trust = &memoTrust{Trust: pool, memo: map[string][]*smx509.Certificate{}}
	k := seedKey(t, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	ctx := context.Background()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	ops := map[string]func(){
		"raw SM2 verify":                 func() { sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) },
		"VerifyLicenseQR":                func() { VerifyLicenseQR(ctx, v.payload, o) },
		"VerifyLicenseQR (chain cached)": func() { VerifyLicenseQR(ctx, v.payload, oc) },
		"license.ParseQR":                func() { license.ParseQR(v.payload) },
		"ParseQR + Subject": func() {
			l, _ := license.ParseQR(v.payload)
			l.Subject()
		},
	}
	total := map[string]time.Duration{}
	const batch, rounds = 200, 10
	for r := 0; r < rounds; r++ {
		for name, f := range ops {
			start := cpu()
			for i := 0; i < batch; i++ {
				f()
			}
			total[name] += cpu() - start
		}
	}
	base := total["raw SM2 verify"]
	for name, d := range total {
		t.Logf("%-32s %8.1f µs CPU/op  %.2fx raw verify", name, float64(d.Microseconds())/batch/rounds, float64(d)/float64(base))
	}
	b.ReportMetric(float64(total["VerifyLicenseQR"])/float64(base), "x-raw-verify")
	b.ReportMetric(float64(total["VerifyLicenseQR (chain cached)"])/float64(base), "x-raw-verify-chain-cached")
}

// BenchmarkLicenseQRVsRaw interleaves VerifyLicenseQR (warm certs.Pool,
// offline StatusLists) and a raw SM2 verify of a ToBeSigned-sized message
// in the same loop, so both see the same machine load. It reports
// qr-ns/op, raw-ns/op, ratio = qr / raw (wall time) and cpu-ratio (the
// same in process CPU time); the goal is <= 1.25 (issue 4:
// verifying a license QR offline at >= 0.8x the rate of a raw verify).
// Run: go test ./verify -run '^$' -bench LicenseQRVsRaw -cpu 1 -count 5
func BenchmarkLicenseQRVsRaw(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	ctx := context.Background()
	k := seedKey(b, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if r := VerifyLicenseQR(ctx, v.payload, o); r.Verdict != report.Passed {
		b.Fatal(r.Reason)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var qrT, rawT, qrC, rawC time.Duration
	for b.Loop() {
		cs, s := cpu(), time.Now()
		if r := VerifyLicenseQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
		cm, m := cpu(), time.Now()
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify")
		}
		ce, e := cpu(), time.Now()
		qrT += m.Sub(s)
		rawT += e.Sub(m)
		qrC += cm - cs
		rawC += ce - cm
	}
	n := float64(b.N)
	b.ReportMetric(float64(qrT.Nanoseconds())/n, "qr-ns/op")
	b.ReportMetric(float64(rawT.Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(qrT)/float64(rawT), "ratio")
	// CPU time (getrusage, microsecond resolution, summed over many
	// operations) holds better than wall time on a loaded machine.
	b.ReportMetric(float64(qrC)/float64(rawC), "cpu-ratio")
}
