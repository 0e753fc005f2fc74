package license

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/fxamacker/cbor/v2"

	"github.com/zhengxin/zhengxin/verify/report"
)

const (
	// DefaultLifetime is how long a presentation is valid after it is made.
	DefaultLifetime = 60 * time.Second
	// MaxLifetime is the longest lifetime a presentation may claim.
	MaxLifetime = 10 * time.Minute
	nonceSize   = 16
)

// deviceClaims is the payload the holder's device signs. The license and
// the disclosures it covers are bound through the COSE external_aad (see
// presentationAAD), so they are not repeated here.
type deviceClaims struct {
	IssuedAt int64  `cbor:"2,keyasint"` // unix seconds
	Lifetime uint64 `cbor:"3,keyasint"` // seconds
	Nonce    []byte `cbor:"4,keyasint"`
	Audience string `cbor:"5,keyasint,omitempty"`
}

// presentationWire is the body of a "ZXP1:" QR:
// [issuer COSE_Sign1, {tag: [salt, value]}, holder COSE_Key, device COSE_Sign1].
type presentationWire struct {
	_           struct{} `cbor:",toarray"`
	License     cbor.RawMessage
	Disclosures cbor.RawMessage
	HolderKey   cbor.RawMessage
	Device      cbor.RawMessage
}

// presentationAAD is the external_aad (RFC 9052 §4.3) of the device
// signature: SM3 over the issuer's COSE_Sign1 followed by the disclosures
// map, both exactly as carried. It binds the device's signature to this
// license and to exactly these disclosed fields and salts.
func presentationAAD(issuerCOSE, disclosures []byte) []byte {
	h := sm3.New()
	h.Write(issuerCOSE)
	h.Write(disclosures)
	return h.Sum(nil)
}

type disclosure struct {
	_     struct{} `cbor:",toarray"`
	Salt  []byte
	Value cbor.RawMessage
}

// PresentOptions configure a presentation.
type PresentOptions struct {
	// Disclose lists the field keys to reveal; nil reveals the profile's
	// fields (or the type's default-visible fields when Profile is "").
	Disclose []string
	Profile  string
	// Audience is the counter's identifier if the wallet knows it.
	Audience string
	Now      time.Time     // zero: time.Now()
	Lifetime time.Duration // zero: DefaultLifetime
	Rand     io.Reader     // nil: crypto/rand
}

// Draft is a presentation waiting for the device signature. It exists for
// devices whose key cannot sign inside Go (a WebCrypto non-extractable
// key): sign ToBeSigned with Algorithm, then call Finish.
type Draft struct {
	lic       *License
	tags      []uint64
	keyBytes  []byte
	cose      []byte
	disc      []byte
	pub       *ecdsa.PublicKey
	alg       int64
	protected []byte
	payload   []byte
}

// NewDraft prepares a presentation of the holder's copy license (as made
// by License.Marshal) for the device key pub.
func NewDraft(license []byte, pub crypto.PublicKey, o PresentOptions) (*Draft, error) {
	l, err := ParseLicense(license)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("license: device key must be SM2 or ECDSA P-256")
	}
	tp, err := Thumbprint(ec)
	if err != nil {
		return nil, err
	}
	if l.HolderKey == nil {
		return nil, errors.New("license: this license is not bound to a device key; re-issue it with the holder's key")
	}
	if !bytes.Equal(tp, l.HolderKey) {
		return nil, errors.New("license: the device key is not the key this license is bound to")
	}
	keys := o.Disclose
	if keys == nil {
		p, ok := l.Type.Profile(o.Profile)
		if !ok {
			return nil, fmt.Errorf("license: %s has no profile %q", l.Type.Key, o.Profile)
		}
		keys = p.Fields
	}
	d := &Draft{lic: l, pub: ec}
	for _, k := range keys {
		f := l.Type.Field(k)
		if f == nil {
			return nil, fmt.Errorf("license: %s 没有字段 %q / %s has no field %q", l.Type.ZH, k, l.Type.Key, k)
		}
		if f.Core() {
			continue // core dates are always visible in the claims
		}
		if _, ok := l.values[f.Tag]; ok && !slices.Contains(d.tags, f.Tag) {
			d.tags = append(d.tags, f.Tag)
		}
	}
	slices.Sort(d.tags)
	if d.keyBytes, err = coseKeyCompressed(ec); err != nil {
		return nil, err
	}
	d.alg = AlgES256
	if sm2.IsSM2PublicKey(ec) {
		d.alg = AlgSM2SM3
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	life := o.Lifetime
	if life == 0 {
		life = DefaultLifetime
	}
	if life < time.Second || life > MaxLifetime {
		return nil, fmt.Errorf("license: presentation lifetime must be 1s to %s", MaxLifetime)
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	dc := deviceClaims{IssuedAt: now.Unix(), Lifetime: uint64(life / time.Second),
		Nonce: make([]byte, nonceSize), Audience: o.Audience}
	d.cose = l.COSE()
	d.encodeDisclosures()
	if _, err := io.ReadFull(rnd, dc.Nonce); err != nil {
		return nil, fmt.Errorf("license: reading randomness: %w", err)
	}
	if len(o.Audience) > 100 {
		return nil, errors.New("license: audience longer than 100 bytes")
	}
	if d.payload, err = encMode.Marshal(&dc); err != nil {
		return nil, err
	}
	d.protected = protectedHeader(d.alg, nil)
	return d, nil
}

// encodeDisclosures encodes {tag: [salt, value]} for the chosen tags.
func (d *Draft) encodeDisclosures() {
	d.disc = appendHead(nil, 5, uint64(len(d.tags)))
	for _, tag := range d.tags {
		d.disc = appendHead(d.disc, 0, tag)
		d.disc = append(d.disc, 0x82)
		d.disc = appendBytes(d.disc, d.lic.salts[tag])
		d.disc = appendValue(d.disc, d.lic.values[tag])
	}
}

// Algorithm is the COSE algorithm the device must sign with: AlgSM2SM3
// for an SM2 key, AlgES256 (ECDSA P-256 with SHA-256) for a P-256 key.
func (d *Draft) Algorithm() int64 { return d.alg }

// ToBeSigned returns the bytes the device signs (COSE Sig_structure).
func (d *Draft) ToBeSigned() []byte {
	return sigStructureAAD(d.protected, presentationAAD(d.cose, d.disc), d.payload)
}

// Finish takes the device's 64-byte r||s signature (WebCrypto's ECDSA
// output format), checks it, and returns the presentation QR payload.
func (d *Draft) Finish(sig []byte) (string, error) {
	if !verifySig(d.alg, d.pub, d.ToBeSigned(), sig) {
		return "", errors.New("license: device signature does not verify with the device key")
	}
	b := []byte{0x84}
	b = append(b, d.cose...)
	b = append(b, d.disc...)
	b = append(b, d.keyBytes...)
	b = append(b, (&coseSign1{Protected: d.protected, Payload: d.payload, Signature: sig}).marshal()...)
	return wrapQR(PrefixPresentation, b), nil
}

// MakePresentation makes a presentation QR payload ("ZXP1:...") of the
// holder's copy license, disclosing the named fields (nil: the type's
// default-visible fields), for audience (may be empty), signed at now by
// the device key, valid for DefaultLifetime.
func MakePresentation(license []byte, device crypto.Signer, disclose []string, audience string, now time.Time) (string, error) {
	return MakePresentationWith(license, device, PresentOptions{Disclose: disclose, Audience: audience, Now: now})
}

// MakePresentationWith is MakePresentation with all options.
func MakePresentationWith(license []byte, device crypto.Signer, o PresentOptions) (string, error) {
	d, err := NewDraft(license, device.Public(), o)
	if err != nil {
		return "", err
	}
	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	_, sig, err := signWith(rnd, device, d.ToBeSigned())
	if err != nil {
		return "", err
	}
	return d.Finish(sig)
}

// Presentation is a parsed presentation QR.
type Presentation struct {
	// License holds the issuer's signed claims and the disclosed fields
	// only.
	License   *License
	HolderKey *ecdsa.PublicKey
	Alg       int64 // device signature algorithm
	IssuedAt  time.Time
	Lifetime  time.Duration
	Nonce     []byte
	Audience  string
	// Disclosed lists the keys of the disclosed fields.
	Disclosed []string

	dc        deviceClaims
	aad       []byte
	protected []byte
	payload   []byte
	signature []byte
}

// Expires is when the presentation stops being valid.
func (p *Presentation) Expires() time.Time { return p.IssuedAt.Add(p.Lifetime) }

// ParsePresentation decodes a presentation QR payload ("ZXP1:..."). It
// checks structure only; the Check* methods and package verify do the
// rest. Errors carry report reasons.
func ParsePresentation(text string) (*Presentation, error) {
	body, err := unwrapQR(text, PrefixPresentation)
	if err != nil {
		return nil, err
	}
	defer releaseBody(body)
	var w presentationWire
	if err := envDecMode.Unmarshal(body, &w); err != nil {
		return nil, formatErr("malformed presentation: %v", err)
	}
	l, err := parseSigned(w.License)
	if err != nil {
		return nil, err
	}
	p := &Presentation{License: l, aad: presentationAAD(w.License, w.Disclosures)}
	var disc map[uint64]disclosure
	if err := decMode.Unmarshal(w.Disclosures, &disc); err != nil {
		return nil, formatErr("malformed disclosures: %v", err)
	}
	raw := make(map[uint64]cbor.RawMessage, len(disc))
	l.salts = make(map[uint64][]byte, len(disc))
	for tag, d := range disc {
		if len(d.Salt) != saltSize {
			return nil, formatErr("disclosure salt must be %d bytes", saltSize)
		}
		raw[tag], l.salts[tag] = d.Value, d.Salt
	}
	if l.values, err = decodeValues(l.Type, raw); err != nil {
		return nil, err
	}
	if p.HolderKey, err = parseCOSEKey(w.HolderKey); err != nil {
		return nil, err
	}
	dev, err := parseCOSESign1(w.Device)
	if err != nil {
		return nil, err
	}
	if dev.Payload == nil {
		return nil, formatErr("device COSE_Sign1 payload missing")
	}
	h, err := parseProtected(dev.Protected)
	if err != nil {
		return nil, err
	}
	p.Alg, p.protected, p.payload, p.signature = h.Alg, dev.Protected, dev.Payload, dev.Signature
	if err := decMode.Unmarshal(dev.Payload, &p.dc); err != nil {
		return nil, formatErr("malformed device claims: %v", err)
	}
	if len(p.dc.Nonce) < 8 || len(p.dc.Nonce) > 32 || len(p.dc.Audience) > 100 ||
		p.dc.Lifetime == 0 || p.dc.Lifetime > uint64(MaxLifetime/time.Second) || p.dc.IssuedAt < 0 || p.dc.IssuedAt > 1<<40 {
		return nil, formatErr("device claims out of range")
	}
	p.IssuedAt = time.Unix(p.dc.IssuedAt, 0).UTC()
	p.Lifetime = time.Duration(p.dc.Lifetime) * time.Second
	p.Nonce, p.Audience = p.dc.Nonce, p.dc.Audience
	for _, tag := range sortedTags(l.values) {
		p.Disclosed = append(p.Disclosed, l.Type.FieldByTag(tag).Key)
	}
	return p, nil
}

// CheckDisclosures checks every disclosed field against the salted digest
// the issuer signed (HASH_FAILURE when a value or salt is wrong).
func (p *Presentation) CheckDisclosures() error { return p.License.checkDigests() }

// CheckHolder checks holder binding (HOLDER_BINDING_FAILURE): the license
// is bound to a device key, the presented key is that key, and the device
// signed this very license with exactly these disclosures (external_aad).
func (p *Presentation) CheckHolder() error {
	fail := func(format string, a ...any) error {
		return report.Errorf(report.HolderBindingFailure, "license: "+format, a...)
	}
	if p.License.HolderKey == nil {
		return fail("the license is not bound to a holder device key")
	}
	tp, err := Thumbprint(p.HolderKey)
	if err != nil || subtle.ConstantTimeCompare(tp, p.License.HolderKey) != 1 {
		return fail("the presenting device key is not the key the license is bound to")
	}
	want := AlgES256
	if sm2.IsSM2PublicKey(p.HolderKey) {
		want = AlgSM2SM3
	}
	if p.Alg != want {
		return report.Errorf(report.UnsupportedAlgorithm, "license: device signature algorithm %d does not fit the device key (want %d)", p.Alg, want)
	}
	if !verifySig(p.Alg, p.HolderKey, sigStructureAAD(p.protected, p.aad, p.payload), p.signature) {
		return fail("the device signature does not verify over this license and these disclosures")
	}
	return nil
}

// CheckFresh checks that now lies within [IssuedAt-skew, Expires+skew]
// (PRESENTATION_EXPIRED otherwise).
func (p *Presentation) CheckFresh(now time.Time, skew time.Duration) error {
	if now.Before(p.IssuedAt.Add(-skew)) {
		return report.Errorf(report.PresentationExpired, "license: presentation made at %s, in the future of the verifier's clock %s", p.IssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(p.Expires().Add(skew)) {
		return report.Errorf(report.PresentationExpired, "license: presentation expired at %s (now %s)", p.Expires().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
