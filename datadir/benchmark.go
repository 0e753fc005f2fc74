package datadir

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// BenchResult is one measured operation and its ratio to the baseline it
// is compared with, measured in the same run.
type BenchResult struct {
	Name     string
	PerOp    time.Duration
	Baseline string
	Ratio    float64 // PerOp / baseline's PerOp
	Note     string
	// Goal is the ratio the project's goal allows (0: no goal); the
	// command marks the result met or not met.
	Goal float64
}

// Benchmark measures, in this process, the operations the project's speed
// goals are stated for, each beside its baseline: raw SM2 verify and sign
// for license work, one SM3 pass over the same bytes for PDFs. It issues
// nothing into the store: licenses are signed in memory. The machine's
// load shows in absolute times; ratios hold better.
func (d *Dir) Benchmark(ctx context.Context, pdfSize int) ([]BenchResult, error) {
	signer, err := d.Signer("")
	if err != nil {
		return nil, err
	}
	pool, err := d.Pool(ctx)
	if err != nil {
		return nil, err
	}
	pool.SetClock(d.Now)
	req := license.SampleRequests()[0]
	a, _ := d.Agency("")
	req.StatusList, req.StatusIndex = a.CreditCode, 0
	l, err := signer.Issue(req)
	if err != nil {
		return nil, err
	}
	qr, err := l.QRText()
	if err != nil {
		return nil, err
	}
	sl, err := license.BuildStatusList(a.CreditCode, a.CreditCode, 1024, nil)
	if err != nil {
		return nil, err
	}
	slBytes, err := signer.SignStatusList(sl, d.Now(), d.Now().Add(time.Hour))
	if err != nil {
		return nil, err
	}
	lists := license.NewStatusLists(pool, verify.LicenseSigningEKU)
	if _, err := lists.Add(slBytes); err != nil {
		return nil, err
	}
	offline := verify.Options{Trust: pool, Status: lists, Now: d.Now}
	if r := verify.VerifyLicenseQR(ctx, qr, offline); r.Verdict != report.Passed {
		return nil, fmt.Errorf("benchmark license does not verify: %s", r.Reason)
	}
	key, _ := sm2.GenerateKey(rand.Reader)
	msg := make([]byte, 400)
	sig, _ := key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)

	run := func(f func()) time.Duration {
		r := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				f()
			}
		})
		return time.Duration(r.NsPerOp())
	}
	var out []BenchResult
	verifyRaw := run(func() { sm2.VerifyASN1WithSM2(&key.PublicKey, nil, msg, sig) })
	signRaw := run(func() { key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts) })
	out = append(out, BenchResult{Name: "sm2-verify (baseline)", PerOp: verifyRaw, Baseline: "sm2-verify", Ratio: 1},
		BenchResult{Name: "sm2-sign (baseline)", PerOp: signRaw, Baseline: "sm2-sign", Ratio: 1})
	add := func(name string, t time.Duration, base string, baseT time.Duration, note string) {
		out = append(out, BenchResult{Name: name, PerOp: t, Baseline: base, Ratio: float64(t) / float64(baseT), Note: note})
	}
	goal := func(g float64) { out[len(out)-1].Goal = g }
	t := run(func() { verify.VerifyLicenseQR(ctx, qr, offline) })
	add("license-qr-verify-offline", t, "sm2-verify", verifyRaw, "decode + signature + chain from cache + status list lookup; goal ≤ 1.25")
	goal(1.25)
	online, err := d.VerifyOptions(ctx)
	if err == nil {
		online.Nonces = nil
		t = run(func() { verify.VerifyLicenseQR(ctx, qr, online) })
		add("license-qr-verify-online", t, "sm2-verify", verifyRaw, "status from the store ("+d.Store.Backend()+"); the license is not stored, so status is looked up and missed")
	}
	t = run(func() { signer.Issue(req) })
	add("license-issue-sign", t, "sm2-sign", signRaw, "validate + salts + digests + CBOR + SM2 signature")
	holder, _ := license.GenerateHolderKey(rand.Reader, "sm2")
	req.HolderKey = holder.Public()
	bl, err := signer.Issue(req)
	if err == nil {
		lb := bl.Marshal()
		t = run(func() { license.MakePresentationWith(lb, holder, license.PresentOptions{Now: d.Now()}) })
		add("presentation-make", t, "sm2-sign", signRaw, "what the wallet does: parse its copy, select fields, sign with the device key")
		p, _ := license.MakePresentationWith(lb, holder, license.PresentOptions{Now: d.Now(), Lifetime: license.MaxLifetime})
		t = run(func() { verify.VerifyPresentationQR(ctx, p, offline) })
		add("presentation-verify", t, "sm2-verify", verifyRaw, "issuer and holder signatures, disclosures, freshness (no nonce store)")
	}

	if pdfSize > 0 {
		doc, err := benchPDF(pdfSize)
		if err != nil {
			return nil, err
		}
		sm3T := run(func() { sm3.Sum(doc) })
		out = append(out, BenchResult{Name: fmt.Sprintf("sm3 %d MB (baseline)", pdfSize>>20), PerOp: sm3T, Baseline: "sm3", Ratio: 1})
		sealKey, err := d.AgencyKey("", RoleSeal)
		if err != nil {
			return nil, err
		}
		sealCert, _ := d.AgencyCert("", RoleSeal)
		var signed bytes.Buffer
		t = run(func() {
			signed.Reset()
			pdf.Sign(bytes.NewReader(doc), int64(len(doc)), &signed, pdf.SignOptions{Signer: sealKey, Cert: sealCert, Time: d.Now()})
		})
		add("pdf-sign", t, "sm3", sm3T, "incremental update, CMS SM2/SM3; goal ≤ 2")
		if pdfSize >= 20<<20 {
			goal(2) // stated for a 20 MB PDF: small files are fixed cost
		}
		sb := signed.Bytes()
		t = run(func() { pdf.Verify(bytes.NewReader(sb), int64(len(sb))) })
		add("pdf-verify", t, "sm3", sm3T, "byte range, digest, CMS signature, changes; goal ≤ 1.5")
		if pdfSize >= 20<<20 {
			goal(1.5)
		}
	}
	return out, nil
}

// benchPDF makes a one-page PDF of about size bytes: a page and one large
// incompressible stream, like a scanned attachment.
func benchPDF(size int) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, 5)
	obj := func(n int, body string) {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>")
	offs[4] = b.Len()
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d >>\nstream\n", size)
	if _, err := io.CopyN(&b, rand.Reader, int64(size)); err != nil {
		return nil, err
	}
	b.WriteString("\nendstream\nendobj\n")
	xref := b.Len()
	b.WriteString("xref\n0 5\n0000000000 65535 f \n")
	for _, o := range offs[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes(), nil
}

// BenchMachine describes where a benchmark ran.
func BenchMachine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
}
