package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/zhengxin/zhengxin/font"
)

// Field is one labelled line of a license.
type Field struct {
	Label string // e.g. "统一社会信用代码"
	Value string
}

// LicenseDoc is what a license PDF shows.
type LicenseDoc struct {
	Title    string  // large, centred, e.g. "营业执照"
	Subtitle string  // optional line under the title, e.g. "（电子证照）Electronic License"
	Fields   []Field // the bordered table
	QRPNG    []byte  // optional QR picture (PNG), printed bottom-right
	SealPNG  []byte  // optional seal picture (PNG), over the issuer and date
	Issuer   string  // issuing authority (登记机关), bottom-centre
	IssuedOn string  // date line under the issuer, e.g. "2026年11月23日"
	// Identifier is printed small at the foot (证照标识).
	Identifier string
	// Note is an optional line at the foot, e.g. how to verify.
	Note string
	// Time is the document's creation date; zero means now.
	Time time.Time
}

// Layout of the license page, in millimetres from the top-left of an A4
// page (210 x 297 mm).
const (
	pageW, pageH   = 210.0, 297.0
	sealSizeMM     = 42.0
	sealCentreYMM  = 236.0
	qrSizeMM       = 34.0
	qrXMM, qrYMM   = 158.0, 228.0
	tableXMM       = 22.0
	tableWMM       = 166.0
	labelWMM       = 46.0
	rowMinHMM      = 11.0
	maxFields      = 20
	maxValueRunes  = 400
	mmPerPt        = 25.4 / 72
	fontFamily     = "wqy"
	borderOuterMM  = 8.0
	borderInnerMM  = 10.5
	titleBaselineY = 32.0
)

// LicenseSealRect is where RenderLicense places the seal, in PDF points
// from the bottom-left of page 1: centred on the issuer and date, as a
// paper license is stamped. RenderAndSign draws the signature's
// appearance there.
var LicenseSealRect = Rect{
	X: (pageW/2 - sealSizeMM/2) / mmPerPt,
	Y: (pageH - sealCentreYMM - sealSizeMM/2) / mmPerPt,
	W: sealSizeMM / mmPerPt,
	H: sealSizeMM / mmPerPt,
}

// RenderLicense lays out a license on one A4 page like a printed
// certificate: a double frame, the title large, the fields in a bordered
// table, the issuer and date at the bottom centre under the seal, the QR
// code bottom-right. Chinese text uses the embedded font (package font),
// subset into the PDF. Characters the font lacks are an error rather than
// empty boxes on an official document.
func RenderLicense(doc LicenseDoc) ([]byte, error) {
	return renderLicense(doc, true)
}

// RenderAndSign renders the license without drawing the seal and signs it
// with opts, the seal picture (doc.SealPNG, unless opts.Appearance gives
// one) becoming the visible signature at LicenseSealRect: the stamp seen on
// the page is the signature itself.
func RenderAndSign(doc LicenseDoc, opts SignOptions) ([]byte, error) {
	plain, err := renderLicense(doc, false)
	if err != nil {
		return nil, err
	}
	ap := Appearance{PNG: doc.SealPNG, Page: 1, Rect: LicenseSealRect}
	if opts.Appearance != nil && len(opts.Appearance.PNG) > 0 {
		ap.PNG = opts.Appearance.PNG
	}
	opts.Appearance = &ap
	if opts.Time.IsZero() {
		opts.Time = doc.Time
	}
	var out bytes.Buffer
	if err := Sign(bytes.NewReader(plain), int64(len(plain)), &out, opts); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func renderLicense(doc LicenseDoc, drawSeal bool) ([]byte, error) {
	if strings.TrimSpace(doc.Title) == "" {
		return nil, errors.New("pdf: the license needs a title")
	}
	if len(doc.Fields) == 0 || len(doc.Fields) > maxFields {
		return nil, fmt.Errorf("pdf: a license has 1-%d fields, got %d", maxFields, len(doc.Fields))
	}
	texts := []string{doc.Title, doc.Subtitle, doc.Issuer, doc.IssuedOn, doc.Identifier, doc.Note}
	for _, f := range doc.Fields {
		if len([]rune(f.Value)) > maxValueRunes || len([]rune(f.Label)) > 40 {
			return nil, fmt.Errorf("pdf: field %q is too long for the page", f.Label)
		}
		texts = append(texts, f.Label, f.Value)
	}
	if m := font.Missing(strings.Join(texts, "")); len(m) > 0 {
		return nil, fmt.Errorf("pdf: the embedded font has no glyph for %q; these characters would print as boxes", string(m))
	}

	at := doc.Time
	if at.IsZero() {
		at = time.Now()
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetCatalogSort(true)
	f.SetTitle(doc.Title, true)
	f.SetCreator("Zhengxin 证信", true)
	f.SetProducer("Zhengxin 证信 (go-pdf/fpdf)", true)
	f.SetAutoPageBreak(false, 0)
	f.AddUTF8FontFromBytes(fontFamily, "", font.TTF())
	f.AddPage()

	// Double frame.
	f.SetDrawColor(150, 30, 30)
	f.SetLineWidth(0.8)
	f.Rect(borderOuterMM, borderOuterMM, pageW-2*borderOuterMM, pageH-2*borderOuterMM, "D")
	f.SetLineWidth(0.3)
	f.Rect(borderInnerMM, borderInnerMM, pageW-2*borderInnerMM, pageH-2*borderInnerMM, "D")

	// Title, spaced out as certificates print it.
	f.SetTextColor(20, 20, 20)
	f.SetFont(fontFamily, "", 30)
	title := strings.Join(strings.Split(doc.Title, ""), " ")
	if len([]rune(doc.Title)) > 8 {
		title = doc.Title
	}
	f.SetXY(borderInnerMM, titleBaselineY-10)
	f.CellFormat(pageW-2*borderInnerMM, 14, title, "", 1, "C", false, 0, "")
	y := titleBaselineY + 6
	if doc.Subtitle != "" {
		f.SetFont(fontFamily, "", 12)
		f.SetXY(borderInnerMM, y)
		f.CellFormat(pageW-2*borderInnerMM, 7, doc.Subtitle, "", 1, "C", false, 0, "")
		y += 9
	}
	y += 6

	// The table.
	f.SetDrawColor(60, 60, 60)
	f.SetLineWidth(0.3)
	f.SetFillColor(244, 238, 228)
	valueW := tableWMM - labelWMM
	for _, fl := range doc.Fields {
		f.SetFont(fontFamily, "", 11)
		lines := f.SplitText(fl.Value, valueW-4)
		h := max(rowMinHMM, float64(len(lines))*6+5)
		if y+h > sealCentreYMM-sealSizeMM/2-4 {
			return nil, errors.New("pdf: the fields do not fit on one page; shorten the values")
		}
		f.SetXY(tableXMM, y)
		f.SetFont(fontFamily, "", 11)
		f.CellFormat(labelWMM, h, fl.Label, "1", 0, "C", true, 0, "")
		f.Rect(tableXMM+labelWMM, y, valueW, h, "D")
		ty := y + (h-float64(len(lines))*6)/2
		for _, ln := range lines {
			f.SetXY(tableXMM+labelWMM+2, ty)
			f.CellFormat(valueW-4, 6, ln, "", 0, "L", false, 0, "")
			ty += 6
		}
		y += h
	}

	// Issuer and date, bottom centre; the seal goes over them.
	f.SetFont(fontFamily, "", 13)
	if doc.Issuer != "" {
		f.SetXY(40, sealCentreYMM-5)
		f.CellFormat(pageW-80, 7, doc.Issuer, "", 0, "C", false, 0, "")
	}
	if doc.IssuedOn != "" {
		f.SetXY(40, sealCentreYMM+3)
		f.CellFormat(pageW-80, 7, doc.IssuedOn, "", 0, "C", false, 0, "")
	}
	if drawSeal && len(doc.SealPNG) > 0 {
		if err := placePNG(f, "seal", doc.SealPNG, pageW/2-sealSizeMM/2, sealCentreYMM-sealSizeMM/2, sealSizeMM); err != nil {
			return nil, err
		}
	}
	if len(doc.QRPNG) > 0 {
		if err := placePNG(f, "qr", doc.QRPNG, qrXMM, qrYMM, qrSizeMM); err != nil {
			return nil, err
		}
		f.SetFont(fontFamily, "", 7)
		f.SetXY(qrXMM-6, qrYMM+qrSizeMM+0.5)
		f.CellFormat(qrSizeMM+12, 4, "扫码核验 Scan to verify", "", 0, "C", false, 0, "")
	}

	// Foot: identifier and note.
	f.SetFont(fontFamily, "", 8)
	f.SetTextColor(80, 80, 80)
	if doc.Identifier != "" {
		f.SetXY(borderInnerMM+4, pageH-borderInnerMM-16)
		f.CellFormat(pageW-2*borderInnerMM-8, 5, "证照标识 Identifier: "+doc.Identifier, "", 0, "L", false, 0, "")
	}
	if doc.Note != "" {
		f.SetXY(borderInnerMM+4, pageH-borderInnerMM-10)
		f.CellFormat(pageW-2*borderInnerMM-8, 5, doc.Note, "", 0, "L", false, 0, "")
	}
	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		return nil, fmt.Errorf("pdf: rendering the license: %w", err)
	}
	return out.Bytes(), nil
}

func placePNG(f *fpdf.Fpdf, name string, data []byte, x, y, size float64) error {
	opt := fpdf.ImageOptions{ImageType: "PNG", ReadDpi: false}
	info := f.RegisterImageOptionsReader(name, opt, bytes.NewReader(data))
	if f.Err() || info == nil {
		return fmt.Errorf("pdf: the %s picture is not a usable PNG: %v", name, f.Error())
	}
	f.ImageOptions(name, x, y, size, size, false, opt, 0, "")
	return nil
}
