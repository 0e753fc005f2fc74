package license

import (
	"bytes"
	"image"
	"image/jpeg"
	"strings"
	"testing"
)

// The PNG we draw is read back by an independent decoder (gozxing, a port
// of ZXing), also after lossy JPEG re-encoding as a phone photo would be.
func TestQRPNGDecodes(t *testing.T) {
	text := "ZX1:" + strings.Repeat("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", 10)
	png, err := QRPNG(text, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeQRImage(png)
	if err != nil || got != text {
		t.Fatalf("decode PNG: %q, %v", got, err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeQRImage(jb.Bytes()); err != nil || got != text {
		t.Fatalf("decode JPEG: %q, %v", got, err)
	}
}

func TestDecodeQRImageRefusals(t *testing.T) {
	if _, err := DecodeQRImage([]byte("not a picture")); err == nil {
		t.Fatal("garbage decoded")
	}
	blank := image.NewGray(image.Rect(0, 0, 64, 64))
	var b bytes.Buffer
	jpeg.Encode(&b, blank, nil)
	if _, err := DecodeQRImage(b.Bytes()); err != ErrNoQR {
		t.Fatalf("blank picture: %v, want ErrNoQR", err)
	}
}

func FuzzDecodeQRImage(f *testing.F) {
	png, _ := QRPNG("ZX1:ABC", 64)
	f.Add(png)
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeQRImage(b)
	})
}
