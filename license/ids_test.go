package license

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Worked examples of STANDARDS.md §4.2 and §5 (real identifiers and codes,
// checked there independently with Python).
func TestIdentifierRealExamples(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want Identifier
	}{
		{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U", Identifier{"11100000000013338W011", "11430000006122244L", "20230000403", 1}},
		{"1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0", Identifier{"11100000000013338W009", "11330105002500287C", "2025052201", 2}},
		{"1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9", Identifier{"11100000MB03271699022", "340100", "000000016", 1}},
	} {
		got, err := ParseIdentifier(tc.id)
		if err != nil {
			t.Errorf("%s: %v", tc.id, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: parsed %+v, want %+v", tc.id, got, tc.want)
		}
		if got.String() != tc.id {
			t.Errorf("String() = %s, want %s", got.String(), tc.id)
		}
	}
}

func TestIdentifierErrors(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		// The Swagger sample STANDARDS.md flags as made up: check gives D.
		{"1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E8EA49.001.M", "should be"},
		{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V", "position 73 should be U"},
		{"1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.001.U", "must start with"},
		{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U", "5 parts"},
		{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023-0403.001.U", "must be a digit or an upper-case letter"},
		{"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U", "3 digits"},
	} {
		_, err := ParseIdentifier(tc.id)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.id, err, tc.want)
		}
	}
}

func TestCitizenID(t *testing.T) {
	for _, ok := range []string{"11010519491231002X", "11010519491231002x", "440524188001010014"} {
		if _, err := CheckCitizenID(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		id, zh, en string
		pos        int
	}{
		{"110105194912310021", "第18位校验码应为X", "check character at position 18 should be X (GB 11643 MOD 11-2)", 18},
		{"440524188001010015", "第18位校验码应为4", "check character at position 18 should be 4 (GB 11643 MOD 11-2)", 18},
		{"110105194913310021", "出生日期", "birth date", 7},
		{"1101051949123100", "应为18位", "18 characters", 0},
		{"11010519A91231002X", "第9位应为数字", "position 9 must be a digit", 9},
	} {
		_, err := CheckCitizenID(tc.id)
		var ce *CodeError
		if !errors.As(err, &ce) {
			t.Errorf("%s: got %v, want a CodeError", tc.id, err)
			continue
		}
		if !strings.Contains(ce.ZH, tc.zh) || !strings.Contains(ce.EN, tc.en) || ce.Position != tc.pos {
			t.Errorf("%s: got %q / %q at %d, want %q / %q at %d", tc.id, ce.ZH, ce.EN, ce.Position, tc.zh, tc.en, tc.pos)
		}
	}
	if d, ok := CitizenBirthDate("11010519491231002X"); !ok || d.String() != "1949-12-31" {
		t.Errorf("birth date %v %v", d, ok)
	}
}

func TestUSCC(t *testing.T) {
	for _, ok := range []string{"91350100M000100Y43", "11100000000013338W", "11430000006122244L", "11330105002500287C", "91370406L24894136J", "11420503087246977F"} {
		if _, err := CheckUSCC(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		code, en string
		pos      int
	}{
		{"91350100M000100Y44", "check character at position 18 should be 3 (GB 32100 MOD 31)", 18},
		{"91350100M000100Y56", "organisation code check character at position 17 should be 4 (GB 11714 MOD 11)", 17},
		{"91350100M00010OY43", "position 15 is not allowed", 15},
		{"9135010", "18 characters", 0},
	} {
		_, err := CheckUSCC(tc.code)
		var ce *CodeError
		if !errors.As(err, &ce) || !strings.Contains(ce.EN, tc.en) || ce.Position != tc.pos {
			t.Errorf("%s: got %v, want %q at %d", tc.code, err, tc.en, tc.pos)
		}
	}
	if _, err := CheckOrgCode("M000100Y-4"); err != nil {
		t.Errorf("org code: %v", err)
	}
}

func FuzzIdentifier(f *testing.F) {
	f.Add("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
	f.Add("1.2.156.3005.2.a.b.c.000.0")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentifier(s)
		if err == nil {
			if _, err := ParseIdentifier(id.String()); err != nil {
				t.Fatalf("re-parse of %s: %v", id.String(), err)
			}
		}
		CheckCitizenID(s)
		CheckUSCC(s)
	})
}

// TestDateFormat compares the hand-written date formats with time.Format
// across the whole range of years, both ways of the fast path's bounds.
func TestDateFormat(t *testing.T) {
	for _, s := range []string{"0999-12-31", "1000-01-01", "1970-01-01", "2024-02-29", "2026-12-04", "9999-12-31", "0001-01-01"} {
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		d := Date(tm.Unix() / 86400)
		if tm.Unix() < 0 {
			d = Date((tm.Unix() - 86399) / 86400)
		}
		if got, want := d.String(), tm.Format("2006-01-02"); got != want {
			t.Errorf("String: %s, want %s", got, want)
		}
		if got, want := d.ZH(), tm.Format("2006年01月02日"); got != want {
			t.Errorf("ZH: %s, want %s", got, want)
		}
	}
	for n := Date(-800000); n < 3000000; n += 997 {
		if got, want := n.String(), n.Time().Format("2006-01-02"); got != want {
			t.Fatalf("%d: %s, want %s", n, got, want)
		}
		if got, want := n.ZH(), n.Time().Format("2006年01月02日"); got != want {
			t.Fatalf("%d: %s, want %s", n, got, want)
		}
	}
}

// TestCitizenSex: GB 11643's 17th character is odd for men, even for
// women; Issue refuses a driving license whose sex contradicts it.
func TestCitizenSex(t *testing.T) {
	for id, want := range map[string]int64{"440524188001010014": 1, "11010519491231002X": 2, "110105199001010029": 2} {
		if got, ok := CitizenSex(id); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", id, got, ok, want)
		}
	}
	if _, ok := CitizenSex("440524188001010015"); ok {
		t.Error("bad check character accepted")
	}
	s, _ := testSigner(t)
	for _, r := range SampleRequests() {
		if r.Type != "driving_license" {
			continue
		}
		r.Fields["sex"] = "女" // the sample's ID is a man's
		_, err := s.Issue(r)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Key != "sex" || !strings.Contains(ve.Fields[0].ZH, "第17位") {
			t.Fatalf("sex against the ID: %v", err)
		}
		r.Fields["sex"] = "男"
		if _, err := s.Issue(r); err != nil {
			t.Fatalf("matching sex refused: %v", err)
		}
	}
}
