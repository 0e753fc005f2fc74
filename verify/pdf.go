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
// signature itself (SIG_CRYPTO_FAILURE), its RFC 3161 timestamp if it has
// one (check "timestamp", see pdfSignature), a document timestamp as an
// entry of its own (see pdfDocTimestamp), the signer's chain to
// opts.Trust at the signing time (NO_CERTIFICATE_CHAIN_FOUND,
// CERT_REVOKED, ...), for a GB/T 38540 seal signature the seal
// (SEAL_INVALID), and whether the document was changed after signing
// (MODIFIED_AFTER_SIGNING). A PDF with no signature is INDETERMINATE
// (FORMAT_FAILURE): nothing vouches for it.
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

// CheckTimestamp is the name of the check of a signature's RFC 3161
// timestamp. It is advisory (report.Check.Advisory): a timestamp is an
// unsigned attribute anyone can add or replace, and it only ever adds
// evidence (when the signature existed). A broken or untrusted one is set
// aside: the signer's certificate is checked at the claimed signing time
// as if there were none, and the check stays in the report, FAILED or
// INDETERMINATE with its reason, without deciding the verdict.
const CheckTimestamp = "timestamp"

// addPDF adds a check package pdf ran (not one it marked ErrNotChecked).
func addPDF(s *report.Signature, name string, err error, detail string) {
	if errors.Is(err, pdf.ErrNotChecked) {
		return
	}
	s.Add(name, err, detail)
}

// otherCerts is all but leaf: the intermediates a signature carries.
func otherCerts(all []*smx509.Certificate, leaf *smx509.Certificate) []*smx509.Certificate {
	var out []*smx509.Certificate
	for _, c := range all {
		if c != leaf {
			out = append(out, c)
		}
	}
	return out
}

// chainNames names a chain's certificates, leaf first.
func chainNames(chain []*smx509.Certificate) []string {
	names := make([]string, 0, len(chain))
	for _, c := range chain {
		names = append(names, c.Subject.String())
	}
	return names
}

// changesDetail says what changed after a signature or timestamp ("after
// signing", "after the timestamp").
func changesDetail(ps *pdf.Signature, after string) string {
	if len(ps.Changes) > 0 {
		return "allowed changes " + after + ": " + strings.Join(ps.Changes, ", ")
	}
	return "no changes " + after
}

// tsaChain checks a time-stamping authority's certificate against
// opts.Trust at the token's genTime, with the token's other certificates
// as intermediates, and names the chain. The EKU is checked by package
// pdf, and nil is passed to VerifyChain: certs.Pool matches a purpose only
// among the extended key usages crypto/x509 does not know, and
// id-kp-timeStamping is one it knows.
func tsaChain(ts *pdf.Timestamp, opts Options) ([]string, error) {
	if opts.Trust == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "verify: no trust anchors configured to check the time-stamping authority %q", ts.TSA.Subject.CommonName)
	}
	chain, err := opts.Trust.VerifyChain(ts.TSA, otherCerts(ts.Certificates, ts.TSA), ts.GenTime, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: the time-stamping authority %q is not trusted at %s: %w", ts.TSA.Subject.CommonName, ts.GenTime.UTC().Format(time.RFC3339), err)
	}
	return chainNames(chain), nil
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
	if ps.Format == pdf.DocTimestamp {
		return pdfDocTimestamp(ps, revisions, opts)
	}
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
	addPDF(&s, "byte-range", ps.ByteRangeErr, fmt.Sprintf("field %q, ranges %v, revision %d of %d", ps.Field, ps.ByteRange, ps.Revision, revisions))
	addPDF(&s, "digest", ps.DigestErr, ps.DigestAlgorithm)
	addPDF(&s, "signature", ps.SignatureErr, ps.Format.String()+" "+ps.Algorithm)
	if ps.ByteRangeErr != nil || ps.SignatureErr != nil {
		return s
	}

	// The signer's chain, at the time the signature claims. Without a
	// timestamp that time is the signer's word; a revoked certificate is
	// caught because the CRL's revocation date is before now anyway. With a
	// timestamp that verifies and whose TSA is trusted, the chain is
	// checked at its genTime instead: the signature provably existed then,
	// so a certificate that expired or was revoked (for a reason other than
	// key compromise) later still stands, and a back-dated claim does not.
	when := at
	if when.IsZero() {
		when = opts.now()
	}
	if ps.Timestamp != nil {
		detail, err := timestampCheck(ps, opts)
		if err == nil {
			when = ps.Timestamp.GenTime
			t := when.UTC()
			s.SignedAt = &t
		} else {
			fallback := "签名时间以签名者声称为准 / the signer's certificate is checked at the claimed signing time"
			if at.IsZero() {
				fallback = "签名未声称时间，按当前时间核验 / no claimed signing time: the certificate is checked now"
			} else {
				fallback += " " + at.UTC().Format(time.RFC3339)
			}
			detail = "时间戳未采用 Timestamp not used: " + err.Error() + "; " + fallback
		}
		s.AddAdvisory(CheckTimestamp, err, detail)
	}
	if opts.Trust == nil {
		addPDF(&s, "certificate-chain", report.Errorf(report.NoCertificateChainFound, "verify: no trust anchors configured"), "")
	} else {
		chain, err := opts.Trust.VerifyChain(ps.Signer, otherCerts(ps.Certificates, ps.Signer), when, nil)
		detail := ""
		if err == nil {
			s.Chain = chainNames(chain)
			detail = strings.Join(s.Chain, " <- ")
		}
		addPDF(&s, "certificate-chain", err, detail)
	}

	if ses := ps.SES; ses != nil {
		addPDF(&s, "seal", sealCheck(ps, when, opts), fmt.Sprintf("seal %q (%s), valid %s to %s", ses.Seal.Name, ses.Seal.ESID,
			ses.Seal.ValidStart.Format(time.DateOnly), ses.Seal.ValidEnd.Format(time.DateOnly)))
	}
	addPDF(&s, "modification", ps.ModifiedErr, okDetail(ps.ModifiedErr, changesDetail(ps, "after signing")))
	return s
}

// pdfDocTimestamp reports a document timestamp (ISO 32000-2 §12.8.5,
// /SubFilter /ETSI.RFC3161) as an entry of its own: the TSA is its
// signer, genTime its time. Unlike a signature's timestamp, the token is
// the signature here, so its checks are "digest" (the imprint against the
// byte range) and "signature" (the token itself), which FAIL as a
// signature's would; the TSA's chain at genTime is "certificate-chain"
// (INDETERMINATE when not trusted), and later revisions are checked as
// for any signature.
func pdfDocTimestamp(ps *pdf.Signature, revisions int, opts Options) report.Signature {
	var s report.Signature
	s.Algorithm = ps.Algorithm
	if ps.Signer != nil {
		s.Signer = ps.Signer.Subject.String()
	}
	if !ps.SigningTime.IsZero() {
		t := ps.SigningTime.UTC()
		s.SignedAt = &t
	}
	addPDF(&s, "byte-range", ps.ByteRangeErr, fmt.Sprintf("文档时间戳 document timestamp, field %q, ranges %v, revision %d of %d", ps.Field, ps.ByteRange, ps.Revision, revisions))
	addPDF(&s, "digest", ps.DigestErr, ps.DigestAlgorithm+" message imprint")
	detail := ""
	if ts := ps.Timestamp; ts != nil && ps.SignatureErr == nil {
		detail = fmt.Sprintf("文档时间戳 %s，时间戳服务机构 %s / document timestamp (%s) at %s by TSA %s, %s",
			ts.GenTime.UTC().Format(time.RFC3339Nano), ts.TSA.Subject.CommonName, pdf.SubFilterDocTimeStamp,
			ts.GenTime.UTC().Format(time.RFC3339Nano), ts.TSA.Subject.String(), ts.Algorithm)
	}
	addPDF(&s, "signature", ps.SignatureErr, detail)
	if ps.ByteRangeErr != nil || ps.SignatureErr != nil {
		return s
	}
	names, err := tsaChain(ps.Timestamp, opts)
	s.Chain = names
	addPDF(&s, "certificate-chain", err, okDetail(err, "TSA at genTime: "+strings.Join(names, " <- ")))
	addPDF(&s, "modification", ps.ModifiedErr, okDetail(ps.ModifiedErr, changesDetail(ps, "after the timestamp")))
	return s
}

// timestampCheck checks a signature's RFC 3161 timestamp: the token itself
// (package pdf: structure, imprint over the signature value, the TSA's
// signature, a TSA certificate with the critical id-kp-timeStamping usage)
// and the TSA certificate's chain at genTime (tsaChain). It returns the
// detail for a pass.
func timestampCheck(ps *pdf.Signature, opts Options) (string, error) {
	ts := ps.Timestamp
	if ts.Err != nil {
		return "", ts.Err
	}
	names, err := tsaChain(ts, opts)
	if err != nil {
		return "", err
	}
	detail := fmt.Sprintf("时间戳 %s，时间戳服务机构 %s / timestamp by TSA %s (%s imprint, %s); chain %s",
		ts.GenTime.UTC().Format(time.RFC3339Nano), ts.TSA.Subject.CommonName,
		ts.TSA.Subject.String(), ts.HashAlgorithm, ts.Algorithm, strings.Join(names, " <- "))
	if claimed := ps.SigningTime; !claimed.IsZero() && claimed.After(ts.GenTime.Add(ts.Accuracy+5*time.Minute)) {
		// The token stamps the signature value, so the signature existed
		// before genTime: a later claimed time means the signer's clock
		// was wrong. genTime is used; say so.
		detail += fmt.Sprintf("; 注意：签名声称的时间 %s 晚于时间戳 / note: the claimed signing time is after the timestamp (signer's clock wrong?)", claimed.UTC().Format(time.RFC3339))
	}
	return detail, nil
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
