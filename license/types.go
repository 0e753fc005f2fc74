package license

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// types.json is the catalogue of license types: data, not code. Adding a
// type or a field is an edit there (keep tags stable: they are wire keys).
//
//go:embed types.json
var typesJSON []byte

// Kind is how a field's value is typed and encoded.
type Kind string

const (
	KindText   Kind = "text"   // UTF-8 text, CBOR text string
	KindDate   Kind = "date"   // calendar date, CBOR integer: days since 1970-01-01
	KindCode   Kind = "code"   // entry of a code list, CBOR integer: the entry's code
	KindNumber Kind = "number" // non-negative decimal, CBOR integer: value × 10^scale
)

// Code is one entry of a code list.
type Code struct {
	Code int64  `json:"code"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
}

// Field describes one field of a license type.
type Field struct {
	Key      string `json:"key"`
	Tag      uint64 `json:"tag"` // wire key; 0 for the core dates (issue_date, valid_from, valid_to)
	ZH       string `json:"zh"`
	EN       string `json:"en"`
	Kind     Kind   `json:"kind"`
	Check    string `json:"check"` // "uscc", "citizen_id", "holder_id" (by holder_id_type)
	Max      int    `json:"max"`   // text: maximum characters
	Required bool   `json:"required"`
	// Visible: a counter sees it by default (the type's default profile).
	Visible   bool   `json:"visible"`
	CodeList  string `json:"codes"`
	Scale     int    `json:"scale"`
	Unit      string `json:"unit"`
	UnitEN    string `json:"unit_en"`
	OpenEnded string `json:"open_ended"` // text shown for an absent end date, e.g. 长期
	Codes     []Code `json:"-"`
}

// Core reports whether the field is one of the core dates carried in the
// signed claims in clear (not selectively disclosable).
func (f *Field) Core() bool { return f.Tag == 0 }

// Profile is a purpose (用证事由 / 授权用证): the fields a holder discloses
// for it.
type Profile struct {
	Key    string   `json:"key"`
	ZH     string   `json:"zh"`
	EN     string   `json:"en"`
	Fields []string `json:"fields"`
}

// Type is one license type of the catalogue.
type Type struct {
	Key          string     `json:"key"`
	Num          uint64     `json:"num"` // wire number of the type
	ZH           string     `json:"zh"`  // 证照名称
	EN           string     `json:"en"`
	TypeCode     string     `json:"type_code"`      // 证照类型代码 (GB/T 36904 identifier part)
	HolderIDType int64      `json:"holder_id_type"` // default 持证主体代码类型 (GB/T 36903): 111 citizen ID, 1 USCC
	Fields       []*Field   `json:"fields"`
	Profiles     []*Profile `json:"profiles"`

	byKey map[string]*Field
	byTag map[uint64]*Field
}

// Field returns the field with the given key, or nil.
func (t *Type) Field(key string) *Field { return t.byKey[key] }

// FieldByTag returns the field with the given wire tag, or nil.
func (t *Type) FieldByTag(tag uint64) *Field { return t.byTag[tag] }

// DefaultVisible lists the keys of the fields a counter sees by default.
func (t *Type) DefaultVisible() []string {
	var out []string
	for _, f := range t.Fields {
		if f.Visible {
			out = append(out, f.Key)
		}
	}
	return out
}

// Profile returns the profile (purpose) with key k. The key "default"
// always exists: the type's default-visible fields.
func (t *Type) Profile(k string) (*Profile, bool) {
	if k == "" || k == "default" {
		return &Profile{Key: "default", ZH: "默认", EN: "default", Fields: t.DefaultVisible()}, true
	}
	for _, p := range t.Profiles {
		if p.Key == k {
			return p, true
		}
	}
	return nil, false
}

type catalogue struct {
	CodeLists map[string][]Code `json:"code_lists"`
	Types     []*Type           `json:"types"`
}

var (
	allTypes  []*Type
	typeByKey = map[string]*Type{}
	typeByNum = map[uint64]*Type{}
)

func init() {
	var c catalogue
	if err := json.Unmarshal(typesJSON, &c); err != nil {
		panic("license: types.json: " + err.Error())
	}
	for _, t := range c.Types {
		if err := t.resolve(c.CodeLists); err != nil {
			panic("license: types.json: type " + t.Key + ": " + err.Error())
		}
		if typeByKey[t.Key] != nil || typeByNum[t.Num] != nil || t.Num == 0 {
			panic("license: types.json: duplicate or zero type " + t.Key)
		}
		typeByKey[t.Key], typeByNum[t.Num] = t, t
		allTypes = append(allTypes, t)
	}
}

var coreDates = map[string]bool{"issue_date": true, "valid_from": true, "valid_to": true}

func (t *Type) resolve(lists map[string][]Code) error {
	t.byKey, t.byTag = map[string]*Field{}, map[uint64]*Field{}
	if len(t.TypeCode) < 4 || mod3736(t.TypeCode) == 0 {
		return fmt.Errorf("bad type code %q", t.TypeCode)
	}
	for _, f := range t.Fields {
		if t.byKey[f.Key] != nil {
			return fmt.Errorf("duplicate field %s", f.Key)
		}
		if coreDates[f.Key] != (f.Tag == 0) || (f.Tag == 0 && f.Kind != KindDate) {
			return fmt.Errorf("field %s: only issue_date, valid_from and valid_to are untagged dates", f.Key)
		}
		if f.Tag != 0 {
			if t.byTag[f.Tag] != nil || f.Tag > 23 {
				return fmt.Errorf("field %s: duplicate or too large tag %d (tags fit one CBOR byte: 1-23)", f.Key, f.Tag)
			}
			t.byTag[f.Tag] = f
		}
		switch f.Kind {
		case KindText:
			if f.Max == 0 {
				f.Max = 100
			}
		case KindCode:
			f.Codes = lists[f.CodeList]
			if len(f.Codes) == 0 {
				return fmt.Errorf("field %s: unknown code list %q", f.Key, f.CodeList)
			}
		case KindDate, KindNumber:
		default:
			return fmt.Errorf("field %s: unknown kind %q", f.Key, f.Kind)
		}
		t.byKey[f.Key] = f
	}
	for _, k := range []string{"holder_name", "holder_id", "issuer_name", "issue_date"} {
		if t.byKey[k] == nil {
			return fmt.Errorf("missing required metadata field %s (GB/T 36903)", k)
		}
	}
	for _, p := range t.Profiles {
		for _, k := range p.Fields {
			if t.byKey[k] == nil {
				return fmt.Errorf("profile %s: unknown field %s", p.Key, k)
			}
		}
	}
	return nil
}

// Types returns the catalogue's license types in catalogue order.
func Types() []*Type { return allTypes }

// LookupType finds a type by key (business_license), Chinese name (营业执照)
// or wire number.
func LookupType(s string) (*Type, error) {
	if t := typeByKey[s]; t != nil {
		return t, nil
	}
	for _, t := range allTypes {
		if t.ZH == s || strconv.FormatUint(t.Num, 10) == s {
			return t, nil
		}
	}
	keys := make([]string, 0, len(allTypes))
	for _, t := range allTypes {
		keys = append(keys, t.Key+" ("+t.ZH+")")
	}
	return nil, fmt.Errorf("license: 未知证照类型 %q / unknown license type %q; known: %s", s, s, strings.Join(keys, ", "))
}

// Date is a calendar date as the number of days since 1970-01-01 (the
// proleptic Gregorian count of RFC 8943's tag 100, without the tag).
type Date int32

// ParseDate accepts 2006-01-02, 20060102 and 2006年01月02日 (or 2006年1月2日).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "20060102", "2006年01月02日", "2006年1月2日"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date(t.Unix() / 86400), nil
		}
	}
	return 0, fmt.Errorf("license: %q is not a date (use 2006-01-02)", s)
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

func (d Date) String() string { return d.format("-", "-", "", "2006-01-02") }

// ZH formats the date as 2006年01月02日.
func (d Date) ZH() string { return d.format("年", "月", "日", "2006年01月02日") }

// format writes the date with the given separators by hand: every report
// shows several dates, and time.Format costs more than the rest of a
// field. Years outside 1000-9999 go through time.Format (layout).
func (d Date) format(afterYear, afterMonth, afterDay, layout string) string {
	t := d.Time()
	y, m, day := t.Date()
	if y < 1000 || y > 9999 {
		return t.Format(layout)
	}
	var b [32]byte
	out := strconv.AppendInt(b[:0], int64(y), 10)
	out = append(out, afterYear...)
	out = append(out, byte('0'+m/10), byte('0'+m%10))
	out = append(out, afterMonth...)
	out = append(out, byte('0'+day/10), byte('0'+day%10))
	out = append(out, afterDay...)
	return string(out)
}

// ChinaTime is UTC+8 (China Standard Time, no daylight saving), the zone
// in which license dates are calendar dates. A fixed zone needs no tzdata,
// which keeps the wallet's WebAssembly build small.
var ChinaTime = time.FixedZone("CST", 8*3600)

// FieldError says what is wrong with one field, in Chinese and English.
type FieldError struct {
	Key    string // field key, e.g. holder_id
	Label  string // Chinese label, e.g. 统一社会信用代码
	ZH, EN string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("字段“%s”(%s)：%s / field %q: %s", e.Label, e.Key, e.ZH, e.Key, e.EN)
}

// ValidationError lists every field that is wrong.
type ValidationError struct {
	Type   string
	Fields []*FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "license: " + e.Type + ": " + strings.Join(parts, "; ")
}

// parse turns the text form of a value into its wire form: string for
// text, int64 for date, code and number.
func (f *Field) parse(s string) (any, *FieldError) {
	bad := func(zh, en string) *FieldError {
		return &FieldError{Key: f.Key, Label: f.ZH, ZH: zh, EN: en}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, bad("不能为空", "must not be empty")
	}
	switch f.Kind {
	case KindText:
		if !utf8.ValidString(s) {
			return nil, bad("不是有效的UTF-8文本", "is not valid UTF-8 text")
		}
		if n := utf8.RuneCountInString(s); n > f.Max {
			return nil, bad(fmt.Sprintf("最多%d个字符，实为%d个", f.Max, n), fmt.Sprintf("at most %d characters, has %d", f.Max, n))
		}
		switch f.Check {
		case "uscc":
			v, err := CheckUSCC(s)
			if err != nil {
				ce := err.(*CodeError)
				return nil, bad(ce.ZH, ce.EN)
			}
			return v, nil
		case "citizen_id":
			v, err := CheckCitizenID(s)
			if err != nil {
				ce := err.(*CodeError)
				return nil, bad(ce.ZH, ce.EN)
			}
			return v, nil
		}
		return s, nil
	case KindDate:
		if f.OpenEnded != "" && s == f.OpenEnded {
			return nil, nil
		}
		d, err := ParseDate(s)
		if err != nil {
			return nil, bad(fmt.Sprintf("“%s”不是日期（格式2006-01-02）", s), fmt.Sprintf("%q is not a date (use 2006-01-02)", s))
		}
		return int64(d), nil
	case KindCode:
		for _, c := range f.Codes {
			if s == c.ZH || s == c.EN || s == strconv.FormatInt(c.Code, 10) {
				return c.Code, nil
			}
		}
		labels := make([]string, len(f.Codes))
		for i, c := range f.Codes {
			labels[i] = c.ZH
		}
		return nil, bad(fmt.Sprintf("“%s”不在代码表中（可选：%s）", s, strings.Join(labels, "、")), fmt.Sprintf("%q is not in the code list (one of: %s)", s, strings.Join(labels, ", ")))
	case KindNumber:
		v, ok := parseDecimal(s, f.Scale)
		if !ok {
			return nil, bad(fmt.Sprintf("“%s”不是最多%d位小数的非负数", s, f.Scale), fmt.Sprintf("%q is not a non-negative number with at most %d decimals", s, f.Scale))
		}
		return v, nil
	}
	return nil, bad("类型未知", "unknown kind")
}

func parseDecimal(s string, scale int) (int64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(frac) > scale || len(intPart) > 15 {
		return 0, false
	}
	frac += strings.Repeat("0", scale-len(frac))
	digits := intPart + frac
	if strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}

// checkWire validates a value decoded from the wire against the field's
// schema, so a signed license whose field breaks the schema is refused as
// malformed rather than shown.
func (f *Field) checkWire(v any) error {
	switch f.Kind {
	case KindText:
		s, ok := v.(string)
		if !ok || !utf8.ValidString(s) || utf8.RuneCountInString(s) > f.Max || s == "" {
			return fmt.Errorf("license: field %s: want text of at most %d characters", f.Key, f.Max)
		}
	case KindDate, KindNumber:
		n, ok := v.(int64)
		if !ok || n < -1e6 && f.Kind == KindDate || n < 0 && f.Kind == KindNumber || f.Kind == KindDate && n > 2e6 {
			return fmt.Errorf("license: field %s: want an integer in range", f.Key)
		}
	case KindCode:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("license: field %s: want a code", f.Key)
		}
		if _, ok := f.code(n); ok {
			return nil
		}
		return fmt.Errorf("license: field %s: code %d is not in code list %s", f.Key, n, f.CodeList)
	}
	return nil
}

// code finds code n in the field's code list.
func (f *Field) code(n int64) (Code, bool) {
	for _, c := range f.Codes {
		if c.Code == n {
			return c, true
		}
	}
	return Code{}, false
}

// Format returns the text form of a wire value (the form Issue accepts):
// dates as 2006-01-02, codes as their Chinese label, numbers as decimals.
func (f *Field) Format(v any) string {
	switch f.Kind {
	case KindText:
		s, _ := v.(string)
		return s
	case KindDate:
		n, ok := v.(int64)
		if !ok {
			return f.OpenEnded
		}
		return Date(n).String()
	case KindCode:
		n, _ := v.(int64)
		if c, ok := f.code(n); ok {
			return c.ZH
		}
		return strconv.FormatInt(n, 10)
	case KindNumber:
		n, _ := v.(int64)
		s := strconv.FormatInt(n, 10)
		if f.Scale == 0 {
			return s
		}
		for len(s) <= f.Scale {
			s = "0" + s
		}
		return s[:len(s)-f.Scale] + "." + s[len(s)-f.Scale:]
	}
	return fmt.Sprint(v)
}

// Display formats a wire value for people: dates in Chinese, numbers with
// their unit.
func (f *Field) Display(v any) string {
	switch f.Kind {
	case KindDate:
		if n, ok := v.(int64); ok {
			return Date(n).ZH()
		}
		return f.OpenEnded
	case KindNumber:
		return f.Format(v) + f.Unit
	}
	return f.Format(v)
}

// validate parses the text-form fields of a request against the type and
// returns the wire values of tagged fields and the core dates, or a
// ValidationError naming every bad field.
func (t *Type) validate(in map[string]string) (vals map[uint64]any, core map[string]*int64, err error) {
	ve := &ValidationError{Type: t.ZH + "/" + t.Key}
	vals, core = make(map[uint64]any, len(t.Fields)), make(map[string]*int64, 3)
	var unknown []string
	for k := range in {
		if t.byKey[k] == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		ve.Fields = append(ve.Fields, &FieldError{Key: k, Label: k, ZH: "此证照类型没有该字段", EN: "no such field in this license type"})
	}
	for _, f := range t.Fields {
		s, ok := in[f.Key]
		if !ok || strings.TrimSpace(s) == "" {
			if f.Required {
				ve.Fields = append(ve.Fields, &FieldError{Key: f.Key, Label: f.ZH, ZH: "必填", EN: "required"})
			}
			continue
		}
		if f.Check == "holder_id" {
			f2 := *f
			f2.Check = "citizen_id"
			if idt := in["holder_id_type"]; idt != "" {
				if c, ferr := t.byKey["holder_id_type"].parse(idt); ferr == nil && c.(int64) == 1 {
					f2.Check = "uscc"
				} else if ferr == nil && c.(int64) != 111 {
					f2.Check = ""
				}
			} else if t.HolderIDType == 1 {
				f2.Check = "uscc"
			}
			f = &f2
		}
		v, ferr := f.parse(s)
		if ferr != nil {
			ve.Fields = append(ve.Fields, ferr)
			continue
		}
		if f.Tag == 0 {
			if v != nil {
				n := v.(int64)
				core[f.Key] = &n
			}
			continue
		}
		vals[f.Tag] = v
	}
	// Cross-field rules.
	if from, to := core["valid_from"], core["valid_to"]; to != nil {
		start := core["issue_date"]
		if from != nil {
			start = from
		}
		if start != nil && *to < *start {
			ve.Fields = append(ve.Fields, &FieldError{Key: "valid_to", Label: t.byKey["valid_to"].ZH, ZH: "截止日期早于起始日期", EN: "end date is before the start date"})
		}
	}
	if bf := t.byKey["birth_date"]; bf != nil {
		if b, ok := vals[bf.Tag].(int64); ok {
			if id, _ := vals[t.byKey["holder_id"].Tag].(string); id != "" {
				if d, ok := CitizenBirthDate(id); ok && int64(d) != b {
					ve.Fields = append(ve.Fields, &FieldError{Key: "birth_date", Label: bf.ZH, ZH: "与公民身份号码中的出生日期" + d.String() + "不符", EN: "does not match the birth date " + d.String() + " in the citizen ID number"})
				}
			}
		}
	}
	if sf := t.byKey["sex"]; sf != nil && sf.CodeList == "sex" {
		if sex, ok := vals[sf.Tag].(int64); ok {
			if id, _ := vals[t.byKey["holder_id"].Tag].(string); id != "" {
				if want, ok := CitizenSex(id); ok && want != sex {
					name, _ := sf.code(want) // the code list's name of the sex the ID gives
					ve.Fields = append(ve.Fields, &FieldError{Key: "sex", Label: sf.ZH, ZH: "与公民身份号码第17位所示性别（" + name.ZH + "）不符", EN: "does not match the sex the citizen ID number gives at position 17 (" + name.EN + ")"})
				}
			}
		}
	}
	if len(ve.Fields) > 0 {
		return nil, nil, ve
	}
	return vals, core, nil
}
