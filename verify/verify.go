// Package verify is the one entry point for anything presented at a counter
// — a license QR, a holder's presentation QR, a picture of either, a signed
// PDF, a GB/T 38540 seal file — and returns the Report of CONTRACT.md.
//
// Trust (certificates, the signed trust list, CRLs) and license status come
// in through the small interfaces below, so the same code runs offline from
// files and online from the store.
package verify

import (
	"context"
	"encoding/asn1"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Trust answers questions about certificates. certs.Pool implements it.
// Errors carry a report reason (report.ReasonOf): NO_CERTIFICATE_CHAIN_FOUND,
// CHAIN_CONSTRAINTS_FAILURE, CERT_EXPIRED, NOT_YET_VALID, CERT_REVOKED,
// TRUST_LIST_EXPIRED.
type Trust interface {
	// VerifyChain checks that cert chains to a trust anchor at time at, with
	// the extended key usage eku on the leaf (nil: any), and that no
	// certificate on the way is revoked by a CRL the pool holds. It returns
	// the chain, leaf first.
	VerifyChain(cert *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error)
	// CertificateByKID returns the certificate whose kid (the first 8 bytes
	// of SM3 over its DER) is kid, or an error with NO_CERTIFICATE_CHAIN_FOUND.
	CertificateByKID(kid []byte) (*smx509.Certificate, error)
}

// Options configure one verification.
type Options struct {
	Trust  Trust
	Status StatusSource // nil: status cannot be known -> INDETERMINATE
	Nonces NonceCache   // nil: replay is not checked (reported as such)
	// Now is the verifier's clock; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Audience, if set, is the counter's identifier; a presentation made
	// for another audience fails.
	Audience string
	// MaxStatusAge is how old offline status information may be before the
	// verdict becomes INDETERMINATE (STATUS_UNAVAILABLE). Zero means 24h.
	MaxStatusAge time.Duration
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// NonceCache remembers presentation nonces for their lifetime.
type NonceCache interface {
	// Seen records nonce until expires and reports whether it had been
	// recorded before (a replay).
	Seen(ctx context.Context, nonce []byte, expires time.Time) (bool, error)
}

// StatusSource tells the current status of a license: online from the store,
// offline from a signed status list.
type StatusSource interface {
	// LicenseStatus returns the status ("valid", "suspended", "revoked",
	// "cancelled") of the license with identifier id, whose signed payload
	// names status list listID and index; asOf is when that information was
	// produced (now for the store, the list's issue time offline). An error
	// with STATUS_UNAVAILABLE means it cannot be known.
	LicenseStatus(ctx context.Context, id, listID string, index uint64) (status string, asOf time.Time, err error)
}
