package verify

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify/report"
)

// QR payload prefixes (docs/formats.md); Kind detects inputs by them.
const (
	licensePrefix      = license.PrefixLicense
	presentationPrefix = license.PrefixPresentation
)

// LicenseSigningEKU is the extended key usage a license signer's
// certificate must carry for its licenses and status lists to verify.
var LicenseSigningEKU asn1.ObjectIdentifier = certs.OIDExtKeyUsageLicenseSigning

// ClockSkew is how far a presentation's time may be off the verifier's
// clock (either way) before it counts as expired or from the future.
const ClockSkew = 10 * time.Second

// Check names of license verification, in the order they run.
const (
	CheckFormat      = "format"
	CheckAlgorithm   = "algorithm"
	CheckSignerCert  = "signer-certificate"
	CheckSignature   = "signature"
	CheckChain       = "certificate-chain"
	CheckIssuer      = "issuer-binding"
	CheckValidity    = "license-validity"
	CheckStatus      = "license-status"
	CheckDisclosures = "disclosures"
	CheckHolder      = "holder-binding"
	CheckFreshness   = "freshness"
	CheckAudience    = "audience"
	CheckReplay      = "replay"
)

// licenseChecks is the number of checks a verified license gets (format
// through license-status).
const licenseChecks = 8

// VerifyLicenseQR verifies a static license QR payload ("ZX1:...") and
// returns its report. A static QR proves what the license says, not who
// shows it.
func VerifyLicenseQR(ctx context.Context, payload string, opts Options) *report.Report {
	r := &report.Report{Kind: report.KindLicenseQR, CheckedAt: opts.now().UTC()}
	// Room for every check verifyLicense adds: one allocation, not a
	// growing slice.
	sig := report.Signature{Checks: make([]report.Check, 0, licenseChecks)}
	l, err := license.ParseQR(payload)
	sig.Add(CheckFormat, err, "")
	if err == nil {
		verifyLicense(ctx, r, &sig, l, opts)
	}
	r.Signatures = append(r.Signatures, sig)
	r.Finish()
	return r
}

// VerifyPresentationQR verifies a holder-bound presentation QR payload
// ("ZXP1:..."): the issuer's license as VerifyLicenseQR does, then the
// disclosed fields against their salted digests, the holder's device
// signature and key binding, freshness, audience and replay.
func VerifyPresentationQR(ctx context.Context, payload string, opts Options) *report.Report {
	r := &report.Report{Kind: report.KindPresentationQR, CheckedAt: opts.now().UTC()}
	var sig report.Signature
	p, err := license.ParsePresentation(payload)
	sig.Add(CheckFormat, err, "")
	var dev *report.Signature
	if err == nil && verifyLicense(ctx, r, &sig, p.License, opts) {
		derr := p.CheckDisclosures()
		sig.Add(CheckDisclosures, derr, okDetail(derr, fmt.Sprintf("%d fields disclosed", len(p.Disclosed))))
		dev = verifyHolder(ctx, p, opts)
	}
	r.Signatures = append(r.Signatures, sig)
	if dev != nil {
		r.Signatures = append(r.Signatures, *dev)
	}
	r.Finish()
	if r.Verdict != report.Passed {
		// Do not show fields the holder's proof failed for.
		if r.Reason == report.HashFailure || r.Reason == report.HolderBindingFailure {
			r.Subject = nil
		}
	}
	return r
}

// verifyLicense runs the issuer-side checks; it reports whether the
// signature verified (so that later checks mean something).
func verifyLicense(ctx context.Context, r *report.Report, sig *report.Signature, l *license.License, opts Options) bool {
	sig.Algorithm = "SM2-with-SM3"
	signedAt := l.SignedAt
	sig.SignedAt = &signedAt
	if l.Alg != license.AlgSM2SM3 {
		sig.Add(CheckAlgorithm, report.Errorf(report.UnsupportedAlgorithm, "COSE algorithm %d is not SM2-with-SM3 (%d)", l.Alg, license.AlgSM2SM3), "")
		return false
	}
	sig.Add(CheckAlgorithm, nil, "COSE alg "+strconv.FormatInt(l.Alg, 10))
	if opts.Trust == nil {
		sig.Add(CheckSignerCert, report.Errorf(report.NoCertificateChainFound, "no trust list or certificates configured"), "")
		return false
	}
	cert, err := opts.Trust.CertificateByKID(l.KID)
	if err != nil {
		if report.ReasonOf(err) == "" {
			err = &report.Error{Reason: report.NoCertificateChainFound, Err: err}
		}
		sig.Add(CheckSignerCert, err, "kid "+hex.EncodeToString(l.KID)+": "+err.Error())
		return false
	}
	sig.Signer = certName(cert)
	sig.Add(CheckSignerCert, nil, "kid "+hex.EncodeToString(l.KID))
	if err := l.VerifySignature(cert.PublicKey); err != nil {
		sig.Add(CheckSignature, err, "")
		return false
	}
	sig.Add(CheckSignature, nil, "")
	// The license is authentic from here on: show what it says even if a
	// later check fails, so the clerk can see which license it is.
	r.Subject = l.Subject()
	chain, err := opts.Trust.VerifyChain(cert, nil, l.SignedAt, LicenseSigningEKU)
	if err != nil && report.ReasonOf(err) == "" {
		err = &report.Error{Reason: report.ChainConstraintsFailure, Err: err}
	}
	sig.Add(CheckChain, err, "")
	if len(chain) > 0 {
		sig.Chain = make([]string, 0, len(chain))
	}
	for _, c := range chain {
		sig.Chain = append(sig.Chain, certName(c))
	}
	ierr := license.CheckSigner(cert, l.Issuer)
	sig.Add(CheckIssuer, ierr, okDetail(ierr, issuerDetail(cert, l.Issuer)))
	sig.Add(CheckValidity, checkValidity(l, opts.now()), "")
	detail, err := checkStatus(ctx, l, opts)
	sig.Add(CheckStatus, err, okDetail(err, detail))
	return true
}

// okDetail is detail when err is nil; on failure the error itself is the
// detail (report.Signature.Add uses it when detail is empty).
func okDetail(err error, detail string) string {
	if err != nil {
		return ""
	}
	return detail
}

// certName names a certificate for the report: its common name and, when
// it has one, the credit code (cheaper than a full RFC 4514 subject, which
// would cost as much as the rest of the report).
func certName(c *smx509.Certificate) string {
	if code := license.CreditCodeOf(c); code != "" {
		return c.Subject.CommonName + " (" + code + ")"
	}
	return c.Subject.CommonName
}

func issuerDetail(cert *smx509.Certificate, issuer string) string {
	if license.CreditCodeOf(cert) == "" {
		return "signer certificate names no credit code; issuer " + issuer + " taken from the license"
	}
	return "issuer " + issuer
}

func checkValidity(l *license.License, now time.Time) error {
	if l.SignedAt.After(now.Add(time.Hour)) {
		// A license signed "in the future" is a broken or manipulated
		// issuer clock; its other dates cannot be trusted either.
		return report.Errorf(report.NotYetValid, "license signed at %s, after the verifier's time %s", l.SignedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	today := license.DateOf(now.In(license.ChinaTime))
	if today < l.ValidFrom {
		return report.Errorf(report.NotYetValid, "license valid from %s, today is %s", l.ValidFrom, today)
	}
	if l.ValidTo != nil && today > *l.ValidTo {
		return report.Errorf(report.Expired, "license valid until %s, today is %s", *l.ValidTo, today)
	}
	return nil
}

// checkStatus asks opts.Status; a license on no status list is still
// asked about by identifier (an online store knows it).
func checkStatus(ctx context.Context, l *license.License, opts Options) (string, error) {
	return statusOf(ctx, l.ID(), l.StatusList, l.StatusIndex, opts)
}

// statusOf is checkStatus for a license known by identifier and status
// list entry (a license PDF names them in its signature's reason).
func statusOf(ctx context.Context, id, list string, index uint64, opts Options) (string, error) {
	if opts.Status == nil {
		return "", report.Errorf(report.StatusUnavailable, "no status source configured")
	}
	st, asOf, err := opts.Status.LicenseStatus(ctx, id, list, index)
	if err != nil {
		if report.ReasonOf(err) == "" {
			err = &report.Error{Reason: report.StatusUnavailable, Err: err}
		}
		return "", err
	}
	maxAge := opts.MaxStatusAge
	if maxAge == 0 {
		maxAge = 24 * time.Hour
	}
	if age := opts.now().Sub(asOf); age > maxAge {
		return "", report.Errorf(report.StatusUnavailable, "status information from %s is older than %s", asOf.UTC().Format(time.RFC3339), maxAge)
	}
	detail := st + " as of " + asOf.UTC().Format(time.RFC3339)
	switch st {
	case "valid":
		return detail, nil
	case "suspended":
		return "", report.Errorf(report.LicenseSuspended, "license suspended (as of %s)", asOf.UTC().Format(time.RFC3339))
	case "revoked":
		return "", report.Errorf(report.LicenseRevoked, "license revoked (as of %s)", asOf.UTC().Format(time.RFC3339))
	case "cancelled":
		return "", report.Errorf(report.LicenseCancelled, "license cancelled (as of %s)", asOf.UTC().Format(time.RFC3339))
	}
	return "", report.Errorf(report.StatusUnavailable, "unknown status %q", st)
}

// verifyHolder checks the holder device's signature: a second signature
// of the report, after the issuer's.
func verifyHolder(ctx context.Context, p *license.Presentation, opts Options) *report.Signature {
	sig := &report.Signature{Algorithm: "ECDSA-P256-SHA256"}
	if p.Alg == license.AlgSM2SM3 {
		sig.Algorithm = "SM2-with-SM3"
	}
	if tp, err := license.Thumbprint(p.HolderKey); err == nil {
		sig.Signer = "持证人设备 / holder device " + hex.EncodeToString(tp)
	}
	at := p.IssuedAt
	sig.SignedAt = &at
	holderErr := p.CheckHolder()
	if holderErr == nil {
		holderErr = checkCurrentBinding(ctx, p, opts)
	}
	sig.Add(CheckHolder, holderErr, "")
	now := opts.now()
	ferr := p.CheckFresh(now, ClockSkew)
	sig.Add(CheckFreshness, ferr, okDetail(ferr, "made "+p.IssuedAt.Format(time.RFC3339)+", expires "+p.Expires().Format(time.RFC3339)))
	switch {
	case p.Audience == "" || opts.Audience == "":
		sig.Add(CheckAudience, nil, "not bound to an audience")
	case p.Audience != opts.Audience:
		// A presentation relayed from another counter is a replay in
		// effect; the holder fixes it the same way: show a fresh QR.
		sig.Add(CheckAudience, report.Errorf(report.Replay, "presentation made for %q, not for this counter %q", p.Audience, opts.Audience), "")
	default:
		sig.Add(CheckAudience, nil, p.Audience)
	}
	if holderErr != nil {
		// Only a presentation the device really signed may use up a nonce.
		return sig
	}
	if opts.Nonces == nil {
		sig.Add(CheckReplay, nil, "not checked: no nonce cache configured (freshness limits replay to the lifetime)")
		return sig
	}
	seen, err := opts.Nonces.Seen(ctx, p.Nonce, p.Expires().Add(ClockSkew))
	switch {
	case err != nil:
		sig.Add(CheckReplay, &report.Error{Reason: report.TryLater, Err: err}, "")
	case seen:
		sig.Add(CheckReplay, report.Errorf(report.Replay, "nonce %x was already presented", p.Nonce), "")
	default:
		sig.Add(CheckReplay, nil, "")
	}
	return sig
}

// HolderKeySource tells which device a license is bound to now. An online
// status source implements it (datadir.OnlineStatus): when a holder moves
// the license to a new phone, presentations signed under the old binding —
// a lost or stolen phone — stop verifying at once. Offline, the signed
// copy in the presentation is all there is.
type HolderKeySource interface {
	// HolderThumbprint returns the thumbprint (license.Thumbprint) of the
	// device key the license with identifier id is bound to now; nil if it
	// is bound to none.
	HolderThumbprint(ctx context.Context, id string) ([]byte, error)
}

func checkCurrentBinding(ctx context.Context, p *license.Presentation, opts Options) error {
	hs, ok := opts.Status.(HolderKeySource)
	if !ok {
		return nil
	}
	current, err := hs.HolderThumbprint(ctx, p.License.ID())
	if err != nil {
		return err
	}
	if current != nil && !bytes.Equal(current, p.License.HolderKey) {
		return report.Errorf(report.HolderBindingFailure, "the license has since been bound to another device (%X); this presentation comes from a device it is no longer bound to", current[:4])
	}
	return nil
}
