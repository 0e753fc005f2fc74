package seal

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
)

// renderDecoded renders spec and decodes the PNG with the standard library.
// With STAMP_OUT=dir set the PNGs are kept for looking at.
func renderDecoded(t *testing.T, name string, spec StampSpec) (image.Image, []byte) {
	t.Helper()
	b, err := RenderStamp(spec)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("STAMP_OUT"); dir != "" {
		os.WriteFile(dir+"/"+name+".png", b, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img, b
}

// inkCheck asserts the picture's pixels: transparent corners, only seal
// red where there is ink, some antialiased edge pixels.
func inkCheck(t *testing.T, img image.Image) {
	t.Helper()
	bd := img.Bounds()
	for _, p := range []image.Point{bd.Min, {bd.Max.X - 1, 0}, {0, bd.Max.Y - 1}, {bd.Max.X - 1, bd.Max.Y - 1}} {
		if _, _, _, a := img.At(p.X, p.Y).RGBA(); a != 0 {
			t.Errorf("corner %v is not transparent (alpha %d)", p, a>>8)
		}
	}
	var ink, edge, other int
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := img.(*image.NRGBA).NRGBAAt(x, y)
			switch {
			case c.A == 0:
			case c.R != 0xE6 || c.G != 0 || c.B != 0x12 || c.A > 0xEB:
				other++
			case c.A == 0xEB:
				ink++
			default:
				edge++
			}
		}
	}
	if other != 0 {
		t.Errorf("%d pixels are not seal red", other)
	}
	total := bd.Dx() * bd.Dy()
	if ink < total/20 || ink > total/2 {
		t.Errorf("%d of %d pixels inked, want between 5%% and 50%%", ink, total)
	}
	if edge < ink/50 {
		t.Errorf("only %d antialiased edge pixels for %d inked: not antialiased", edge, ink)
	}
}

func TestStampRound(t *testing.T) {
	img, b := renderDecoded(t, "round", StampSpec{Shape: Round, Agency: "北京市海淀区市场监督管理局", Purpose: "合同专用章", Code: "1101080012345"})
	// 42 mm at 600 dpi.
	if got := img.Bounds().Size(); got != (image.Point{992, 992}) {
		t.Fatalf("size %v, want 992x992", got)
	}
	if _, ok := img.(*image.NRGBA); !ok {
		t.Fatalf("decoded as %T, want RGBA with alpha", img)
	}
	inkCheck(t, img)
	a := func(x, y int) uint8 { return img.(*image.NRGBA).NRGBAAt(x, y).A }
	// The star fills the centre; the ring is inked on all four sides.
	if a(496, 496) != 0xEB {
		t.Error("no star at the centre")
	}
	for _, p := range []image.Point{{14, 496}, {977, 496}, {496, 14}, {496, 977}} {
		if a(p.X, p.Y) != 0xEB {
			t.Errorf("ring not inked at %v", p)
		}
	}
	// pHYs says 600 dpi (23622 pixels per metre).
	i := bytes.Index(b, []byte("pHYs"))
	if i < 0 || binary.BigEndian.Uint32(b[i+4:]) != 23622 || b[i+12] != 1 {
		t.Error("no pHYs chunk with 600 dpi")
	}
}

// TestStampArcFollowsCircle checks that characters along the arc are
// rotated to follow it: with 一 (one horizontal stroke) repeated, each
// character's ink lies along the tangent of the circle at its place, and
// the characters are spread evenly over 240° centred on the top.
func TestStampArcFollowsCircle(t *testing.T) {
	const n = 13
	img, _ := renderDecoded(t, "arc", StampSpec{Shape: Round, Agency: strings.Repeat("一", n)})
	nrgba := img.(*image.NRGBA)
	c := 496.0
	for i := 0; i < n; i++ {
		// Character i sits at -210° + i*20° (screen angles, y down).
		want := (-210 + 20*float64(i)) * math.Pi / 180
		var sx, sy, sxx, syy, sxy, cnt float64
		for y := 0; y < 992; y++ {
			for x := 0; x < 992; x++ {
				if nrgba.NRGBAAt(x, y).A < 0x80 {
					continue
				}
				dx, dy := float64(x)-c, float64(y)-c
				r := math.Hypot(dx, dy)
				if r < 0.25*992 || r > 0.42*992 { // text band, not ring or star
					continue
				}
				d := math.Remainder(math.Atan2(dy, dx)-want, 2*math.Pi)
				if math.Abs(d) > 8*math.Pi/180 {
					continue
				}
				sx, sy, sxx, syy, sxy, cnt = sx+dx, sy+dy, sxx+dx*dx, syy+dy*dy, sxy+dx*dy, cnt+1
			}
		}
		if cnt < 200 {
			t.Fatalf("character %d: only %.0f inked pixels near %.0f°", i, cnt, want*180/math.Pi)
		}
		mx, my := sx/cnt, sy/cnt
		if d := math.Remainder(math.Atan2(my, mx)-want, 2*math.Pi); math.Abs(d) > 2*math.Pi/180 {
			t.Errorf("character %d centred at %.1f°, want %.1f°", i, math.Atan2(my, mx)*180/math.Pi, want*180/math.Pi)
		}
		// Principal axis of the stroke versus the tangent (want + 90°).
		vxx, vyy, vxy := sxx/cnt-mx*mx, syy/cnt-my*my, sxy/cnt-mx*my
		axis := 0.5 * math.Atan2(2*vxy, vxx-vyy)
		if d := math.Remainder(axis-(want+math.Pi/2), math.Pi); math.Abs(d) > 5*math.Pi/180 {
			t.Errorf("character %d: stroke at %.1f°, tangent at %.1f°: not following the arc", i, axis*180/math.Pi, (want+math.Pi/2)*180/math.Pi)
		}
	}
}

func TestStampOvalAndSquare(t *testing.T) {
	img, _ := renderDecoded(t, "oval", StampSpec{Shape: Oval, Agency: "杭州某某科技有限公司", Purpose: "财务专用章", Code: "3301060098765"})
	if got := img.Bounds().Size(); got != (image.Point{945, 709}) { // 40x30 mm at 600 dpi
		t.Errorf("oval size %v, want 945x709", got)
	}
	inkCheck(t, img)
	img, _ = renderDecoded(t, "square", StampSpec{Shape: Square, Agency: "张三"})
	if got := img.Bounds().Size(); got != (image.Point{472, 472}) { // 20 mm
		t.Errorf("square size %v, want 472x472", got)
	}
	inkCheck(t, img)
	img, _ = renderDecoded(t, "round-300", StampSpec{Shape: Round, Agency: "证信公司", Purpose: "公章", DPI: 300, DiameterMM: 40})
	if got := img.Bounds().Size(); got != (image.Point{472, 472}) {
		t.Errorf("40 mm at 300 dpi: size %v, want 472x472", got)
	}
	inkCheck(t, img)
}

func TestStampRejects(t *testing.T) {
	for name, spec := range map[string]StampSpec{
		"no agency":      {Shape: Round},
		"outside font":   {Shape: Round, Agency: "𠀀𠀁有限公司"},
		"square 5 chars": {Shape: Square, Agency: "欧阳明华某"},
		"square 1 char":  {Shape: Square, Agency: "张"},
		"bad shape":      {Shape: Shape(7), Agency: "证信"},
		"tiny":           {Shape: Round, Agency: "证信", DiameterMM: 2},
		"huge dpi":       {Shape: Round, Agency: "证信", DPI: 100000},
	} {
		if _, err := RenderStamp(spec); err == nil || !strings.HasPrefix(err.Error(), "seal: ") {
			t.Errorf("%s: error = %v, want a seal: error", name, err)
		}
	}
}

func TestStampShortName(t *testing.T) {
	img, _ := renderDecoded(t, "round-short", StampSpec{Shape: Round, Agency: "证信公司", Purpose: "公章"})
	inkCheck(t, img)
}
