package sm2verify

import (
	"crypto/ecdsa"
	"math/big"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// fuzzKeys are public keys with known discrete logs, several of them small
// multiples of ±G so that fuzzed scalars meet the exceptional cases.
var fuzzKeys = sync.OnceValue(func() []struct {
	pub *ecdsa.PublicKey
	k   *PublicKey
} {
	ds := []*big.Int{
		big.NewInt(1), new(big.Int).Sub(refN, big.NewInt(1)), big.NewInt(2), big.NewInt(3), pow2(8),
		mustHex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"),
		mustHex("6a3f1cbf13b5e0a1a4a3b8f5c0e5ab1f0d1a9c6ee2b4b8d0f00c5a7a2b1c3d4e"),
	}
	keys := make([]struct {
		pub *ecdsa.PublicKey
		k   *PublicKey
	}, len(ds))
	for i, d := range ds {
		pub := refToECDSA(refMul(d, refG))
		k, err := NewPublicKey(pub)
		if err != nil {
			panic(err)
		}
		keys[i].pub, keys[i].k = pub, k
	}
	return keys
})

// FuzzVerify compares all three entry points with gmsm on arbitrary input:
// VerifyASN1(msg, sig) with sm2.VerifyASN1WithSM2; with rs = sig cut or
// padded to 64 bytes, Verify(msg, rs) and VerifyDigest(msg as the digest,
// rs) with gmsm on the DER of the same (r, s). Random input is nearly always
// an invalid signature, so it also makes the digest that turns (r, s) into
// a valid signature, from s·G + t·P computed by gmsm's elliptic.Curve, and
// checks that we accept exactly when gmsm does.
func FuzzVerify(f *testing.F) {
	// Seeds: valid signatures (DER and raw) and exceptional (r, s) pairs.
	kat := unhexF("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3" +
		"B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
	f.Add(uint8(5), []byte("message digest"), kat)
	for i, d := range []int64{1, 2, 3} {
		priv, err := sm2.NewPrivateKeyFromInt(big.NewInt(d))
		if err != nil {
			f.Fatal(err)
		}
		msg := []byte{byte(i), 'q', 'r'}
		der, err := priv.SignWithSM2(newReader(byte(40+i)), nil, msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8([]int{0, 2, 3}[i]), msg, der)
		var sig struct{ R, S *big.Int }
		if _, err := asn1Unmarshal(der, &sig); err != nil {
			f.Fatal(err)
		}
		f.Add(uint8([]int{0, 2, 3}[i]), msg, rawSig(sig.R, sig.S))
	}
	s := modAdd(big.NewInt(77), pow2(200))
	f.Add(uint8(0), []byte{}, rawSig(modAdd(pow2(210), neg(pow2(200))), s))                                // d=1, equal low digits
	f.Add(uint8(1), []byte{}, rawSig(modAdd(pow2(220), neg(pow2(100))), modAdd(big.NewInt(5), pow2(100)))) // d=n-1
	f.Add(uint8(0), []byte{1}, rawSig(modAdd(neg(s), neg(s)), s))                                          // t = -s: infinity
	f.Add(uint8(4), []byte{2}, rawSig(modAdd(big.NewInt(1), pow2(230), neg(big.NewInt(256)), neg(pow2(200))), modAdd(big.NewInt(256), pow2(200))))

	curve := sm2.P256()
	f.Fuzz(func(t *testing.T, idx uint8, msg, sig []byte) {
		keys := fuzzKeys()
		key := keys[int(idx)%len(keys)]
		want := sm2.VerifyASN1WithSM2(key.pub, nil, msg, sig)
		if got := key.k.VerifyASN1(msg, sig); got != want {
			t.Fatalf("VerifyASN1 = %v, gmsm %v", got, want)
		}
		// The raw forms take sig cut or zero-padded to 64 bytes, so that
		// every input reaches them.
		rs := make([]byte, 64)
		copy(rs, sig)
		if len(sig) != 64 && (key.k.Verify(msg, sig) || key.k.VerifyDigest(msg, sig)) {
			t.Fatalf("%d-byte r||s accepted", len(sig))
		}
		r, s := new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])
		der := derSig(t, r, s)
		if got, want := key.k.Verify(msg, rs), sm2.VerifyASN1WithSM2(key.pub, nil, msg, der); got != want {
			t.Fatalf("Verify = %v, gmsm %v", got, want)
		}
		if got, want := key.k.VerifyDigest(msg, rs), sm2.VerifyASN1(key.pub, msg, der); got != want {
			t.Fatalf("VerifyDigest(msg as digest) = %v, gmsm %v", got, want)
		}
		// The digest that makes (r, s) valid, when r, s, t are in range.
		if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(refN) >= 0 || s.Cmp(refN) >= 0 {
			return
		}
		tt := modAdd(r, s)
		if tt.Sign() == 0 {
			return
		}
		x1, y1 := curve.ScalarBaseMult(s.FillBytes(make([]byte, 32)))
		x2, y2 := curve.ScalarMult(key.pub.X, key.pub.Y, tt.FillBytes(make([]byte, 32)))
		x, y := curve.Add(x1, y1, x2, y2)
		infinity := x.Sign() == 0 && y.Sign() == 0
		e := modAdd(r, neg(x)).FillBytes(make([]byte, 32))
		got, gm := key.k.VerifyDigest(e, rs), sm2.VerifyASN1(key.pub, e, der)
		if got != gm || got == infinity {
			t.Fatalf("made-valid digest: ours %v, gmsm %v, sum at infinity %v", got, gm, infinity)
		}
	})
}

func unhexF(s string) []byte {
	b, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return b.FillBytes(make([]byte, len(s)/2))
}
