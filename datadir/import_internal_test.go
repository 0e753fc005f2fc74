package datadir

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/license"
)

// fieldsJSON must produce exactly what encoding/json does for a
// map[string]string: it replaces json.Marshal on the import's hot path.
func FuzzFieldsJSON(f *testing.F) {
	f.Add("holder_name", "杭州西湖云帆信息技术有限公司", "scope", "a<b>&c\"d\\e\n\t\x01\u2028\u2029")
	f.Add("k", "\xff\xfe invalid utf-8 \xc3", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if len(k1)+len(v1)+len(k2)+len(v2) > 4096 {
			return
		}
		m := map[string]string{k1: v1, k2: v2}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := fieldsJSON(m); string(got) != string(want) {
			t.Fatalf("fieldsJSON(%q) = %s, encoding/json says %s", m, got, want)
		}
	})
}

// rowKey must stay what earlier versions computed (fmt-formatted), or a
// resumed import after an upgrade would issue every row again.
func TestRowKeyStable(t *testing.T) {
	old := func(r license.Request) string {
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h := sm3.New()
		io.WriteString(h, r.Type)
		for _, k := range keys {
			fmt.Fprintf(h, "\x00%s\x00%s", k, r.Fields[k])
		}
		return "csv:" + hex.EncodeToString(h.Sum(nil)[:16])
	}
	for _, r := range license.SampleRequests() {
		if got, want := rowKey(r), old(r); got != want {
			t.Errorf("%s: rowKey %s, earlier versions %s", r.Type, got, want)
		}
	}
	big := license.Request{Type: "x", Fields: map[string]string{}}
	for i := 0; i < 40; i++ {
		big.Fields[fmt.Sprint("f", i)] = fmt.Sprintf("%0100d", i)
	}
	if rowKey(big) != old(big) {
		t.Error("rowKey differs for a row with many long fields")
	}
}
