package datadir

import (
	"context"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/license/qrpng"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/pdf/tsaclient"
	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/store"
)

// PDFSignRequest is a PDF to seal.
type PDFSignRequest struct {
	Seal string // esID; empty: the default agency's default seal
	// Page (1-based) and the seal's lower-left corner in points; zero Page
	// means the last page, zero X/Y the lower right.
	Page   int
	X, Y   float64
	Reason string
	// SES puts a GB/T 38540 SES_Signature in /Contents instead of CMS.
	SES bool
	// TSA is the URL of an RFC 3161 time-stamping authority to timestamp
	// the signature with (CMS only); empty means the config's (Config.TSA),
	// if any. TSAHash is the imprint's hash (default: the config's, else
	// SHA256).
	TSA, TSAHash string
}

// TSAClient returns the client of the TSA at url with the imprint hash
// (empty: the config's "tsa" and "tsa_hash"), nil if there is none.
func (d *Dir) TSAClient(url, hash string) *tsaclient.Client {
	if url == "" {
		url = d.Config.TSA
	}
	if url == "" {
		return nil
	}
	if hash == "" {
		hash = d.Config.TSAHash
	}
	return &tsaclient.Client{URL: url, Hash: hash}
}

// timestamper returns the SignOptions.Timestamp function for the TSA at
// url (empty: the config's), nil if there is none.
func (d *Dir) timestamper(ctx context.Context, url, hash string) func([]byte) ([]byte, error) {
	c := d.TSAClient(url, hash)
	if c == nil {
		return nil
	}
	return c.SignatureTimestamp(ctx)
}

// SignPDF seals the PDF in (size bytes) into out with SM2: an incremental
// update with the seal's picture as the visible appearance, signed by the
// seal's owner key.
func (d *Dir) SignPDF(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, r PDFSignRequest) error {
	s, err := d.Seal(ctx, r.Seal)
	if err != nil {
		return err
	}
	opts, err := d.sealSignOptions(ctx, s)
	if err != nil {
		return err
	}
	w := float64(s.Picture.WidthMM) * 72 / 25.4
	h := float64(s.Picture.HeightMM) * 72 / 25.4
	if r.X == 0 && r.Y == 0 {
		r.X, r.Y = 595-w-56, 80 // lower right of an A4 page
	}
	opts.Appearance = &pdf.Appearance{PNG: s.Picture.Data, Page: r.Page, Rect: pdf.Rect{X: r.X, Y: r.Y, W: w, H: h}}
	opts.Reason = r.Reason
	if r.SES {
		if r.TSA != "" {
			return fmt.Errorf("a TSA timestamps CMS signatures only; an SES_Signature carries its own time: leave out the TSA or the SES format")
		}
		opts.Format = pdf.SES
	} else {
		opts.Timestamp = d.timestamper(ctx, r.TSA, r.TSAHash)
	}
	return pdf.Sign(in, size, out, opts)
}

func (d *Dir) sealSignOptions(ctx context.Context, s *seal.Seal) (pdf.SignOptions, error) {
	rec, err := d.Store.GetSeal(ctx, s.ESID)
	if err != nil {
		return pdf.SignOptions{}, err
	}
	a, err := d.Agency(rec.AgencyID)
	if err != nil {
		return pdf.SignOptions{}, err
	}
	cert, err := d.AgencyCert(a.CreditCode, RoleSeal)
	if err != nil {
		return pdf.SignOptions{}, err
	}
	key, err := d.AgencyKey(a.CreditCode, RoleSeal)
	if err != nil {
		return pdf.SignOptions{}, err
	}
	ca, err := d.AgencyCert(a.CreditCode, RoleAgencyCA)
	if err != nil {
		return pdf.SignOptions{}, err
	}
	return pdf.SignOptions{Signer: key, Cert: cert, Chain: []*smx509.Certificate{ca}, Time: d.Now(),
		Name: s.Name, Location: a.Name, SESSeal: s.Raw}, nil
}

// LicensePDF renders the license as an A4 PDF with its QR code and the
// agency's default seal, and signs it with that seal; with a TSA in the
// config (Config.TSA), the signature gets its timestamp.
func (d *Dir) LicensePDF(ctx context.Context, id string) ([]byte, error) {
	rec, l, err := d.LoadLicense(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.Status != store.StatusValid {
		// A sealed PDF verifies on its seal alone, without a status
		// lookup: it must not be made for a license that is not valid.
		return nil, fmt.Errorf("证照 %s 状态为 %s，只为有效证照生成签章 PDF / license %s is %s: a sealed PDF is made only of a valid license", id, rec.Status, id, rec.Status)
	}
	a, err := d.Agency(rec.AgencyID)
	if err != nil {
		return nil, err
	}
	if a.DefaultSeal == "" {
		// d.Seal("") would take the default agency's seal: another
		// agency's seal on this agency's license.
		return nil, fmt.Errorf("agency %s has no default seal to seal its licenses with: make one with \"zhengxin seal make --agency %s\"", a.CreditCode, a.CreditCode)
	}
	s, err := d.Seal(ctx, a.DefaultSeal)
	if err != nil {
		return nil, err
	}
	opts, err := d.sealSignOptions(ctx, s)
	if err != nil {
		return nil, err
	}
	qrText, err := l.QRText()
	if err != nil {
		return nil, err
	}
	qr, err := qrpng.Encode(qrText, 0)
	if err != nil {
		return nil, err
	}
	doc := pdf.LicenseDoc{Title: l.Type.ZH, Subtitle: "（电子证照）" + l.Type.EN, QRPNG: qr, SealPNG: s.Picture.Data,
		Issuer: a.Name, IssuedOn: l.IssueDate.ZH(), Identifier: l.ID(), Time: d.Now(),
		Note: "扫描二维码或用 zhengxin verify 核验 / Scan the QR or run zhengxin verify to check"}
	for _, f := range l.Fields() {
		if f.Field.Key == "issuer_name" {
			continue
		}
		doc.Fields = append(doc.Fields, pdf.Field{Label: f.Field.ZH, Value: f.Field.Display(f.Value)})
	}
	// The reason names the license (and its status list entry), so that
	// a verifier can see whether it was revoked since.
	opts.Reason = license.PDFReason(l)
	opts.Timestamp = d.timestamper(ctx, "", "")
	out, err := pdf.RenderAndSign(doc, opts)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", id, err)
	}
	return out, nil
}
