package license

import (
	"strings"
	"testing"
)

func TestPDFReason(t *testing.T) {
	s, _ := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	r := PDFReason(l)
	if want := "电子证照签章 " + l.ID() + " 状态列表 L1 #12345"; r != want {
		t.Fatalf("reason %q, want %q", r, want)
	}
	id, list, index, ok := ParsePDFReason(r)
	if !ok || id != l.ID() || list != "L1" || index != 12345 {
		t.Errorf("parsed %q %q %d %v", id, list, index, ok)
	}
	// Older PDFs named the license only.
	if id, list, _, ok := ParsePDFReason("电子证照签章 " + l.ID()); !ok || id != l.ID() || list != "" {
		t.Errorf("identifier only: %q %q %v", id, list, ok)
	}
	wrongCheck := l.ID()[:len(l.ID())-1] + "0"
	if wrongCheck == l.ID() {
		wrongCheck = l.ID()[:len(l.ID())-1] + "1"
	}
	for _, bad := range []string{
		"", "合同签章", "电子证照签章 ", "电子证照签章 not-an-identifier",
		"电子证照签章 " + wrongCheck,
		"电子证照签章 " + l.ID() + " 状态列表 L1",
		"电子证照签章 " + l.ID() + " 状态列表 L1 #x",
		"电子证照签章 " + l.ID() + " extra",
	} {
		if _, _, _, ok := ParsePDFReason(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParsePDFReason(f *testing.F) {
	f.Add("电子证照签章 1.2.156.3005.2.11100000MA00000156001.11350100MB0000019U.20260000001.001.O 状态列表 L1 #3")
	f.Add("电子证照签章 x")
	f.Fuzz(func(t *testing.T, s string) {
		id, list, _, ok := ParsePDFReason(s)
		if !ok {
			return
		}
		// What parses names a valid identifier, and a list only with one.
		if _, err := ParseIdentifier(id); err != nil {
			t.Fatalf("%q: identifier %q: %v", s, id, err)
		}
		if strings.Contains(s, "状态列表") != (list != "") {
			t.Fatalf("%q: list %q", s, list)
		}
	})
}
