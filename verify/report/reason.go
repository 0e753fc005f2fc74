package report

import (
	"errors"
	"fmt"
)

// Error is an error that carries the reason code a verifier should report.
// Lower packages (certs, license, seal, pdf) return it, or wrap it, so the
// verify package can say FAILED or INDETERMINATE with the right code without
// matching on error strings.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string { return string(e.Reason) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with reason r and a formatted cause.
func Errorf(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Err: fmt.Errorf(format, args...)}
}

// ReasonOf returns the reason carried by err, or "" if it carries none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// VerdictFor says whether a failure with this reason means the thing is
// wrong (FAILED) or that we lack what is needed to tell (INDETERMINATE).
func VerdictFor(r Reason) Verdict {
	switch r {
	case "":
		return Passed
	case NoCertificateChainFound, TrustListExpired, StatusUnavailable, TryLater:
		return Indeterminate
	}
	return Failed
}

// Messages are the plain-language explanations, Chinese first. A counter
// clerk reads them out to the citizen, so they say what happened and, where
// it helps, what to do.
var Messages = map[Reason]Text{
	"":                      {"验证通过：证照真实有效。", "Verified: genuine and valid."},
	FormatFailure:           {"无法识别：内容已损坏或不是本系统的格式。请重新出示或扫描。", "Not recognised: the content is damaged or not in a supported format. Show or scan it again."},
	UnsupportedAlgorithm:    {"使用了不支持的签名算法。", "The signature uses an unsupported algorithm."},
	HashFailure:             {"内容与签名不符，已被篡改。", "The content does not match its signature: it was altered."},
	SigCryptoFailure:        {"签名验证失败，内容可能被伪造或篡改。", "The signature does not verify: the content may be forged or altered."},
	NoCertificateChainFound: {"签发者不在信任列表中，无法确认来源。", "The issuer is not in the trust list; its origin cannot be confirmed."},
	ChainConstraintsFailure: {"签发证书无权签发此类内容。", "The signing certificate is not authorised for this use."},
	CertExpired:             {"签名证书在签名时已过期。", "The signing certificate had expired at signing time."},
	CertRevoked:             {"签名证书已被吊销。", "The signing certificate has been revoked."},
	NotYetValid:             {"证照尚未生效。", "The license is not yet valid."},
	Expired:                 {"证照已过有效期。", "The license has expired."},
	LicenseRevoked:          {"证照已被吊销。", "The license has been revoked."},
	LicenseSuspended:        {"证照已被暂扣。", "The license is suspended."},
	LicenseCancelled:        {"证照已注销。", "The license has been cancelled."},
	SealInvalid:             {"电子印章无效（已过期、制章者不可信或签章人不在印章证书列表中）。", "The e-seal is invalid (expired, untrusted maker, or signer not listed in the seal)."},
	ModifiedAfterSigning:    {"文件在签章后被修改。", "The document was modified after it was signed."},
	PresentationExpired:     {"二维码已过期，请让持证人刷新后重新出示。", "The QR code has expired; ask the holder to refresh and show it again."},
	HolderBindingFailure:    {"二维码不是由证照持有人的设备出示的（可能是截图或复制）。", "The QR was not shown by the holder's device (possibly a screenshot or copy)."},
	Replay:                  {"此二维码已被使用过（重放），请让持证人重新出示。", "This QR was already used (replay); ask the holder to show a fresh one."},
	TrustListExpired:        {"信任列表已过期，请更新后再验证。", "The trust list is out of date; update it and verify again."},
	StatusUnavailable:       {"无法获取证照最新状态，请联网或更新状态列表后再验证。", "The license's current status is unavailable; go online or update the status list and try again."},
	TryLater:                {"服务暂时不可用，请稍后再试。", "The service is temporarily unavailable; try again later."},
}

// MessageFor returns the message for r, with a generic one for codes
// added later without text.
func MessageFor(r Reason) Text {
	if t, ok := Messages[r]; ok {
		return t
	}
	return Text{"验证未通过：" + string(r), "Not verified: " + string(r)}
}

// Add appends a check to the signature.
func (s *Signature) Add(name string, err error, detail string) {
	c := Check{Name: name, Result: Passed, Detail: detail}
	if err != nil {
		c.Reason = ReasonOf(err)
		if c.Reason == "" {
			c.Reason = FormatFailure
		}
		c.Result = VerdictFor(c.Reason)
		if detail == "" {
			c.Detail = err.Error()
		}
	}
	s.Checks = append(s.Checks, c)
}

// AddAdvisory appends a check that does not decide the verdict (see
// Check.Advisory).
func (s *Signature) AddAdvisory(name string, err error, detail string) {
	s.Add(name, err, detail)
	s.Checks[len(s.Checks)-1].Advisory = true
}

// Finish sets the overall verdict, reason and message from the checks:
// the first FAILED check wins, else the first INDETERMINATE one; advisory
// checks do not count; a report with no checks at all is INDETERMINATE,
// never PASSED.
func (r *Report) Finish() {
	var first Check
	found, any := false, false
	for _, s := range r.Signatures {
		for _, c := range s.Checks {
			any = true
			if c.Advisory {
				continue
			}
			if c.Result == Failed && (!found || first.Result != Failed) {
				first, found = c, true
			}
			if c.Result == Indeterminate && !found {
				first, found = c, true
			}
		}
	}
	switch {
	case !any:
		r.Verdict, r.Reason = Indeterminate, FormatFailure
	case found:
		r.Verdict, r.Reason = first.Result, first.Reason
	default:
		r.Verdict, r.Reason = Passed, ""
	}
	r.Message = MessageFor(r.Reason)
	if !any && r.Kind == KindPDF {
		// Not damaged, just unsigned: say so rather than "scan again".
		r.Message = Text{"此 PDF 没有签章，无法证明其来源或完整性。", "This PDF carries no signature: nothing vouches for where it comes from or that it is unchanged."}
	}
	if r.Verdict == Passed {
		if m, ok := passedByKind[r.Kind]; ok {
			r.Message = m
		}
	}
}

// passedByKind says what a pass means for things that are not licenses.
var passedByKind = map[string]Text{
	KindPDF:           {"验证通过：文件签章真实有效，签章后未被修改。", "Verified: the document's signatures are genuine and it was not changed after signing."},
	KindSeal:          {"验证通过：电子印章真实有效。", "Verified: the e-seal is genuine and valid."},
	KindSealSignature: {"验证通过：电子签章真实有效。", "Verified: the e-seal signature is genuine and valid."},
}
