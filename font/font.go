// Package font carries Zhengxin's CJK font inside the binary, so that license
// PDFs and seal pictures render Chinese text on a fresh machine with no fonts
// installed.
//
// The font is WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0, see
// LICENSE-wqy-microhei.txt), face 0, cut down by make-subset.sh to ASCII,
// Latin-1, punctuation, full-width forms and the 6763 hanzi of GB 2312 plus
// 〇 and the characters of the shipped license and seal texts. It keeps
// TrueType (glyf) outlines, which is what PDF generators such as
// github.com/go-pdf/fpdf can embed:
//
//	pdf.AddUTF8FontFromBytes("wqy", "", font.TTF())
//
// For raster output use Face (golang.org/x/image/font), or SFNT for glyph
// outlines. Characters outside the subset (rare name characters beyond
// GB 2312) render as the .notdef box; check with Has before relying on one.
package font

import (
	_ "embed"
	"fmt"
	"sync"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

//go:embed wqy-microhei-gb2312.ttf
var ttf []byte

// Name is the family name to register the font under in PDF generators.
const Name = "WenQuanYi Micro Hei"

// TTF returns the embedded TrueType font file. The slice is shared: callers
// must not modify it.
func TTF() []byte { return ttf }

var (
	parseOnce sync.Once
	parsed    *sfnt.Font
	parseErr  error
)

// SFNT returns the embedded font parsed once. The *sfnt.Font is safe for
// concurrent use; each goroutine needs its own sfnt.Buffer.
func SFNT() (*sfnt.Font, error) {
	parseOnce.Do(func() {
		parsed, parseErr = sfnt.Parse(ttf)
		if parseErr != nil {
			parseErr = fmt.Errorf("font: embedded font does not parse: %w", parseErr)
		}
	})
	return parsed, parseErr
}

// Face returns a face of the embedded font at sizePt points for a raster of
// dpi dots per inch (sizePt*dpi/72 pixels per em), with full hinting off so
// that glyph shapes scale smoothly at print resolution. A Face is not safe
// for concurrent use; make one per goroutine.
func Face(sizePt, dpi float64) (xfont.Face, error) {
	if !(sizePt > 0 && sizePt <= 1000) || !(dpi > 0 && dpi <= 4800) {
		return nil, fmt.Errorf("font: size %gpt at %g dpi is out of range (size 0-1000pt, 0-4800 dpi)", sizePt, dpi)
	}
	f, err := SFNT()
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: sizePt, DPI: dpi, Hinting: xfont.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	return face, nil
}

// Has reports whether the embedded font has a glyph for r (other than the
// .notdef box).
func Has(r rune) bool {
	f, err := SFNT()
	if err != nil {
		return false
	}
	var b sfnt.Buffer
	i, err := f.GlyphIndex(&b, r)
	return err == nil && i != 0
}

// Missing returns the distinct runes of s that the font cannot draw, in
// order of first appearance, ignoring whitespace and control characters.
// Callers use it to reject a seal text or license field up front rather
// than print boxes.
func Missing(s string) []rune {
	var out []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || seen[r] {
			continue
		}
		seen[r] = true
		if !Has(r) {
			out = append(out, r)
		}
	}
	return out
}
