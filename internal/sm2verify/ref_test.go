package sm2verify

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// A reference for the curve arithmetic, independent of the code under test
// and of gmsm: affine formulas over math/big, with the curve constants of
// GB/T 32918.5-2017 written out here.

func mustHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad hex " + s)
	}
	return v
}

var (
	refP  = mustHex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF")
	refA  = mustHex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
	refB  = mustHex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
	refN  = mustHex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")
	refGx = mustHex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
	refGy = mustHex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
	refG  = refPoint{refGx, refGy}
)

// refPoint is an affine point; x == nil is the point at infinity.
type refPoint struct{ x, y *big.Int }

func (a refPoint) inf() bool { return a.x == nil }

func (a refPoint) equal(b refPoint) bool {
	if a.inf() || b.inf() {
		return a.inf() == b.inf()
	}
	return a.x.Cmp(b.x) == 0 && a.y.Cmp(b.y) == 0
}

func refOnCurve(a refPoint) bool {
	if a.inf() {
		return false
	}
	lhs := new(big.Int).Mul(a.y, a.y)
	lhs.Mod(lhs, refP)
	rhs := new(big.Int).Mul(a.x, a.x)
	rhs.Add(rhs, refA)
	rhs.Mul(rhs, a.x)
	rhs.Add(rhs, refB)
	rhs.Mod(rhs, refP)
	return lhs.Cmp(rhs) == 0
}

func refNeg(a refPoint) refPoint {
	if a.inf() {
		return a
	}
	return refPoint{new(big.Int).Set(a.x), new(big.Int).Mod(new(big.Int).Neg(a.y), refP)}
}

func refAdd(a, b refPoint) refPoint {
	switch {
	case a.inf():
		return b
	case b.inf():
		return a
	}
	var lambda *big.Int
	if a.x.Cmp(b.x) == 0 {
		if new(big.Int).Add(a.y, b.y).Mod(new(big.Int).Add(a.y, b.y), refP).Sign() == 0 {
			return refPoint{}
		}
		// λ = (3x² + a) / 2y
		num := new(big.Int).Mul(a.x, a.x)
		num.Mul(num, big.NewInt(3))
		num.Add(num, refA)
		den := new(big.Int).Lsh(a.y, 1)
		lambda = num.Mul(num, new(big.Int).ModInverse(den.Mod(den, refP), refP))
	} else {
		num := new(big.Int).Sub(b.y, a.y)
		den := new(big.Int).Sub(b.x, a.x)
		den.Mod(den, refP)
		lambda = num.Mul(num, new(big.Int).ModInverse(den, refP))
	}
	lambda.Mod(lambda, refP)
	x := new(big.Int).Mul(lambda, lambda)
	x.Sub(x, a.x)
	x.Sub(x, b.x)
	x.Mod(x, refP)
	y := new(big.Int).Sub(a.x, x)
	y.Mul(y, lambda)
	y.Sub(y, a.y)
	y.Mod(y, refP)
	return refPoint{x, y}
}

// refMul returns k·a by double-and-add (k taken mod n; k ≡ 0 gives infinity).
func refMul(k *big.Int, a refPoint) refPoint {
	k = new(big.Int).Mod(k, refN)
	acc := refPoint{}
	for i := k.BitLen() - 1; i >= 0; i-- {
		acc = refAdd(acc, acc)
		if k.Bit(i) == 1 {
			acc = refAdd(acc, a)
		}
	}
	return acc
}

// refMulAdd returns s·G + t·P.
func refMulAdd(s *big.Int, t *big.Int, p refPoint) refPoint {
	return refAdd(refMul(s, refG), refMul(t, p))
}

// refSqrt returns a square root of v mod p (p ≡ 3 mod 4), or nil.
func refSqrt(v *big.Int) *big.Int {
	e := new(big.Int).Add(refP, big.NewInt(1))
	e.Rsh(e, 2)
	r := new(big.Int).Exp(v, e, refP)
	if new(big.Int).Mod(new(big.Int).Mul(r, r), refP).Cmp(new(big.Int).Mod(v, refP)) != 0 {
		return nil
	}
	return r
}

// refSign signs digest e with private key d and nonce k (GB/T 32918.2 §6.1
// from A4). It returns ok = false if k is unusable.
func refSign(d, k, e *big.Int) (r, s *big.Int, ok bool) {
	x1 := refMul(k, refG)
	if x1.inf() {
		return nil, nil, false
	}
	r = new(big.Int).Add(e, x1.x)
	r.Mod(r, refN)
	if r.Sign() == 0 || new(big.Int).Add(r, k).Cmp(refN) == 0 {
		return nil, nil, false
	}
	dInv := new(big.Int).ModInverse(new(big.Int).Add(d, big.NewInt(1)), refN)
	s = new(big.Int).Mul(r, d)
	s.Sub(k, s)
	s.Mul(s, dInv)
	s.Mod(s, refN)
	return r, s, s.Sign() != 0
}

// Conversions between the reference and the code under test.

func bigToScalar(v *big.Int) scalar {
	var b [32]byte
	v.FillBytes(b[:])
	return scalarFromBytes(b[:])
}

func scalarToBig(k scalar) *big.Int {
	b := k.bytes()
	return new(big.Int).SetBytes(b[:])
}

func feToBig(e *fe) *big.Int { return new(big.Int).SetBytes(e.Bytes()) }

func affineToRef(a *affinePoint) refPoint { return refPoint{feToBig(&a.x), feToBig(&a.y)} }

func jacobianToRef(p *jacobianPoint) refPoint {
	if p.inf {
		return refPoint{}
	}
	q, _ := p.toAffine()
	return affineToRef(&q)
}

func refToAffine(t testing.TB, a refPoint) affinePoint {
	t.Helper()
	q, err := affineFromBig(a.x, a.y)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func refToECDSA(a refPoint) *ecdsa.PublicKey {
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: a.x, Y: a.y}
}

func randScalar(r *rand.Rand) *big.Int {
	var b [40]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	k := new(big.Int).SetBytes(b[:])
	k.Mod(k, new(big.Int).Sub(refN, big.NewInt(1)))
	return k.Add(k, big.NewInt(1)) // [1, n-1]
}

// derSig encodes (r, s) as DER; r and s may be any non-negative integers.
func derSig(t testing.TB, r, s *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rawSig encodes (r, s) as 64 bytes r || s; both must be below 2^256.
func rawSig(r, s *big.Int) []byte {
	rs := make([]byte, 64)
	r.FillBytes(rs[:32])
	s.FillBytes(rs[32:])
	return rs
}

func TestReferenceSelfCheck(t *testing.T) {
	if !refOnCurve(refG) {
		t.Fatal("reference G is not on the reference curve")
	}
	if !refMul(refN, refG).inf() || !refAdd(refMul(new(big.Int).Sub(refN, big.NewInt(1)), refG), refG).inf() {
		t.Fatal("n·G is not infinity in the reference")
	}
	two := refAdd(refG, refG)
	if !refOnCurve(two) || !refAdd(two, refG).equal(refMul(big.NewInt(3), refG)) {
		t.Fatal("reference 2G + G != 3G")
	}
	// The reference constants are gmsm's.
	params := sm2.P256().Params()
	if params.P.Cmp(refP) != 0 || params.N.Cmp(refN) != 0 || params.B.Cmp(refB) != 0 ||
		params.Gx.Cmp(refGx) != 0 || params.Gy.Cmp(refGy) != 0 {
		t.Fatal("reference curve constants differ from gmsm's sm2.P256()")
	}
}

func asn1Unmarshal(der []byte, v any) ([]byte, error) { return asn1.Unmarshal(der, v) }
