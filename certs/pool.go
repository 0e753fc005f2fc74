package certs

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/verify/report"
)

// maxChainLen bounds chain building: root -> agency CA -> end entity is 3;
// a little room is left for cross-certified roots.
const maxChainLen = 5

// maxCacheEntries bounds the cache of verified certificate signatures
// (each entry holds two DER encodings, about 1.5 KB for SM2 certificates).
const maxCacheEntries = 4096

// Pool holds what a verifier trusts: trust anchors (roots, or agency CAs
// pinned directly), intermediate CA certificates available for chain
// building, other known certificates (found by kid), and CRLs. It
// implements verify.Trust. A Pool is safe for concurrent use.
//
// A Pool made by LoadTrustList also carries the list's next-update time:
// once the pool's clock passes it, every VerifyChain fails with
// TRUST_LIST_EXPIRED, and only CA certificates the list names are used as
// intermediates.
type Pool struct {
	mu         sync.RWMutex
	anchors    map[string]bool                    // Raw of anchors
	bySubject  map[string][]*smx509.Certificate   // RawSubject -> anchors and intermediates
	byKID      map[[8]byte]*smx509.Certificate    // every known certificate
	crls       map[string]*smx509.RevocationList  // issuer SPKI -> newest CRL
	revoked    map[string]map[string]revokedEntry // issuer SPKI -> serial (hex) -> entry
	listedOnly bool                               // trust-list pool: presented intermediates are not used
	nextUpdate time.Time                          // zero: never expires (PEM bundle)
	issuedAt   time.Time
	sequence   uint64
	loadedAt   time.Time
	clock      func() time.Time

	sigs sigCache // signatures already verified: (child DER, parent DER)
}

type revokedEntry struct {
	at     time.Time
	reason int
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{
		anchors:   map[string]bool{},
		bySubject: map[string][]*smx509.Certificate{},
		byKID:     map[[8]byte]*smx509.Certificate{},
		crls:      map[string]*smx509.RevocationList{},
		revoked:   map[string]map[string]revokedEntry{},
		sigs:      sigCache{half: maxCacheEntries / 2},
	}
}

func kidKey(c *smx509.Certificate) [8]byte {
	var k [8]byte
	copy(k[:], KID(c))
	return k
}

// AddAnchor adds a trust anchor: a root, or an agency CA trusted directly.
// A chain is accepted when it reaches an anchor; the anchor's own
// signature is not checked, its validity period and constraints are.
func (p *Pool) AddAnchor(cert *smx509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.anchors[string(cert.Raw)] = true
	p.addLocked(cert)
}

// AddIntermediate makes a CA certificate available for chain building
// without trusting it: chains through it must still reach an anchor.
func (p *Pool) AddIntermediate(cert *smx509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addLocked(cert)
}

// AddCertificate makes an end-entity certificate findable by kid
// (CertificateByKID); it gains no trust by being added.
func (p *Pool) AddCertificate(cert *smx509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byKID[kidKey(cert)] = cert
}

func (p *Pool) addLocked(cert *smx509.Certificate) {
	p.byKID[kidKey(cert)] = cert
	for _, c := range p.bySubject[string(cert.RawSubject)] {
		if c.Equal(cert) {
			return
		}
	}
	p.bySubject[string(cert.RawSubject)] = append(p.bySubject[string(cert.RawSubject)], cert)
}

// Anchors returns the pool's trust anchors.
func (p *Pool) Anchors() []*smx509.Certificate {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*smx509.Certificate
	for _, cs := range p.bySubject {
		for _, c := range cs {
			if p.anchors[string(c.Raw)] {
				out = append(out, c)
			}
		}
	}
	return out
}

// AddCRL adds a CRL after checking its signature against the CA that
// issued it, which must already be in the pool (as anchor or
// intermediate). Of several CRLs from one CA the newest is kept.
func (p *Pool) AddCRL(crl *smx509.RevocationList) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var issuer *smx509.Certificate
	var sigErr error
	for _, c := range p.bySubject[string(crl.RawIssuer)] {
		if err := crl.CheckSignatureFrom(c); err != nil {
			sigErr = err
			continue
		}
		issuer = c
		break
	}
	if issuer == nil {
		if sigErr != nil {
			return fmt.Errorf("certs: CRL from %q does not verify with its issuer's key: %v", crl.Issuer.CommonName, sigErr)
		}
		return fmt.Errorf("certs: CRL issuer %q is not in the pool: add its CA certificate first", crl.Issuer.CommonName)
	}
	key := string(issuer.RawSubjectPublicKeyInfo)
	if old := p.crls[key]; old != nil && newerCRL(old, crl) {
		return nil
	}
	p.crls[key] = crl
	m := map[string]revokedEntry{}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber == nil {
			continue
		}
		m[e.SerialNumber.Text(16)] = revokedEntry{at: e.RevocationTime, reason: e.ReasonCode}
	}
	p.revoked[key] = m
	return nil
}

// newerCRL reports whether a is newer than b (by CRL number, then thisUpdate).
func newerCRL(a, b *smx509.RevocationList) bool {
	if a.Number != nil && b.Number != nil {
		if c := a.Number.Cmp(b.Number); c != 0 {
			return c > 0
		}
	}
	return a.ThisUpdate.After(b.ThisUpdate)
}

// SetClock sets the clock used to decide whether a trust list has expired
// (a long-running server passes time.Now). Without it, the pool's time is
// the time it was loaded at.
func (p *Pool) SetClock(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock = now
}

func (p *Pool) nowLocked() time.Time {
	if p.clock != nil {
		return p.clock()
	}
	return p.loadedAt
}

// NextUpdate returns the trust list's next-update time (zero for a pool
// that does not come from a trust list).
func (p *Pool) NextUpdate() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.nextUpdate
}

// TrustListInfo returns the sequence number and issue time of the trust
// list the pool was loaded from (zero for other pools), so a caller can
// refuse to replace a list with an older one.
func (p *Pool) TrustListInfo() (sequence uint64, issuedAt time.Time) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.sequence, p.issuedAt
}

// ExpiresWithin reports whether the pool's trust list expires within d of
// the pool's clock (or has already expired), so a verifier can warn before
// it starts failing. Pools not made from a trust list never expire.
func (p *Pool) ExpiresWithin(d time.Duration) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.nextUpdate.IsZero() {
		return false
	}
	return !p.nowLocked().Add(d).Before(p.nextUpdate)
}

// CertificateByKID returns the certificate with the given kid (first 8
// bytes of SM3 over its DER), or an error with NO_CERTIFICATE_CHAIN_FOUND.
func (p *Pool) CertificateByKID(kid []byte) (*smx509.Certificate, error) {
	if len(kid) != 8 {
		return nil, report.Errorf(report.NoCertificateChainFound, "certs: kid %x has %d bytes, expected 8", kid, len(kid))
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := p.byKID[[8]byte(kid)]
	if c == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "certs: no certificate with kid %s is trusted here: update the trust list or give the signer's certificate", hex.EncodeToString(kid))
	}
	return c, nil
}

// VerifyChain builds a chain from cert through intermediates (and the
// pool's own intermediates) to a trust anchor, and checks it at time at:
// every signature, every validity period, CA basic constraints, keyCertSign,
// path lengths, unknown critical extensions, the leaf's extended key usage
// eku (nil: any; a leaf with no extKeyUsage extension at all is
// unrestricted, RFC 5280 4.2.1.12), and revocation by the CRLs in the pool. It returns the
// chain, leaf first. Errors carry a report reason.
func (p *Pool) VerifyChain(cert *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time, eku asn1.ObjectIdentifier) ([]*smx509.Certificate, error) {
	if cert == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "certs: no certificate to verify")
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	b := builder{p: p, at: at, eku: eku}
	if !p.listedOnly {
		b.extra = intermediates
	}
	chain := b.extend([]*smx509.Certificate{cert})
	var err error
	switch {
	case chain != nil:
	case b.failure != nil:
		err = b.failure
	case b.sigFailure != nil:
		err = b.sigFailure
	default:
		err = report.Errorf(report.NoCertificateChainFound, "certs: %s (issuer %q) does not chain to a trusted root: its issuer is not in the trust anchors", describeCert(cert), cert.Issuer.CommonName)
	}
	if !p.nextUpdate.IsZero() && p.nowLocked().After(p.nextUpdate) && report.ReasonOf(err) != report.SigCryptoFailure {
		detail := "the chain checks out against it"
		if err != nil {
			detail = err.Error()
		}
		return nil, report.Errorf(report.TrustListExpired, "certs: the trust list expired at %s (next update was due); get a current one (%s)", p.nextUpdate.UTC().Format(time.RFC3339), detail)
	}
	if err != nil {
		return nil, err
	}
	return chain, nil
}

type builder struct {
	p          *Pool
	at         time.Time
	eku        asn1.ObjectIdentifier
	extra      []*smx509.Certificate
	failure    error // first chain that reached an anchor but failed a check
	sigFailure error // a candidate issuer whose signature did not verify
}

func (b *builder) extend(chain []*smx509.Certificate) []*smx509.Certificate {
	c := chain[len(chain)-1]
	if b.p.anchors[string(c.Raw)] {
		if err := b.check(chain); err != nil {
			if b.failure == nil {
				b.failure = err
			}
			return nil
		}
		return chain
	}
	if len(chain) >= maxChainLen {
		return nil
	}
	for _, parent := range b.candidates(c) {
		if inChain(chain, parent) {
			continue
		}
		if err := b.p.checkLink(c, parent); err != nil {
			// Only a candidate confirmed by key identifier makes a bad
			// signature a forgery; one matched on the name alone may just
			// be another CA with the same name.
			if b.sigFailure == nil && len(c.AuthorityKeyId) > 0 && bytes.Equal(c.AuthorityKeyId, parent.SubjectKeyId) {
				b.sigFailure = err
			}
			continue
		}
		next := append(chain[:len(chain):len(chain)], parent)
		if got := b.extend(next); got != nil {
			return got
		}
	}
	return nil
}

// candidates are the certificates whose subject is c's issuer, anchors
// first, matched on key identifiers where both are present.
func (b *builder) candidates(c *smx509.Certificate) []*smx509.Certificate {
	var out []*smx509.Certificate
	add := func(cand *smx509.Certificate) {
		if len(c.AuthorityKeyId) > 0 && len(cand.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, cand.SubjectKeyId) {
			return
		}
		for _, o := range out {
			if o.Equal(cand) {
				return
			}
		}
		out = append(out, cand)
	}
	for _, cand := range b.p.bySubject[string(c.RawIssuer)] {
		if b.p.anchors[string(cand.Raw)] {
			add(cand)
		}
	}
	for _, cand := range b.p.bySubject[string(c.RawIssuer)] {
		add(cand)
	}
	for _, cand := range b.extra {
		if cand != nil && bytes.Equal(cand.RawSubject, c.RawIssuer) {
			add(cand)
		}
	}
	return out
}

func inChain(chain []*smx509.Certificate, c *smx509.Certificate) bool {
	for _, x := range chain {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// acceptedSigAlgs are the certificate signature algorithms a chain may use:
// SM2-with-SM3 for our own PKI, and modern ECDSA/RSA/Ed25519 so pinned
// foreign certificates still work. SHA-1 and MD5 are refused.
var acceptedSigAlgs = map[smx509.SignatureAlgorithm]bool{
	smx509.SM2WithSM3:       true,
	smx509.ECDSAWithSHA256:  true,
	smx509.ECDSAWithSHA384:  true,
	smx509.ECDSAWithSHA512:  true,
	smx509.SHA256WithRSA:    true,
	smx509.SHA384WithRSA:    true,
	smx509.SHA512WithRSA:    true,
	smx509.SHA256WithRSAPSS: true,
	smx509.SHA384WithRSAPSS: true,
	smx509.SHA512WithRSAPSS: true,
	smx509.PureEd25519:      true,
}

// checkLink verifies parent's signature on child. A signature that
// verified is remembered (sigCache), so a warm chain root -> agency CA ->
// signer costs no signature verification at all; everything that depends
// on the time or on CRLs (validity, constraints, EKU, revocation) is
// checked by check on every call.
func (p *Pool) checkLink(child, parent *smx509.Certificate) error {
	if !acceptedSigAlgs[child.SignatureAlgorithm] {
		return report.Errorf(report.UnsupportedAlgorithm, "certs: %s is signed with %v, which is not accepted (use SM2-with-SM3)", describeCert(child), child.SignatureAlgorithm)
	}
	if p.sigs.has(child.Raw, parent.Raw) {
		return nil
	}
	if err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature); err != nil {
		return report.Errorf(report.SigCryptoFailure, "certs: the signature on %s does not verify with the key of its issuer %s: forged or corrupted certificate", describeCert(child), describeCert(parent))
	}
	p.sigs.add(child.Raw, parent.Raw)
	return nil
}

// sigCache remembers that the signature in one certificate's DER verified
// with the public key in another's. That is a fact about two fixed byte
// strings (the child's DER holds its TBS, algorithm and signature; the
// parent's DER holds the key), true forever, so it is keyed by the full
// DER of both: a different or altered certificate, even one with the same
// subject and key identifiers, never matches. Failures are not cached.
//
// It is bounded by two generations of at most half entries each: a hit in
// the old generation moves the entry to the current one, and when the
// current one is full the old one is dropped. Links in use survive; the
// memory stays below 2*half entries whatever certificates are presented.
type sigCache struct {
	mu       sync.Mutex
	half     int
	cur, old map[string]sigLink // child DER -> link
}

type sigLink struct{ child, parent string }

func (c *sigCache) has(child, parent []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.cur[string(child)]; ok && l.parent == string(parent) {
		return true
	}
	if l, ok := c.old[string(child)]; ok && l.parent == string(parent) {
		delete(c.old, l.child)
		c.putLocked(l)
		return true
	}
	return false
}

func (c *sigCache) add(child, parent []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(sigLink{child: string(child), parent: string(parent)})
}

func (c *sigCache) putLocked(l sigLink) {
	if _, ok := c.cur[l.child]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]sigLink)
	}
	c.cur[l.child] = l
}

// len returns the number of cached links (tests).
func (c *sigCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

// check validates a chain (leaf first, anchor last) whose signatures have
// been verified.
func (b *builder) check(chain []*smx509.Certificate) error {
	for i, c := range chain {
		if b.at.Before(c.NotBefore) {
			if i == 0 {
				return report.Errorf(report.NotYetValid, "certs: %s is not valid until %s (checked at %s)", describeCert(c), c.NotBefore.UTC().Format(time.RFC3339), b.at.UTC().Format(time.RFC3339))
			}
			return report.Errorf(report.NotYetValid, "certs: issuing CA %s is not valid until %s (checked at %s)", describeCert(c), c.NotBefore.UTC().Format(time.RFC3339), b.at.UTC().Format(time.RFC3339))
		}
		if b.at.After(c.NotAfter) {
			what := "certificate"
			if i > 0 {
				what = "issuing CA"
			}
			return report.Errorf(report.CertExpired, "certs: %s %s expired at %s (checked at %s)", what, describeCert(c), c.NotAfter.UTC().Format(time.RFC3339), b.at.UTC().Format(time.RFC3339))
		}
		if len(c.UnhandledCriticalExtensions) > 0 {
			return report.Errorf(report.ChainConstraintsFailure, "certs: %s has an unknown critical extension %v", describeCert(c), c.UnhandledCriticalExtensions[0])
		}
		if i == 0 {
			continue
		}
		// c issued chain[i-1].
		if !c.BasicConstraintsValid || !c.IsCA {
			return report.Errorf(report.ChainConstraintsFailure, "certs: %s issued %s but is not a CA certificate", describeCert(c), describeCert(chain[i-1]))
		}
		if c.KeyUsage != 0 && c.KeyUsage&smx509.KeyUsageCertSign == 0 {
			return report.Errorf(report.ChainConstraintsFailure, "certs: CA %s lacks the keyCertSign key usage needed to issue %s", describeCert(c), describeCert(chain[i-1]))
		}
		below := i - 1 // CA certificates between c and the leaf
		if c.MaxPathLen >= 0 && (c.MaxPathLen > 0 || c.MaxPathLenZero) && below > c.MaxPathLen {
			return report.Errorf(report.ChainConstraintsFailure, "certs: CA %s allows a path length of %d but has %d CA certificates below it", describeCert(c), c.MaxPathLen, below)
		}
		if b.eku != nil && hasEKU(c) && !ekuAllows(c, b.eku) {
			return report.Errorf(report.ChainConstraintsFailure, "certs: CA %s is restricted to other extended key usages than %v", describeCert(c), b.eku)
		}
		if err := b.p.revocation(chain[i-1], c, b.at); err != nil {
			return err
		}
	}
	leaf := chain[0]
	if b.eku != nil {
		// RFC 5280 4.2.1.12: without the extension a certificate is not
		// restricted to any purpose; certificates of other CAs often carry
		// none. Ours always do, so ours are held to their purpose.
		if hasEKU(leaf) && !ekuAllows(leaf, b.eku) {
			return report.Errorf(report.ChainConstraintsFailure, "certs: %s is not authorised for this use: it lacks extended key usage %s", describeCert(leaf), ekuName(b.eku))
		}
		if leaf.KeyUsage != 0 && leaf.KeyUsage&(smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment) == 0 {
			return report.Errorf(report.ChainConstraintsFailure, "certs: %s lacks the digitalSignature key usage", describeCert(leaf))
		}
	}
	return nil
}

func hasEKU(c *smx509.Certificate) bool {
	return len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0
}

// ekuAllows: c lists eku (or anyExtendedKeyUsage).
func ekuAllows(c *smx509.Certificate, eku asn1.ObjectIdentifier) bool {
	for _, u := range c.ExtKeyUsage {
		if u == smx509.ExtKeyUsageAny {
			return true
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(eku) {
			return true
		}
	}
	return false
}

func ekuName(eku asn1.ObjectIdentifier) string {
	switch {
	case eku.Equal(OIDExtKeyUsageLicenseSigning):
		return "license-signing (" + eku.String() + ")"
	case eku.Equal(OIDExtKeyUsageSealSigning):
		return "seal-signing (" + eku.String() + ")"
	case eku.Equal(OIDExtKeyUsageSealMaking):
		return "seal-making (" + eku.String() + ")"
	case eku.Equal(OIDExtKeyUsageTrustListSigning):
		return "trust-list-signing (" + eku.String() + ")"
	}
	return eku.String()
}

// revocation checks c (issued by issuer) against the issuer's CRL.
func (p *Pool) revocation(c, issuer *smx509.Certificate, at time.Time) error {
	m := p.revoked[string(issuer.RawSubjectPublicKeyInfo)]
	if m == nil {
		return nil
	}
	// Serial in hex as the map key, without allocating: this runs for
	// every link of every verification.
	var buf [64]byte
	e, ok := m[string(c.SerialNumber.Append(buf[:0], 16))]
	if !ok {
		return nil
	}
	if !revokedAt(e.reason, e.at, at) {
		return nil
	}
	return report.Errorf(report.CertRevoked, "certs: %s was revoked by %s on %s (reason %s)", describeCert(c), describeCert(issuer), e.at.UTC().Format(time.RFC3339), reasonName(e.reason))
}

func reasonName(r int) string {
	switch r {
	case ReasonUnspecified:
		return "unspecified"
	case ReasonKeyCompromise:
		return "key compromise"
	case ReasonCACompromise:
		return "CA compromise"
	case ReasonAffiliationChanged:
		return "affiliation changed"
	case ReasonSuperseded:
		return "superseded"
	case ReasonCessationOfOperation:
		return "cessation of operation"
	case ReasonCertificateHold:
		return "certificate hold"
	case ReasonPrivilegeWithdrawn:
		return "privilege withdrawn"
	}
	return fmt.Sprintf("code %d", r)
}

// LoadPEMBundle makes a pool whose trust anchors are all the certificates
// of a PEM bundle (roots and/or agency CAs trusted directly), as given to
// `zhengxin verify --trust FILE`. "X509 CRL" blocks in the bundle are
// added as CRLs after their issuer's certificate is known.
func LoadPEMBundle(data []byte) (*Pool, error) {
	certs, crls, other, err := splitPEM(data)
	if err != nil {
		return nil, err
	}
	if len(other) > 0 {
		return nil, fmt.Errorf("certs: trust bundle holds a %q PEM block, expected CERTIFICATE (and X509 CRL) blocks", other[0])
	}
	if len(certs) == 0 {
		return nil, errors.New("certs: trust bundle holds no certificate: expected -----BEGIN CERTIFICATE----- blocks")
	}
	p := NewPool()
	for _, c := range certs {
		p.AddAnchor(c)
	}
	for _, crl := range crls {
		if err := p.AddCRL(crl); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// splitPEM parses the certificate and CRL blocks of data and names the
// types of any other blocks.
func splitPEM(data []byte) (certs []*smx509.Certificate, crls []*smx509.RevocationList, other []string, err error) {
	if len(data) > maxPEMInput {
		return nil, nil, nil, fmt.Errorf("certs: trust file of %d bytes is too large (limit %d)", len(data), maxPEMInput)
	}
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		data = rest
		switch block.Type {
		case pemCertificate:
			c, err := ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("certs: certificate %d of the bundle: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		case pemCRL:
			crl, err := ParseCRL(block.Bytes)
			if err != nil {
				return nil, nil, nil, err
			}
			crls = append(crls, crl)
		default:
			other = append(other, block.Type)
		}
	}
	return certs, crls, other, nil
}
