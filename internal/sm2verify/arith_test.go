package sm2verify

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestConstants(t *testing.T) {
	if scalarToBig(orderN).Cmp(refN) != 0 {
		t.Errorf("orderN = %x, want n", scalarToBig(orderN))
	}
	half := new(big.Int).Rsh(new(big.Int).Sub(refN, big.NewInt(1)), 1)
	if scalarToBig(halfN).Cmp(half) != 0 {
		t.Errorf("halfN = %x, want (n-1)/2 = %x", scalarToBig(halfN), half)
	}
	b := curveB()
	if feToBig(&b).Cmp(refB) != 0 {
		t.Errorf("b = %x", feToBig(&b))
	}
}

// edgeScalars are values in [1, n-1] at the boundaries of the recoding.
func edgeScalars() []*big.Int {
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(refN, one)
	half := new(big.Int).Rsh(nm1, 1)
	vs := []*big.Int{
		one, big.NewInt(2), big.NewInt(127), big.NewInt(128), big.NewInt(129), big.NewInt(255), big.NewInt(256),
		half, new(big.Int).Add(half, one), new(big.Int).Sub(half, one),
		nm1, new(big.Int).Sub(refN, big.NewInt(2)), new(big.Int).Sub(refN, big.NewInt(128)),
		new(big.Int).Lsh(one, 255), new(big.Int).Sub(new(big.Int).Lsh(one, 255), one),
		new(big.Int).Lsh(one, 254), new(big.Int).Sub(new(big.Int).Lsh(one, 254), one),
		mustHex("80808080808080808080808080808080808080808080808080808080808080"),
		mustHex("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"),
		mustHex("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
	}
	// 2^k ± 1 around every window boundary for every width.
	for k := 1; k < 256; k++ {
		v := new(big.Int).Lsh(one, uint(k))
		for _, w := range []*big.Int{new(big.Int).Sub(v, one), v, new(big.Int).Add(v, one)} {
			if w.Cmp(refN) < 0 {
				vs = append(vs, w)
			}
		}
	}
	return vs
}

func TestScalarOps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	vals := edgeScalars()
	for range 200 {
		vals = append(vals, randScalar(r))
	}
	vals = append(vals, new(big.Int)) // 0
	for i, a := range vals {
		b := vals[(i*7+3)%len(vals)]
		sa, sb := bigToScalar(a), bigToScalar(b)
		want := new(big.Int).Add(a, b)
		want.Mod(want, refN)
		if got := addModN(&sa, &sb); scalarToBig(got).Cmp(want) != 0 {
			t.Fatalf("%x + %x mod n = %x, want %x", a, b, scalarToBig(got), want)
		}
		want.Sub(a, b).Mod(want, refN)
		if got := subModN(&sa, &sb); scalarToBig(got).Cmp(want) != 0 {
			t.Fatalf("%x - %x mod n = %x, want %x", a, b, scalarToBig(got), want)
		}
		if sa.less(&sb) != (a.Cmp(b) < 0) {
			t.Fatalf("less(%x, %x) wrong", a, b)
		}
	}
	// hashToScalar: the leftmost 256 bits, reduced once.
	for _, h := range [][]byte{
		nil, {1}, make([]byte, 31), make([]byte, 32), make([]byte, 40),
		refN.Bytes(), new(big.Int).Add(refN, big.NewInt(5)).Bytes(), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)).Bytes(),
		append(new(big.Int).Add(refN, big.NewInt(9)).Bytes(), 0xff, 0xee),
	} {
		hh := h
		if len(hh) > 32 {
			hh = hh[:32]
		}
		want := new(big.Int).SetBytes(hh)
		want.Mod(want, refN)
		if got := hashToScalar(h); scalarToBig(got).Cmp(want) != 0 {
			t.Errorf("hashToScalar(%x) = %x, want %x", h, scalarToBig(got), want)
		}
	}
}

func TestRecode(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	vals := edgeScalars()
	for range 300 {
		vals = append(vals, randScalar(r))
	}
	for w := uint(minWindow); w <= 12; w++ {
		nw := windowsFor(w)
		digits := make([]int32, nw)
		for _, k := range vals {
			neg := recode(bigToScalar(k), w, digits)
			sum := new(big.Int)
			for i := nw - 1; i >= 0; i-- {
				d := digits[i]
				if d > 1<<(w-1) || d <= -(1<<(w-1)) {
					t.Fatalf("w=%d k=%x: digit %d = %d out of range", w, k, i, d)
				}
				sum.Lsh(sum, w)
				sum.Add(sum, big.NewInt(int64(d)))
			}
			if neg {
				sum.Neg(sum)
			}
			sum.Mod(sum, refN)
			if sum.Cmp(k) != 0 {
				t.Fatalf("w=%d: recode(%x) sums to %x", w, k, sum)
			}
		}
	}
}

func randPoint(r *rand.Rand) (refPoint, *big.Int) {
	d := randScalar(r)
	return refMul(d, refG), d
}

func TestPointOps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 30 {
		a, _ := randPoint(r)
		b, _ := randPoint(r)
		qa, qb := refToAffine(t, a), refToAffine(t, b)
		var ja, jb jacobianPoint
		ja.setAffine(&qa)
		jb.setAffine(&qb)
		// Make the Jacobian representations non-trivial (Z ≠ 1).
		ja.double()
		jb.double()
		a2, b2 := refAdd(a, a), refAdd(b, b)
		if got := jacobianToRef(&ja); !got.equal(a2) {
			t.Fatal("double differs from the reference")
		}
		// Jacobian + affine: generic, same point, opposite point.
		for _, c := range []struct {
			q    affinePoint
			neg  bool
			want refPoint
		}{
			{qb, false, refAdd(a2, b)},
			{qb, true, refAdd(a2, refNeg(b))},
			{refToAffine(t, a2), false, refAdd(a2, a2)},
			{refToAffine(t, a2), true, refPoint{}},
		} {
			p := ja
			p.addAffine(&c.q, c.neg)
			if got := jacobianToRef(&p); !got.equal(c.want) {
				t.Fatalf("addAffine(neg=%v) = %v, want %v", c.neg, got, c.want)
			}
		}
		// Infinity + affine.
		p := jacobianPoint{inf: true}
		p.addAffine(&qb, true)
		if got := jacobianToRef(&p); !got.equal(refNeg(b)) {
			t.Fatal("inf + (-b) != -b")
		}
		// Jacobian + Jacobian, including the exceptional cases.
		for _, c := range []struct {
			q    jacobianPoint
			want refPoint
		}{
			{jb, refAdd(a2, b2)},
			{ja, refAdd(a2, a2)},
			{jacobianPoint{inf: true}, a2},
		} {
			p := ja
			p.add(&c.q)
			if got := jacobianToRef(&p); !got.equal(c.want) {
				t.Fatal("add differs from the reference")
			}
		}
		negA := ja
		negA.y.Neg(&negA.y)
		p = ja
		p.add(&negA)
		if !p.inf {
			t.Fatal("P + (-P) is not infinity")
		}
		p = jacobianPoint{inf: true}
		p.add(&jb)
		if got := jacobianToRef(&p); !got.equal(b2) {
			t.Fatal("inf + Q != Q")
		}
		p.inf = true
		p.double()
		if !p.inf {
			t.Fatal("2·inf is not infinity")
		}
	}
}

func TestBatchToAffine(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	var in []jacobianPoint
	var want []refPoint
	for range 9 {
		a, _ := randPoint(r)
		q := refToAffine(t, a)
		var j jacobianPoint
		j.setAffine(&q)
		j.double()
		j.double()
		in = append(in, j)
		want = append(want, refMul(big.NewInt(4), a))
	}
	for n := 1; n <= len(in); n++ {
		out := make([]affinePoint, n)
		batchToAffine(out, in[:n])
		for i := range out {
			if !affineToRef(&out[i]).equal(want[i]) {
				t.Fatalf("batch of %d: point %d differs", n, i)
			}
		}
	}
}

func TestTableEntries(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	p, _ := randPoint(r)
	q := refToAffine(t, p)
	for _, w := range []uint{4, 5, keyWindow} {
		tbl := newTable(&q, w)
		if len(tbl.pts) != windowsFor(w)<<(w-1) {
			t.Fatalf("w=%d: %d points", w, len(tbl.pts))
		}
		for i := 0; i < tbl.windows; i++ {
			js := []int{1, 2, 3, tbl.half - 1, tbl.half}
			if w <= 5 {
				js = js[:0]
				for j := 1; j <= tbl.half; j++ {
					js = append(js, j)
				}
			}
			for _, j := range js {
				k := new(big.Int).Lsh(big.NewInt(int64(j)), w*uint(i))
				if got := affineToRef(&tbl.pts[i*tbl.half+j-1]); !got.equal(refMul(k, p)) {
					t.Fatalf("w=%d: entry (%d, %d) differs from %d·2^%d·P", w, i, j, j, w*uint(i))
				}
			}
		}
	}
	g := gTable()
	for _, i := range []int{0, 1, g.windows - 1} {
		k := new(big.Int).Lsh(big.NewInt(int64(g.half)), g.w*uint(i))
		if got := affineToRef(&g.pts[i*g.half+g.half-1]); !got.equal(refMul(k, refG)) {
			t.Fatalf("G table entry (%d, %d) differs", i, g.half)
		}
	}
}

func TestMulAddRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	g := gTable()
	for range 25 {
		p, _ := randPoint(r)
		q := refToAffine(t, p)
		tbl := newTable(&q, keyWindow)
		for range 4 {
			s, tt := randScalar(r), randScalar(r)
			ss, ts := bigToScalar(s), bigToScalar(tt)
			got := mulAdd(g, &ss, tbl, &ts)
			if want := refMulAdd(s, tt, p); !jacobianToRef(&got).equal(want) {
				t.Fatalf("s·G + t·P differs from the reference for s=%x t=%x", s, tt)
			}
		}
	}
	// Mixed window widths agree too.
	p, _ := randPoint(r)
	q := refToAffine(t, p)
	for _, w := range []uint{4, 5, 6, 7} {
		tbl := newTable(&q, w)
		gw := newTable(&affinePoint{x: g.pts[0].x, y: g.pts[0].y}, w+1)
		s, tt := randScalar(r), randScalar(r)
		ss, ts := bigToScalar(s), bigToScalar(tt)
		got := mulAdd(gw, &ss, tbl, &ts)
		if want := refMulAdd(s, tt, p); !jacobianToRef(&got).equal(want) {
			t.Fatalf("w=%d/%d: s·G + t·P differs from the reference", w+1, w)
		}
	}
}
