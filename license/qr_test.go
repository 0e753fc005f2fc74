package license

import (
	"bytes"
	"compress/zlib"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func qrVersion(t testing.TB, text string) int {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return q.VersionNumber
}

// TestQRSizes computes the QR version (level M) of the static QR of every
// shipped type's sample, plain and holder-bound (16 bytes more), and of a
// default presentation; docs/formats.md reports these numbers. A business
// license must fit version 14.
func TestQRSizes(t *testing.T) {
	s, _ := testSigner(t)
	dev := testDevice(t, "sm2")
	for _, typ := range Types() {
		l := issueSample(t, s, typ.Key, nil)
		text, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		lb := issueSample(t, s, typ.Key, func(r *Request) { r.HolderKey = dev.Public() })
		textB, _ := lb.QRText()
		p, err := MakePresentation(lb.Marshal(), dev, nil, "counter-1", testNow)
		if err != nil {
			t.Fatal(err)
		}
		v, vb := qrVersion(t, text), qrVersion(t, textB)
		t.Logf("| %s %s | %d | %d | %d | %d | %d | %d |", typ.ZH, typ.Key, len(text), v, len(textB), vb, len(p), qrVersion(t, p))
		if typ.Key == "business_license" && (v > 14 || vb > 14) {
			t.Errorf("business license QR is version %d (holder-bound %d) at level M; must be 14 or smaller", v, vb)
		}
	}
}

func TestZipBombRefused(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	if _, err := ParseQR(PrefixLicense + Base45Encode(z.Bytes())); err == nil {
		t.Fatal("1 MiB payload accepted")
	}
	if _, err := decompress(z.Bytes()); err == nil {
		t.Fatal("decompress beyond the bound")
	}
}

// Inflate buffers are pooled: a parsed license must not alias its buffer.
func TestPooledBufferNotAliased(t *testing.T) {
	s, cert := testSigner(t)
	dev := testDevice(t, "sm2")
	a := issueSample(t, s, "business_license", func(r *Request) { r.HolderKey = dev.Public() })
	b := issueSample(t, s, "driving_license", nil)
	ta, _ := a.QRText()
	tb, _ := b.QRText()
	pa, _ := MakePresentation(a.Marshal(), dev, nil, "", testNow)
	la, err := ParseQR(ta)
	if err != nil {
		t.Fatal(err)
	}
	pres, err := ParsePresentation(pa)
	if err != nil {
		t.Fatal(err)
	}
	want, wantP := la.String(), pres.License.String()
	for i := 0; i < 50; i++ {
		ParseQR(tb)
		ParsePresentation(tb)
	}
	if la.String() != want || pres.License.String() != wantP {
		t.Fatal("parsed license changed after its buffer was reused")
	}
	if err := la.VerifySignature(cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := pres.CheckHolder(); err != nil {
		t.Fatal(err)
	}
	if err := pres.CheckDisclosures(); err != nil {
		t.Fatal(err)
	}
	if _, err := la.QRText(); err != nil {
		t.Fatal(err)
	}
	if la2, _ := ParseQR(ta); la2.String() != want {
		t.Fatal("re-parse differs")
	}
	if m := la.Marshal(); len(m) == 0 {
		t.Fatal("marshal")
	}
	if l2, err := ParseLicense(la.Marshal()); err != nil || l2.ID() != a.ID() {
		t.Fatalf("holder copy from QR: %v", err)
	}
}

func TestScannerLineEndings(t *testing.T) {
	s, _ := testSigner(t)
	text, _ := issueSample(t, s, "marriage_certificate", nil).QRText()
	if _, err := ParseQR(text + "\r\n"); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"X", "XYZ", "000000"} {
		if _, err := ParseQR(text + junk); err == nil {
			t.Fatalf("trailing %q accepted", junk)
		}
	}
}
