package qrpng

import (
	"bytes"
	"crypto/rand"
	"github.com/emmansun/gmsm/sm2"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/zhengxin/zhengxin/license"
)

// A realistic payload: the size of a business license QR, from the
// alphabet Base45 uses.
func payload() string {
	var b strings.Builder
	b.WriteString(license.PrefixLicense)
	for i := 0; b.Len() < 470; i++ {
		b.WriteByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[(i*7+3)%45])
	}
	return b.String()
}

func TestEncodeDecodePNG(t *testing.T) {
	text := payload()
	png, err := Encode(text, 512)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	if got != text {
		t.Fatalf("decoded %q, want %q", got, text)
	}
	if v, _ := Version(text); v > 14 {
		t.Errorf("version %d", v)
	}
}

// A camera picture: the code shrunk into a larger grey JPEG.
func TestDecodeJPEGPhoto(t *testing.T) {
	text := payload()
	png, _ := Encode(text, 600)
	img, _, _ := image.Decode(bytes.NewReader(png))
	canvas := image.NewRGBA(image.Rect(0, 0, 900, 800))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.RGBA{200, 200, 190, 255}}, image.Point{}, draw.Src)
	draw.Draw(canvas, img.Bounds().Add(image.Pt(150, 100)), img, image.Point{}, draw.Src)
	var buf bytes.Buffer
	jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 80})
	got, err := Decode(&buf)
	if err != nil || got != text {
		t.Fatalf("decoded %q, %v", got, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := Decode(strings.NewReader("not a picture")); err == nil {
		t.Error("garbage decoded")
	}
	blank := image.NewGray(image.Rect(0, 0, 100, 100))
	if _, err := DecodeImage(blank); err == nil {
		t.Error("blank picture decoded")
	}
}

func FuzzDecode(f *testing.F) {
	png, _ := Encode("ZX1:ABC", 64)
	f.Add(png)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		Decode(bytes.NewReader(b))
	})
}

// A real business license QR survives PNG and back, and still parses.
func TestLicenseQRThroughPNG(t *testing.T) {
	key, _ := sm2.GenerateKey(rand.Reader)
	s, err := license.NewSignerKID(key, []byte("12345678"), "11330106MA0001018C")
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Issue(license.SampleRequests()[0])
	if err != nil {
		t.Fatal(err)
	}
	text, _ := l.QRText()
	png, err := Encode(text, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(png))
	if err != nil || got != text {
		t.Fatalf("decoded %v", err)
	}
	q, err := license.ParseQR(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.VerifySignature(&key.PublicKey); err != nil {
		t.Fatal(err)
	}
}

// Every PNG we draw must read back: a counter that cannot read the QR it
// was handed is a failed service. Random Base45-alphabet payloads of the
// static-license size, drawn at the default size; gozxing alone misreads
// about 4% of them (see DecodeImage).
func TestRoundTripManyPayloads(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	rnd := mrand.New(mrand.NewPCG(1, 2))
	n := 150
	if testing.Short() {
		n = 30
	}
	for i := 0; i < n; i++ {
		b := make([]byte, 380+rnd.IntN(120))
		for j := range b {
			b[j] = alphabet[rnd.IntN(len(alphabet))]
		}
		text := "ZX1:" + string(b)
		png, err := Encode(text, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(png))
		if err != nil || got != text {
			t.Fatalf("payload %d (%d chars) does not read back: %v", i, len(text), err)
		}
	}
}
