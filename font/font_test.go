package font

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

func TestTTFParsesWithGlyphs(t *testing.T) {
	if n := len(TTF()); n > 3<<20 || n < 500<<10 {
		t.Fatalf("embedded font is %d bytes, want between 500 KiB and 3 MiB", n)
	}
	// TrueType outlines (a glyf table, no CFF) and no hinting programs:
	// read the table directory directly.
	tables := map[string]bool{}
	b := TTF()
	if string(b[:4]) != "\x00\x01\x00\x00" {
		t.Fatalf("sfnt version %x, want TrueType 00010000", b[:4])
	}
	for i, n := 0, int(b[4])<<8|int(b[5]); i < n; i++ {
		tables[string(b[12+16*i:16+16*i])] = true
	}
	for _, tag := range []string{"glyf", "loca", "cmap", "hmtx", "name", "OS/2", "post"} {
		if !tables[tag] {
			t.Errorf("table %q missing", tag)
		}
	}
	for _, tag := range []string{"CFF ", "fpgm", "prep", "cvt "} {
		if tables[tag] {
			t.Errorf("table %q present; want TrueType outlines without hinting", tag)
		}
	}
	// Parse independently of SFNT() so this tests the file, not our cache.
	f, err := sfnt.Parse(TTF())
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	name, err := f.Name(&buf, sfnt.NameIDFamily)
	if err != nil || !strings.Contains(name, "WenQuanYi") {
		t.Errorf("family name = %q, %v; want WenQuanYi Micro Hei", name, err)
	}
	want := "营业执照合同专用章市场监督管理局〇，。（）《》：、０１Ａ"
	for r := rune(0x21); r < 0x7f; r++ {
		want += string(r)
	}
	for _, r := range want {
		i, err := f.GlyphIndex(&buf, r)
		if err != nil || i == 0 {
			t.Errorf("no glyph for %q (U+%04X): %v", r, r, err)
			continue
		}
		// The glyph must have an outline, not be an empty placeholder.
		segs, err := f.LoadGlyph(&buf, i, fixed.I(100), nil)
		if err != nil || len(segs) == 0 {
			t.Errorf("glyph for %q has no outline: %d segments, %v", r, len(segs), err)
		}
	}
	// Characters outside GB 2312 are not in the subset.
	if Has('𠀀') || Has('\uE000') {
		t.Error("Has reports a glyph for a character the subset does not carry")
	}
	if !Has('营') || !Has('A') {
		t.Error("Has misses a character the subset carries")
	}
	if m := Missing("营业 𠀀A"); len(m) != 1 || m[0] != '𠀀' {
		t.Errorf("Missing = %q, want [𠀀]", m)
	}
}

func TestGB2312Coverage(t *testing.T) {
	// Spot-check hanzi from the start and end of both GB 2312 levels
	// (啊 B0A1, 座 D7F9, 亍 D8A1, 齄 F7FE).
	for _, r := range "啊座亍齄" {
		if !Has(r) {
			t.Errorf("missing GB 2312 hanzi %q", r)
		}
	}
}

func TestFace(t *testing.T) {
	face, err := Face(12, 600)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	// 12 pt at 600 dpi is 100 px per em; a CJK glyph advances one em.
	adv, ok := face.GlyphAdvance('章')
	if !ok || adv.Round() < 95 || adv.Round() > 105 {
		t.Errorf("advance of 章 = %v (ok %v), want about 100 px", adv, ok)
	}
	if _, err := Face(0, 600); err == nil {
		t.Error("Face(0, 600) accepted a zero size")
	}
}

func TestFPDFEmbeds(t *testing.T) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("wqy", "", TTF())
	pdf.AddPage()
	pdf.SetFont("wqy", "", 20)
	pdf.Cell(40, 10, "营业执照 Zhengxin 证信")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/FontFile2")) {
		t.Error("PDF has no embedded TrueType font program (/FontFile2)")
	}
	pdffonts, err := exec.LookPath("pdffonts")
	if err != nil {
		t.Skip("pdffonts not installed (apt-get install poppler-utils); embedding checked only by /FontFile2")
	}
	path := t.TempDir() + "/f.pdf"
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdffonts, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, out)
	}
	// Row: name type encoding emb sub uni object ID
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", out)
	}
	fields := strings.Fields(lines[2])
	if !strings.Contains(lines[2], "CID TrueType") || len(fields) < 5 || fields[len(fields)-5] != "yes" {
		t.Errorf("font not embedded as CID TrueType:\n%s", out)
	}
	if txt, err := exec.LookPath("pdftotext"); err == nil {
		got, err := exec.Command(txt, path, "-").Output()
		if err != nil || !strings.Contains(string(got), "营业执照") {
			t.Errorf("pdftotext = %q, %v; want the Chinese text back", got, err)
		}
	}
}
