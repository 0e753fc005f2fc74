// Package report is the verification report of Zhengxin's contract
// (../shared/design/CONTRACT.md, "Verification report"): verdicts, the fixed
// reason codes, per-signature checks, and the bilingual messages a counter
// clerk reads out.
//
// It is a leaf package: license, seal, pdf and verify all state the outcome
// of each step in these words, so one Report shape comes out of the CLI
// (--json), the HTTP API and the pages. It sits under verify/ because it is
// the vocabulary of verification; it imports nothing of ours.
//
// The model is the ETSI/EU DSS validation report, simplified: a failure of
// cryptography or integrity is FAILED; missing or outdated information is
// INDETERMINATE; nothing is PASSED by default.
package report

import (
	"time"
)

// Verdict is the overall or per-check outcome.
type Verdict string

const (
	Passed        Verdict = "PASSED"
	Failed        Verdict = "FAILED"
	Indeterminate Verdict = "INDETERMINATE"
)

// Reason is a fixed code saying why a verdict is not PASSED. Codes are part
// of the contract: extend, never rename.
type Reason string

const (
	FormatFailure           Reason = "FORMAT_FAILURE"
	UnsupportedAlgorithm    Reason = "UNSUPPORTED_ALGORITHM"
	HashFailure             Reason = "HASH_FAILURE"
	SigCryptoFailure        Reason = "SIG_CRYPTO_FAILURE"
	NoCertificateChainFound Reason = "NO_CERTIFICATE_CHAIN_FOUND"
	ChainConstraintsFailure Reason = "CHAIN_CONSTRAINTS_FAILURE"
	CertExpired             Reason = "CERT_EXPIRED"
	CertRevoked             Reason = "CERT_REVOKED"
	NotYetValid             Reason = "NOT_YET_VALID"
	Expired                 Reason = "EXPIRED"
	LicenseRevoked          Reason = "LICENSE_REVOKED"
	LicenseSuspended        Reason = "LICENSE_SUSPENDED"
	LicenseCancelled        Reason = "LICENSE_CANCELLED"
	SealInvalid             Reason = "SEAL_INVALID"
	ModifiedAfterSigning    Reason = "MODIFIED_AFTER_SIGNING"
	PresentationExpired     Reason = "PRESENTATION_EXPIRED"
	HolderBindingFailure    Reason = "HOLDER_BINDING_FAILURE"
	Replay                  Reason = "REPLAY"
	TrustListExpired        Reason = "TRUST_LIST_EXPIRED"
	StatusUnavailable       Reason = "STATUS_UNAVAILABLE"
	TryLater                Reason = "TRY_LATER"
)

// Text is a user-facing message, Chinese first, English beside it.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Check is one step of a verification.
type Check struct {
	Name   string  `json:"name"`
	Result Verdict `json:"result"`
	Reason Reason  `json:"reason,omitempty"`
	Detail string  `json:"detail,omitempty"`
	// Advisory checks only add evidence (a PDF signature's timestamp):
	// their result is reported but never decides the verdict.
	Advisory bool `json:"advisory,omitempty"`
}

// Signature is what was found out about one signature.
type Signature struct {
	Signer    string     `json:"signer,omitempty"`
	Chain     []string   `json:"chain,omitempty"`
	SignedAt  *time.Time `json:"signed_at,omitempty"`
	Algorithm string     `json:"algorithm,omitempty"`
	Checks    []Check    `json:"checks"`
}

// Report is the outcome of verifying one presented thing.
type Report struct {
	Verdict    Verdict     `json:"verdict"`
	Reason     Reason      `json:"reason"`
	Message    Text        `json:"message"`
	Kind       string      `json:"kind"`
	Subject    any         `json:"subject,omitempty"`
	Signatures []Signature `json:"signatures"`
	CheckedAt  time.Time   `json:"checked_at"`
}

// Kinds of presented input.
const (
	KindLicenseQR      = "license-qr"
	KindPresentationQR = "presentation-qr"
	KindPDF            = "pdf"
	KindSeal           = "seal"
	KindSealSignature  = "seal-signature"
)
