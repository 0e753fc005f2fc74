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
