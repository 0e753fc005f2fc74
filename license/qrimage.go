package license

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // pictures of QR codes arrive in any common format
	_ "image/jpeg" //
	_ "image/png"  //

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// QRPNG draws a QR payload as a PNG at error-correction level M (the level
// the size budget in docs/formats.md is computed for). size is the side in
// pixels; 0 means 512.
func QRPNG(text string, size int) ([]byte, error) {
	if size <= 0 {
		size = 512
	}
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("license: drawing the QR code: %w", err)
	}
	return png, nil
}

// MaxQRPicture bounds the pictures DecodeQRImage reads: a phone photo, not
// a poster. Decoding is done on the pixels, so the bound is on both bytes
// and dimensions.
const (
	MaxQRPicture       = 10 << 20
	MaxQRPicturePixels = 25_000_000
)

// ErrNoQR is returned when a picture holds no readable QR code.
var ErrNoQR = errors.New("license: no readable QR code in the picture; take a sharper, straighter photo")

// DecodeQRImage reads the QR code in a picture (PNG, JPEG or GIF) and
// returns its text.
func DecodeQRImage(data []byte) (string, error) {
	if len(data) > MaxQRPicture {
		return "", fmt.Errorf("license: picture of %d bytes is larger than %d", len(data), MaxQRPicture)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("license: not a PNG, JPEG or GIF picture: %v", err)
	}
	if cfg.Width*cfg.Height > MaxQRPicturePixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("license: picture of %dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("license: cannot decode the picture: %v", err)
	}
	return DecodeQR(img)
}

// DecodeQR reads the QR code in an image.
func DecodeQR(img image.Image) (text string, err error) {
	defer func() {
		// gozxing works on outside pixels: a panic in it is a "no QR"
		// answer, not a crash.
		if recover() != nil {
			text, err = "", ErrNoQR
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", ErrNoQR
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", ErrNoQR
	}
	return res.GetText(), nil
}
