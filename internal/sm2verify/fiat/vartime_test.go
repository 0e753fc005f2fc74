package fiat

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// The copied field code and the additions of sm2p256_vartime.go against
// math/big.

var p, _ = new(big.Int).SetString("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)

func toBig(e *SM2P256Element) *big.Int { return new(big.Int).SetBytes(e.Bytes()) }

func fromBig(t *testing.T, v *big.Int) *SM2P256Element {
	t.Helper()
	e, err := new(SM2P256Element).SetBytes(v.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFieldAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(p, big.NewInt(2))}
	for range 200 {
		var b [32]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		vals = append(vals, new(big.Int).Mod(new(big.Int).SetBytes(b[:]), p))
	}
	mod := func(v *big.Int) *big.Int { return v.Mod(v, p) }
	for i, a := range vals {
		b := vals[(i*13+1)%len(vals)]
		ea, eb := fromBig(t, a), fromBig(t, b)
		for name, c := range map[string]struct{ got, want *big.Int }{
			"mul":    {toBig(new(SM2P256Element).Mul(ea, eb)), mod(new(big.Int).Mul(a, b))},
			"square": {toBig(new(SM2P256Element).Square(ea)), mod(new(big.Int).Mul(a, a))},
			"add":    {toBig(new(SM2P256Element).Add(ea, eb)), mod(new(big.Int).Add(a, b))},
			"sub":    {toBig(new(SM2P256Element).Sub(ea, eb)), mod(new(big.Int).Sub(a, b))},
			"neg":    {toBig(new(SM2P256Element).Neg(ea)), mod(new(big.Int).Neg(a))},
			"double": {toBig(new(SM2P256Element).Double(ea)), mod(new(big.Int).Lsh(a, 1))},
		} {
			if c.got.Cmp(c.want) != 0 {
				t.Fatalf("%s(%x, %x) = %x, want %x", name, a, b, c.got, c.want)
			}
		}
		if a.Sign() != 0 {
			inv := toBig(new(SM2P256Element).Invert(ea))
			if inv.Cmp(new(big.Int).ModInverse(a, p)) != 0 {
				t.Fatalf("1/%x = %x", a, inv)
			}
		}
		if ea.IsZeroVartime() != (a.Sign() == 0) || ea.EqualVartime(eb) != (a.Cmp(b) == 0) || !ea.EqualVartime(fromBig(t, a)) {
			t.Fatalf("comparisons wrong for %x, %x", a, b)
		}
		var limbs [4]uint64
		for j := range limbs {
			limbs[j] = new(big.Int).Rsh(a, uint(64*j)).Uint64()
		}
		if got := new(SM2P256Element).SetLimbs(&limbs); got == nil || toBig(got).Cmp(a) != 0 {
			t.Fatalf("SetLimbs(%x) wrong", a)
		}
	}
	// Out of range: p, p + 1, 2^256 - 1, through SetBytes and SetLimbs.
	for _, v := range []*big.Int{p, new(big.Int).Add(p, big.NewInt(1)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))} {
		if _, err := new(SM2P256Element).SetBytes(v.FillBytes(make([]byte, 32))); err == nil {
			t.Errorf("SetBytes(%x) accepted", v)
		}
		var limbs [4]uint64
		for j := range limbs {
			limbs[j] = new(big.Int).Rsh(v, uint(64*j)).Uint64()
		}
		if new(SM2P256Element).SetLimbs(&limbs) != nil {
			t.Errorf("SetLimbs(%x) accepted", v)
		}
	}
	if _, err := new(SM2P256Element).SetBytes(make([]byte, 31)); err == nil {
		t.Error("31-byte SetBytes accepted")
	}
}
