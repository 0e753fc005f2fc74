package sm2verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"math/big"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Window widths of the fixed-base tables, chosen by measurement (see the
// package documentation): 2^(w-1)·⌈256/w⌉ affine points of 64 bytes each.
const (
	keyWindow = 8 // 32 windows × 128 points = 256 KiB per prepared key
	gWindow   = 8 // the same for G, built once per process
)

// defaultUID is the default user ID of GB/T 32918.2 / GM/T 0009.
var defaultUID = []byte("1234567812345678")

// PublicKey is an SM2 public key prepared for fast verification: it holds
// a fixed-base table of the key's point and its Z_A for the default user ID.
// Make one with NewPublicKey (the zero value verifies nothing). It is
// immutable and safe for concurrent use.
type PublicKey struct {
	za  [32]byte
	tbl *table
}

// NewPublicKey prepares pub for verification. It refuses keys on curves
// other than SM2's (sm2.P256(), or a curve with the same parameters) and
// points that are not on the curve. Building the table takes a few
// milliseconds and 256 KiB, which the key keeps.
func NewPublicKey(pub *ecdsa.PublicKey) (*PublicKey, error) {
	if pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
		return nil, errors.New("sm2verify: incomplete public key")
	}
	if !isSM2Curve(pub.Curve) {
		return nil, errors.New("sm2verify: not an SM2 public key")
	}
	pt, err := affineFromBig(pub.X, pub.Y)
	if err != nil {
		return nil, err
	}
	za, err := sm2.CalculateZA(pub, defaultUID)
	if err != nil {
		return nil, err
	}
	k := &PublicKey{tbl: newTable(&pt, keyWindow)}
	copy(k.za[:], za)
	return k, nil
}

// VerifyDigest reports whether rs, the 64-byte concatenation of r and s
// (32 bytes each, big-endian), is a valid signature of the digest e =
// SM3(Z_A || M). As with sm2.VerifyASN1, e is taken as a big-endian integer
// from its leftmost 256 bits and reduced mod n; it is normally 32 bytes.
func (k *PublicKey) VerifyDigest(e, rs []byte) bool {
	if !k.usable() || len(rs) != 64 {
		return false
	}
	return k.verify(e, rs[:32], rs[32:])
}

// Verify reports whether rs (64 bytes, r || s) is a valid signature of msg
// under the default user ID "1234567812345678".
func (k *PublicKey) Verify(msg, rs []byte) bool {
	if !k.usable() || len(rs) != 64 {
		return false
	}
	e := k.digest(msg)
	return k.verify(e[:], rs[:32], rs[32:])
}

// VerifyASN1 reports whether sig, a DER SEQUENCE { r INTEGER, s INTEGER },
// is a valid signature of msg under the default user ID. It gives the same
// answer as sm2.VerifyASN1WithSM2(pub, nil, msg, sig).
func (k *PublicKey) VerifyASN1(msg, sig []byte) bool {
	if !k.usable() {
		return false
	}
	var r, s []byte
	var inner cryptobyte.String
	input := cryptobyte.String(sig)
	if !input.ReadASN1(&inner, asn1.SEQUENCE) ||
		!input.Empty() ||
		!inner.ReadASN1Integer(&r) ||
		!inner.ReadASN1Integer(&s) ||
		!inner.Empty() {
		return false
	}
	// ReadASN1Integer into []byte refuses negative and non-minimal integers
	// and strips the sign byte, leaving the big-endian magnitude.
	if len(r) > 32 || len(s) > 32 {
		return false
	}
	var rb, sb [32]byte
	copy(rb[32-len(r):], r)
	copy(sb[32-len(s):], s)
	e := k.digest(msg)
	return k.verify(e[:], rb[:], sb[:])
}

// usable reports whether k was made by NewPublicKey (the zero value and nil
// verify nothing).
func (k *PublicKey) usable() bool { return k != nil && k.tbl != nil }

func (k *PublicKey) digest(msg []byte) [32]byte {
	var e [32]byte
	h := sm3.New()
	h.Write(k.za[:])
	h.Write(msg)
	h.Sum(e[:0])
	return e
}

// verify is GB/T 32918.2-2016 §7.1 from step B3, r and s 32 bytes each.
func (k *PublicKey) verify(digest, rb, sb []byte) bool {
	r, s := scalarFromBytes(rb), scalarFromBytes(sb)
	// B1, B2: r, s in [1, n-1].
	if r.isZero() || !r.less(&orderN) || s.isZero() || !s.less(&orderN) {
		return false
	}
	e := hashToScalar(digest) // B4
	// B5: t = (r + s) mod n, t ≠ 0.
	t := addModN(&r, &s)
	if t.isZero() {
		return false
	}
	// B6: (x1, y1) = s·G + t·P, not the point at infinity.
	sum := mulAdd(gTable(), &s, k.tbl, &t)
	if sum.inf {
		return false
	}
	// B7: accept iff (e + x1) mod n = r, i.e. x1 ≡ r - e (mod n). With
	// x1 = X/Z² in [0, p) and n < p < 2n, that is x1 = c or x1 = c + n
	// (the latter only if c + n < p), where c = (r - e) mod n; compare
	// c·Z² with X instead of inverting Z.
	c := subModN(&r, &e)
	var z2, cz2 fe
	z2.Square(&sum.z)
	cz2.SetLimbs((*[4]uint64)(&c))
	if cz2.Mul(&cz2, &z2).EqualVartime(&sum.x) {
		return true
	}
	c2, carry := add(&c, &orderN)
	if carry != 0 || cz2.SetLimbs((*[4]uint64)(&c2)) == nil {
		return false // c + n ≥ p: no second candidate
	}
	return cz2.Mul(&cz2, &z2).EqualVartime(&sum.x)
}

// gTable is the table of the base point G, built on first use.
var gTable = sync.OnceValue(func() *table {
	params := sm2.P256().Params()
	g, err := affineFromBig(params.Gx, params.Gy)
	if err != nil {
		panic("sm2verify: base point: " + err.Error())
	}
	return newTable(&g, gWindow)
})

// curveB is the coefficient b of y² = x³ - 3x + b.
var curveB = sync.OnceValue(func() fe {
	var b fe
	if _, err := b.SetBytes(sm2.P256().Params().B.FillBytes(make([]byte, 32))); err != nil {
		panic("sm2verify: curve b: " + err.Error())
	}
	return b
})

func isSM2Curve(c elliptic.Curve) bool {
	want := sm2.P256().Params()
	got := c.Params()
	if got == want {
		return true
	}
	return got != nil && got.BitSize == want.BitSize &&
		bigEqual(got.P, want.P) && bigEqual(got.N, want.N) && bigEqual(got.B, want.B) &&
		bigEqual(got.Gx, want.Gx) && bigEqual(got.Gy, want.Gy)
}

func bigEqual(a, b *big.Int) bool { return a != nil && b != nil && a.Cmp(b) == 0 }

// affineFromBig checks that (x, y) is a point on the curve (coordinates in
// [0, p)) and returns it.
func affineFromBig(x, y *big.Int) (affinePoint, error) {
	var pt affinePoint
	if x.Sign() < 0 || y.Sign() < 0 || x.BitLen() > 256 || y.BitLen() > 256 {
		return pt, errors.New("sm2verify: public key coordinate out of range")
	}
	if _, err := pt.x.SetBytes(x.FillBytes(make([]byte, 32))); err != nil {
		return pt, errors.New("sm2verify: public key coordinate out of range")
	}
	if _, err := pt.y.SetBytes(y.FillBytes(make([]byte, 32))); err != nil {
		return pt, errors.New("sm2verify: public key coordinate out of range")
	}
	// y² = x³ - 3x + b
	var lhs, rhs, t fe
	lhs.Square(&pt.y)
	rhs.Square(&pt.x)
	rhs.Mul(&rhs, &pt.x)
	t.Double(&pt.x)
	t.Add(&t, &pt.x)
	rhs.Sub(&rhs, &t)
	b := curveB()
	rhs.Add(&rhs, &b)
	if !lhs.EqualVartime(&rhs) {
		return pt, errors.New("sm2verify: public key point is not on the SM2 curve")
	}
	return pt, nil
}
