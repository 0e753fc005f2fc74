package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"sync"
	"testing"

	dpdf "github.com/digitorus/pdf"
	pdfsign "github.com/digitorus/pdfsign/sign"
	pdfsignverify "github.com/digitorus/pdfsign/verify"
	"github.com/emmansun/gmsm/sm3"
)

// Benchmarks on a 20 MB PDF (one page showing a 20 MB incompressible
// image). Baselines in the same run: one SM3 pass over the file (what any
// SM2/SM3 signer must do), and digitorus/pdfsign signing and verifying the
// same file with ECDSA P-256 / SHA-256.
//
//	go test ./pdf -run '^$' -bench . -benchmem -cpu 1

var (
	bigOnce   sync.Once
	bigPDF    []byte
	bigSigned []byte
)

// bigFile writes a PDF by hand: catalog, pages, one page whose content
// draws an RGB image XObject of about size bytes of random data.
func bigFile(size int) []byte {
	side := 1
	for side*side*3 < size {
		side++
	}
	img := make([]byte, side*side*3)
	rand.Read(img)
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im 5 0 R >> >> /Contents 4 0 R >>")
	content := "q 500 0 0 500 47 171 cm /Im Do Q"
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	offs = append(offs, b.Len())
	fmt.Fprintf(&b, "5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n", side, side, len(img))
	b.Write(img)
	b.WriteString("\nendstream\nendobj\n")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

func benchFiles(b *testing.B) {
	bigOnce.Do(func() {
		bigPDF = bigFile(20 << 20)
		o := getPKI(b).opts()
		o.Appearance = &Appearance{PNG: sealPNG(b), Page: 1, Rect: Rect{X: 400, Y: 600, W: 100, H: 100}}
		var out bytes.Buffer
		if err := Sign(bytes.NewReader(bigPDF), int64(len(bigPDF)), &out, o); err != nil {
			b.Fatal(err)
		}
		bigSigned = out.Bytes()
	})
}

func BenchmarkSM3Pass20MB(b *testing.B) {
	benchFiles(b)
	b.SetBytes(int64(len(bigPDF)))
	b.ReportAllocs()
	for b.Loop() {
		h := sm3.New()
		h.Write(bigPDF)
		h.Sum(nil)
	}
}

func BenchmarkSign20MB(b *testing.B) {
	benchFiles(b)
	o := getPKI(b).opts()
	o.Appearance = &Appearance{PNG: sealPNG(b), Page: 1, Rect: Rect{X: 400, Y: 600, W: 100, H: 100}}
	b.SetBytes(int64(len(bigPDF)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Sign(bytes.NewReader(bigPDF), int64(len(bigPDF)), io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify20MB(b *testing.B) {
	benchFiles(b)
	b.SetBytes(int64(len(bigSigned)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Verify(bytes.NewReader(bigSigned), int64(len(bigSigned)))
		if err != nil || len(res.Signatures) != 1 || res.Signatures[0].DigestErr != nil || res.Signatures[0].SignatureErr != nil {
			b.Fatalf("verify: %v %+v", err, res)
		}
	}
}

func ecdsaSigner(b *testing.B) (crypto.Signer, *x509.Certificate) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return k, c
}

func BenchmarkPdfsignSignECDSA20MB(b *testing.B) {
	benchFiles(b)
	k, c := ecdsaSigner(b)
	b.SetBytes(int64(len(bigPDF)))
	b.ReportAllocs()
	for b.Loop() {
		in := bytes.NewReader(bigPDF)
		rd, err := dpdf.NewReader(in, int64(len(bigPDF)))
		if err != nil {
			b.Fatal(err)
		}
		err = pdfsign.Sign(in, io.Discard, rd, int64(len(bigPDF)), pdfsign.SignData{
			Signature:       pdfsign.SignDataSignature{CertType: pdfsign.ApprovalSignature, Info: pdfsign.SignDataSignatureInfo{Name: "bench", Date: fixedNow}},
			Signer:          k,
			DigestAlgorithm: crypto.SHA256,
			Certificate:     c,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPdfsignVerifyECDSA20MB(b *testing.B) {
	benchFiles(b)
	k, c := ecdsaSigner(b)
	in := bytes.NewReader(bigPDF)
	rd, _ := dpdf.NewReader(in, int64(len(bigPDF)))
	var out bytes.Buffer
	if err := pdfsign.Sign(in, &out, rd, int64(len(bigPDF)), pdfsign.SignData{
		Signature: pdfsign.SignDataSignature{CertType: pdfsign.ApprovalSignature, Info: pdfsign.SignDataSignatureInfo{Name: "bench", Date: fixedNow}},
		Signer:    k, DigestAlgorithm: crypto.SHA256, Certificate: c,
	}); err != nil {
		b.Fatal(err)
	}
	signed := out.Bytes()
	b.SetBytes(int64(len(signed)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pdfsignverify.Verify(bytes.NewReader(signed), int64(len(signed))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBigFileSigned checks the benchmark's input path once at a small
// size: the hand-made file signs and verifies, and qpdf accepts it.
func TestBigFileSigned(t *testing.T) {
	in := bigFile(1 << 20)
	out := signBytes(t, in, getPKI(t).opts())
	qpdfCheck(t, out)
	s := verifyBytes(t, out).Signatures
	if len(s) != 1 {
		t.Fatal("no signature")
	}
	assertValid(t, s[0])
}
