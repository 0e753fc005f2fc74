// Package qrpng draws QR payloads (license.QRText, presentations) as PNG
// pictures and reads them back from pictures a counter's camera or scanner
// took. It is apart from package license so that the wallet's WebAssembly
// build, which draws on a canvas, does not carry image codecs.
//
// Pictures are level M (15% of the code may be damaged), the level the
// size limits in docs/formats.md are computed for, unless gozxing cannot
// read a level-M drawing back (see Encode). Payloads are upper-case
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

// Encode draws text as a QR code PNG of size×size pixels (size 0: 512),
// level M, and reads it back before returning it: gozxing, the reader
// counters use, fails on about 1 in 200 level-M codes of license-sized
// payloads that other readers (zbar, phone cameras) read, depending on the
// payload bytes. Such a code is drawn again at level Q, then H, then L (a
// different version and mask; every one of these cases read at any other
// level in a 1,500-payload measurement), so that no counter is ever handed a
// QR it cannot read.
func Encode(text string, size int) ([]byte, error) {
	if size == 0 {
		size = 512
	}
	var first []byte
	for _, level := range []qrcode.RecoveryLevel{qrcode.Medium, qrcode.High, qrcode.Highest, qrcode.Low} {
		q, err := qrcode.New(text, level)
		if err != nil {
			if level == qrcode.Medium {
				return nil, fmt.Errorf("qrpng: %w", err)
			}
			continue // too long for this level
		}
		png, err := q.PNG(size)
		if err != nil {
			return nil, fmt.Errorf("qrpng: %w", err)
		}
		if got, err := Decode(bytes.NewReader(png)); err == nil && got == text {
			return png, nil
		}
		if first == nil {
			first = png
		}
	}
	// No level reads back at this size (a very long payload drawn small):
	// the level-M picture, which better readers may still manage.
	return first, nil
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
