package seal

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

// TestParseV5 builds a GM/T 0031-2025 (V5) seal: header version 5 and a
// [0] EXPLICIT timestamp as a fifth element.
func TestParseV5(t *testing.T) {
	p := getPKI(t)
	der, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte{0x16, 0x02, 'E', 'S', 0x02, 0x01, 0x04}
	info := bytes.Replace(s.RawSealInfo, hdr, []byte{0x16, 0x02, 'E', 'S', 0x02, 0x01, 0x05}, 1)
	sig, err := p.makerKey.Sign(rand.Reader, info, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, explicit := range []bool{true, false} {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(info)
			b.AddBytes(s.rawCertElem)
			b.AddBytes(s.rawAlgElem)
			b.AddASN1BitString(sig)
			if explicit {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1BitString([]byte("tst")) })
			} else {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte("\x00tst")) })
			}
		})
		v5, err := ParseSeal(b.BytesOrPanic())
		if err != nil {
			t.Fatalf("explicit=%v: %v", explicit, err)
		}
		if v5.Version() != V5 || string(v5.TimeStamp) != "tst" {
			t.Errorf("explicit=%v: version %d timestamp %q", explicit, v5.Version(), v5.TimeStamp)
		}
		if err := v5.VerifyMaker(); err != nil {
			t.Errorf("V5 maker signature: %v", err)
		}
	}
}

// TestParseErrors: one clear error per malformed field, reason
// FORMAT_FAILURE.
func TestParseErrors(t *testing.T) {
	p := getPKI(t)
	der, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new []byte) []byte {
		if !bytes.Contains(der, old) {
			t.Fatalf("fixture lacks %x", old)
		}
		return bytes.Replace(der, old, new, 1)
	}
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"trailing":    {append(append([]byte(nil), der...), 0), "seal: trailing data after SESeal"},
		"not der":     {[]byte("hello"), "seal: malformed SESeal (not a DER SEQUENCE)"},
		"header id":   {replace([]byte{0x16, 0x02, 'E', 'S'}, []byte{0x16, 0x02, 'E', 'X'}), `seal: SES_Header id is "EX", not "ES"`},
		"version 3":   {replace([]byte{'E', 'S', 0x02, 0x01, 0x04}, []byte{'E', 'S', 0x02, 0x01, 0x03}), "seal: SES_Header version 3 is not supported"},
		"vid tag":     {replace([]byte{0x16, 0x08, 'Z', 'h'}, []byte{0x0c, 0x08, 'Z', 'h'}), "seal: malformed SES_Header vid"},
		"list type":   {replace([]byte{0x02, 0x01, 0x01, 0x30}, []byte{0x02, 0x01, 0x07, 0x30}), "certListType 7 is neither"},
		"bad time":    {replace([]byte("20261023090000Z"), []byte("2026102309000xZ")), "seal: malformed SES_ESPropertyInfo createDate"},
		"pic type":    {replace([]byte{0x16, 0x03, 'P', 'N', 'G'}, []byte{0x16, 0x03, 'P', 'N', 0xff}), "seal: malformed SES_ESPictrueInfo type"},
		"empty input": {nil, "seal: malformed SESeal (not a DER SEQUENCE)"},
	} {
		_, err := ParseSeal(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
			continue
		}
		if report.ReasonOf(err) != report.FormatFailure {
			t.Errorf("%s: reason %q", name, report.ReasonOf(err))
		}
	}
	if _, err := ParseSeal(make([]byte, MaxSealSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized seal: %v", err)
	}
}
