package sm2verify

import (
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// Exceptional cases of the point arithmetic, made on purpose: with the
// private key d known, P = d·G, so the table points of P are multiples of G
// and s, t can be chosen so that the accumulator meets the point being added
// (add turns into double) or its negative (the sum becomes infinity). The
// accumulation order is G's window 0, P's window 0, G's window 1, …
// (mulAdd). pathHook counts the branches taken, so each case proves it
// reached the branch it is about.

func countPaths(t *testing.T) *[3]int {
	t.Helper()
	var counts [3]int
	pathHook = func(p int) { counts[p]++ }
	t.Cleanup(func() { pathHook = nil })
	return &counts
}

func pow2(k uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), k) }

func modAdd(vs ...*big.Int) *big.Int {
	s := new(big.Int)
	for _, v := range vs {
		s.Add(s, v)
	}
	return s.Mod(s, refN)
}

func neg(v *big.Int) *big.Int { return new(big.Int).Mod(new(big.Int).Neg(v), refN) }

func TestExceptionalPaths(t *testing.T) {
	nm1 := new(big.Int).Sub(refN, big.NewInt(1))
	for _, c := range []struct {
		name   string
		d      *big.Int
		s, t   *big.Int
		double bool // the case must take the add-equals-double branch
		cancel bool // … and/or the add-the-negative branch
		inf    bool // the whole sum is infinity
	}{
		// P = G, same low digit: s₀G then t₀P = s₀G: double.
		{"d=1 equal low digits", big.NewInt(1), modAdd(big.NewInt(77), pow2(200)), modAdd(big.NewInt(77), pow2(210)), true, false, false},
		// P = G, t > n/2 recodes as -(n-t) whose low digit equals s's: cancel.
		{"d=1 opposite low digits", big.NewInt(1), modAdd(big.NewInt(77), pow2(200)), neg(modAdd(big.NewInt(77), pow2(210))), false, true, false},
		// P = G, t = n - s: every window cancels and the sum is infinity.
		{"d=1 t=-s", big.NewInt(1), modAdd(big.NewInt(12345), pow2(150)), neg(modAdd(big.NewInt(12345), pow2(150))), false, true, true},
		// P = -G, s = t in the low windows: cancel.
		{"d=n-1 equal low digits", nm1, modAdd(big.NewInt(5), pow2(100)), modAdd(big.NewInt(5), pow2(220)), false, true, false},
		// P = -G, t = -s in the low windows: double.
		{"d=n-1 opposite low digits", nm1, modAdd(big.NewInt(5), pow2(100)), neg(modAdd(big.NewInt(5), pow2(220))), true, false, false},
		// P = -G, s = t: the sum is infinity.
		{"d=n-1 t=s", nm1, modAdd(big.NewInt(99), pow2(180)), modAdd(big.NewInt(99), pow2(180)), false, true, true},
		// P = 2G: s₀ = 66 and t₀ = 33 give 66G + 33·2G: double.
		{"d=2 s0=2t0", big.NewInt(2), modAdd(big.NewInt(66), pow2(200)), modAdd(big.NewInt(33), pow2(230)), true, false, false},
		// P = -2G: 66G + 33·(-2G): cancel.
		{"d=n-2 s0=2t0", new(big.Int).Sub(refN, big.NewInt(2)), modAdd(big.NewInt(66), pow2(200)), modAdd(big.NewInt(33), pow2(230)), false, true, false},
		// P = 2^8·G: P's window-0 points are G's window-1 points (for w = 8);
		// s = 256 + …, t = 1 + …: 256G meets 256G.
		{"d=2^8 shifted tables", pow2(8), modAdd(big.NewInt(256), pow2(200)), modAdd(big.NewInt(1), pow2(230)), true, false, false},
		// P = 3G, s + 3t ≡ 0: infinity.
		{"d=3 s=-3t", big.NewInt(3), neg(big.NewInt(3 * 1000003)), big.NewInt(1000003), false, true, true},
		// Small d, small scalars: several coincidences of table points.
		{"d=2 tiny", big.NewInt(2), big.NewInt(2), big.NewInt(1), true, false, false},
		{"d=1 tiny", big.NewInt(1), big.NewInt(1), big.NewInt(1), true, false, false},
		{"d=1 s=n-1 t=1", big.NewInt(1), nm1, big.NewInt(1), false, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := refMul(c.d, refG)
			q := refToAffine(t, p)
			tbl := newTable(&q, keyWindow)
			ss, ts := bigToScalar(c.s), bigToScalar(c.t)
			g := gTable()
			counts := countPaths(t)
			got := mulAdd(g, &ss, tbl, &ts)
			want := refMulAdd(c.s, c.t, p)
			if !jacobianToRef(&got).equal(want) {
				t.Fatalf("s·G + t·P = %v, reference %v", jacobianToRef(&got), want)
			}
			if want.inf() != c.inf {
				t.Fatalf("case expects infinity=%v, reference says %v", c.inf, want.inf())
			}
			if c.double && counts[pathDouble] == 0 {
				t.Errorf("the add-equals-double branch was not taken (counts %v)", *counts)
			}
			if c.cancel && counts[pathCancel] == 0 {
				t.Errorf("the add-the-negative branch was not taken (counts %v)", *counts)
			}
			if counts[pathFromInfinity] == 0 {
				t.Errorf("the accumulator never started from infinity (counts %v)", *counts)
			}

			// The same (s, t) as a signature: r = t - s. Choose the digest
			// so that it is valid: e = r - x1. Both we and gmsm must accept
			// it, and both reject it with another digest.
			pub := refToECDSA(p)
			k, err := NewPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			r := modAdd(c.t, neg(c.s))
			if r.Sign() == 0 {
				// t = s means r = 0: no signature at all.
				if k.VerifyDigest(make([]byte, 32), rawSig(r, c.s)) || sm2.VerifyASN1(pub, make([]byte, 32), derSig(t, r, c.s)) {
					t.Error("r = 0 accepted")
				}
				return
			}
			x1 := big.NewInt(0)
			if !want.inf() {
				x1 = want.x
			}
			e := modAdd(r, neg(x1))
			eb := e.FillBytes(make([]byte, 32))
			rs := rawSig(r, c.s)
			der := derSig(t, r, c.s)
			ours := k.VerifyDigest(eb, rs)
			gm := sm2.VerifyASN1(pub, eb, der)
			if ours != gm || ours == want.inf() {
				t.Errorf("crafted signature: ours %v, gmsm %v, sum at infinity %v", ours, gm, want.inf())
			}
			eb[31] ^= 1
			if k.VerifyDigest(eb, rs) || sm2.VerifyASN1(pub, eb, der) {
				t.Error("crafted signature verifies with another digest")
			}
			if got.inf {
				// The sum is infinity; a digest that fits whatever finite
				// point the accumulator's coordinates last held must not
				// verify either.
				stale := got
				stale.inf = false
				sa, _ := stale.toAffine()
				e := modAdd(r, neg(feToBig(&sa.x))).FillBytes(make([]byte, 32))
				if k.VerifyDigest(e, rs) || sm2.VerifyASN1(pub, e, der) {
					t.Error("a signature whose s·G + t·P is infinity verifies")
				}
			}
		})
	}
}

// TestXAboveN builds a verification whose x1 lies in [n, p), so that
// (e + x1) mod n needs the c + n branch of the final comparison. Such points
// are about 2^-128 of all, so the public key is made to order: pick x ≥ n on
// the curve as Q, choose r and s, and let P = t⁻¹(Q - s·G), so that
// s·G + t·P = Q. Nobody knows P's private key, and nobody needs to.
func TestXAboveN(t *testing.T) {
	found := 0
	for x := new(big.Int).Set(refN); found < 3 && x.Cmp(refP) < 0; x.Add(x, big.NewInt(1)) {
		rhs := new(big.Int).Mul(x, x)
		rhs.Add(rhs, refA)
		rhs.Mul(rhs, x)
		rhs.Add(rhs, refB)
		rhs.Mod(rhs, refP)
		y := refSqrt(rhs)
		if y == nil {
			continue
		}
		found++
		q := refPoint{new(big.Int).Set(x), y}
		if !refOnCurve(q) {
			t.Fatal("constructed point is not on the curve")
		}
		r := modAdd(big.NewInt(int64(1000+found)), pow2(201))
		s := modAdd(big.NewInt(int64(7*found)), pow2(177))
		tt := modAdd(r, s)
		tInv := new(big.Int).ModInverse(tt, refN)
		p := refMul(tInv, refAdd(q, refNeg(refMul(s, refG))))
		if !refMulAdd(s, tt, p).equal(q) {
			t.Fatal("constructed key does not give s·G + t·P = Q")
		}
		pub := refToECDSA(p)
		k, err := NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		// e = r - x1 mod n: valid, through the x1 = c + n branch.
		e := modAdd(r, neg(q.x))
		eb := e.FillBytes(make([]byte, 32))
		if !k.VerifyDigest(eb, rawSig(r, s)) {
			t.Errorf("x1 = %x ≥ n: valid signature rejected", q.x)
		}
		if !sm2.VerifyASN1(pub, eb, derSig(t, r, s)) {
			t.Errorf("x1 = %x ≥ n: gmsm rejects the constructed signature", q.x)
		}
		// e = r - (x1 - n) mod n is the same residue: also valid. And
		// e = r - x1 + 1 is not.
		e2 := modAdd(r, neg(new(big.Int).Sub(q.x, refN)))
		if e2.Cmp(e) != 0 {
			t.Fatal("x1 and x1 - n are different residues?")
		}
		bad := modAdd(e, big.NewInt(1)).FillBytes(make([]byte, 32))
		if k.VerifyDigest(bad, rawSig(r, s)) || sm2.VerifyASN1(pub, bad, derSig(t, r, s)) {
			t.Error("x1 ≥ n: a wrong digest verifies")
		}
	}
	if found == 0 {
		t.Fatal("no curve point with x in [n, p) found")
	}
}

// TestBoundarySignatures makes valid signatures with r and s at the ends of
// [1, n-1] (and t = 1), choosing the digest to fit, and checks that we and
// gmsm both accept them; and that r or s one past the end is refused.
func TestBoundarySignatures(t *testing.T) {
	d := mustHex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
	p := refMul(d, refG)
	pub := refToECDSA(p)
	k, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(refN, one)
	for _, rs := range [][2]*big.Int{
		{one, one}, {nm1, nm1}, {one, new(big.Int).Sub(nm1, one)}, {new(big.Int).Sub(nm1, one), one},
		{big.NewInt(2), nm1} /* t = 1 */, {nm1, big.NewInt(2)},
		{new(big.Int).Rsh(refN, 1), new(big.Int).Rsh(refN, 1)},
	} {
		r, s := rs[0], rs[1]
		tt := modAdd(r, s)
		sum := refMulAdd(s, tt, p)
		e := modAdd(r, neg(sum.x)).FillBytes(make([]byte, 32))
		if !k.VerifyDigest(e, rawSig(r, s)) || !sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
			t.Errorf("r=%x s=%x: valid boundary signature rejected (ours %v, gmsm %v)", r, s,
				k.VerifyDigest(e, rawSig(r, s)), sm2.VerifyASN1(pub, e, derSig(t, r, s)))
		}
	}
	// r or s = 0 or n, with a digest that would make the equation hold if
	// the range checks were missing: (0, s) has t = s; (n, s) has t = s too.
	for _, rs := range [][2]*big.Int{{new(big.Int), big.NewInt(5)}, {refN, big.NewInt(5)}} {
		r, s := rs[0], rs[1]
		sum := refMulAdd(s, s, p)
		e := modAdd(r, neg(sum.x)).FillBytes(make([]byte, 32))
		if k.VerifyDigest(e, rawSig(r, s)) || sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
			t.Errorf("r=%x accepted", r)
		}
	}
	// t = r + s = n: refused whatever the digest (with e = r - x(s·G) the
	// equation would hold if t = 0 were let through).
	for _, rs := range [][2]*big.Int{{one, nm1}, {nm1, one}, {big.NewInt(12345), new(big.Int).Sub(refN, big.NewInt(12345))}} {
		r, s := rs[0], rs[1]
		sum := refMul(s, refG)
		e := modAdd(r, neg(sum.x)).FillBytes(make([]byte, 32))
		if k.VerifyDigest(e, rawSig(r, s)) || sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
			t.Errorf("r=%x s=%x (t = 0) accepted", r, s)
		}
	}
	// s = 0 makes s·G + t·P = r·P: refuse even with the digest that fits.
	{
		r, s := big.NewInt(5), new(big.Int)
		sum := refMul(r, p)
		e := modAdd(r, neg(sum.x)).FillBytes(make([]byte, 32))
		if k.VerifyDigest(e, rawSig(r, s)) || sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
			t.Error("s = 0 accepted")
		}
	}
	// s = n with r = 5 behaves as s = 0 (t = r): refuse.
	r, s := big.NewInt(5), new(big.Int).Set(refN)
	sum := refMul(r, p)
	e := modAdd(r, neg(sum.x)).FillBytes(make([]byte, 32))
	if k.VerifyDigest(e, rawSig(r, s)) || sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
		t.Error("s = n accepted")
	}
}

// TestXWrap covers the other side of the c + n comparison: x1 small enough
// that c = x1 + (p - n) < n, so that c + n = x1 + p ≡ x1 (mod p) while
// (e + x1) mod n = r - (p - n) ≠ r. Comparing c + n without first checking
// c + n < p would accept this forgery.
func TestXWrap(t *testing.T) {
	pMinusN := new(big.Int).Sub(refP, refN)
	found := 0
	for x := big.NewInt(0); found < 3; x.Add(x, big.NewInt(1)) {
		rhs := new(big.Int).Mul(x, x)
		rhs.Add(rhs, refA)
		rhs.Mul(rhs, x)
		rhs.Add(rhs, refB)
		rhs.Mod(rhs, refP)
		y := refSqrt(rhs)
		if y == nil {
			continue
		}
		found++
		q := refPoint{new(big.Int).Set(x), y}
		r := modAdd(big.NewInt(int64(3000+found)), pow2(199))
		s := modAdd(big.NewInt(int64(11*found)), pow2(171))
		tt := modAdd(r, s)
		p := refMul(new(big.Int).ModInverse(tt, refN), refAdd(q, refNeg(refMul(s, refG))))
		pub := refToECDSA(p)
		k, err := NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		c := new(big.Int).Add(q.x, pMinusN) // < n
		e := modAdd(r, neg(c)).FillBytes(make([]byte, 32))
		if k.VerifyDigest(e, rawSig(r, s)) || sm2.VerifyASN1(pub, e, derSig(t, r, s)) {
			t.Errorf("x1 = %d: forgery through c + n ≥ p accepted", q.x)
		}
		// The honest digest for the same (r, s) verifies.
		good := modAdd(r, neg(q.x)).FillBytes(make([]byte, 32))
		if !k.VerifyDigest(good, rawSig(r, s)) || !sm2.VerifyASN1(pub, good, derSig(t, r, s)) {
			t.Errorf("x1 = %d: valid signature rejected", q.x)
		}
	}
}
