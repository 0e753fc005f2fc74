package certs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// CRL reason codes (RFC 5280 5.3.1) that matter to Zhengxin.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonPrivilegeWithdrawn   = 9
)

// Revocation is one entry of a CRL.
type Revocation struct {
	Serial *big.Int
	At     time.Time // when the certificate stopped being trustworthy
	Reason int       // a Reason* code
}

// NewCRL makes a CRL (X.509 v2, SM2-with-SM3) signed by ca, listing
// revoked, numbered number, with thisUpdate at and the given nextUpdate.
func (ca CA) NewCRL(revoked []Revocation, number uint64, at, nextUpdate time.Time) (*smx509.RevocationList, error) {
	if err := ca.check(at); err != nil {
		return nil, err
	}
	if !nextUpdate.After(at) {
		return nil, errors.New("certs: a CRL's next update must be after its issue time")
	}
	tmpl := &x509.RevocationList{
		SignatureAlgorithm: x509.SignatureAlgorithm(smx509.SM2WithSM3),
		Number:             new(big.Int).SetUint64(number),
		ThisUpdate:         at.UTC().Truncate(time.Second),
		NextUpdate:         nextUpdate.UTC().Truncate(time.Second),
	}
	for _, r := range revoked {
		if r.Serial == nil || r.Serial.Sign() <= 0 {
			return nil, errors.New("certs: a revocation needs the certificate's (positive) serial number")
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   r.Serial,
			RevocationTime: r.At.UTC().Truncate(time.Second),
			ReasonCode:     r.Reason,
		})
	}
	der, err := smx509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("certs: creating CRL: %w", err)
	}
	crl, err := smx509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parsing the CRL just made: %w", err)
	}
	return crl, nil
}

// ParseCRL parses a CRL in DER or PEM ("X509 CRL") form. It does not check
// the signature: Pool.AddCRL does, against the issuing CA.
func ParseCRL(data []byte) (*smx509.RevocationList, error) {
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("certs: CRL of %d bytes is too large (limit %d)", len(data), maxPEMInput)
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != pemCRL {
			return nil, fmt.Errorf("certs: found a %q PEM block, expected an X509 CRL", block.Type)
		}
		data = block.Bytes
	}
	crl, err := smx509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("certs: corrupt CRL: %v", err)
	}
	return crl, nil
}

// EncodeCRLPEM returns crl as an "X509 CRL" PEM block.
func EncodeCRLPEM(crl *smx509.RevocationList) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCRL, Bytes: crl.Raw})
}

// revokedAt decides whether a CRL entry makes a certificate unusable for
// something checked at time at. Revocations for compromise (or with no
// stated reason) reach back without limit: once a key may be in someone
// else's hands, a signature's claimed time proves nothing. Administrative
// revocations (superseded, cessation of operation, ...) apply from their
// revocation time, so licenses signed before a key was retired stay valid.
func revokedAt(reason int, revokedOn, at time.Time) bool {
	switch reason {
	case ReasonUnspecified, ReasonKeyCompromise, ReasonCACompromise:
		return true
	}
	return !at.Before(revokedOn)
}
