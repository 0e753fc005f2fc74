package verify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/zhengxin/zhengxin/license/qrpng"
	"github.com/zhengxin/zhengxin/verify/report"
)

// MaxInput bounds what Verify reads: the largest PDF a counter is expected
// to receive. QR payloads are far smaller and are bounded again by their
// decoders.
const MaxInput = 64 << 20

// Kind detects what input is, from its first bytes: a license or
// presentation QR payload (by prefix), a PDF (%PDF-), a picture (PNG, JPEG,
// GIF, BMP magic) of a QR, or a DER SEQUENCE (a seal file or an
// SES_Signature). It returns "" when it cannot tell.
func Kind(input []byte) string {
	in := bytes.TrimLeftFunc(input, unicode.IsSpace)
	switch {
	case hasPrefixFold(in, presentationPrefix):
		return report.KindPresentationQR
	case hasPrefixFold(in, licensePrefix):
		return report.KindLicenseQR
	case bytes.HasPrefix(in, []byte("%PDF-")):
		return report.KindPDF
	case isPicture(in):
		return kindPicture
	case len(in) > 2 && in[0] == 0x30:
		return report.KindSeal
	}
	return ""
}

// kindPicture is a picture that should hold a QR code; it is never a
// report's kind, since the report names what the QR held.
const kindPicture = "picture"

func isPicture(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) ||
		bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) ||
		bytes.HasPrefix(b, []byte("GIF8")) ||
		bytes.HasPrefix(b, []byte("BM"))
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// Verify verifies any presented input — QR payload text, a picture of a QR
// code, a PDF, a seal file — detecting its kind, and returns the report.
// Input that is none of these gives FAILED with FORMAT_FAILURE.
func Verify(ctx context.Context, input []byte, opts Options) *report.Report {
	if len(input) > MaxInput {
		return formatFailure("", opts, fmt.Sprintf("input of %d bytes is larger than the %d bytes accepted", len(input), MaxInput))
	}
	switch k := Kind(input); k {
	case report.KindLicenseQR:
		return VerifyLicenseQR(ctx, strings.TrimSpace(string(input)), opts)
	case report.KindPresentationQR:
		return VerifyPresentationQR(ctx, strings.TrimSpace(string(input)), opts)
	case report.KindPDF:
		return VerifyPDF(ctx, bytes.NewReader(input), int64(len(input)), opts)
	case report.KindSeal:
		return VerifySealFile(ctx, input, opts)
	case kindPicture:
		text, err := qrpng.Decode(bytes.NewReader(input))
		if err != nil {
			return formatFailure("", opts, "no QR code could be read in the picture: "+err.Error())
		}
		if Kind([]byte(text)) != report.KindLicenseQR && Kind([]byte(text)) != report.KindPresentationQR {
			return formatFailure("", opts, "the QR code in the picture is not a Zhengxin license or presentation")
		}
		return Verify(ctx, []byte(text), opts)
	}
	return formatFailure("", opts, "not a license QR (ZX1:), a presentation QR (ZXP1:), a PDF, a seal file or a picture of a QR code")
}

func formatFailure(kind string, opts Options, detail string) *report.Report {
	r := &report.Report{Kind: kind, CheckedAt: opts.now().UTC()}
	s := report.Signature{}
	s.Add("format", report.Errorf(report.FormatFailure, "%s", detail), detail)
	r.Signatures = append(r.Signatures, s)
	r.Finish()
	return r
}
