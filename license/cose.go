package license

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/internal/sm2verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// COSE algorithm and curve identifiers. SM2 has no IANA COSE registration,
// so Zhengxin takes the first value of the private-use ranges of the COSE
// Algorithms and COSE Elliptic Curves registries (values below -65536,
// RFC 9052 §16.4 / RFC 8152 §16.4).
const (
	// AlgSM2SM3 is SM2 signature with SM3 (GB/T 32918.2, GB/T 32905), Z_A
	// computed with the default user ID "1234567812345678", over the raw
	// COSE ToBeSigned bytes; the signature is r||s, 32 bytes each,
	// big-endian, as COSE encodes ECDSA (RFC 9053 §2.1).
	AlgSM2SM3 int64 = -65537
	// AlgES256 is ECDSA P-256 with SHA-256 (RFC 9053), accepted for holder
	// device keys (WebCrypto non-extractable keys cannot do SM2).
	AlgES256 int64 = -7

	// CrvSM2 is the SM2 curve (sm2p256v1) in a COSE_Key.
	CrvSM2 int64 = -65537
	// CrvP256 is NIST P-256 (RFC 9053).
	CrvP256 int64 = 1
)

// KIDOf returns the key identifier of a signer certificate: the first 8
// bytes of SM3 over its DER encoding.
func KIDOf(certDER []byte) []byte {
	h := sm3.Sum(certDER)
	return h[:8]
}

var (
	encMode cbor.EncMode
	// decMode decodes everything signed or schema-bound: no tags, no
	// indefinite lengths, no duplicate keys, bounded sizes.
	decMode cbor.DecMode
	// envDecMode decodes the unsigned envelopes whose elements hold tagged
	// COSE_Sign1 structures (kept raw and checked by parseCOSESign1).
	envDecMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	opts := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   8,
		MaxArrayElements:  64,
		MaxMapPairs:       64,
		IntDec:            cbor.IntDecConvertSignedOrFail,
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		DefaultMapType:    reflect.TypeOf(map[int64]any{}),
	}
	if decMode, err = opts.DecMode(); err != nil {
		panic(err)
	}
	opts.TagsMd = cbor.TagsAllowed
	if envDecMode, err = opts.DecMode(); err != nil {
		panic(err)
	}
}

func formatErr(format string, a ...any) error {
	return report.Errorf(report.FormatFailure, "license: "+format, a...)
}

// appendHead appends a CBOR head of major type m with argument n.
func appendHead(b []byte, m byte, n uint64) []byte {
	m <<= 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n < 1<<32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		return appendHead(b, 1, uint64(-1-v))
	}
	return appendHead(b, 0, uint64(v))
}

func appendBytes(b []byte, v []byte) []byte { return append(appendHead(b, 2, uint64(len(v))), v...) }
func appendText(b []byte, v string) []byte  { return append(appendHead(b, 3, uint64(len(v))), v...) }

// sigStructure returns the COSE ToBeSigned bytes of RFC 9052 §4.4:
// ["Signature1", body_protected, external_aad = h”, payload].
func sigStructure(protected, payload []byte) []byte {
	return sigStructureAAD(protected, nil, payload)
}

// sigStructureAAD is sigStructure with an external_aad.
func sigStructureAAD(protected, aad, payload []byte) []byte {
	b := make([]byte, 0, 24+len(protected)+len(aad)+len(payload))
	b = append(b, 0x84)
	b = appendText(b, "Signature1")
	b = appendBytes(b, protected)
	b = appendBytes(b, aad)
	return appendBytes(b, payload)
}

// protectedHeader encodes {1: alg, 4: kid} (kid omitted when empty) in
// deterministic CBOR.
func protectedHeader(alg int64, kid []byte) []byte {
	n := uint64(1)
	if len(kid) > 0 {
		n = 2
	}
	b := appendHead(nil, 5, n)
	b = appendInt(append(b, 0x01), alg)
	if len(kid) > 0 {
		b = appendBytes(append(b, 0x04), kid)
	}
	return b
}

type header struct {
	Alg int64  `cbor:"1,keyasint"`
	KID []byte `cbor:"4,keyasint,omitempty"`
}

func parseProtected(b []byte) (header, error) {
	h, ok := fastProtected(b)
	if ok {
		if len(h.KID) > 16 {
			return h, formatErr("kid longer than 16 bytes")
		}
		return h, nil
	}
	h = header{}
	if err := decMode.Unmarshal(b, &h); err != nil {
		return h, formatErr("malformed protected header: %v", err)
	}
	if len(h.KID) > 16 {
		return h, formatErr("kid longer than 16 bytes")
	}
	return h, nil
}

// coseSign1 is COSE_Sign1 (RFC 9052 §4.2) without its tag 18:
// [protected: bstr, unprotected: {}, payload: bstr / nil, signature: bstr].
type coseSign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

const coseSign1Tag = 0xd2 // CBOR tag 18, one byte

func (c *coseSign1) marshal() []byte {
	b := []byte{coseSign1Tag, 0x84}
	b = appendBytes(b, c.Protected)
	b = append(b, 0xa0)
	if c.Payload == nil {
		b = append(b, 0xf6)
	} else {
		b = appendBytes(b, c.Payload)
	}
	return appendBytes(b, c.Signature)
}

func parseCOSESign1(b []byte) (*coseSign1, error) {
	if len(b) < 1 || b[0] != coseSign1Tag {
		return nil, formatErr("not a tagged COSE_Sign1 (tag 18)")
	}
	var c coseSign1
	if err := decMode.Unmarshal(b[1:], &c); err != nil {
		return nil, formatErr("malformed COSE_Sign1: %v", err)
	}
	if len(c.Unprotected) != 1 || c.Unprotected[0] != 0xa0 {
		return nil, formatErr("COSE_Sign1 unprotected header must be empty")
	}
	if len(c.Signature) != 64 {
		return nil, report.Errorf(report.FormatFailure, "license: signature must be 64 bytes r||s, is %d", len(c.Signature))
	}
	return &c, nil
}

// zaCache keeps Z_A (GB/T 32918.2 §5.5, default user ID) per signer key:
// a verifier sees the same few agency keys over and over, and Z_A costs an
// SM3 over 210 bytes each time.
var zaCache = struct {
	sync.Mutex
	m map[[64]byte][]byte
}{m: map[[64]byte][]byte{}}

// keyID is a public key as the key of the caches below: X || Y, 32 bytes
// each; ok is false for coordinates that do not fit.
func keyID(pub *ecdsa.PublicKey) (id [64]byte, ok bool) {
	if pub.X.BitLen() > 256 || pub.Y.BitLen() > 256 {
		return id, false
	}
	pub.X.FillBytes(id[:32])
	pub.Y.FillBytes(id[32:])
	return id, true
}

func cachedZA(pub *ecdsa.PublicKey) ([]byte, error) {
	k, ok := keyID(pub)
	if !ok {
		return nil, errors.New("license: public key coordinates longer than 32 bytes")
	}
	zaCache.Lock()
	za, ok := zaCache.m[k]
	zaCache.Unlock()
	if ok {
		return za, nil
	}
	za, err := sm2.CalculateZA(pub, []byte("1234567812345678"))
	if err != nil {
		return nil, err
	}
	zaCache.Lock()
	if len(zaCache.m) >= 1024 {
		clear(zaCache.m)
	}
	zaCache.m[k] = za
	zaCache.Unlock()
	return za, nil
}

// signSM2 signs msg with SM2/SM3 (Z_A with the default user ID) and
// returns r||s. Z_A is taken from the cache (one SM3 of 210 bytes saved
// per signature: it matters in bulk issuance); the result is the same as
// priv.Sign(rand, msg, sm2.DefaultSM2SignerOpts).
func signSM2(rand io.Reader, priv *sm2.PrivateKey, msg []byte) ([]byte, error) {
	za, err := cachedZA(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("license: sm2 sign: %w", err)
	}
	h := sm3.New()
	h.Write(za)
	h.Write(msg)
	der, err := sm2.SignASN1(rand, priv, h.Sum(nil), nil)
	if err != nil {
		return nil, fmt.Errorf("license: sm2 sign: %w", err)
	}
	return derToRS(der)
}

// derToRS converts an ASN.1 SEQUENCE{r, s} signature to 64-byte r||s.
func derToRS(der []byte) ([]byte, error) {
	var ri, si big.Int
	in := cryptobyte.String(der)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() ||
		!body.ReadASN1Integer(&ri) || !body.ReadASN1Integer(&si) || !body.Empty() ||
		ri.Sign() <= 0 || si.Sign() <= 0 || ri.BitLen() > 256 || si.BitLen() > 256 {
		return nil, errors.New("license: malformed signature from signer")
	}
	out := make([]byte, 64)
	ri.FillBytes(out[:32])
	si.FillBytes(out[32:])
	return out, nil
}

// rsToDER converts 64-byte r||s to DER SEQUENCE{r, s}, by hand: it runs
// on every verification, and big.Int plus cryptobyte cost a dozen
// allocations for the same bytes (a test compares the two).
func rsToDER(rs []byte) []byte {
	r, s := derUint(rs[:32]), derUint(rs[32:])
	out := make([]byte, 0, 6+len(r)+len(s))
	out = append(out, 0x30, byte(4+len(r)+len(s)))
	out = append(append(out, 0x02, byte(len(r))), r...)
	return append(append(out, 0x02, byte(len(s))), s...)
}

// derUint is the content of a DER INTEGER holding the unsigned big-endian
// b (at most 32 bytes): no leading zero bytes, one 0x00 before a high bit
// set, and a single 0x00 for zero.
func derUint(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 || b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

// Issuer keys sign every license a counter sees: after prepareAfter
// verifications with one key in this process, it gets a fixed-base table
// (internal/sm2verify: ≈ 2 ms and 256 KiB once, then a verification costs
// about 0.3 of gmsm's). A key seen once or twice (a one-shot CLI run) never
// pays for a table. At most maxPrepared keys keep one; beyond that the
// least recently used loses it.
const (
	prepareAfter = 4
	maxTracked   = 1024
)

var maxPrepared = 64 // a variable for the eviction test

var issuerKeys = struct {
	sync.Mutex
	disabled bool   // tests: measure and check the gmsm path
	tick     uint64 // a use counter, for least recently used
	prepared int
	m        map[[64]byte]*issuerKey
}{m: map[[64]byte]*issuerKey{}}

type issuerKey struct {
	uses, last uint64
	key        *sm2verify.PublicKey
}

// preparedKey counts a verification with pub and returns its prepared key,
// building it on the prepareAfter-th use; nil while it has none.
func preparedKey(pub *ecdsa.PublicKey) *sm2verify.PublicKey {
	id, ok := keyID(pub)
	if !ok {
		return nil
	}
	ik := &issuerKeys
	ik.Lock()
	if ik.disabled {
		ik.Unlock()
		return nil
	}
	e := ik.m[id]
	if e == nil {
		if len(ik.m) >= maxTracked {
			for k, v := range ik.m {
				if v.key == nil {
					delete(ik.m, k)
				}
			}
		}
		e = &issuerKey{}
		ik.m[id] = e
	}
	ik.tick++
	e.uses++
	e.last = ik.tick
	k, build := e.key, e.key == nil && e.uses == prepareAfter
	ik.Unlock()
	if !build {
		return k
	}
	// Outside the lock: other verifications go on with gmsm meanwhile.
	k, err := sm2verify.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	ik.Lock()
	defer ik.Unlock()
	if ik.prepared >= maxPrepared {
		var oldest *issuerKey
		for _, v := range ik.m {
			if v.key != nil && (oldest == nil || v.last < oldest.last) {
				oldest = v
			}
		}
		oldest.key = nil
		oldest.uses = 0
		ik.prepared--
	}
	e.key = k
	ik.prepared++
	if ik.m[id] != e {
		ik.m[id] = e // dropped from the map while the table was built
	}
	return k
}

// verifyIssuerSig checks an SM2 r||s signature by an issuer's key (a
// license or a status list), through its prepared key once it has one.
func verifyIssuerSig(pub *ecdsa.PublicKey, msg, rs []byte) bool {
	if len(rs) != 64 || pub == nil || !sm2.IsSM2PublicKey(pub) {
		return false
	}
	if k := preparedKey(pub); k != nil {
		return k.Verify(msg, rs)
	}
	return verifySig(AlgSM2SM3, pub, msg, rs)
}

// verifySig checks a 64-byte r||s signature of alg over msg.
func verifySig(alg int64, pub *ecdsa.PublicKey, msg, rs []byte) bool {
	if len(rs) != 64 || pub == nil {
		return false
	}
	switch alg {
	case AlgSM2SM3:
		if !sm2.IsSM2PublicKey(pub) {
			return false
		}
		za, err := cachedZA(pub)
		if err != nil {
			return false
		}
		h := sm3.New()
		h.Write(za)
		h.Write(msg)
		return sm2.VerifyASN1(pub, h.Sum(nil), rsToDER(rs))
	case AlgES256:
		if pub.Curve != elliptic.P256() {
			return false
		}
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(pub, h[:], rsToDER(rs))
	}
	return false
}

// signWith signs msg with a crypto.Signer holding an SM2 or P-256 key and
// returns the COSE algorithm and r||s.
func signWith(rand io.Reader, s crypto.Signer, msg []byte) (int64, []byte, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	pub, ok := s.Public().(*ecdsa.PublicKey)
	if !ok {
		return 0, nil, errors.New("license: device key must be SM2 or ECDSA P-256")
	}
	var der []byte
	var err error
	var alg int64
	switch {
	case sm2.IsSM2PublicKey(pub):
		alg = AlgSM2SM3
		der, err = s.Sign(rand, msg, sm2.DefaultSM2SignerOpts)
	case pub.Curve == elliptic.P256():
		alg = AlgES256
		h := sha256.Sum256(msg)
		der, err = s.Sign(rand, h[:], crypto.SHA256)
	default:
		return 0, nil, errors.New("license: device key must be SM2 or ECDSA P-256")
	}
	if err != nil {
		return 0, nil, fmt.Errorf("license: device sign: %w", err)
	}
	rs, err := derToRS(der)
	return alg, rs, err
}

// coseKey encodes an SM2 or P-256 public key as a deterministic COSE_Key
// {1: 2 (EC2), -1: crv, -2: x, -3: y}.
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	var crv int64
	switch {
	case sm2.IsSM2PublicKey(pub):
		crv = CrvSM2
	case pub.Curve == elliptic.P256():
		crv = CrvP256
	default:
		return nil, errors.New("license: holder key must be SM2 or ECDSA P-256")
	}
	b := []byte{0xa4, 0x01, 0x02, 0x20}
	b = appendInt(b, crv)
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	b = appendBytes(append(b, 0x21), x)
	return appendBytes(append(b, 0x22), y), nil
}

// coseKeyCompressed encodes a public key as a COSE_Key whose y is the
// sign bit (RFC 9053 §7.1.1: -3 is a bool), 32 bytes shorter.
func coseKeyCompressed(pub *ecdsa.PublicKey) ([]byte, error) {
	full, err := coseKey(pub)
	if err != nil {
		return nil, err
	}
	b := full[:len(full)-34] // drop y's bstr(32)
	if pub.Y.Bit(0) == 1 {
		return append(b, 0xf5), nil
	}
	return append(b, 0xf4), nil
}

type coseKeyWire struct {
	Kty int64           `cbor:"1,keyasint"`
	Crv int64           `cbor:"-1,keyasint"`
	X   []byte          `cbor:"-2,keyasint"`
	Y   cbor.RawMessage `cbor:"-3,keyasint"`
}

func parseCOSEKey(b []byte) (*ecdsa.PublicKey, error) {
	var k coseKeyWire
	if err := decMode.Unmarshal(b, &k); err != nil {
		return nil, formatErr("malformed holder COSE_Key: %v", err)
	}
	if k.Kty != 2 || len(k.X) != 32 {
		return nil, formatErr("holder COSE_Key must be EC2 with a 32-byte x")
	}
	var curve elliptic.Curve
	switch k.Crv {
	case CrvSM2:
		curve = sm2.P256()
	case CrvP256:
		curve = elliptic.P256()
	default:
		return nil, report.Errorf(report.UnsupportedAlgorithm, "license: holder key curve %d is not supported", k.Crv)
	}
	var y []byte
	switch {
	case len(k.Y) == 1 && (k.Y[0] == 0xf4 || k.Y[0] == 0xf5):
		// SEC 1 compressed form (02 even y, 03 odd), decompressed by the
		// curve's own constant-time code (gmsm's for SM2, crypto's for
		// P-256): a modular square root in big.Int cost a third of
		// verifying a presentation.
		comp := make([]byte, 33)
		comp[0] = 2
		if k.Y[0] == 0xf5 {
			comp[0] = 3
		}
		copy(comp[1:], k.X)
		_, yi := elliptic.UnmarshalCompressed(curve, comp)
		if yi == nil {
			return nil, formatErr("holder key x is not on the curve")
		}
		y = make([]byte, 32)
		yi.FillBytes(y)
	default:
		if err := decMode.Unmarshal(k.Y, &y); err != nil || len(y) != 32 {
			return nil, formatErr("holder COSE_Key y must be 32 bytes or a sign bit")
		}
	}
	raw := append(append([]byte{4}, k.X...), y...)
	switch k.Crv {
	case CrvSM2:
		pub, err := sm2.NewPublicKey(raw)
		if err != nil {
			return nil, formatErr("holder key is not on the SM2 curve")
		}
		return pub, nil
	case CrvP256:
		xi, yi := new(big.Int).SetBytes(k.X), new(big.Int).SetBytes(y)
		if !elliptic.P256().IsOnCurve(xi, yi) {
			return nil, formatErr("holder key is not on P-256")
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: xi, Y: yi}, nil
	}
	return nil, report.Errorf(report.UnsupportedAlgorithm, "license: holder key curve %d is not supported", k.Crv)
}

// Thumbprint returns the confirmation (cnf) value binding a holder device
// key into a license: the first 16 bytes of SM3 over its COSE_Key.
func Thumbprint(pub crypto.PublicKey) ([]byte, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("license: holder key must be SM2 or ECDSA P-256")
	}
	k, err := coseKey(ec)
	if err != nil {
		return nil, err
	}
	h := sm3.Sum(k)
	return h[:16], nil
}
