package verify

import (
	"context"
	"encoding/asn1"
	"encoding/hex"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/verify/report"
)

// The extended key usages a seal's certificates must carry when they carry
// any (certificates from other CAs often have no EKU at all; certs.Pool
// then accepts them).
var (
	SealMakingEKU  asn1.ObjectIdentifier = certs.OIDExtKeyUsageSealMaking
	SealSigningEKU asn1.ObjectIdentifier = certs.OIDExtKeyUsageSealSigning
)

// Check names of seal and seal signature verification, in the order they run.
const (
	CheckSealVersion     = "seal-version"
	CheckMakerAlgorithm  = "seal-maker-algorithm"
	CheckMakerSignature  = "seal-maker-signature"
	CheckMakerChain      = "seal-maker-chain"
	CheckSealValidity    = "seal-validity"
	CheckSealSigners     = "seal-signer-certificates"
	CheckDocumentHash    = "document-hash"
	CheckSignerListed    = "signer-listed-in-seal"
	CheckSignerChain     = "signer-certificate-chain"
	algSM2WithSM3        = "SM2-with-SM3"
	sealTimeFormat       = time.RFC3339
	sealSubjectTimestamp = "timestamp"
)

// VerifySealFile verifies an electronic seal file (.esl, a GB/T 38540
// SESeal, or a GM/T 0031 version 1 seal) as presented at time opts.Now:
// its format and version, the maker's signature, the maker certificate's
// chain to opts.Trust, the seal's validity window, and that its signer
// certificates are readable. The subject lists the seal's identity.
//
// An SES_Signature given here instead of a seal is verified as far as it
// can be without its document (the document-hash check then fails and says
// so); use VerifySESSignature with the document.
func VerifySealFile(ctx context.Context, data []byte, opts Options) *report.Report {
	now := opts.now().UTC()
	r := &report.Report{Kind: report.KindSeal, CheckedAt: now}
	var sig report.Signature
	s, err := seal.ParseSeal(data)
	if err != nil {
		if _, serr := seal.ParseSignature(data); serr == nil {
			return VerifySESSignatureHash(ctx, data, nil, opts)
		}
	}
	sig.Add(CheckFormat, err, "")
	if err == nil {
		r.Subject = sealSubject(s)
		created := s.CreateDate
		sig.SignedAt = &created
		// The seal's own validity comes before the maker's chain, so an
		// expired seal is reported as SEAL_INVALID rather than by its
		// maker certificate's expiry.
		checkSeal(&sig, s, now, opts, func() {
			sig.Add(CheckSealValidity, s.CheckValidity(now), "")
			sig.Add(CheckSealSigners, checkSealSigners(s), signersDetail(s))
		})
	}
	r.Signatures = append(r.Signatures, sig)
	r.Finish()
	return r
}

// checkSeal adds the checks a seal needs wherever it appears: version,
// algorithm, maker signature, then the caller's checks (more), then the
// maker's chain at time at.
func checkSeal(sig *report.Signature, s *seal.Seal, at time.Time, opts Options, more func()) {
	sig.Algorithm = algSM2WithSM3
	sig.Signer = s.MakerCert.Subject.String()
	sig.Add(CheckSealVersion, nil, seal.Summarize(s).Format)
	if !s.SignAlg.Equal(seal.OIDSM2WithSM3) {
		sig.Algorithm = s.SignAlg.String()
		sig.Add(CheckMakerAlgorithm, report.Errorf(report.UnsupportedAlgorithm, "seal maker signature algorithm %v is not SM2-with-SM3", s.SignAlg), "")
		return
	}
	sig.Add(CheckMakerAlgorithm, nil, seal.OIDSM2WithSM3.String())
	if err := s.VerifyMaker(); err != nil {
		sig.Add(CheckMakerSignature, err, "")
		return
	}
	sig.Add(CheckMakerSignature, nil, "maker "+s.MakerCert.Subject.CommonName)
	if more != nil {
		more()
	}
	chain, err := verifyChain(s.MakerCert, at, SealMakingEKU, opts)
	var names []string
	for _, c := range chain {
		names = append(names, c.Subject.String())
	}
	sig.Chain = names
	sig.Add(CheckMakerChain, err, joinStrings(names))
}

// verifyChain asks the trust for cert's chain, with a reason on every error.
func verifyChain(cert *smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier, opts Options) ([]*smx509.Certificate, error) {
	if opts.Trust == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "no trust list or certificates configured")
	}
	chain, err := opts.Trust.VerifyChain(cert, nil, at, eku)
	if err != nil && report.ReasonOf(err) == "" {
		err = &report.Error{Reason: report.ChainConstraintsFailure, Err: err}
	}
	return chain, err
}

// checkSealSigners checks that the listed signer certificates parse (for a
// digest list there is nothing to parse).
func checkSealSigners(s *seal.Seal) error {
	for i, c := range s.Certs {
		if _, err := smx509.ParseCertificate(c); err != nil {
			return report.Errorf(report.FormatFailure, "seal: signer certificate %d of the seal does not parse: %v", i+1, err)
		}
	}
	return nil
}

func signersDetail(s *seal.Seal) string {
	sum := seal.Summarize(s)
	if s.CertListType == seal.CertListDigests {
		return "certificate digests: " + joinStrings(sum.SignerSM3)
	}
	var names []string
	for _, c := range sum.Signers {
		names = append(names, c.Subject)
	}
	return "certificates: " + joinStrings(names)
}

func joinStrings(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// sealSubject is what a report shows about a seal.
func sealSubject(s *seal.Seal) map[string]any {
	sum := seal.Summarize(s)
	subj := map[string]any{
		"es_id":       s.ESID,
		"name":        s.Name,
		"type":        s.Type,
		"type_name":   sum.TypeName,
		"version":     s.Header.Version,
		"format":      sum.Format,
		"vid":         s.Header.VID,
		"valid_start": s.ValidStart.Format(sealTimeFormat),
		"valid_end":   s.ValidEnd.Format(sealTimeFormat),
		"create_date": s.CreateDate.Format(sealTimeFormat),
		"maker":       sum.Maker.Subject,
		"picture":     sum.PictureType,
		"signers":     len(s.Certs) + len(s.CertDigests),
	}
	if s.TimeStamp != nil {
		subj[sealSubjectTimestamp] = "present, not verified 存在但未验证"
	}
	return subj
}

// VerifySESSignature verifies a seal signature (SES_Signature, version 4
// or 1) over data, the detached document it is claimed for: the signer's
// signature, the document's SM3 hash against dataHash, the embedded seal
// (maker signature and chain), that the signer is listed in the seal,
// the seal's validity at the signing time, and the signer's chain. Chains
// are checked at the signing time the signature states.
func VerifySESSignature(ctx context.Context, sigDER, data []byte, opts Options) *report.Report {
	var h []byte
	if data != nil {
		sum := sm3.Sum(data)
		h = sum[:]
	}
	return VerifySESSignatureHash(ctx, sigDER, h, opts)
}

// VerifySESSignatureHash is VerifySESSignature for a caller that has
// hashed the document itself (SM3 of a PDF's ByteRange, of an OFD's
// Signature.xml). A nil hash fails: there is nothing to compare with.
func VerifySESSignatureHash(ctx context.Context, sigDER, hash []byte, opts Options) *report.Report {
	r := &report.Report{Kind: report.KindSealSignature, CheckedAt: opts.now().UTC()}
	var rs report.Signature
	sig, err := seal.ParseSignature(sigDER)
	rs.Add(CheckFormat, err, "")
	if err == nil {
		verifySES(&rs, r, sig, hash, opts)
	}
	r.Signatures = append(r.Signatures, rs)
	r.Finish()
	return r
}

func verifySES(rs *report.Signature, r *report.Report, sig *seal.Signature, hash []byte, opts Options) {
	rs.Signer = sig.Cert.Subject.String()
	rs.Algorithm = algSM2WithSM3
	if !sig.SignedAt.IsZero() {
		at := sig.SignedAt
		rs.SignedAt = &at
	}
	if !sig.SignatureAlg.Equal(seal.OIDSM2WithSM3) {
		rs.Algorithm = sig.SignatureAlg.String()
		rs.Add(CheckAlgorithm, report.Errorf(report.UnsupportedAlgorithm, "signature algorithm %v is not SM2-with-SM3", sig.SignatureAlg), "")
		return
	}
	rs.Add(CheckAlgorithm, nil, seal.OIDSM2WithSM3.String())
	if err := sig.VerifySignature(); err != nil {
		rs.Add(CheckSignature, err, "")
		return
	}
	rs.Add(CheckSignature, nil, "")
	subj := sealSubject(sig.Seal)
	subj["signer"] = sig.Cert.Subject.String()
	subj["signed_at"] = sig.SignedAt.Format(sealTimeFormat)
	subj["property_info"] = sig.PropertyInfo
	subj["data_hash"] = hex.EncodeToString(sig.DataHash)
	if sig.TimeStamp != nil {
		subj[sealSubjectTimestamp] = "present, not verified 存在但未验证"
	}
	r.Subject = subj
	if hash == nil {
		rs.Add(CheckDocumentHash, report.Errorf(report.FormatFailure, "this is a seal signature (SES_Signature) and no document was given to check it against; verify it together with the signed file"), "")
	} else {
		rs.Add(CheckDocumentHash, sig.CheckHash(hash), "SM3 "+hex.EncodeToString(hash))
	}
	at := sig.SignedAt
	if at.IsZero() {
		rs.Add(CheckSealValidity, report.Errorf(report.FormatFailure, "the signing time %q cannot be read", sig.RawTimeInfo), "")
		return
	}
	// The embedded seal's own checks; its maker chain is shown in the
	// check's detail, the report's chain being the signer's.
	var ms report.Signature
	checkSeal(&ms, sig.Seal, at, opts, func() {
		ms.Add(CheckSignerListed, sig.Seal.Lists(sig.CertRaw), "")
		ms.Add(CheckSealValidity, sig.Seal.CheckValidity(at), "")
	})
	rs.Checks = append(rs.Checks, ms.Checks...)
	chain, err := verifyChain(sig.Cert, at, SealSigningEKU, opts)
	rs.Add(CheckSignerChain, err, "")
	for _, c := range chain {
		rs.Chain = append(rs.Chain, c.Subject.String())
	}
}
