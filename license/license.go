package license

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	smcipher "github.com/emmansun/gmsm/cipher"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"
	"github.com/fxamacker/cbor/v2"

	"github.com/zhengxin/zhengxin/verify/report"
)

// claims is the signed payload of a license (see docs/formats.md, CDDL
// "claims"). Keys are small integers; dates are day numbers.
type claims struct {
	Type        uint64            `cbor:"1,keyasint"`
	Issuer      string            `cbor:"2,keyasint"`
	Serial      string            `cbor:"3,keyasint"`
	Version     uint64            `cbor:"4,keyasint"`
	Issued      int64             `cbor:"5,keyasint"`
	ValidFrom   *int64            `cbor:"6,keyasint,omitempty"`
	ValidTo     *int64            `cbor:"7,keyasint,omitempty"`
	SignedAt    int64             `cbor:"8,keyasint"`
	StatusList  string            `cbor:"9,keyasint,omitempty"`
	StatusIndex *uint64           `cbor:"10,keyasint,omitempty"`
	CNF         []byte            `cbor:"11,keyasint,omitempty"`
	Digests     map[uint64][]byte `cbor:"12,keyasint,omitempty"`
}

const (
	saltSize   = 16
	digestSize = 16
	maxSerial  = 40
)

// License is an e-license: its signed claims and the field values known to
// this copy (all of them in the holder's copy and the static QR, the
// disclosed ones in a presentation).
type License struct {
	Type        *Type
	Issuer      string // 证照颁发机构代码 (USCC)
	Serial      string
	Version     int
	IssueDate   Date
	ValidFrom   Date  // equals IssueDate unless the type has valid_from
	ValidTo     *Date // nil: open-ended (长期)
	SignedAt    time.Time
	StatusList  string // "" when the license is on no status list
	StatusIndex uint64
	// HolderKey is the cnf claim: the thumbprint of the holder's device
	// key (see Thumbprint), nil when the license is not holder-bound.
	HolderKey []byte
	KID       []byte
	Alg       int64

	c         claims
	idOf      Identifier // what idText was made from
	idText    string
	values    map[uint64]any
	salts     map[uint64][]byte
	master    []byte
	protected []byte
	payload   []byte
	signature []byte
}

// Identifier returns the GB/T 36904 identifier of the license.
func (l *License) Identifier() Identifier {
	return Identifier{TypeCode: l.Type.TypeCode, Issuer: l.Issuer, Serial: l.Serial, Version: l.Version}
}

// ID returns the identifier as text, with its check character. The text
// made when the license was parsed or issued is kept (a verification asks
// for it three times, and the check character costs a MOD 37,36 pass); it
// is made anew if the exported fields it comes from were changed since.
func (l *License) ID() string {
	id := l.Identifier()
	if l.idText != "" && l.idOf == id {
		return l.idText
	}
	return id.String()
}

// FieldValue is one known field of a license.
type FieldValue struct {
	Field *Field
	Value any // string, int64, or nil for an open-ended end date
}

// Text is the value in the text form Issue accepts.
func (v FieldValue) Text() string { return v.Field.Format(v.Value) }

// Fields returns the known fields (core dates included) in type order.
func (l *License) Fields() []FieldValue {
	out := make([]FieldValue, 0, len(l.Type.Fields))
	for _, f := range l.Type.Fields {
		switch f.Key {
		case "issue_date":
			out = append(out, FieldValue{f, int64(l.IssueDate)})
		case "valid_from":
			out = append(out, FieldValue{f, int64(l.ValidFrom)})
		case "valid_to":
			if l.ValidTo != nil {
				out = append(out, FieldValue{f, int64(*l.ValidTo)})
			} else {
				out = append(out, FieldValue{f, nil})
			}
		default:
			if v, ok := l.values[f.Tag]; ok {
				out = append(out, FieldValue{f, v})
			}
		}
	}
	return out
}

// SameContent reports whether l and o say the same: type, every field
// value and the core dates (not the serial, signature time, salts, status
// list entry or holder binding). An idempotent retry must carry the same
// content as the license its key already names.
func (l *License) SameContent(o *License) bool {
	if l.Type != o.Type || l.IssueDate != o.IssueDate || l.ValidFrom != o.ValidFrom ||
		(l.ValidTo == nil) != (o.ValidTo == nil) || (l.ValidTo != nil && *l.ValidTo != *o.ValidTo) ||
		len(l.values) != len(o.values) {
		return false
	}
	for tag, v := range l.values {
		if w, ok := o.values[tag]; !ok || w != v {
			return false
		}
	}
	return true
}

// Value returns the text form of a known field.
func (l *License) Value(key string) (string, bool) {
	for _, fv := range l.Fields() {
		if fv.Field.Key == key {
			return fv.Text(), true
		}
	}
	return "", false
}

// Map returns the known fields as key -> text form (the input form of
// Request.Fields).
func (l *License) Map() map[string]string {
	m := map[string]string{}
	for _, fv := range l.Fields() {
		if fv.Value != nil {
			m[fv.Field.Key] = fv.Text()
		}
	}
	return m
}

// Show writes the license for people, one field a line, Chinese first.
func (l *License) Show(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s / %s\n", l.Type.ZH, l.Type.EN)
	fmt.Fprintf(&b, "电子证照标识 / identifier: %s\n", l.ID())
	for _, fv := range l.Fields() {
		fmt.Fprintf(&b, "%s / %s: %s\n", fv.Field.ZH, fv.Field.EN, fv.Field.Display(fv.Value))
	}
	if l.StatusList != "" {
		fmt.Fprintf(&b, "状态列表 / status list: %s #%d\n", l.StatusList, l.StatusIndex)
	}
	if l.HolderKey != nil {
		fmt.Fprintf(&b, "持证人设备密钥 / holder device key: %X\n", l.HolderKey)
	}
	fmt.Fprintf(&b, "签名时间 / signed at: %s\n", l.SignedAt.In(ChinaTime).Format(time.RFC3339))
	_, err := io.WriteString(w, b.String())
	return err
}

func (l *License) String() string {
	var b strings.Builder
	l.Show(&b)
	return b.String()
}

// fieldSalt derives the salt of field tag from the license's master salt:
// SM4-encrypt, under the master salt as key, the block "zx-salt:" || tag as
// 8 bytes big-endian. SM4 is a pseudo-random permutation, so revealing the
// salts of some fields tells nothing about the master salt or the salts of
// the others; and one block cipher call is far cheaper than an HMAC.
func fieldSalts(master []byte, tags []uint64) (map[uint64][]byte, error) {
	blk, err := sm4.NewCipher(master)
	if err != nil {
		return nil, err
	}
	// All blocks in one ECB call: gmsm's SM4 assembly works on several
	// blocks at once; one block at a time falls back to Go code.
	buf := make([]byte, 16*len(tags))
	for i, tag := range tags {
		copy(buf[i*16:], "zx-salt:")
		binary.BigEndian.PutUint64(buf[i*16+8:], tag)
	}
	smcipher.NewECBEncrypter(blk).CryptBlocks(buf, buf)
	out := make(map[uint64][]byte, len(tags))
	for i, tag := range tags {
		out[tag] = buf[i*16 : i*16+16 : i*16+16]
	}
	return out, nil
}

// appendValue appends the CBOR encoding of a wire value.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendText(b, v)
	case int64:
		return appendInt(b, v)
	}
	panic("license: bad wire value")
}

// fieldDigest is SM3([salt, tag, value])[:16], the commitment the signed
// claims hold for one field.
func fieldDigest(salt []byte, tag uint64, v any) []byte {
	return appendFieldDigest(make([]byte, 0, digestSize), salt, tag, v)
}

// appendFieldDigest appends fieldDigest(salt, tag, v) to dst, so that a
// parser can put all of a license's digests in one allocation.
func appendFieldDigest(dst, salt []byte, tag uint64, v any) []byte {
	var arr [160]byte
	b := append(arr[:0], 0x83)
	b = appendBytes(b, salt)
	b = appendHead(b, 0, tag)
	b = appendValue(b, v)
	h := sm3.Sum(b)
	return append(dst, h[:digestSize]...)
}

// Signer issues licenses for one agency with its license-signer key.
type Signer struct {
	key    *sm2.PrivateKey
	kid    []byte
	issuer string
	// Rand is the randomness for salts and signatures; nil: crypto/rand.
	Rand io.Reader
	// Now is the signing clock; nil: time.Now.
	Now func() time.Time
}

// NewSigner returns a Signer for the agency whose 统一社会信用代码 is
// issuerCode, signing with key under certificate cert (whose public key
// must be key's).
func NewSigner(key *sm2.PrivateKey, cert *smx509.Certificate, issuerCode string) (*Signer, error) {
	code, err := CheckUSCC(issuerCode)
	if err != nil {
		return nil, labelCodeErr(err, "颁发机构代码", "issuer code")
	}
	if cert == nil || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("license: signer certificate does not match the signing key")
	}
	return &Signer{key: key, kid: KIDOf(cert.Raw), issuer: code}, nil
}

// NewSignerKID is NewSigner with the kid given directly (8 bytes).
func NewSignerKID(key *sm2.PrivateKey, kid []byte, issuerCode string) (*Signer, error) {
	code, err := CheckUSCC(issuerCode)
	if err != nil {
		return nil, labelCodeErr(err, "颁发机构代码", "issuer code")
	}
	if len(kid) == 0 || len(kid) > 16 {
		return nil, errors.New("license: kid must be 1 to 16 bytes")
	}
	return &Signer{key: key, kid: bytes.Clone(kid), issuer: code}, nil
}

// Request is what an agency asks to issue.
type Request struct {
	// Type is a type key (business_license), Chinese name or number.
	Type string
	// Fields maps field keys to values in text form: dates 2006-01-02,
	// codes by label or code, numbers as decimals (see docs/formats.md).
	Fields map[string]string
	// Serial is the 流水号 (digits and upper-case letters, at most 40);
	// empty: 12 random characters.
	Serial string
	// Version is the 3-digit version, 1 for a first issue (0 means 1).
	Version int
	// StatusList and StatusIndex place the license on a status list.
	StatusList  string
	StatusIndex uint64
	// HolderKey, if set, binds the license to the holder's device key
	// (SM2 or ECDSA P-256): presentations must be signed by it.
	HolderKey crypto.PublicKey
}

const serialAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY" // no I O Z S V: unambiguous when read aloud

// Issue validates the request, assigns the identifier, salts every field,
// signs, and returns the license (Marshal gives the bytes to store and hand
// to the holder).
func (s *Signer) Issue(req Request) (*License, error) {
	t, err := LookupType(req.Type)
	if err != nil {
		return nil, err
	}
	vals, core, err := t.validate(req.Fields)
	if err != nil {
		return nil, err
	}
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	c := claims{Type: t.Num, Issuer: s.issuer, Serial: req.Serial, Version: uint64(req.Version)}
	if c.Version == 0 {
		c.Version = 1
	}
	if c.Version > 999 {
		return nil, errors.New("license: version must be 1 to 999")
	}
	var master [saltSize + 12]byte
	if _, err := io.ReadFull(rnd, master[:]); err != nil {
		return nil, fmt.Errorf("license: reading randomness: %w", err)
	}
	if c.Serial == "" {
		b := make([]byte, 12)
		for i, r := range master[saltSize:] {
			b[i] = serialAlphabet[int(r)%len(serialAlphabet)]
		}
		c.Serial = string(b)
	}
	if err := checkIDPart(c.Serial, 1, "流水号 / serial", maxSerial); err != nil {
		return nil, err
	}
	c.Issued = *core["issue_date"]
	if v := core["valid_from"]; v != nil && *v != c.Issued {
		c.ValidFrom = v
	}
	c.ValidTo = core["valid_to"]
	c.SignedAt = now().Unix()
	if req.StatusList != "" {
		if len(req.StatusList) > 40 {
			return nil, errors.New("license: status list id longer than 40 characters")
		}
		c.StatusList = req.StatusList
		idx := req.StatusIndex
		c.StatusIndex = &idx
	}
	if req.HolderKey != nil {
		if c.CNF, err = Thumbprint(req.HolderKey); err != nil {
			return nil, err
		}
	}
	tags := make([]uint64, 0, len(vals))
	for tag := range vals {
		tags = append(tags, tag)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	l := &License{c: c, values: vals, master: bytes.Clone(master[:saltSize]), Type: t}
	if l.salts, err = fieldSalts(l.master, tags); err != nil {
		return nil, err
	}
	l.c.Digests = make(map[uint64][]byte, len(tags))
	for _, tag := range tags {
		l.c.Digests[tag] = fieldDigest(l.salts[tag], tag, vals[tag])
	}
	l.protected = protectedHeader(AlgSM2SM3, s.kid)
	l.payload = l.c.marshal()
	if l.signature, err = signSM2(rnd, s.key, sigStructure(l.protected, l.payload)); err != nil {
		return nil, err
	}
	l.KID, l.Alg = s.kid, AlgSM2SM3
	l.fillFromClaims()
	return l, nil
}

func (l *License) fillFromClaims() {
	c := &l.c
	l.Issuer, l.Serial, l.Version = c.Issuer, c.Serial, int(c.Version)
	l.IssueDate, l.ValidFrom = Date(c.Issued), Date(c.Issued)
	if c.ValidFrom != nil {
		l.ValidFrom = Date(*c.ValidFrom)
	}
	l.ValidTo = nil
	if c.ValidTo != nil {
		d := Date(*c.ValidTo)
		l.ValidTo = &d
	}
	l.SignedAt = time.Unix(c.SignedAt, 0).UTC()
	l.StatusList = c.StatusList
	if c.StatusIndex != nil {
		l.StatusIndex = *c.StatusIndex
	}
	l.HolderKey = c.CNF
	l.idOf = l.Identifier()
	l.idText = l.idOf.String()
}

// COSE returns the license's COSE_Sign1 (tagged, payload attached).
func (l *License) COSE() []byte {
	return (&coseSign1{Protected: l.protected, Payload: l.payload, Signature: l.signature}).marshal()
}

// holderCopy is the wallet form: [COSE_Sign1, master salt, {tag: value}].
type holderCopy struct {
	_      struct{} `cbor:",toarray"`
	COSE   cbor.RawMessage
	Master []byte
	Values map[uint64]cbor.RawMessage
}

// Marshal returns the holder's copy of the license: everything needed to
// show it, print its QR and make presentations. Keep it private: its master
// salt lets whoever holds it disclose any field.
func (l *License) Marshal() []byte {
	if l.master == nil {
		panic("license: Marshal of a license without its master salt (parsed from a presentation)")
	}
	b := []byte{0x83}
	b = append(b, l.COSE()...)
	b = appendBytes(b, l.master)
	b = appendValues(b, l.values)
	return b
}

func appendValues(b []byte, vals map[uint64]any) []byte {
	tags := make([]uint64, 0, len(vals))
	for t := range vals {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	b = appendHead(b, 5, uint64(len(tags)))
	for _, t := range tags {
		b = appendHead(b, 0, t)
		b = appendValue(b, vals[t])
	}
	return b
}

// decodeValues decodes {tag: value} against the type's schema.
func decodeValues(t *Type, raw map[uint64]cbor.RawMessage) (map[uint64]any, error) {
	out := make(map[uint64]any, len(raw))
	for tag, r := range raw {
		v, err := decodeField(t, tag, r)
		if err != nil {
			return nil, err
		}
		out[tag] = v
	}
	return out, nil
}

// tagValue is one {tag: value} entry, value undecoded.
type tagValue struct {
	tag uint64
	raw []byte
}

// decodeValueList is decodeValues for entries already split (in order,
// tags unique) by the fast path.
func decodeValueList(t *Type, raw []tagValue) (map[uint64]any, error) {
	out := make(map[uint64]any, len(raw))
	for _, e := range raw {
		v, err := decodeField(t, e.tag, e.raw)
		if err != nil {
			return nil, err
		}
		out[e.tag] = v
	}
	return out, nil
}

func decodeField(t *Type, tag uint64, r []byte) (any, error) {
	f := t.FieldByTag(tag)
	if f == nil {
		return nil, formatErr("field tag %d is not defined for %s", tag, t.Key)
	}
	v, ok := decodeValue(r, f.Kind == KindText)
	if !ok {
		return nil, formatErr("field %s: malformed value", f.Key)
	}
	if err := f.checkWire(v); err != nil {
		return nil, report.Errorf(report.FormatFailure, "%v", err)
	}
	return v, nil
}

// decodeClaims parses and checks the claims against the catalogue.
func decodeClaims(b []byte, c *claims) (*Type, error) {
	if err := decMode.Unmarshal(b, c); err != nil {
		return nil, formatErr("malformed claims: %v", err)
	}
	return checkClaims(c)
}

func checkClaims(c *claims) (*Type, error) {
	t := typeByNum[c.Type]
	if t == nil {
		return nil, formatErr("unknown license type %d", c.Type)
	}
	if _, err := CheckUSCC(c.Issuer); err != nil || c.Issuer != strings.ToUpper(c.Issuer) {
		return nil, formatErr("issuer code is not a valid USCC")
	}
	if err := checkIDPart(c.Serial, 1, "serial", maxSerial); err != nil {
		return nil, formatErr("bad serial")
	}
	if c.Version == 0 || c.Version > 999 || len(c.StatusList) > 40 || len(c.CNF) != 0 && len(c.CNF) != 16 {
		return nil, formatErr("claims out of range")
	}
	for tag, d := range c.Digests {
		if t.FieldByTag(tag) == nil || len(d) != digestSize {
			return nil, formatErr("bad digest for tag %d", tag)
		}
	}
	if (c.StatusIndex != nil) != (c.StatusList != "") {
		return nil, formatErr("status list id and index go together")
	}
	return t, nil
}

// ParseLicense parses the holder's copy made by Marshal and checks every
// field against its digest. It does not verify the issuer's signature (see
// VerifySignature and package verify).
func ParseLicense(b []byte) (*License, error) {
	if len(b) > maxCBOR {
		return nil, formatErr("license larger than %d bytes", maxCBOR)
	}
	var h holderCopy
	if err := envDecMode.Unmarshal(b, &h); err != nil {
		return nil, formatErr("malformed holder copy: %v", err)
	}
	l, err := parseSigned(h.COSE)
	if err != nil {
		return nil, err
	}
	if len(h.Master) != saltSize {
		return nil, formatErr("master salt must be %d bytes", saltSize)
	}
	l.master = h.Master
	if l.values, err = decodeValues(l.Type, h.Values); err != nil {
		return nil, err
	}
	if len(l.values) != len(l.c.Digests) {
		return nil, report.Errorf(report.HashFailure, "license: holder copy has %d field values for %d digests", len(l.values), len(l.c.Digests))
	}
	if l.salts, err = fieldSalts(l.master, sortedTags(l.values)); err != nil {
		return nil, err
	}
	if err := l.checkDigests(); err != nil {
		return nil, err
	}
	return l, nil
}

func sortedTags[V any](m map[uint64]V) []uint64 {
	tags := make([]uint64, 0, len(m))
	for t := range m {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return tags
}

// parseSigned parses a tagged COSE_Sign1 carrying claims.
func parseSigned(b []byte) (*License, error) {
	cs, err := parseCOSESign1(b)
	if err != nil {
		return nil, err
	}
	if cs.Payload == nil {
		return nil, formatErr("COSE_Sign1 payload missing")
	}
	l := &License{protected: cs.Protected, payload: cs.Payload, signature: cs.Signature}
	if err := l.readHeader(); err != nil {
		return nil, err
	}
	if l.Type, err = decodeClaims(cs.Payload, &l.c); err != nil {
		return nil, err
	}
	l.fillFromClaims()
	return l, nil
}

func (l *License) readHeader() error {
	h, err := parseProtected(l.protected)
	if err != nil {
		return err
	}
	l.Alg, l.KID = h.Alg, h.KID
	return nil
}

// checkDigests checks every known value against its signed digest.
func (l *License) checkDigests() error {
	for tag, v := range l.values {
		d, ok := l.c.Digests[tag]
		if !ok {
			return report.Errorf(report.HashFailure, "license: field %s has no signed digest", l.Type.FieldByTag(tag).Key)
		}
		if subtle.ConstantTimeCompare(d, fieldDigest(l.salts[tag], tag, v)) != 1 {
			return report.Errorf(report.HashFailure, "license: field %s does not match its signed digest", l.Type.FieldByTag(tag).Key)
		}
	}
	return nil
}

// VerifySignature checks the issuer's signature with the signer
// certificate's public key. Errors carry report reasons
// (UNSUPPORTED_ALGORITHM, SIG_CRYPTO_FAILURE).
func (l *License) VerifySignature(pub crypto.PublicKey) error {
	if l.Alg != AlgSM2SM3 {
		return report.Errorf(report.UnsupportedAlgorithm, "license: signature algorithm %d is not SM2-with-SM3 (%d)", l.Alg, AlgSM2SM3)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(ec) {
		return report.Errorf(report.UnsupportedAlgorithm, "license: signer certificate key is not SM2")
	}
	if !verifyIssuerSig(ec, sigStructure(l.protected, l.payload), l.signature) {
		return report.Errorf(report.SigCryptoFailure, "license: issuer signature does not verify")
	}
	return nil
}

// Digest identifies this signed license in a presentation: SM3 over its
// tagged COSE_Sign1.
func (l *License) Digest() []byte {
	h := sm3.Sum(l.COSE())
	return h[:]
}

// Subject is what a verified license says, as a verification report
// shows it (docs/formats.md, "Report subject"): stable keys plus labels, the
// fields in the order the license type prints them. A typed value, not a
// map: a counter verifies thousands of QRs a second and the report's
// subject used to cost as many allocations as the rest of verification.
type Subject struct {
	ID          string
	Type        string // type key, e.g. business_license
	TypeName    string // Chinese name of the type
	IssuerCode  string // issuing agency's USCC
	Fields      []SubjectField
	HolderBound bool
	StatusList  string // "" when the license is on no status list
	StatusIndex uint64
}

// SubjectField is one disclosed field (or core date) of a Subject.
type SubjectField struct {
	Key     string
	Label   string // Chinese label
	LabelEN string
	Value   string // text form (the form Issue accepts)
	Display string // form for people: Chinese dates, units
}

// Field returns the field with the given key, or nil.
func (s *Subject) Field(key string) *SubjectField {
	for i := range s.Fields {
		if s.Fields[i].Key == key {
			return &s.Fields[i]
		}
	}
	return nil
}

// MarshalJSON writes the subject as docs/formats.md specifies: "fields" is
// an object keyed by field key, in type order; status_list and
// status_index appear together, only for a license on a status list.
func (s *Subject) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 256+160*len(s.Fields))
	b = append(b, `{"id":`...)
	b = AppendJSONString(b, s.ID)
	b = append(b, `,"type":`...)
	b = AppendJSONString(b, s.Type)
	b = append(b, `,"type_name":`...)
	b = AppendJSONString(b, s.TypeName)
	b = append(b, `,"issuer_code":`...)
	b = AppendJSONString(b, s.IssuerCode)
	b = append(b, `,"holder_bound":`...)
	b = strconv.AppendBool(b, s.HolderBound)
	if s.StatusList != "" {
		b = append(b, `,"status_list":`...)
		b = AppendJSONString(b, s.StatusList)
		b = append(b, `,"status_index":`...)
		b = strconv.AppendUint(b, s.StatusIndex, 10)
	}
	b = append(b, `,"fields":{`...)
	for i, f := range s.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, f.Key)
		b = append(b, `:{"label":`...)
		b = AppendJSONString(b, f.Label)
		b = append(b, `,"label_en":`...)
		b = AppendJSONString(b, f.LabelEN)
		b = append(b, `,"value":`...)
		b = AppendJSONString(b, f.Value)
		b = append(b, `,"display":`...)
		b = AppendJSONString(b, f.Display)
		b = append(b, '}')
	}
	return append(b, "}}"...), nil
}

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: HTML-safe (<, >, & as \u003c...), U+2028 and U+2029
// escaped, control characters escaped, invalid UTF-8 replaced by U+FFFD.
// By hand, not json.Marshal per string: a report holds some fifty strings
// and the server marshals thousands of reports a second; bulk import
// writes each row's fields with it too.
// TestSubjectJSONEscapes compares it with encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Subject returns the disclosed content for a verification report.
func (l *License) Subject() *Subject {
	fvs := l.Fields()
	s := &Subject{
		ID:          l.ID(),
		Type:        l.Type.Key,
		TypeName:    l.Type.ZH,
		IssuerCode:  l.Issuer,
		Fields:      make([]SubjectField, len(fvs)),
		HolderBound: l.HolderKey != nil,
		StatusList:  l.StatusList,
		StatusIndex: l.StatusIndex,
	}
	for i, fv := range fvs {
		f := &s.Fields[i]
		f.Key, f.Label, f.LabelEN = fv.Field.Key, fv.Field.ZH, fv.Field.EN
		f.Value = fv.Text()
		if fv.Field.Kind == KindText || fv.Field.Kind == KindCode {
			f.Display = f.Value // Field.Display is Format for these
		} else {
			f.Display = fv.Field.Display(fv.Value)
		}
	}
	return s
}

// marshal encodes the claims in CBOR core deterministic encoding (RFC
// 8949 §4.2.1: shortest heads, map keys in bytewise order, which for these
// small unsigned keys is numeric order). Hand-written because it runs once
// per issued license and once per verified static QR; a test checks it
// against fxamacker/cbor's CoreDetEncOptions.
func (c *claims) marshal() []byte {
	n := uint64(6)
	if c.ValidFrom != nil {
		n++
	}
	if c.ValidTo != nil {
		n++
	}
	if c.StatusList != "" {
		n++
	}
	if c.StatusIndex != nil {
		n++
	}
	if len(c.CNF) > 0 {
		n++
	}
	if len(c.Digests) > 0 {
		n++
	}
	b := make([]byte, 0, 96+len(c.Digests)*(digestSize+3))
	b = appendHead(b, 5, n)
	b = appendHead(append(b, 1), 0, c.Type)
	b = appendText(append(b, 2), c.Issuer)
	b = appendText(append(b, 3), c.Serial)
	b = appendHead(append(b, 4), 0, c.Version)
	b = appendInt(append(b, 5), c.Issued)
	if c.ValidFrom != nil {
		b = appendInt(append(b, 6), *c.ValidFrom)
	}
	if c.ValidTo != nil {
		b = appendInt(append(b, 7), *c.ValidTo)
	}
	b = appendInt(append(b, 8), c.SignedAt)
	if c.StatusList != "" {
		b = appendText(append(b, 9), c.StatusList)
	}
	if c.StatusIndex != nil {
		b = appendHead(append(b, 10), 0, *c.StatusIndex)
	}
	if len(c.CNF) > 0 {
		b = appendBytes(append(b, 11), c.CNF)
	}
	if len(c.Digests) > 0 {
		b = appendHead(append(b, 12), 5, uint64(len(c.Digests)))
		for _, tag := range sortedTags(c.Digests) {
			b = appendBytes(appendHead(b, 0, tag), c.Digests[tag])
		}
	}
	return b
}

// decodeValue reads one field value: a CBOR text string (text fields) or
// integer (dates, codes, numbers), refusing anything else and trailing
// bytes.
func decodeValue(r []byte, text bool) (any, bool) {
	if len(r) == 0 {
		return nil, false
	}
	major, arg, n, ok := readHead(r)
	if !ok {
		return nil, false
	}
	r = r[n:]
	switch {
	case text && major == 3 && uint64(len(r)) == arg:
		s := string(r)
		return s, utf8.ValidString(s)
	case !text && major == 0 && len(r) == 0 && arg <= 1<<62:
		return int64(arg), true
	case !text && major == 1 && len(r) == 0 && arg < 1<<62:
		return -1 - int64(arg), true
	}
	return nil, false
}

// readHead reads a CBOR head in its shortest form (deterministic
// encoding); it returns the major type, argument and head length.
func readHead(b []byte) (major byte, arg uint64, n int, ok bool) {
	major, ai := b[0]>>5, b[0]&31
	switch {
	case ai < 24:
		return major, uint64(ai), 1, true
	case ai == 24 && len(b) >= 2 && b[1] >= 24:
		return major, uint64(b[1]), 2, true
	case ai == 25 && len(b) >= 3:
		v := uint64(b[1])<<8 | uint64(b[2])
		return major, v, 3, v >= 1<<8
	case ai == 26 && len(b) >= 5:
		v := uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
		return major, v, 5, v >= 1<<16
	case ai == 27 && len(b) >= 9:
		var v uint64
		for _, c := range b[1:9] {
			v = v<<8 | uint64(c)
		}
		return major, v, 9, v >= 1<<32
	}
	return 0, 0, 0, false
}
