package license

import (
	"crypto/rand"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// Baselines in the same run: raw SM2 sign and verify of a message the
// size of a license's ToBeSigned bytes.
func BenchmarkRawSM2Sign(b *testing.B) {
	k := testKey(b, "bench")
	msg := make([]byte, 400)
	for b.Loop() {
		k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	}
}

func BenchmarkRawSM2Verify(b *testing.B) {
	k := testKey(b, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkIssue signs one 12-field business license: validation,
// salts, digests, CBOR, SM2.
func BenchmarkIssue(b *testing.B) {
	s, _ := testSigner(b)
	req := SampleRequests()[0]
	req.StatusList = "L1"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueParallel(b *testing.B) {
	s, _ := testSigner(b)
	req := SampleRequests()[0]
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Issue(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkQRText(b *testing.B) {
	s, _ := testSigner(b)
	l := issueSample(b, s, "business_license", nil)
	b.ReportAllocs()
	for b.Loop() {
		l.QRText()
	}
}

// BenchmarkParseQRVerify: decode the static QR and check the signature.
func BenchmarkParseQRVerify(b *testing.B) {
	s, cert := testSigner(b)
	text, _ := issueSample(b, s, "business_license", nil).QRText()
	b.ReportAllocs()
	for b.Loop() {
		l, err := ParseQR(text)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.VerifySignature(cert.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseQR(b *testing.B) {
	s, _ := testSigner(b)
	text, _ := issueSample(b, s, "business_license", nil).QRText()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseQR(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCPURatio measures CPU time (getrusage) per Issue against a raw
// SM2 sign in alternating batches; see verify's BenchmarkCPURatio. Run:
// go test ./license -run XXX -bench CPURatio -cpu 1 -v
func BenchmarkCPURatio(b *testing.B) {
	t := b
	s, cert := testSigner(t)
	req := SampleRequests()[0]
	req.StatusList = "L1"
	k := testKey(t, "bench")
	msg := make([]byte, 400)
	l, _ := s.Issue(req)
	text, _ := l.QRText()
	ops := []benchOp{
		{"raw SM2 sign", func() { k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts) }},
		{"Issue (12-field business license)", func() { s.Issue(req) }},
		{"QRText", func() { l.QRText() }},
		{"ParseQR + VerifySignature", func() {
			q, _ := ParseQR(text)
			q.VerifySignature(cert.PublicKey)
		}},
	}
	total := cpuPerOp(ops)
	for i, op := range ops {
		t.Logf("%-36s %7.1f µs CPU/op  %.2fx raw sign", op.name, float64(total[i].Microseconds())/cpuBatch/cpuRounds, float64(total[i])/float64(total[0]))
	}
	b.ReportMetric(float64(total[1])/float64(total[0]), "x-raw-sign")
}

// BenchmarkPreparedVsCold: decode a static QR and check its signature with
// the issuer key prepared (a table, what a counter has after its fourth
// verification) and cold (gmsm, what a one-shot CLI run does), beside a raw
// SM2 verify, in CPU time, alternating batches. Run:
// go test ./license -run XXX -bench PreparedVsCold -cpu 1 -v
func BenchmarkPreparedVsCold(b *testing.B) {
	s, cert := testSigner(b)
	text, _ := issueSample(b, s, "business_license", nil).QRText()
	k := testKey(b, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	parseVerify := func() {
		q, err := ParseQR(text)
		if err != nil || q.VerifySignature(cert.PublicKey) != nil {
			b.Fatal("verify")
		}
	}
	setCold := func(cold bool) {
		issuerKeys.Lock()
		issuerKeys.disabled = cold
		issuerKeys.Unlock()
	}
	defer setCold(false)
	ops := []benchOp{
		{"raw SM2 verify", func() { sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) }},
		{"ParseQR + VerifySignature, prepared", func() { setCold(false); parseVerify() }},
		{"ParseQR + VerifySignature, cold", func() { setCold(true); parseVerify() }},
	}
	total := cpuPerOp(ops)
	for i, op := range ops {
		b.Logf("%-38s %7.1f µs CPU/op  %.2fx raw verify", op.name, float64(total[i].Microseconds())/cpuBatch/cpuRounds, float64(total[i])/float64(total[0]))
	}
	b.ReportMetric(float64(total[1])/float64(total[0]), "x-raw-prepared")
	b.ReportMetric(float64(total[2])/float64(total[0]), "x-raw-cold")
}

// benchOp is one operation of a CPU-time comparison.
type benchOp struct {
	name string
	f    func()
}

// cpuPerOp runs the operations in alternating batches and returns each
// one's process CPU time (getrusage, not wall time: the ratio holds on a
// machine shared with other jobs), summed over all its batches.
func cpuPerOp(ops []benchOp) []time.Duration {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	total := make([]time.Duration, len(ops))
	for r := 0; r < cpuRounds; r++ {
		for i, op := range ops {
			start := cpu()
			for j := 0; j < cpuBatch; j++ {
				op.f()
			}
			total[i] += cpu() - start
		}
	}
	return total
}

const cpuBatch, cpuRounds = 200, 10
