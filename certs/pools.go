package certs

import (
	"encoding/asn1"
	"errors"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Pools combines the pools of several trust files, for a counter that
// accepts licenses of more than one deployment (each province or city its
// own root and signed trust list): a certificate is found in, and its
// chain is checked by, a pool that knows it. Each pool keeps its own rules
// (a trust list's listed-only agency CAs, its next update, its CRLs): a
// chain never mixes certificates of two pools.
type Pools []*Pool

// CertificateByKID returns the certificate with kid from the first pool
// that has it.
func (ps Pools) CertificateByKID(kid []byte) (*smx509.Certificate, error) {
	var first error
	for _, p := range ps {
		c, err := p.CertificateByKID(kid)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = report.Errorf(report.NoCertificateChainFound, "certs: no trust configured")
	}
	return nil, first
}

// VerifyChain returns the chain from the first pool that verifies cert.
// When none does, the answer of a pool that knows the certificate (it is
// revoked, expired, or its trust list is out of date) wins over "no chain
// found" from the pools that do not.
func (ps Pools) VerifyChain(cert *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error) {
	var best error
	for _, p := range ps {
		chain, err := p.VerifyChain(cert, intermediates, at, eku)
		if err == nil {
			return chain, nil
		}
		if best == nil || (report.ReasonOf(best) == report.NoCertificateChainFound && report.ReasonOf(err) != report.NoCertificateChainFound) {
			best = err
		}
	}
	if best == nil {
		best = &report.Error{Reason: report.NoCertificateChainFound, Err: errors.New("certs: no trust configured")}
	}
	return nil, best
}
