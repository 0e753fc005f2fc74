package server

import (
	"context"
	"errors"
	"time"

	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// VerifierFor returns a Verifier that runs verify.Verify with opts (kind
// detection, QR payloads, pictures, PDFs, seal files). The kind hint of the
// API is not needed: verify detects from the bytes.
func VerifierFor(opts verify.Options) Verifier {
	return func(ctx context.Context, input []byte, kindHint string) *report.Report {
		return verify.Verify(ctx, input, opts)
	}
}

// StoreStatus answers the verifier's status questions online from a Store:
// the status is the license's current row, as of now. It implements
// verify.StatusSource.
type StoreStatus struct {
	Store Store
	Now   func() time.Time // nil: time.Now
}

var _ verify.StatusSource = StoreStatus{}

// LicenseStatus returns the stored status of license id. An unknown license
// or an unreachable database is STATUS_UNAVAILABLE (INDETERMINATE), never a
// guess.
func (s StoreStatus) LicenseStatus(ctx context.Context, id, listID string, index uint64) (string, time.Time, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	l, err := s.Store.GetLicense(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return "", time.Time{}, report.Errorf(report.StatusUnavailable, "server: license %s is not in this server's store", id)
	}
	if err != nil {
		return "", time.Time{}, report.Errorf(report.StatusUnavailable, "server: reading the status of %s: %w", id, err)
	}
	return l.Status, now(), nil
}
