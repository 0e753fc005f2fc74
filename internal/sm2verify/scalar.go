package sm2verify

import (
	"encoding/binary"
	"math/bits"
)

// scalar is a 256-bit integer, little-endian 64-bit limbs. Arithmetic on it
// is modulo the group order n; values are public, so branches are fine.
type scalar [4]uint64

var (
	// n, the order of G.
	orderN = scalar{0x53bbf40939d54123, 0x7203df6b21c6052b, 0xffffffffffffffff, 0xfffffffeffffffff}
	// (n-1)/2: a scalar above it is replaced by n - k and the sum negated.
	halfN = scalar{
		orderN[0]>>1 | orderN[1]<<63,
		orderN[1]>>1 | orderN[2]<<63,
		orderN[2]>>1 | orderN[3]<<63,
		orderN[3] >> 1,
	}
)

// scalarFromBytes reads a 32-byte big-endian integer (not reduced).
func scalarFromBytes(b []byte) scalar {
	_ = b[31]
	return scalar{
		binary.BigEndian.Uint64(b[24:32]),
		binary.BigEndian.Uint64(b[16:24]),
		binary.BigEndian.Uint64(b[8:16]),
		binary.BigEndian.Uint64(b[0:8]),
	}
}

func (k *scalar) bytes() [32]byte {
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:8], k[3])
	binary.BigEndian.PutUint64(b[8:16], k[2])
	binary.BigEndian.PutUint64(b[16:24], k[1])
	binary.BigEndian.PutUint64(b[24:32], k[0])
	return b
}

func (k *scalar) isZero() bool { return k[0]|k[1]|k[2]|k[3] == 0 }

// less reports whether a < b.
func (a *scalar) less(b *scalar) bool {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// add returns a + b and the carry out of 2^256.
func add(a, b *scalar) (s scalar, carry uint64) {
	s[0], carry = bits.Add64(a[0], b[0], 0)
	s[1], carry = bits.Add64(a[1], b[1], carry)
	s[2], carry = bits.Add64(a[2], b[2], carry)
	s[3], carry = bits.Add64(a[3], b[3], carry)
	return s, carry
}

// sub returns a - b and the borrow.
func sub(a, b *scalar) (d scalar, borrow uint64) {
	d[0], borrow = bits.Sub64(a[0], b[0], 0)
	d[1], borrow = bits.Sub64(a[1], b[1], borrow)
	d[2], borrow = bits.Sub64(a[2], b[2], borrow)
	d[3], borrow = bits.Sub64(a[3], b[3], borrow)
	return d, borrow
}

// addModN returns (a + b) mod n for a, b < n.
func addModN(a, b *scalar) scalar {
	s, carry := add(a, b)
	if carry != 0 || !s.less(&orderN) {
		s, _ = sub(&s, &orderN)
	}
	return s
}

// subModN returns (a - b) mod n for a, b < n.
func subModN(a, b *scalar) scalar {
	d, borrow := sub(a, b)
	if borrow != 0 {
		d, _ = add(&d, &orderN)
	}
	return d
}

// reduceOnce returns k mod n for any k < 2^256 (< 2n).
func reduceOnce(k *scalar) scalar {
	if k.less(&orderN) {
		return *k
	}
	d, _ := sub(k, &orderN)
	return d
}

// hashToScalar turns a digest into e as GB/T 32918.2 (and gmsm's VerifyASN1)
// do: its leftmost 256 bits as a big-endian integer, reduced mod n. Shorter
// digests are taken as they are.
func hashToScalar(h []byte) scalar {
	if len(h) > 32 {
		h = h[:32]
	}
	var b [32]byte
	copy(b[32-len(h):], h)
	k := scalarFromBytes(b[:])
	return reduceOnce(&k)
}

// recode writes the signed base-2^w digits of k (0 < k < n) to digits, so
// that k = ±Σ digits[i]·2^(w·i) with every digit in [-2^(w-1)+1, 2^(w-1)];
// the sign is the returned neg. When k > (n-1)/2 it recodes n - k < 2^255
// instead and sets neg, which keeps the top digit within range with
// ⌈256/w⌉ windows and no carry out.
func recode(k scalar, w uint, digits []int32) (neg bool) {
	if halfN.less(&k) {
		k, _ = sub(&orderN, &k)
		neg = true
	}
	mask := uint64(1)<<w - 1
	half := int32(1) << (w - 1)
	var carry int32
	for i := range digits {
		bit := uint(i) * w
		var v uint64
		if bit < 256 {
			limb, off := bit/64, bit%64
			v = k[limb] >> off
			if off+w > 64 && limb < 3 {
				v |= k[limb+1] << (64 - off)
			}
			v &= mask
		}
		d := int32(v) + carry
		carry = 0
		if d > half {
			d -= 1 << w
			carry = 1
		}
		digits[i] = d
	}
	if carry != 0 {
		panic("sm2verify: scalar recoding overflowed its windows")
	}
	return neg
}
