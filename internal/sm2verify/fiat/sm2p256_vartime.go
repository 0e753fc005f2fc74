// This file is not generated: it adds the few operations that the
// variable-time verifier in the parent package needs and that the generated
// wrapper (sm2p256.go) does not expose. They only handle public data.

package fiat

// IsZeroVartime reports whether e == 0. Elements are kept canonical (fully
// reduced, in the Montgomery domain), so zero is exactly the all-zero limbs.
// Unlike IsZero it takes time that depends on e.
func (e *SM2P256Element) IsZeroVartime() bool {
	return e.x == sm2p256MontgomeryDomainFieldElement{}
}

// EqualVartime reports whether e == t, in time that depends on both.
func (e *SM2P256Element) EqualVartime(t *SM2P256Element) bool {
	return e.x == t.x
}

// Neg sets e = -t mod p, and returns e.
func (e *SM2P256Element) Neg(t *SM2P256Element) *SM2P256Element {
	sm2p256Opp(&e.x, &t.x)
	return e
}

// Double sets e = 2t mod p, and returns e.
func (e *SM2P256Element) Double(t *SM2P256Element) *SM2P256Element {
	sm2p256Add(&e.x, &t.x, &t.x)
	return e
}

// SetLimbs sets e = v, where v holds an integer below p as little-endian
// 64-bit limbs (not in the Montgomery domain), and returns e. If v >= p it
// returns nil and leaves e unchanged.
func (e *SM2P256Element) SetLimbs(v *[4]uint64) *SM2P256Element {
	for i := 3; i >= 0; i-- {
		if v[i] != sm2p256Prime[i] {
			if v[i] > sm2p256Prime[i] {
				return nil
			}
			break
		}
		if i == 0 {
			return nil // v == p
		}
	}
	tmp := sm2p256NonMontgomeryDomainFieldElement(*v)
	sm2p256ToMontgomery(&e.x, &tmp)
	return e
}

var sm2p256Prime = [4]uint64{0xffffffffffffffff, 0xffffffff00000000, 0xffffffffffffffff, 0xfffffffeffffffff}
