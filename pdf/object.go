package pdf

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf16"

	dpdf "github.com/digitorus/pdf"
)

// This file bridges github.com/digitorus/pdf, which reads PDF objects but
// keeps its object types (dict, array, name, objptr) unexported, and the
// small object writer the incremental update needs. Reflection is used only
// to look at those values; nothing is modified through it.

// ref is an indirect reference "id gen R".
type ref struct {
	ID  uint32
	Gen uint16
}

func (r ref) String() string { return fmt.Sprintf("%d %d R", r.ID, r.Gen) }

// name is a PDF name written as /Name.
type name string

// hexString is a PDF string written in hex form <...>.
type hexString []byte

// rawToken is written as-is (used for placeholders).
type rawToken string

// dict is an ordered PDF dictionary for writing.
type dict struct {
	keys []string
	vals map[string]any
}

func newDict() *dict { return &dict{vals: map[string]any{}} }

func (d *dict) Set(k string, v any) *dict {
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return d
}

func (d *dict) Get(k string) (any, bool) { v, ok := d.vals[k]; return v, ok }

func (d *dict) Delete(k string) {
	if _, ok := d.vals[k]; !ok {
		return
	}
	delete(d.vals, k)
	for i, kk := range d.keys {
		if kk == k {
			d.keys = append(d.keys[:i], d.keys[i+1:]...)
			break
		}
	}
}

// textString encodes a user-visible string: ASCII as is, anything else as
// UTF-16BE with a BOM, as PDF 32000-1 §7.9.2.2 asks for text strings.
func textString(s string) hexString {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		return hexString(s)
	}
	u := utf16.Encode([]rune(s))
	b := []byte{0xfe, 0xff}
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return hexString(b)
}

// writeObj serializes v. It accepts our own writer types and the values
// digitorus/pdf returns from RawData (so existing dictionaries can be
// rewritten with a key added, keeping their indirect references).
func writeObj(w *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(x))
	case int:
		w.WriteString(strconv.Itoa(x))
	case int64:
		w.WriteString(strconv.FormatInt(x, 10))
	case float64:
		w.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case ref:
		w.WriteString(x.String())
	case name:
		writeName(w, string(x))
	case hexString:
		w.WriteByte('<')
		w.WriteString(hex.EncodeToString(x))
		w.WriteByte('>')
	case rawToken:
		w.WriteString(string(x))
	case string:
		// A Go string from digitorus/pdf is a PDF string (names have
		// their own type there); write it in hex so no escaping is needed.
		return writeObj(w, hexString(x))
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(' ')
			}
			if err := writeObj(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case *dict:
		w.WriteString("<<")
		for _, k := range x.keys {
			writeName(w, k)
			w.WriteByte(' ')
			if err := writeObj(w, x.vals[k]); err != nil {
				return err
			}
		}
		w.WriteString(">>")
	default:
		return writeForeign(w, v)
	}
	return nil
}

// writeForeign writes a value of one of digitorus/pdf's unexported types.
func writeForeign(w *bytes.Buffer, v any) error {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	switch {
	case t.Kind() == reflect.String && t.Name() == "name":
		writeName(w, rv.String())
	case t.Kind() == reflect.String && t.Name() == "keyword":
		w.WriteString(rv.String())
	case t.Kind() == reflect.Struct && t.Name() == "objptr":
		w.WriteString(foreignRef(rv).String())
	case t.Kind() == reflect.Slice:
		w.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				w.WriteByte(' ')
			}
			if err := writeObj(w, elem(rv.Index(i))); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case t.Kind() == reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		w.WriteString("<<")
		for _, k := range keys {
			writeName(w, k.String())
			w.WriteByte(' ')
			if err := writeObj(w, elem(rv.MapIndex(k))); err != nil {
				return err
			}
		}
		w.WriteString(">>")
	default:
		return fmt.Errorf("pdf: cannot rewrite a %s object", t)
	}
	return nil
}

// elem unwraps an interface element of a foreign container. Values of
// unexported types cannot go through Interface() when reached via an
// unexported field, but map and slice elements of exported-interface type
// can.
func elem(v reflect.Value) any {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Int64:
		return v.Int()
	case reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	}
	if v.Kind() == reflect.String && v.Type().Name() == "string" {
		return v.String()
	}
	return v.Interface()
}

func foreignRef(rv reflect.Value) ref {
	return ref{ID: uint32(rv.FieldByName("id").Uint()), Gen: uint16(rv.FieldByName("gen").Uint())}
}

// asRef reports whether x (a raw element from digitorus/pdf) is an
// indirect reference.
func asRef(x any) (ref, bool) {
	if x == nil {
		return ref{}, false
	}
	if r, ok := x.(ref); ok {
		return r, true
	}
	rv := reflect.ValueOf(x)
	if rv.Kind() == reflect.Struct && rv.Type().Name() == "objptr" {
		return foreignRef(rv), true
	}
	return ref{}, false
}

// rawKey returns the unresolved value stored under key in a dictionary
// Value (an indirect reference stays a reference).
func rawKey(v dpdf.Value, key string) any {
	rv := reflect.ValueOf(v.RawData())
	if !rv.IsValid() {
		return nil
	}
	if rv.Kind() == reflect.Struct {
		// A stream: its header is reachable only read-only, so return
		// just references (as our own ref type).
		h := rv.FieldByName("hdr")
		if h.Kind() != reflect.Map {
			return nil
		}
		e := h.MapIndex(reflect.ValueOf(key).Convert(h.Type().Key()))
		if e.Kind() == reflect.Interface && !e.IsNil() {
			e = e.Elem()
		}
		if e.IsValid() && e.Kind() == reflect.Struct && e.Type().Name() == "objptr" {
			return foreignRef(e)
		}
		return nil
	}
	if rv.Kind() != reflect.Map {
		return nil
	}
	e := rv.MapIndex(reflect.ValueOf(key).Convert(rv.Type().Key()))
	if !e.IsValid() {
		return nil
	}
	return elem(e)
}

// rawItems returns the unresolved elements of an array Value.
func rawItems(v dpdf.Value) []any {
	rv := reflect.ValueOf(v.RawData())
	if !rv.IsValid() || rv.Kind() != reflect.Slice {
		return nil
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = elem(rv.Index(i))
	}
	return out
}

// dictOf copies a dictionary Value into a writable dict, keys sorted,
// values unresolved.
func dictOf(v dpdf.Value) *dict {
	d := newDict()
	for _, k := range v.Keys() {
		d.Set(k, rawKey(v, k))
	}
	return d
}

// ptrOf returns the object a resolved Value came from.
func ptrOf(v dpdf.Value) ref {
	p := v.GetPtr()
	return foreignRef(reflect.ValueOf(p))
}

func writeName(w *bytes.Buffer, s string) {
	w.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || bytes.IndexByte([]byte("#()<>[]{}/%"), c) >= 0 {
			fmt.Fprintf(w, "#%02X", c)
			continue
		}
		w.WriteByte(c)
	}
}
