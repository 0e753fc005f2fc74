package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/verify/report"
)

// VerifyPDF checks every signature of a PDF (r, size bytes) and returns
// the report: per signature the byte range, the digest (HASH_FAILURE), the
// signature itself (SIG_CRYPTO_FAILURE), the signer's chain to opts.Trust
// at the signing time (NO_CERTIFICATE_CHAIN_FOUND, CERT_REVOKED, ...), for
// a GB/T 38540 seal signature the seal (SEAL_INVALID), and whether the
// document was changed after signing (MODIFIED_AFTER_SIGNING). A PDF with
// no signature is INDETERMINATE (FORMAT_FAILURE): nothing vouches for it.
func VerifyPDF(ctx context.Context, r io.ReaderAt, size int64, opts Options) *report.Report {
	rep := &report.Report{Kind: report.KindPDF, CheckedAt: opts.now(), Signatures: []report.Signature{}}
	res, err := pdf.Verify(r, size)
	if err != nil {
		if report.ReasonOf(err) == "" {
			err = &report.Error{Reason: report.FormatFailure, Err: err}
		}
		s := report.Signature{}
		s.Add("pdf", err, "")
		rep.Signatures = append(rep.Signatures, s)
		rep.Finish()
		return rep
	}
	rep.Subject = map[string]any{
		"pages":      res.Pages,
		"revisions":  len(res.RevisionEnds),
		"signatures": len(res.Signatures),
	}
	for i := range res.Signatures {
		if ctx.Err() != nil {
			s := report.Signature{}
			s.Add("pdf", report.Errorf(report.TryLater, "verify: %v", ctx.Err()), "")
			rep.Signatures = append(rep.Signatures, s)
			break
		}
		sig := pdfSignature(&res.Signatures[i], len(res.RevisionEnds), opts)
		if id, ok := licenseStatusCheck(ctx, &sig, &res.Signatures[i], opts); ok {
			rep.Subject.(map[string]any)["license_id"] = id
		}
		rep.Signatures = append(rep.Signatures, sig)
	}
	rep.Finish()
	return rep
}

// licenseStatusCheck adds the license-status check to the signature that
// seals a license PDF (its reason names the license, license.PDFReason):
// the PDF stays intact when the license is suspended, revoked or
// cancelled, so its seal alone would still pass. It applies only to a
// signature that verified, made by the agency the identifier names; it
// reports the identifier when it checked.
func licenseStatusCheck(ctx context.Context, s *report.Signature, ps *pdf.Signature, opts Options) (string, bool) {
	id, list, index, ok := license.ParsePDFReason(ps.Reason)
	if !ok || ps.Signer == nil || ps.SignatureErr != nil || ps.ByteRangeErr != nil {
		return "", false
	}
	ident, err := license.ParseIdentifier(id)
	if err != nil || license.CreditCodeOf(ps.Signer) != ident.Issuer {
		return "", false
	}
	detail, err := statusOf(ctx, id, list, index, opts)
	s.Add(CheckStatus, err, okDetail(err, id+": "+detail))
	return id, true
}

func pdfSignature(ps *pdf.Signature, revisions int, opts Options) report.Signature {
	var s report.Signature
	s.Algorithm = ps.Algorithm
	if ps.Signer != nil {
		s.Signer = ps.Signer.Subject.String()
	}
	at := ps.SigningTime
	if at.IsZero() {
		at = ps.ClaimedTime
	}
	if !at.IsZero() {
		t := at.UTC()
		s.SignedAt = &t
	}
	add := func(name string, err error, detail string) {
		if errors.Is(err, pdf.ErrNotChecked) {
			return
		}
		s.Add(name, err, detail)
	}
	add("byte-range", ps.ByteRangeErr, fmt.Sprintf("field %q, ranges %v, revision %d of %d", ps.Field, ps.ByteRange, ps.Revision, revisions))
	add("digest", ps.DigestErr, ps.DigestAlgorithm)
	add("signature", ps.SignatureErr, ps.Format.String()+" "+ps.Algorithm)
	if ps.ByteRangeErr != nil || ps.SignatureErr != nil {
		return s
	}

	// The signer's chain, at the time the signature claims. Without a
	// timestamp that time is the signer's word; a revoked certificate is
	// caught because the CRL's revocation date is before now anyway.
	when := at
	if when.IsZero() {
		when = opts.now()
	}
	var inter []*smx509.Certificate
	for _, c := range ps.Certificates {
		if c != ps.Signer {
			inter = append(inter, c)
		}
	}
	if opts.Trust == nil {
		add("certificate-chain", report.Errorf(report.NoCertificateChainFound, "verify: no trust anchors configured"), "")
	} else {
		chain, err := opts.Trust.VerifyChain(ps.Signer, inter, when, nil)
		detail := ""
		if err == nil {
			var names []string
			for _, c := range chain {
				names = append(names, c.Subject.String())
			}
			s.Chain = names
			detail = strings.Join(names, " <- ")
		}
		add("certificate-chain", err, detail)
	}

	if ses := ps.SES; ses != nil {
		add("seal", sealCheck(ps, when, opts), fmt.Sprintf("seal %q (%s), valid %s to %s", ses.Seal.Name, ses.Seal.ESID,
			ses.Seal.ValidStart.Format(time.DateOnly), ses.Seal.ValidEnd.Format(time.DateOnly)))
	}

	detail := "no changes after signing"
	if len(ps.Changes) > 0 {
		detail = "allowed changes after signing: " + strings.Join(ps.Changes, ", ")
	}
	add("modification", ps.ModifiedErr, detail)
	return s
}

// sealCheck checks the GB/T 38540 seal carried by an SES signature: the
// maker's signature, that the signer is listed, the seal's validity at the
// signing time, and that the maker chains to a trusted root. Every failure
// is SEAL_INVALID: the seal cannot vouch for the document.
func sealCheck(ps *pdf.Signature, when time.Time, opts Options) error {
	ses := ps.SES
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return &report.Error{Reason: report.SealInvalid, Err: err}
	}
	if err := ses.Seal.VerifyMaker(); err != nil {
		return wrap(err)
	}
	if err := ses.Seal.Lists(ses.CertRaw); err != nil {
		return wrap(err)
	}
	if err := ses.Seal.CheckValidity(ses.SignedAt); err != nil {
		return wrap(err)
	}
	if opts.Trust == nil {
		return report.Errorf(report.NoCertificateChainFound, "verify: no trust anchors configured to check the seal maker")
	}
	if _, err := opts.Trust.VerifyChain(ses.Seal.MakerCert, nil, when, nil); err != nil {
		return wrap(fmt.Errorf("verify: the seal maker %q is not trusted: %w", ses.Seal.MakerCert.Subject.CommonName, err))
	}
	return nil
}
