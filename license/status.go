package license

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Status is the state of a license on its agency's status list.
type Status uint8

const (
	StatusValid     Status = 0 // 有效
	StatusSuspended Status = 1 // 暂扣
	StatusRevoked   Status = 2 // 吊销
	StatusCancelled Status = 3 // 注销
)

var statusNames = [4]string{"valid", "suspended", "revoked", "cancelled"}
var statusZH = [4]string{"有效", "暂扣", "吊销", "注销"}

func (s Status) String() string { return statusNames[s&3] }

// ZH is the Chinese name of the status.
func (s Status) ZH() string { return statusZH[s&3] }

// ParseStatus accepts valid/suspended/revoked/cancelled and 有效/暂扣/吊销/注销.
func ParseStatus(s string) (Status, error) {
	for i := range statusNames {
		if strings.EqualFold(s, statusNames[i]) || s == statusZH[i] {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("license: 未知状态 %q / unknown status %q (valid, suspended, revoked, cancelled)", s, s)
}

const (
	// MaxStatusListSize bounds a list's entries: 2^27 (134 million, 32 MiB
	// of 2-bit entries in memory).
	MaxStatusListSize = 1 << 27
	// MaxStatusListFile bounds the signed file a parser will read.
	MaxStatusListFile = 16 << 20
)

// StatusList is an agency's list of license states, 2 bits per license
// index, as in the IETF Token Status List (draft-ietf-oauth-status-list):
// entry i lives in byte i/4 at bits 2*(i%4) and 2*(i%4)+1, least
// significant first. Lookups are O(1) into the inflated bit array.
type StatusList struct {
	Issuer     string // agency USCC
	ID         string // list id, named in each license's claims
	IssuedAt   time.Time
	NextUpdate time.Time
	Size       uint64
	KID        []byte
	Alg        int64

	bits      []byte
	protected []byte
	payload   []byte
	signature []byte
}

// NewStatusList starts an empty list (every entry valid) of size entries.
func NewStatusList(issuer, id string, size uint64) (*StatusList, error) {
	code, err := CheckUSCC(issuer)
	if err != nil {
		return nil, err
	}
	if id == "" || len(id) > 40 || size == 0 || size > MaxStatusListSize {
		return nil, errors.New("license: status list needs an id of 1-40 bytes and 1 to 2^27 entries")
	}
	return &StatusList{Issuer: code, ID: id, Size: size, bits: make([]byte, (size+3)/4)}, nil
}

// StatusEntry is one (index, status) pair for building a list.
type StatusEntry struct {
	Index  uint64
	Status Status
}

// BuildStatusList makes a list from (index, status) pairs; indices not
// named are valid.
func BuildStatusList(issuer, id string, size uint64, entries []StatusEntry) (*StatusList, error) {
	l, err := NewStatusList(issuer, id, size)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := l.Set(e.Index, e.Status); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Set records the status of index.
func (l *StatusList) Set(index uint64, s Status) error {
	if index >= l.Size || s > 3 {
		return fmt.Errorf("license: status list index %d or status %d out of range", index, s)
	}
	sh := (index % 4) * 2
	l.bits[index/4] = l.bits[index/4]&^(3<<sh) | byte(s)<<sh
	return nil
}

// Get returns the status of index.
func (l *StatusList) Get(index uint64) (Status, error) {
	if index >= l.Size {
		return 0, report.Errorf(report.StatusUnavailable, "license: index %d is beyond status list %s (%d entries)", index, l.ID, l.Size)
	}
	return Status(l.bits[index/4] >> ((index % 4) * 2) & 3), nil
}

type statusClaims struct {
	Issuer     string `cbor:"1,keyasint"`
	ID         string `cbor:"2,keyasint"`
	IssuedAt   int64  `cbor:"3,keyasint"`
	NextUpdate int64  `cbor:"4,keyasint"`
	Size       uint64 `cbor:"5,keyasint"`
	Bits       []byte `cbor:"6,keyasint"`
}

// SignStatusList signs the list as a COSE_Sign1 (tagged) by the agency's
// license signer and returns the file bytes.
func (s *Signer) SignStatusList(l *StatusList, issuedAt, nextUpdate time.Time) ([]byte, error) {
	if l.Issuer != s.issuer {
		return nil, errors.New("license: status list belongs to another agency")
	}
	if !nextUpdate.After(issuedAt) {
		return nil, errors.New("license: next update must be after the issue time")
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(l.bits)
	zw.Close()
	c := statusClaims{Issuer: l.Issuer, ID: l.ID, IssuedAt: issuedAt.Unix(), NextUpdate: nextUpdate.Unix(), Size: l.Size, Bits: z.Bytes()}
	payload, err := encMode.Marshal(&c)
	if err != nil {
		return nil, err
	}
	protected := protectedHeader(AlgSM2SM3, s.kid)
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	sig, err := signSM2(rnd, s.key, sigStructure(protected, payload))
	if err != nil {
		return nil, err
	}
	l.IssuedAt, l.NextUpdate = time.Unix(c.IssuedAt, 0).UTC(), time.Unix(c.NextUpdate, 0).UTC()
	l.KID, l.Alg, l.protected, l.payload, l.signature = s.kid, AlgSM2SM3, protected, payload, sig
	return (&coseSign1{Protected: protected, Payload: payload, Signature: sig}).marshal(), nil
}

// ParseStatusList parses a signed status list file, inflating its bits
// with a bound (size/4 bytes). It does not verify the signature: see
// VerifySignature and StatusLists.Add (which verifies before inflating).
func ParseStatusList(b []byte) (*StatusList, error) {
	l, c, err := parseStatusEnvelope(b)
	if err != nil {
		return nil, err
	}
	return l, l.inflate(c.Bits)
}

// parseStatusEnvelope parses all but the bits.
func parseStatusEnvelope(b []byte) (*StatusList, *statusClaims, error) {
	if len(b) > MaxStatusListFile {
		return nil, nil, formatErr("status list file larger than %d bytes", MaxStatusListFile)
	}
	cs, err := parseCOSESign1(b)
	if err != nil {
		return nil, nil, err
	}
	if cs.Payload == nil {
		return nil, nil, formatErr("status list payload missing")
	}
	h, err := parseProtected(cs.Protected)
	if err != nil {
		return nil, nil, err
	}
	var c statusClaims
	if err := decMode.Unmarshal(cs.Payload, &c); err != nil {
		return nil, nil, formatErr("malformed status list claims: %v", err)
	}
	if _, err := CheckUSCC(c.Issuer); err != nil || c.ID == "" || len(c.ID) > 40 || c.Size == 0 || c.Size > MaxStatusListSize || c.NextUpdate <= c.IssuedAt || c.IssuedAt < 0 {
		return nil, nil, formatErr("status list claims out of range")
	}
	return &StatusList{Issuer: c.Issuer, ID: c.ID, IssuedAt: time.Unix(c.IssuedAt, 0).UTC(), NextUpdate: time.Unix(c.NextUpdate, 0).UTC(),
		Size: c.Size, KID: h.KID, Alg: h.Alg, protected: cs.Protected, payload: cs.Payload, signature: cs.Signature}, &c, nil
}

// inflate fills the entry bytes: exactly ceil(size/4), no more.
func (l *StatusList) inflate(z []byte) error {
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return formatErr("status list bits: %v", err)
	}
	bits := make([]byte, (l.Size+3)/4)
	if _, err := io.ReadFull(zr, bits); err != nil {
		return formatErr("status list bits: want %d bytes: %v", len(bits), err)
	}
	if n, _ := zr.Read(make([]byte, 1)); n != 0 {
		return formatErr("status list bits longer than %d entries", l.Size)
	}
	l.bits = bits
	return nil
}

// VerifySignature checks the list's signature with the signer's key.
func (l *StatusList) VerifySignature(pub crypto.PublicKey) error {
	t := &License{Alg: l.Alg, protected: l.protected, payload: l.payload, signature: l.signature}
	return t.VerifySignature(pub)
}

// Trust is what this package needs from a trust store (verify.Trust and
// certs.Pool satisfy it).
type Trust interface {
	VerifyChain(cert *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error)
	CertificateByKID(kid []byte) (*smx509.Certificate, error)
}

// CreditCodeOf returns the USCC a certificate names in its subject
// serialNumber attribute (2.5.4.5, as package certs writes it), or "".
func CreditCodeOf(cert *smx509.Certificate) string { return cert.Subject.SerialNumber }

// CheckSigner checks that cert may sign for the agency with USCC issuer:
// when the certificate names a credit code it must be issuer's.
func CheckSigner(cert *smx509.Certificate, issuer string) error {
	if code := CreditCodeOf(cert); code != "" && code != issuer {
		return report.Errorf(report.ChainConstraintsFailure, "license: signer certificate belongs to credit code %s, not to issuer %s", code, issuer)
	}
	return nil
}

// StatusLists holds verified status lists for offline checks. It
// implements verify.StatusSource: asOf is the list's issue time.
type StatusLists struct {
	trust Trust
	eku   asn1.ObjectIdentifier
	mu    sync.RWMutex
	lists map[[2]string]*StatusList
}

// NewStatusLists makes an empty set verifying lists against trust; eku is
// the license-signing extended key usage the signer must have.
func NewStatusLists(trust Trust, eku asn1.ObjectIdentifier) *StatusLists {
	return &StatusLists{trust: trust, eku: eku, lists: map[[2]string]*StatusList{}}
}

// Add parses and verifies a signed list (signer found by kid, chain at the
// list's issue time, signer bound to the list's issuer) and keeps it unless
// a newer one of the same issuer and id is already held.
func (s *StatusLists) Add(data []byte) (*StatusList, error) {
	l, c, err := parseStatusEnvelope(data)
	if err != nil {
		return nil, err
	}
	if s.trust == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "license: no trust store to verify the status list")
	}
	cert, err := s.trust.CertificateByKID(l.KID)
	if err != nil {
		return nil, err
	}
	if err := l.VerifySignature(cert.PublicKey); err != nil {
		return nil, err
	}
	if _, err := s.trust.VerifyChain(cert, nil, l.IssuedAt, s.eku); err != nil {
		return nil, err
	}
	if err := CheckSigner(cert, l.Issuer); err != nil {
		return nil, err
	}
	// Only now, with the signer known good, spend memory on the entries.
	if err := l.inflate(c.Bits); err != nil {
		return nil, err
	}
	k := [2]string{l.Issuer, l.ID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.lists[k]; old != nil && old.IssuedAt.After(l.IssuedAt) {
		return old, nil
	}
	s.lists[k] = l
	return l, nil
}

// LicenseStatus implements verify.StatusSource.
func (s *StatusLists) LicenseStatus(ctx context.Context, id, listID string, index uint64) (string, time.Time, error) {
	ident, err := ParseIdentifier(id)
	if err != nil {
		return "", time.Time{}, report.Errorf(report.StatusUnavailable, "license: %v", err)
	}
	s.mu.RLock()
	l := s.lists[[2]string{ident.Issuer, listID}]
	s.mu.RUnlock()
	if l == nil {
		return "", time.Time{}, report.Errorf(report.StatusUnavailable, "license: no status list %s of issuer %s is loaded", listID, ident.Issuer)
	}
	st, err := l.Get(index)
	if err != nil {
		return "", time.Time{}, err
	}
	return st.String(), l.IssuedAt, nil
}
