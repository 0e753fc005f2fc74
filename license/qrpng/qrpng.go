// Package qrpng draws QR payloads (license.QRText, presentations) as PNG
// pictures and reads them back from pictures a counter's camera or scanner
// took. It is apart from package license so that the wallet's WebAssembly
// build, which draws on a canvas, does not carry image codecs.
//
// Pictures are level M (15% of the code may be damaged), the level the
// size limits in docs/formats.md are computed for. Payloads are upper-case
// Base45, so go-qrcode encodes them in alphanumeric mode.
package qrpng

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // counters send GIFs too
	_ "image/jpeg" // and camera JPEGs
	_ "image/png"
	"io"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
)

// MaxPicture bounds the pictures Decode reads (bytes and pixels).
const (
	MaxPicture = 16 << 20
	maxPixels  = 40_000_000
)

// Encode draws text as a level-M QR code PNG of size×size pixels (size 0:
// 512).
func Encode(text string, size int) ([]byte, error) {
	if size == 0 {
		size = 512
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qrpng: %w", err)
	}
	return q.PNG(size)
}

// Version returns the QR version (1-40) text needs at level M.
func Version(text string) (int, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return 0, fmt.Errorf("qrpng: %w", err)
	}
	return q.VersionNumber, nil
}

// Decode reads a PNG, JPEG or GIF picture and returns the text of the QR
// code in it.
func Decode(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPicture+1))
	if err != nil {
		return "", fmt.Errorf("qrpng: reading picture: %w", err)
	}
	if len(data) > MaxPicture {
		return "", errors.New("qrpng: picture larger than 16 MiB")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", errors.New("qrpng: not a PNG, JPEG or GIF picture")
	}
	if cfg.Width*cfg.Height > maxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", errors.New("qrpng: picture has too many pixels")
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("qrpng: decoding picture: %w", err)
	}
	return DecodeImage(img)
}

// DecodeImage returns the text of the QR code in img.
//
// gozxing's sampler misreads some codes whose modules are not a whole
// number of pixels wide (about 4% of our own 512-pixel PNGs, which zbar
// reads fine), and a camera frame is never on a module grid. So a picture
// that does not decode as it is is tried again rescaled: a different grid
// phase is enough. Each try is bounded by the picture's pixel limit.
func DecodeImage(img image.Image) (string, error) {
	if text, err := decodeOnce(img); err == nil {
		return text, nil
	}
	b := img.Bounds()
	for _, scale := range retryScales {
		w, h := int(float64(b.Dx())*scale), int(float64(b.Dy())*scale)
		if w < 21 || h < 21 || w*h > maxPixels {
			continue
		}
		dst := image.NewGray(image.Rect(0, 0, w, h))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		if text, err := decodeOnce(dst); err == nil {
			return text, nil
		}
	}
	return "", errors.New("qrpng: no readable QR code in the picture; scan it again, closer and in focus")
}

// retryScales are the rescalings DecodeImage tries, most useful first.
var retryScales = []float64{0.75, 0.6, 1.5, 0.9}

func decodeOnce(img image.Image) (text string, err error) {
	defer func() {
		// gozxing works on outside pixels: a panic in it is a "no QR"
		// answer, not a crashed request.
		if recover() != nil {
			text, err = "", errors.New("qrpng: unreadable")
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
