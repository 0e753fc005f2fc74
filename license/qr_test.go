package license

import (
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

func TestQRSizes(t *testing.T) {
	s, _ := testSigner(t)
	for _, typ := range Types() {
		l := issueSample(t, s, typ.Key, nil)
		text, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		v := qrVersion(t, text)
		t.Logf("%s %s: %d chars, QR version %d-M", typ.Key, typ.ZH, len(text), v)
		if typ.Key == "business_license" && v > 14 {
			t.Errorf("business license QR is version %d at level M; must be 14 or smaller", v)
		}
	}
}
