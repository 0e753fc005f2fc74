package store_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/zhengxin/zhengxin/store"
)

// identifierRE is GB/T 36904's layout written independently of the store:
// the root arc and five parts of digits and upper-case letters.
var identifierRE = regexp.MustCompile(`^1\.2\.156\.3005\.2\.[0-9A-Z]{1,40}\.([0-9A-Z]{1,40})\.[0-9A-Z]{1,40}\.[0-9A-Z]{1,40}\.[0-9A-Z]{1,40}$`)

// refAgency is AuditAgency's documented rule with a regexp and a generic
// JSON decode.
func refAgency(object string, detail []byte) string {
	if m := identifierRE.FindStringSubmatch(object); m != nil && len(object) <= 200 {
		return m[1]
	}
	var v map[string]any
	if json.Unmarshal(detail, &v) != nil {
		return ""
	}
	a, _ := v["agency"].(string)
	return a
}

func FuzzAuditAgency(f *testing.F) {
	for _, s := range []struct{ object, detail string }{
		{"1.2.156.3005.2.11100000000013127D001.11350100MB0000019U.00000001.001.7", `{}`},
		{"1.2.156.3005.2.A.B.C.D", `{"agency":"X"}`},
		{"seal:1", `{"agency":"11350100MB0000019U","name":"公章"}`},
		{"token:1", `{"\u0061gency":"A","agency":"B"}`},
		{"", `{"agency":5}`},
		{"", `[1,2]`},
		{"1.2.156.3005.2..B.C.D.E", `"agency"`},
	} {
		f.Add(s.object, []byte(s.detail))
	}
	f.Fuzz(func(t *testing.T, object string, detail []byte) {
		if len(object) > 1000 || len(detail) > 4096 {
			return
		}
		got := store.AuditAgency(store.AuditEntry{Object: object, Detail: detail})
		if want := refAgency(object, detail); got != want {
			t.Fatalf("AuditAgency(%q, %q) = %q, want %q", object, detail, got, want)
		}
		if got != "" && !strings.Contains(object, got) && !strings.Contains(string(detail), "agency") && !strings.Contains(string(detail), `\u`) {
			t.Fatalf("agency %q from nowhere", got)
		}
	})
}
