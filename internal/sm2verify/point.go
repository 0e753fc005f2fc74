package sm2verify

import "github.com/zhengxin/zhengxin/internal/sm2verify/fiat"

// Point arithmetic on y² = x³ - 3x + b over GF(p), in Jacobian coordinates
// (X, Y, Z) standing for (X/Z², Y/Z³), with branches for the exceptional
// cases. Nothing here is constant time: it only ever sees public data.

type fe = fiat.SM2P256Element

// affinePoint is a finite point. Tables hold only finite points.
type affinePoint struct {
	x, y fe
}

// jacobianPoint is a point in Jacobian coordinates; inf marks the point at
// infinity (then x, y, z are meaningless).
type jacobianPoint struct {
	x, y, z fe
	inf     bool
}

// Exceptional branches of the additions, reported to pathHook.
const (
	pathFromInfinity = iota // accumulator at infinity: the sum is the other point
	pathDouble              // adding a point to itself: doubled instead
	pathCancel              // adding its negative: the sum is infinity
)

// pathHook, when not nil, is told which exceptional branch an addition took.
// Only tests set it; it is read only off the common path.
var pathHook func(path int)

func (p *jacobianPoint) setAffine(q *affinePoint) {
	p.x.Set(&q.x)
	p.y.Set(&q.y)
	p.z.One()
	p.inf = false
}

// double sets p = 2p (dbl-2001-b, a = -3: 3M + 5S). The curve has prime order,
// so no finite point has y = 0 and the double of a finite point is finite.
func (p *jacobianPoint) double() {
	if p.inf {
		return
	}
	var delta, gamma, beta, alpha, t0, t1 fe
	delta.Square(&p.z)
	gamma.Square(&p.y)
	beta.Mul(&p.x, &gamma)
	t0.Sub(&p.x, &delta)
	t1.Add(&p.x, &delta)
	alpha.Mul(&t0, &t1)
	t0.Double(&alpha)
	alpha.Add(&alpha, &t0) // alpha = 3(X-delta)(X+delta)
	// Z3 = (Y+Z)² - gamma - delta
	t0.Add(&p.y, &p.z)
	t0.Square(&t0)
	t0.Sub(&t0, &gamma)
	p.z.Sub(&t0, &delta)
	// X3 = alpha² - 8 beta
	beta.Double(&beta)
	beta.Double(&beta) // 4 beta
	t0.Double(&beta)   // 8 beta
	p.x.Square(&alpha)
	p.x.Sub(&p.x, &t0)
	// Y3 = alpha (4 beta - X3) - 8 gamma²
	t0.Sub(&beta, &p.x)
	p.y.Mul(&alpha, &t0)
	gamma.Square(&gamma)
	gamma.Double(&gamma)
	gamma.Double(&gamma)
	gamma.Double(&gamma)
	p.y.Sub(&p.y, &gamma)
}

// addAffine sets p = p + q, or p = p - q when neg is set (add-1998-cmo-2
// with Z2 = 1: 8M + 3S). It handles p at infinity, p = ±q.
func (p *jacobianPoint) addAffine(q *affinePoint, neg bool) {
	var qy fe
	if neg {
		qy.Neg(&q.y)
	} else {
		qy.Set(&q.y)
	}
	if p.inf {
		p.x.Set(&q.x)
		p.y.Set(&qy)
		p.z.One()
		p.inf = false
		if pathHook != nil {
			pathHook(pathFromInfinity)
		}
		return
	}
	var z1z1, u2, s2, h, r fe
	z1z1.Square(&p.z)
	u2.Mul(&q.x, &z1z1)
	s2.Mul(&qy, &p.z)
	s2.Mul(&s2, &z1z1)
	h.Sub(&u2, &p.x)
	r.Sub(&s2, &p.y)
	if h.IsZeroVartime() {
		if r.IsZeroVartime() {
			if pathHook != nil {
				pathHook(pathDouble)
			}
			p.double()
		} else {
			if pathHook != nil {
				pathHook(pathCancel)
			}
			p.inf = true
		}
		return
	}
	var hh, hhh, v, t fe
	hh.Square(&h)
	hhh.Mul(&h, &hh)
	v.Mul(&p.x, &hh)
	// X3 = r² - HHH - 2V
	p.x.Square(&r)
	p.x.Sub(&p.x, &hhh)
	t.Double(&v)
	p.x.Sub(&p.x, &t)
	// Y3 = r (V - X3) - Y1 HHH
	v.Sub(&v, &p.x)
	t.Mul(&p.y, &hhh)
	p.y.Mul(&r, &v)
	p.y.Sub(&p.y, &t)
	// Z3 = Z1 H
	p.z.Mul(&p.z, &h)
}

// add sets p = p + q for Jacobian q (add-1998-cmo-2: 12M + 4S), handling
// either at infinity and p = ±q. Used only to build tables.
func (p *jacobianPoint) add(q *jacobianPoint) {
	if q.inf {
		return
	}
	if p.inf {
		*p = *q
		return
	}
	var z1z1, z2z2, u1, u2, s1, s2, h, r fe
	z1z1.Square(&p.z)
	z2z2.Square(&q.z)
	u1.Mul(&p.x, &z2z2)
	u2.Mul(&q.x, &z1z1)
	s1.Mul(&p.y, &q.z)
	s1.Mul(&s1, &z2z2)
	s2.Mul(&q.y, &p.z)
	s2.Mul(&s2, &z1z1)
	h.Sub(&u2, &u1)
	r.Sub(&s2, &s1)
	if h.IsZeroVartime() {
		if r.IsZeroVartime() {
			p.double()
		} else {
			p.inf = true
		}
		return
	}
	var hh, hhh, v, t fe
	hh.Square(&h)
	hhh.Mul(&h, &hh)
	v.Mul(&u1, &hh)
	p.x.Square(&r)
	p.x.Sub(&p.x, &hhh)
	t.Double(&v)
	p.x.Sub(&p.x, &t)
	v.Sub(&v, &p.x)
	t.Mul(&s1, &hhh)
	p.y.Mul(&r, &v)
	p.y.Sub(&p.y, &t)
	p.z.Mul(&p.z, &q.z)
	p.z.Mul(&p.z, &h)
}

// toAffine returns p in affine coordinates; ok is false for infinity.
func (p *jacobianPoint) toAffine() (q affinePoint, ok bool) {
	if p.inf {
		return q, false
	}
	var zi, zi2 fe
	zi.Invert(&p.z)
	zi2.Square(&zi)
	q.x.Mul(&p.x, &zi2)
	zi2.Mul(&zi2, &zi)
	q.y.Mul(&p.y, &zi2)
	return q, true
}

// batchToAffine converts finite points in to affine into out (len(out) ==
// len(in)) with one inversion (Montgomery's trick). It uses out[i].x as
// scratch for the prefix products.
func batchToAffine(out []affinePoint, in []jacobianPoint) {
	if len(in) == 0 {
		return
	}
	out = out[:len(in)]
	out[0].x.Set(&in[0].z)
	for i := 1; i < len(in); i++ {
		out[i].x.Mul(&out[i-1].x, &in[i].z) // z0 z1 … zi
	}
	var inv, zi, zi2 fe
	inv.Invert(&out[len(in)-1].x) // 1/(z0 … zn-1)
	for i := len(in) - 1; i >= 0; i-- {
		if i > 0 {
			zi.Mul(&inv, &out[i-1].x) // 1/zi
			inv.Mul(&inv, &in[i].z)   // 1/(z0 … zi-1)
		} else {
			zi.Set(&inv)
		}
		zi2.Square(&zi)
		out[i].x.Mul(&in[i].x, &zi2)
		zi2.Mul(&zi2, &zi)
		out[i].y.Mul(&in[i].y, &zi2)
	}
}
