package certs

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/verify/report"
)

// Trust-list armour block types (docs/pki.md, "Trust list").
const (
	pemTrustList          = "ZHENGXIN TRUST LIST"
	pemTrustListSignature = "ZHENGXIN TRUST LIST SIGNATURE"
	trustListFormat       = "zhengxin-trust-list"
	trustListVersion      = 1
	maxTrustListEntries   = 10000
	// maxClockSkew is how far in the future a trust list's issue time may
	// be before the verifier's clock is blamed.
	maxClockSkew = 5 * time.Minute
)

// Roles of trust-list entries.
const (
	RoleRoot            = "root"
	RoleAgencyCA        = "agency-ca"
	RoleLicenseSigner   = "license-signer"
	RoleSealSigner      = "seal-signer"
	RoleSealMaker       = "seal-maker"
	RoleTrustListSigner = "trust-list-signer"
)

var knownRoles = []string{RoleRoot, RoleAgencyCA, RoleLicenseSigner, RoleSealSigner, RoleSealMaker, RoleTrustListSigner}

// TrustList is the signed list of certificates a verifier trusts offline.
type TrustList struct {
	Sequence   uint64    // increases with every list a root publishes
	IssuedAt   time.Time // when it was signed
	NextUpdate time.Time // after this the list is out of date
	Entries    []TrustEntry
	// Signer is the certificate that signed the list (set by
	// SignTrustList and ParseTrustList).
	Signer *smx509.Certificate
}

// TrustEntry is one trusted certificate and its role.
type TrustEntry struct {
	Role string // a Role* constant
	Cert *smx509.Certificate
}

// RoleOf derives a certificate's trust-list role from its contents: a
// self-issued CA is a root, another CA an agency CA, an end entity has the
// role of its Zhengxin extended key usage.
func RoleOf(cert *smx509.Certificate) string {
	if cert.IsCA {
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) {
			return RoleRoot
		}
		return RoleAgencyCA
	}
	switch {
	case ekuAllows(cert, OIDExtKeyUsageLicenseSigning):
		return RoleLicenseSigner
	case ekuAllows(cert, OIDExtKeyUsageSealSigning):
		return RoleSealSigner
	case ekuAllows(cert, OIDExtKeyUsageSealMaking):
		return RoleSealMaker
	case ekuAllows(cert, OIDExtKeyUsageTrustListSigning):
		return RoleTrustListSigner
	}
	return ""
}

// The JSON body. Field names are part of the format (docs/pki.md).
type trustListBody struct {
	Format     string           `json:"format"`
	Version    int              `json:"version"`
	Sequence   uint64           `json:"sequence"`
	IssuedAt   time.Time        `json:"issued_at"`
	NextUpdate time.Time        `json:"next_update"`
	Signer     []byte           `json:"signer"`
	Entries    []trustListEntry `json:"entries"`
}

type trustListEntry struct {
	Role        string    `json:"role"`
	KID         string    `json:"kid"`
	Subject     string    `json:"subject"`
	CreditCode  string    `json:"credit_code,omitempty"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Certificate []byte    `json:"certificate"`
}

// SignTrustList encodes tl and signs it with key, whose certificate is
// signer: a root that verifiers hold as an anchor, or a trust-list signer
// certificate issued under one. Entries with an empty Role get RoleOf.
// tl.Signer is set.
func SignTrustList(tl *TrustList, signer *smx509.Certificate, key *sm2.PrivateKey) ([]byte, error) {
	if signer == nil || key == nil {
		return nil, errors.New("certs: a trust list needs its signer's certificate and key")
	}
	if pk, ok := signer.PublicKey.(*ecdsa.PublicKey); !ok || !pk.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("certs: the key given does not belong to trust-list signer %s", describeCert(signer))
	}
	if !tl.NextUpdate.After(tl.IssuedAt) {
		return nil, errors.New("certs: a trust list's next update must be after its issue time")
	}
	if len(tl.Entries) > maxTrustListEntries {
		return nil, fmt.Errorf("certs: a trust list holds at most %d entries", maxTrustListEntries)
	}
	body := trustListBody{
		Format:     trustListFormat,
		Version:    trustListVersion,
		Sequence:   tl.Sequence,
		IssuedAt:   tl.IssuedAt.UTC().Truncate(time.Second),
		NextUpdate: tl.NextUpdate.UTC().Truncate(time.Second),
		Signer:     signer.Raw,
		Entries:    []trustListEntry{},
	}
	for i := range tl.Entries {
		e := &tl.Entries[i]
		if e.Cert == nil {
			return nil, fmt.Errorf("certs: trust list entry %d has no certificate", i+1)
		}
		if e.Role == "" {
			e.Role = RoleOf(e.Cert)
		}
		if !slices.Contains(knownRoles, e.Role) {
			return nil, fmt.Errorf("certs: trust list entry %d (%s) has role %q, expected one of %v", i+1, describeCert(e.Cert), e.Role, knownRoles)
		}
		body.Entries = append(body.Entries, trustListEntry{
			Role:        e.Role,
			KID:         hex.EncodeToString(KID(e.Cert)),
			Subject:     e.Cert.Subject.CommonName,
			CreditCode:  e.Cert.Subject.SerialNumber,
			NotBefore:   e.Cert.NotBefore.UTC(),
			NotAfter:    e.Cert.NotAfter.UTC(),
			Certificate: e.Cert.Raw,
		})
	}
	js, err := json.MarshalIndent(body, "", " ")
	if err != nil {
		return nil, fmt.Errorf("certs: encoding trust list: %w", err)
	}
	sig, err := Sign(key, js)
	if err != nil {
		return nil, err
	}
	tl.Signer = signer
	out := pem.EncodeToMemory(&pem.Block{Type: pemTrustList, Bytes: js})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: pemTrustListSignature, Bytes: sig})...), nil
}

// ParseTrustList reads a signed trust list and checks its signature: the
// signer must be one of anchors, or a certificate with the
// trust-list-signing extended key usage that chains to one of anchors at
// the list's issue time. now is the verifier's clock; a list issued in
// the future (beyond a few minutes of clock skew) is refused. An expired
// list parses: LoadTrustList turns that into TRUST_LIST_EXPIRED errors.
func ParseTrustList(data []byte, anchors []*smx509.Certificate, now time.Time) (*TrustList, error) {
	body, sig, err := splitTrustList(data)
	if err != nil {
		return nil, err
	}
	tl, err := parseTrustListBody(body)
	if err != nil {
		return nil, err
	}
	if err := checkTrustListSigner(tl.Signer, anchors, tl.IssuedAt); err != nil {
		return nil, err
	}
	if !signerVerifies(tl.Signer, body, sig) {
		return nil, report.Errorf(report.SigCryptoFailure, "certs: the trust list's signature does not verify with its signer %s: the list was altered or is forged", describeCert(tl.Signer))
	}
	if tl.IssuedAt.After(now.Add(maxClockSkew)) {
		return nil, fmt.Errorf("certs: the trust list was issued at %s, after the verifier's time %s: check this computer's clock", tl.IssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return tl, nil
}

func signerVerifies(signer *smx509.Certificate, body, sig []byte) bool {
	pub, err := sm2PublicKey(signer.PublicKey, "signer")
	if err != nil {
		return false
	}
	return Verify(pub, body, sig)
}

// splitTrustList takes the body and signature blocks out of the armour.
func splitTrustList(data []byte) (body, sig []byte, err error) {
	if len(data) > maxPEMInput {
		return nil, nil, fmt.Errorf("certs: trust list of %d bytes is too large (limit %d)", len(data), maxPEMInput)
	}
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		data = rest
		switch block.Type {
		case pemTrustList:
			if body != nil {
				return nil, nil, errors.New("certs: trust list file holds two trust lists: give one")
			}
			body = block.Bytes
		case pemTrustListSignature:
			if sig != nil {
				return nil, nil, errors.New("certs: trust list file holds two signatures: expected one")
			}
			sig = block.Bytes
		}
	}
	if body == nil {
		return nil, nil, errors.New("certs: no trust list found: expected a -----BEGIN ZHENGXIN TRUST LIST----- block")
	}
	if sig == nil {
		return nil, nil, errors.New("certs: the trust list is not signed: expected a -----BEGIN ZHENGXIN TRUST LIST SIGNATURE----- block after it")
	}
	return body, sig, nil
}

// parseTrustListBody decodes and checks the JSON body; it does not check
// the signature.
func parseTrustListBody(js []byte) (*TrustList, error) {
	var body trustListBody
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("certs: corrupt trust list: %v", err)
	}
	if dec.More() {
		return nil, errors.New("certs: corrupt trust list: data after the JSON body")
	}
	if body.Format != trustListFormat {
		return nil, fmt.Errorf("certs: not a Zhengxin trust list: format %q, expected %q", body.Format, trustListFormat)
	}
	if body.Version != trustListVersion {
		return nil, fmt.Errorf("certs: trust list version %d is not supported (this verifier reads version %d): update the verifier", body.Version, trustListVersion)
	}
	if body.IssuedAt.IsZero() || !body.NextUpdate.After(body.IssuedAt) {
		return nil, errors.New("certs: corrupt trust list: next_update must be after issued_at")
	}
	if len(body.Entries) > maxTrustListEntries {
		return nil, fmt.Errorf("certs: trust list has %d entries, more than the limit %d", len(body.Entries), maxTrustListEntries)
	}
	signer, err := ParseCertificate(body.Signer)
	if err != nil {
		return nil, fmt.Errorf("certs: trust list signer: %w", err)
	}
	tl := &TrustList{Sequence: body.Sequence, IssuedAt: body.IssuedAt, NextUpdate: body.NextUpdate, Signer: signer}
	for i, e := range body.Entries {
		c, err := ParseCertificate(e.Certificate)
		if err != nil {
			return nil, fmt.Errorf("certs: trust list entry %d: %w", i+1, err)
		}
		if !slices.Contains(knownRoles, e.Role) {
			return nil, fmt.Errorf("certs: trust list entry %d has unknown role %q", i+1, e.Role)
		}
		if e.KID != hex.EncodeToString(KID(c)) {
			return nil, fmt.Errorf("certs: trust list entry %d: kid %q does not match its certificate (%x)", i+1, e.KID, KID(c))
		}
		if !e.NotBefore.Equal(c.NotBefore) || !e.NotAfter.Equal(c.NotAfter) {
			return nil, fmt.Errorf("certs: trust list entry %d: validity does not match its certificate", i+1)
		}
		if (e.Role == RoleRoot || e.Role == RoleAgencyCA) != c.IsCA {
			return nil, fmt.Errorf("certs: trust list entry %d: role %q does not fit %s", i+1, e.Role, describeCert(c))
		}
		tl.Entries = append(tl.Entries, TrustEntry{Role: e.Role, Cert: c})
	}
	return tl, nil
}

// checkTrustListSigner: the signer is an anchor, or chains to one with
// the trust-list-signing EKU at time at.
func checkTrustListSigner(signer *smx509.Certificate, anchors []*smx509.Certificate, at time.Time) error {
	if len(anchors) == 0 {
		return report.Errorf(report.NoCertificateChainFound, "certs: no trust anchor given to check the trust list's signer against: give the root certificate")
	}
	for _, a := range anchors {
		if a.Equal(signer) {
			if at.Before(a.NotBefore) || at.After(a.NotAfter) {
				return report.Errorf(report.CertExpired, "certs: trust list signer %s was not valid at the list's issue time %s", describeCert(a), at.UTC().Format(time.RFC3339))
			}
			return nil
		}
	}
	p := NewPool()
	for _, a := range anchors {
		p.AddAnchor(a)
	}
	if _, err := p.VerifyChain(signer, nil, at, OIDExtKeyUsageTrustListSigning); err != nil {
		return fmt.Errorf("certs: the trust list's signer is not trusted: %w", err)
	}
	return nil
}

// LoadTrustList verifies a signed trust list (see ParseTrustList) and
// returns a Pool built from it: the anchors given and the roots listed are
// trust anchors; listed agency CAs are the only intermediates used (an
// agency dropped from the list stops verifying even if its certificate is
// presented); all listed certificates are found by kid. The pool's clock
// is now (SetClock changes it); once it passes the list's next update,
// VerifyChain fails with TRUST_LIST_EXPIRED.
func LoadTrustList(data []byte, anchors []*smx509.Certificate, now time.Time) (*Pool, error) {
	tl, err := ParseTrustList(data, anchors, now)
	if err != nil {
		return nil, err
	}
	return tl.pool(anchors, now), nil
}

func (tl *TrustList) pool(anchors []*smx509.Certificate, now time.Time) *Pool {
	p := NewPool()
	for _, a := range anchors {
		p.AddAnchor(a)
	}
	for _, e := range tl.Entries {
		switch e.Role {
		case RoleRoot:
			p.AddAnchor(e.Cert)
		case RoleAgencyCA:
			p.AddIntermediate(e.Cert)
		default:
			p.AddCertificate(e.Cert)
		}
	}
	p.listedOnly = true
	p.nextUpdate = tl.NextUpdate
	p.issuedAt = tl.IssuedAt
	p.sequence = tl.Sequence
	p.loadedAt = now
	return p
}

// LoadTrust reads what `zhengxin verify --trust FILE` is given: a PEM
// bundle of trusted root (or agency CA) certificates, optionally with CRLs,
// or such a bundle followed by a signed trust list — then the bundle's
// certificates are the anchors the list's signature is checked against,
// and the list decides the rest (see LoadTrustList). CRLs in the file are
// added to the pool either way.
func LoadTrust(data []byte, now time.Time) (*Pool, error) {
	certs, crls, other, err := splitPEM(data)
	if err != nil {
		return nil, err
	}
	hasList := false
	for _, t := range other {
		switch t {
		case pemTrustList, pemTrustListSignature:
			hasList = true
		default:
			return nil, fmt.Errorf("certs: trust file holds a %q PEM block, expected CERTIFICATE, X509 CRL or ZHENGXIN TRUST LIST blocks", t)
		}
	}
	if !hasList {
		return LoadPEMBundle(data)
	}
	p, err := LoadTrustList(data, certs, now)
	if err != nil {
		return nil, err
	}
	for _, crl := range crls {
		if err := p.AddCRL(crl); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// CertificatesPEM returns the list's certificates as a PEM bundle, for
// tools that want plain PEM.
func (tl *TrustList) CertificatesPEM() []byte {
	var out []byte
	for _, e := range tl.Entries {
		out = append(out, EncodeCertificatePEM(e.Cert)...)
	}
	return out
}
