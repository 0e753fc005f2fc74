package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/png"
)

// maxImagePixels bounds the decoded seal picture (a 2000x2000 seal is
// already far more than a stamp needs).
const maxImagePixels = 4096 * 4096

// imageXObject turns a PNG into an RGB image XObject and, if any pixel is
// not opaque, a DeviceGray soft mask (/SMask) carrying the alpha, so the
// seal's transparent background shows the page beneath. The first object
// returned is the image.
func imageXObject(pngData []byte, alloc func() uint32) ([]obj, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("pdf: the appearance picture is not a PNG: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return nil, fmt.Errorf("pdf: the appearance picture is %dx%d; at most %d pixels", cfg.Width, cfg.Height, maxImagePixels)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("pdf: decoding the appearance picture: %v", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := make([]byte, 0, w*h*3)
	alpha := make([]byte, 0, w*h)
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			// Un-premultiply: PDF blends the colour with the soft mask.
			if a > 0 && a < 0xffff {
				r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
			}
			rgb = append(rgb, byte(r>>8), byte(g>>8), byte(bl>>8))
			alpha = append(alpha, byte(a>>8))
			if a != 0xffff {
				opaque = false
			}
		}
	}
	imgID := alloc()
	d := newDict().
		Set("Type", name("XObject")).
		Set("Subtype", name("Image")).
		Set("Width", w).
		Set("Height", h).
		Set("ColorSpace", name("DeviceRGB")).
		Set("BitsPerComponent", 8).
		Set("Filter", name("FlateDecode"))
	objs := []obj{{id: imgID, val: d, stream: deflate(rgb)}}
	if !opaque {
		maskID := alloc()
		d.Set("SMask", ref{ID: maskID})
		md := newDict().
			Set("Type", name("XObject")).
			Set("Subtype", name("Image")).
			Set("Width", w).
			Set("Height", h).
			Set("ColorSpace", name("DeviceGray")).
			Set("BitsPerComponent", 8).
			Set("Filter", name("FlateDecode"))
		objs = append(objs, obj{id: maskID, val: md, stream: deflate(alpha)})
	}
	return objs, nil
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

var _ image.Image
