package seal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"unicode/utf8"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/zhengxin/zhengxin/font"
)

// Shape is the outline of a stamp picture.
type Shape int

const (
	// Round is the official seal 公章: a ring, a five-pointed star, the
	// agency name along the upper arc, the purpose (e.g. 合同专用章) under
	// the star and an optional code along the bottom.
	Round Shape = iota
	// Oval is the 财务专用章 / 发票专用章 style: an elliptical ring, the
	// agency along the upper arc, the purpose across the middle and an
	// optional code along the bottom. No star.
	Oval
	// Square is a personal name seal 个人名章: a square frame with the name
	// in a 2×2 grid read right column first (张三之印).
	Square
)

func (s Shape) String() string {
	switch s {
	case Round:
		return "round"
	case Oval:
		return "oval"
	case Square:
		return "square"
	}
	return fmt.Sprintf("Shape(%d)", int(s))
}

// SealRed is the ink colour of stamp pictures: the #E60012 red of Chinese
// official seals, slightly translucent so that text under the stamp shows
// through as it does on paper.
var SealRed = color.NRGBA{R: 0xE6, G: 0x00, B: 0x12, A: 0xEB}

// StampSpec describes a stamp picture.
type StampSpec struct {
	Shape Shape
	// Agency is the text along the upper arc (round, oval), or the
	// person's name for a square seal (2-4 characters; 之印 or 印 is added
	// to 2- and 3-character names).
	Agency string
	// Purpose is the horizontal text in the middle (e.g. 合同专用章,
	// 财务专用章); empty for none. Not used by square seals.
	Purpose string
	// Code is the small text along the bottom arc (usually a 13-digit seal
	// number); empty for none. Not used by square seals.
	Code string
	// DiameterMM is the diameter of a round seal (default 42), the width
	// of an oval one (default 40) or the side of a square one (default 20).
	DiameterMM float64
	// HeightMM is the height of an oval seal (default 30).
	HeightMM float64
	// DPI is the resolution of the picture (default 600).
	DPI float64
	// Color is the ink; zero means SealRed.
	Color color.NRGBA
}

// Size returns the picture's printed size in millimetres, defaults applied.
func (spec StampSpec) Size() (widthMM, heightMM float64) {
	spec.defaults()
	if spec.Shape == Oval {
		return spec.DiameterMM, spec.HeightMM
	}
	return spec.DiameterMM, spec.DiameterMM
}

func (spec *StampSpec) defaults() {
	if spec.DPI == 0 {
		spec.DPI = 600
	}
	if spec.DiameterMM == 0 {
		spec.DiameterMM = map[Shape]float64{Round: 42, Oval: 40, Square: 20}[spec.Shape]
	}
	if spec.HeightMM == 0 && spec.Shape == Oval {
		spec.HeightMM = 30
	}
	if spec.Color == (color.NRGBA{}) {
		spec.Color = SealRed
	}
}

func (spec *StampSpec) check() error {
	if spec.Shape < Round || spec.Shape > Square {
		return fmt.Errorf("seal: stamp shape %d: use round, oval or square", int(spec.Shape))
	}
	if spec.DPI < 72 || spec.DPI > 2400 {
		return fmt.Errorf("seal: stamp resolution %g dpi: use 72-2400", spec.DPI)
	}
	if spec.DiameterMM < 10 || spec.DiameterMM > 100 || (spec.Shape == Oval && (spec.HeightMM < 10 || spec.HeightMM > 100)) {
		return fmt.Errorf("seal: stamp size %gx%g mm: use 10-100 mm", spec.DiameterMM, spec.HeightMM)
	}
	n := utf8.RuneCountInString(spec.Agency)
	switch {
	case spec.Shape == Square && (n < 2 || n > 4):
		return fmt.Errorf("seal: a square name seal holds a name of 2-4 characters, got %d", n)
	case n == 0 || n > 40:
		return fmt.Errorf("seal: the agency name must be 1-40 characters, got %d", n)
	case utf8.RuneCountInString(spec.Purpose) > 12:
		return fmt.Errorf("seal: the purpose text must be at most 12 characters")
	case utf8.RuneCountInString(spec.Code) > 24:
		return fmt.Errorf("seal: the code must be at most 24 characters")
	}
	if m := font.Missing(spec.Agency + spec.Purpose + spec.Code); len(m) > 0 {
		return fmt.Errorf("seal: the embedded font cannot draw %q (outside GB 2312); use other characters", string(m))
	}
	return nil
}

// RenderStamp draws a stamp picture and returns it as a PNG: RGBA with a
// transparent background, antialiased, at spec.DPI (recorded in the PNG's
// pHYs chunk so that it prints at its real size).
func RenderStamp(spec StampSpec) ([]byte, error) {
	img, err := RenderStampImage(spec)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("seal: encoding stamp PNG: %w", err)
	}
	spec.defaults()
	return withPHYs(buf.Bytes(), spec.DPI), nil
}

// RenderStampImage is RenderStamp without the PNG encoding.
func RenderStampImage(spec StampSpec) (*image.NRGBA, error) {
	spec.defaults()
	if err := spec.check(); err != nil {
		return nil, err
	}
	f, err := font.SFNT()
	if err != nil {
		return nil, err
	}
	wmm, hmm := spec.Size()
	px := spec.DPI / 25.4
	r := &stamp{f: f, px: px, w: int(math.Round(wmm * px)), h: int(math.Round(hmm * px))}
	r.mask = image.NewAlpha(image.Rect(0, 0, r.w, r.h))
	switch spec.Shape {
	case Round, Oval:
		err = r.drawRoundOrOval(spec)
	case Square:
		err = r.drawSquare(spec)
	}
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA(r.mask.Rect)
	c := spec.Color
	for i, a := range r.mask.Pix {
		if a == 0 {
			continue
		}
		o := i * 4
		out.Pix[o], out.Pix[o+1], out.Pix[o+2] = c.R, c.G, c.B
		out.Pix[o+3] = uint8((int(a)*int(c.A) + 127) / 255)
	}
	return out, nil
}

// stamp accumulates the coverage of all shapes in one alpha mask; the ink
// colour is applied once at the end, so overlaps do not darken.
type stamp struct {
	f    *sfnt.Font
	buf  sfnt.Buffer
	px   float64 // pixels per millimetre
	w, h int
	mask *image.Alpha
	// centres caches emCentre per reference glyph.
	centres map[rune]float64
}

type pt struct{ x, y float64 }

// path is a list of closed contours of line, quadratic and cubic segments.
type path struct {
	ops  []pathOp
	minX float64
	minY float64
	maxX float64
	maxY float64
}

type pathOp struct {
	kind byte // 'M', 'L', 'Q', 'C', 'Z'
	p    [3]pt
}

func (p *path) add(kind byte, pts ...pt) {
	op := pathOp{kind: kind}
	copy(op.p[:], pts)
	if len(p.ops) == 0 {
		p.minX, p.minY, p.maxX, p.maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	}
	for _, q := range pts {
		p.minX, p.minY = math.Min(p.minX, q.x), math.Min(p.minY, q.y)
		p.maxX, p.maxY = math.Max(p.maxX, q.x), math.Max(p.maxY, q.y)
	}
	p.ops = append(p.ops, op)
}

// fill adds the coverage of p (non-zero winding within p) to the mask,
// rasterizing only p's bounding box.
func (s *stamp) fill(p *path) {
	if len(p.ops) == 0 {
		return
	}
	b := image.Rect(int(math.Floor(p.minX))-1, int(math.Floor(p.minY))-1, int(math.Ceil(p.maxX))+1, int(math.Ceil(p.maxY))+1).Intersect(s.mask.Rect)
	if b.Empty() {
		return
	}
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	ox, oy := float64(b.Min.X), float64(b.Min.Y)
	f := func(q pt) (float32, float32) { return float32(q.x - ox), float32(q.y - oy) }
	for _, op := range p.ops {
		switch op.kind {
		case 'M':
			z.MoveTo(f(op.p[0]))
		case 'L':
			z.LineTo(f(op.p[0]))
		case 'Q':
			x1, y1 := f(op.p[0])
			x2, y2 := f(op.p[1])
			z.QuadTo(x1, y1, x2, y2)
		case 'C':
			x1, y1 := f(op.p[0])
			x2, y2 := f(op.p[1])
			x3, y3 := f(op.p[2])
			z.CubeTo(x1, y1, x2, y2, x3, y3)
		case 'Z':
			z.ClosePath()
		}
	}
	z.Draw(s.mask, b, image.Opaque, image.Point{})
}

// ellipse adds an ellipse contour of four cubic arcs; reverse flips its
// direction (to cut a hole in the contour added before it).
func (p *path) ellipse(cx, cy, a, b float64, reverse bool) {
	const k = 0.5522847498 // cubic Bézier approximation of a quarter circle
	sgn := 1.0
	if reverse {
		sgn = -1
	}
	p.add('M', pt{cx + a, cy})
	for q := 0; q < 4; q++ {
		t0 := sgn * float64(q) * math.Pi / 2
		t1 := sgn * float64(q+1) * math.Pi / 2
		c0, s0 := math.Cos(t0), math.Sin(t0)
		c1, s1 := math.Cos(t1), math.Sin(t1)
		p.add('C',
			pt{cx + a*(c0-sgn*k*s0), cy + b*(s0+sgn*k*c0)},
			pt{cx + a*(c1+sgn*k*s1), cy + b*(s1-sgn*k*c1)},
			pt{cx + a*c1, cy + b*s1})
	}
	p.add('Z')
}

// star adds a regular five-pointed star with outer radius r, pointing up.
func (p *path) star(cx, cy, r float64) {
	inner := r * math.Sin(math.Pi/10) / math.Sin(7*math.Pi/10) // 0.382 r: points on straight lines
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = inner
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		q := pt{cx + rr*math.Cos(a), cy + rr*math.Sin(a)}
		if i == 0 {
			p.add('M', q)
		} else {
			p.add('L', q)
		}
	}
	p.add('Z')
}

// roundRect adds a rectangle with rounded corners of radius rad.
func (p *path) roundRect(x0, y0, x1, y1, rad float64, reverse bool) {
	const k = 0.5522847498
	c := rad * k
	pts := []pt{
		{x0 + rad, y0}, {x1 - rad, y0}, {x1 - rad + c, y0}, {x1, y0 + rad - c}, {x1, y0 + rad},
		{x1, y1 - rad}, {x1, y1 - rad + c}, {x1 - rad + c, y1}, {x1 - rad, y1},
		{x0 + rad, y1}, {x0 + rad - c, y1}, {x0, y1 - rad + c}, {x0, y1 - rad},
		{x0, y0 + rad}, {x0, y0 + rad - c}, {x0 + rad - c, y0}, {x0 + rad, y0},
	}
	// Segments: L, C, L, C, L, C, L, C starting from pts[0].
	type seg struct {
		kind byte
		pts  []pt
	}
	segs := []seg{{'L', pts[1:2]}, {'C', pts[2:5]}, {'L', pts[5:6]}, {'C', pts[6:9]}, {'L', pts[9:10]}, {'C', pts[10:13]}, {'L', pts[13:14]}, {'C', pts[14:17]}}
	if !reverse {
		p.add('M', pts[0])
		for _, s := range segs {
			p.add(s.kind, s.pts...)
		}
		p.add('Z')
		return
	}
	// Walk the same outline backwards.
	p.add('M', pts[0])
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		prev := pts[0]
		if i > 0 {
			ps := segs[i-1].pts
			prev = ps[len(ps)-1]
		}
		if s.kind == 'L' {
			p.add('L', prev)
		} else {
			p.add('C', s.pts[1], s.pts[0], prev)
		}
	}
	p.add('Z')
}

// glyphBox is where a glyph goes: its em box centred at c, w wide and h
// high, with its x axis along ux and its downward y axis along vy (unit
// vectors; ux = (1,0), vy = (0,1) is upright).
type glyphBox struct {
	c      pt
	w, h   float64
	ux, vy pt
	bold   float64 // emboldening radius in pixels
}

// emCentre is the vertical centre of the em box in em units (y down from
// the baseline), measured on a glyph that fills it: 国 for CJK text, 0 for
// Latin letters and digits.
func (s *stamp) emCentre(r rune) float64 {
	ref := '国'
	if r < 0x2E80 {
		ref = '0'
	}
	if v, ok := s.centres[ref]; ok {
		return v
	}
	v := s.measureCentre(ref)
	if s.centres == nil {
		s.centres = map[rune]float64{}
	}
	s.centres[ref] = v
	return v
}

func (s *stamp) measureCentre(ref rune) float64 {
	i, err := s.f.GlyphIndex(&s.buf, ref)
	if err != nil {
		return -0.4
	}
	segs, err := s.f.LoadGlyph(&s.buf, i, fixed.I(1024), nil)
	if err != nil || len(segs) == 0 {
		return -0.4
	}
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, sg := range segs {
		for _, q := range sg.Args[:argCount(sg.Op)] {
			y := float64(q.Y) / 64 / 1024
			minY, maxY = math.Min(minY, y), math.Max(maxY, y)
		}
	}
	return (minY + maxY) / 2
}

func argCount(op sfnt.SegmentOp) int {
	switch op {
	case sfnt.SegmentOpQuadTo:
		return 2
	case sfnt.SegmentOpCubeTo:
		return 3
	}
	return 1
}

// glyph draws rune r into box g. For CJK the em box is one em wide;
// narrower glyphs (digits) keep their own advance, scaled like the height.
func (s *stamp) glyph(r rune, g glyphBox) error {
	i, err := s.f.GlyphIndex(&s.buf, r)
	if err != nil || i == 0 {
		return fmt.Errorf("seal: the embedded font cannot draw %q", r)
	}
	const ppem = 1024
	adv, err := s.f.GlyphAdvance(&s.buf, i, fixed.I(ppem), xfont.HintingNone)
	if err != nil {
		return fmt.Errorf("seal: glyph %q: %w", r, err)
	}
	// emCentre reuses the buffer, so call it before LoadGlyph: the
	// segments are only valid until the buffer's next use.
	v0 := s.emCentre(r)
	segs, err := s.f.LoadGlyph(&s.buf, i, fixed.I(ppem), nil)
	if err != nil {
		return fmt.Errorf("seal: glyph %q: %w", r, err)
	}
	advEm := float64(adv) / 64 / ppem
	u0 := advEm / 2
	// g.w is the width of one em: a CJK glyph fills it, a digit keeps its
	// narrower advance.
	sx := g.w
	tr := func(q fixed.Point26_6, dx, dy float64) pt {
		u := (float64(q.X)/64/ppem - u0) * sx
		v := (float64(q.Y)/64/ppem - v0) * g.h
		return pt{g.c.x + u*g.ux.x + v*g.vy.x + dx, g.c.y + u*g.ux.y + v*g.vy.y + dy}
	}
	// Emboldening: the union of copies offset around a small circle, which
	// gives the heavier strokes of real seal lettering.
	offsets := []pt{{0, 0}}
	if g.bold > 0 {
		for k := 0; k < 12; k++ {
			a := float64(k) * math.Pi / 6
			offsets = append(offsets, pt{g.bold * math.Cos(a), g.bold * math.Sin(a)})
		}
	}
	var p path
	for _, o := range offsets {
		open := false
		for _, sg := range segs {
			switch sg.Op {
			case sfnt.SegmentOpMoveTo:
				if open {
					p.add('Z')
				}
				p.add('M', tr(sg.Args[0], o.x, o.y))
				open = true
			case sfnt.SegmentOpLineTo:
				p.add('L', tr(sg.Args[0], o.x, o.y))
			case sfnt.SegmentOpQuadTo:
				p.add('Q', tr(sg.Args[0], o.x, o.y), tr(sg.Args[1], o.x, o.y))
			case sfnt.SegmentOpCubeTo:
				p.add('C', tr(sg.Args[0], o.x, o.y), tr(sg.Args[1], o.x, o.y), tr(sg.Args[2], o.x, o.y))
			}
		}
		if open {
			p.add('Z')
		}
	}
	s.fill(&p)
	return nil
}

// arcPlace returns the centre and unit vectors of glyph i of n along the
// ellipse (a, b) centred at c, the glyphs spaced by the arc length step and
// centred on the top (top=true, reading clockwise) or bottom (reading
// counter-clockwise, upright for a reader).
func arcPlace(c pt, a, b float64, n int, step float64, top bool) []glyphBox {
	// Signed arc length from the top (or bottom) point as a function of the
	// parameter angle, tabulated.
	const steps = 2048
	centre := -math.Pi / 2
	dir := 1.0
	if !top {
		centre, dir = math.Pi/2, -1
	}
	out := make([]glyphBox, n)
	for i := 0; i < n; i++ {
		want := (float64(i) - float64(n-1)/2) * step
		// Walk the parameter from the centre point until the arc length
		// reaches |want|.
		sgn := 1.0
		if want < 0 {
			sgn = -1
		}
		phi, s := centre, 0.0
		dphi := math.Pi / steps
		for k := 0; k < 2*steps && s < math.Abs(want); k++ {
			x0, y0 := a*math.Cos(phi), b*math.Sin(phi)
			phi += sgn * dir * dphi
			x1, y1 := a*math.Cos(phi), b*math.Sin(phi)
			s += math.Hypot(x1-x0, y1-y0)
		}
		p := pt{c.x + a*math.Cos(phi), c.y + b*math.Sin(phi)}
		// Tangent in the direction of increasing phi (clockwise on screen)
		// and outward normal.
		tx, ty := -a*math.Sin(phi), b*math.Cos(phi)
		tl := math.Hypot(tx, ty)
		tx, ty = tx/tl, ty/tl
		nx, ny := ty, -tx // rotate tangent by -90° on a y-down screen: outward
		g := glyphBox{c: p}
		if top {
			g.ux, g.vy = pt{tx, ty}, pt{-nx, -ny}
		} else {
			g.ux, g.vy = pt{-tx, -ty}, pt{nx, ny}
		}
		out[i] = g
	}
	return out
}

// arcLength is the length of the ellipse (a, b) over parameter angles
// centre±half.
func arcLength(a, b, centre, half float64) float64 {
	const n = 1024
	s := 0.0
	for k := 0; k < n; k++ {
		p0 := centre - half + 2*half*float64(k)/n
		p1 := centre - half + 2*half*float64(k+1)/n
		s += math.Hypot(a*(math.Cos(p1)-math.Cos(p0)), b*(math.Sin(p1)-math.Sin(p0)))
	}
	return s
}

func (s *stamp) drawRoundOrOval(spec StampSpec) error {
	W, H := float64(s.w), float64(s.h)
	c := pt{W / 2, H / 2}
	mm := s.px
	margin := 0.4 * mm
	a, b := W/2-margin, H/2-margin
	ring := 1.2 * mm // GA 241 style: 1.2 mm frame on a 42 mm seal
	if spec.Shape == Oval {
		ring = 1.0 * mm
	}
	if spec.DiameterMM < 30 {
		ring *= spec.DiameterMM / 30
	}
	var p path
	p.ellipse(c.x, c.y, a, b, false)
	p.ellipse(c.x, c.y, a-ring, b-ring, true)
	s.fill(&p)
	ai, bi := a-ring, b-ring // inner edge of the ring

	// Agency along the upper arc.
	small := math.Min(W, H) // the seal's smaller dimension
	h := 0.14 * small
	if spec.Shape == Oval {
		h = 0.15 * small
	}
	gap := 0.03 * small
	ra, rb := ai-gap-h/2, bi-gap-h/2
	runes := []rune(spec.Agency)
	n := len(runes)
	maxSpan := 240.0 * math.Pi / 180
	if spec.Shape == Oval {
		maxSpan = 200.0 * math.Pi / 180
	}
	natural := 1.1 * h // spacing of a glyph at its natural width
	span := arcLength(ra, rb, -math.Pi/2, maxSpan/2)
	// Short names are spread over at least 150°, as carved seals do, but
	// not so far apart that they stop reading as one name.
	if n > 1 {
		minSpan := arcLength(ra, rb, -math.Pi/2, 75*math.Pi/180)
		natural = math.Max(natural, math.Min(minSpan/float64(n-1), 1.8*h))
	}
	step := natural
	if n > 1 && float64(n-1)*natural > span {
		step = span / float64(n-1)
	}
	w := math.Min(h, 0.92*step) // condense long names, as seal lettering does
	gh := h
	if w < 0.5*h { // very long names: shrink the height too
		gh = 2 * w
	}
	for i, g := range arcPlace(c, ra+(h-gh)/2, rb+(h-gh)/2, n, step, true) {
		g.w, g.h, g.bold = w, gh, 0.022*gh
		if err := s.glyph(runes[i], g); err != nil {
			return err
		}
	}

	// Star (round only): 14 mm across on a 42 mm seal, centred.
	purposeY := c.y + 0.20*small
	if spec.Shape == Round {
		var st path
		st.star(c.x, c.y, small/6)
		s.fill(&st)
		// Below the star and clear of the ends of the agency arc.
		purposeY = c.y + 0.255*small
	} else {
		purposeY = c.y + 0.08*small
	}

	// Purpose, horizontal.
	if spec.Purpose != "" {
		pr := []rune(spec.Purpose)
		ph := 0.10 * small
		pw := 0.085 * small
		if spec.Shape == Oval {
			ph, pw = 0.16*small, 0.13*small
		}
		pstep := pw * 1.05
		maxW := 0.46 * W
		if float64(len(pr))*pstep > maxW {
			pstep = maxW / float64(len(pr))
			pw = pstep / 1.05
		}
		for i, r := range pr {
			x := c.x + (float64(i)-float64(len(pr)-1)/2)*pstep
			if err := s.glyph(r, glyphBox{c: pt{x, purposeY}, w: pw, h: ph, ux: pt{1, 0}, vy: pt{0, 1}, bold: 0.022 * ph}); err != nil {
				return err
			}
		}
	}

	// Code along the bottom arc, small, upright for the reader.
	if spec.Code != "" {
		cr := []rune(spec.Code)
		ch := 0.055 * small
		cw := 0.6 * ch / 0.55 // digits are about half an em wide; w is one em
		rc, rcb := ai-0.02*small-ch/2, bi-0.02*small-ch/2
		for i, g := range arcPlace(c, rc, rcb, len(cr), 0.62*ch, false) {
			g.w, g.h, g.bold = cw, ch, 0
			if err := s.glyph(cr[i], g); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *stamp) drawSquare(spec StampSpec) error {
	S := float64(s.w)
	mm := s.px
	margin := 0.3 * mm
	frame := 0.07 * S
	var p path
	p.roundRect(margin, margin, S-margin, S-margin, 0.04*S, false)
	p.roundRect(margin+frame, margin+frame, S-margin-frame, S-margin-frame, 0.02*S, true)
	s.fill(&p)
	name := []rune(spec.Agency)
	switch len(name) {
	case 2:
		name = append(name, '之', '印')
	case 3:
		name = append(name, '印')
	}
	// Right column top to bottom, then the left column.
	inner := S - 2*(margin+frame)
	pad := 0.04 * S
	cell := (inner - 2*pad) / 2
	x0 := margin + frame + pad
	centres := []pt{
		{x0 + 1.5*cell, x0 + 0.5*cell}, {x0 + 1.5*cell, x0 + 1.5*cell},
		{x0 + 0.5*cell, x0 + 0.5*cell}, {x0 + 0.5*cell, x0 + 1.5*cell},
	}
	for i, r := range name {
		g := glyphBox{c: centres[i], w: cell * 0.98, h: cell * 0.98, ux: pt{1, 0}, vy: pt{0, 1}, bold: 0.02 * cell}
		if err := s.glyph(r, g); err != nil {
			return err
		}
	}
	return nil
}

// withPHYs inserts a pHYs chunk (pixels per metre) after IHDR so that
// viewers and printers use the picture's real size.
func withPHYs(p []byte, dpi float64) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4 // signature, IHDR length+type, data, CRC
	if len(p) < ihdrEnd {
		return p
	}
	ppm := uint32(math.Round(dpi / 0.0254))
	chunk := make([]byte, 0, 21)
	chunk = binary.BigEndian.AppendUint32(chunk, 9)
	chunk = append(chunk, "pHYs"...)
	chunk = binary.BigEndian.AppendUint32(chunk, ppm)
	chunk = binary.BigEndian.AppendUint32(chunk, ppm)
	chunk = append(chunk, 1) // unit: metre
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := make([]byte, 0, len(p)+len(chunk))
	out = append(out, p[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, p[ihdrEnd:]...)
}
