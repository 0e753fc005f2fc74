package sm2verify

// A fixed-base table for a point P with window w holds, for every window
// i < ⌈256/w⌉ and every j in 1..2^(w-1), the affine point j·2^(w·i)·P. A
// scalar recoded into signed digits d_i (see recode) then multiplies P with
// one mixed addition per non-zero digit and no doubling at all:
// k·P = ±Σ d_i·2^(w·i)·P, each term a table point or its negative.
//
// No entry is the point at infinity: j·2^(w·i) is never a multiple of the
// prime n, because j < n.

type table struct {
	w       uint          // window width in bits
	half    int           // 2^(w-1), points per window
	windows int           // ⌈256/w⌉
	pts     []affinePoint // pts[i*half + j-1] = j·2^(w·i)·P
}

func windowsFor(w uint) int { return (256 + int(w) - 1) / int(w) }

// Smallest window width allowed; bounds the digits buffers in mulAdd.
const (
	minWindow  = 4
	maxWindows = (256 + minWindow - 1) / minWindow
)

func newTable(p *affinePoint, w uint) *table {
	if w < minWindow || w > 12 {
		panic("sm2verify: window width out of range")
	}
	t := &table{w: w, half: 1 << (w - 1), windows: windowsFor(w)}
	jac := make([]jacobianPoint, t.windows*t.half)
	var base jacobianPoint
	base.setAffine(p)
	for i := 0; i < t.windows; i++ {
		row := jac[i*t.half : (i+1)*t.half]
		row[0] = base
		row[1] = base
		row[1].double()
		for j := 2; j < t.half; j++ {
			row[j] = row[j-1]
			row[j].add(&base)
		}
		base = row[t.half-1] // 2^(w-1)·B
		base.double()        // 2^w·B, the next window's base
	}
	for i := range jac {
		if jac[i].inf {
			panic("sm2verify: internal error: infinity in a fixed-base table")
		}
	}
	t.pts = make([]affinePoint, len(jac))
	batchToAffine(t.pts, jac)
	return t
}

// addDigit adds d·2^(w·i)·P to acc, negated when neg is set.
func (t *table) addDigit(acc *jacobianPoint, i int, d int32, neg bool) {
	if d == 0 {
		return
	}
	if d < 0 {
		d, neg = -d, !neg
	}
	acc.addAffine(&t.pts[i*t.half+int(d)-1], neg)
}

// mulAdd returns s·G + t·P, where gt and pt are the tables of G and P and
// 0 < s, t < n. The windows of the two are interleaved (G's window i, then
// P's window i), which the tests of the exceptional cases rely on.
func mulAdd(gt *table, s *scalar, pt *table, t *scalar) jacobianPoint {
	var sd, td [maxWindows]int32
	sneg := recode(*s, gt.w, sd[:gt.windows])
	tneg := recode(*t, pt.w, td[:pt.windows])
	acc := jacobianPoint{inf: true}
	for i := 0; i < max(gt.windows, pt.windows); i++ {
		if i < gt.windows {
			gt.addDigit(&acc, i, sd[i], sneg)
		}
		if i < pt.windows {
			pt.addDigit(&acc, i, td[i], tneg)
		}
	}
	return acc
}
