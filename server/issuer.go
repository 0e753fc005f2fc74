package server

import (
	"context"
	"errors"

	"github.com/zhengxin/zhengxin/license"
)

// LicenseIssuer is an Issuer over package license: it validates the
// request against the license type (license.ValidationError becomes a 422
// with one entry per field), signs with the agency's license.Signer and
// fills the License the server stores.
type LicenseIssuer struct {
	// Signer returns the license signer of an agency (by the agency code
	// used in tokens); an error wrapping ErrNotFound answers 404.
	Signer func(agency string) (*license.Signer, error)
	// Reserve, if set, reserves the license's status-list slot before
	// signing (store.ReserveStatusIndexes), so the signed payload carries
	// it. Nil: the license is signed without a status list and the store
	// assigns an index; verifiers then ask status by identifier (online).
	Reserve func(ctx context.Context, agency string) (list string, index uint64, err error)
	// Render draws the license as a sealed PDF (pdf.RenderAndSign). Nil:
	// GET /licenses/{id}/pdf answers 500 with a logged cause.
	Render func(ctx context.Context, l *License) ([]byte, error)
	// LazyQR skips making the QR text at issuance (a quarter of the
	// issuing CPU: zlib at best compression). Set it only with a Store that
	// derives the QR from the signed license on reads (FromStore with
	// LicenseQRText): the answer to POST /licenses then has no "qr", and
	// GET /licenses/{id} and /qr make it when asked.
	LazyQR bool
}

var _ Issuer = (*LicenseIssuer)(nil)

var errNoRenderer = errors.New("server: LicenseIssuer.Render is not set: wire pdf rendering to serve license PDFs")

// Issue builds a license.Request from req: Fields plus holder_name,
// holder_id, valid_from and valid_to (valid_until) where given.
func (li *LicenseIssuer) Issue(ctx context.Context, agency string, req *IssueRequest) (*License, error) {
	if _, err := license.LookupType(req.Type); err != nil {
		return nil, &ValidationError{Fields: []FieldError{{Field: "type", ZH: "未知的证照类型。", EN: "unknown license type."}}}
	}
	s, err := li.Signer(agency)
	if err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(req.Fields)+4)
	for k, v := range req.Fields {
		fields[k] = v
	}
	for k, v := range map[string]string{"holder_name": req.HolderName, "holder_id": req.HolderID, "valid_from": req.ValidFrom, "valid_to": req.ValidUntil} {
		if v != "" {
			fields[k] = v
		}
	}
	lr := license.Request{Type: req.Type, Fields: fields}
	if li.Reserve != nil {
		if lr.StatusList, lr.StatusIndex, err = li.Reserve(ctx, agency); err != nil {
			return nil, err
		}
	}
	l, err := s.Issue(lr)
	var lve *license.ValidationError
	if errors.As(err, &lve) {
		ve := &ValidationError{}
		for _, f := range lve.Fields {
			ve.Fields = append(ve.Fields, FieldError{Field: f.Key, ZH: f.Label + "：" + f.ZH, EN: f.EN})
		}
		return nil, ve
	}
	if err != nil {
		return nil, err
	}
	var qr string
	if !li.LazyQR {
		if qr, err = l.QRText(); err != nil {
			return nil, err
		}
	}
	out := &License{
		ID: l.ID(), Type: l.Type.Key, Agency: agency, Status: StatusValid, IssuedAt: l.SignedAt.UTC(),
		ValidFrom: l.ValidFrom.Time(), QR: qr, Signed: l.Marshal(),
		StatusList: l.StatusList, StatusIndex: l.StatusIndex, IndexReserved: li.Reserve != nil,
	}
	out.HolderName, _ = l.Value("holder_name")
	out.HolderID, _ = l.Value("holder_id")
	out.Number, _ = l.Value("number")
	if l.ValidTo != nil {
		t := l.ValidTo.Time()
		out.ValidUntil = &t
	}
	m := l.Map()
	out.Fields = make(map[string]any, len(m))
	for k, v := range m {
		out.Fields[k] = v
	}
	return out, nil
}

func (li *LicenseIssuer) PDF(ctx context.Context, l *License) ([]byte, error) {
	if li.Render == nil {
		return nil, errNoRenderer
	}
	return li.Render(ctx, l)
}

// Types lists the license types package license knows, for the console's
// issue form.
func (li *LicenseIssuer) Types() any { return license.Types() }

// LicenseQRText derives the QR payload text from a stored signed license
// (the holder's copy made by license.License.Marshal); pass it to FromStore.
func LicenseQRText(signed []byte) (string, error) {
	l, err := license.ParseLicense(signed)
	if err != nil {
		return "", err
	}
	return l.QRText()
}
