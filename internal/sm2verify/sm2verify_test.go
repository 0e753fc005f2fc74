package sm2verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

// seededReader is a deterministic io.Reader for key generation and signing.
type seededReader struct{ r *rand.ChaCha8 }

func newReader(seed byte) *seededReader {
	var s [32]byte
	s[0] = seed
	return &seededReader{rand.NewChaCha8(s)}
}

func (s *seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

// testKey is a gmsm private key with its prepared public key.
type testKey struct {
	priv *sm2.PrivateKey
	pub  *ecdsa.PublicKey
	k    *PublicKey
}

func makeKey(t testing.TB, d *big.Int) testKey {
	t.Helper()
	priv, err := sm2.NewPrivateKeyFromInt(d)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv, &priv.PublicKey, k}
}

// testKeys returns n keys from a fixed seed, after a few special ones.
func testKeys(t testing.TB, n int) []testKey {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	nm1 := new(big.Int).Sub(refN, big.NewInt(1))
	ds := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), new(big.Int).Sub(nm1, big.NewInt(1)), pow2(8)}
	// gmsm refuses d = n-1 (1 + d must be invertible), so it is not here.
	for len(ds) < n {
		ds = append(ds, randScalar(r))
	}
	keys := make([]testKey, 0, n)
	for _, d := range ds[:n] {
		keys = append(keys, makeKey(t, d))
	}
	return keys
}

// check compares every entry point of k with gmsm on (msg, der) and
// returns the common answer.
func check(t testing.TB, tk testKey, msg, der []byte) bool {
	t.Helper()
	want := sm2.VerifyASN1WithSM2(tk.pub, nil, msg, der)
	if got := tk.k.VerifyASN1(msg, der); got != want {
		t.Fatalf("VerifyASN1(%x, %x) = %v, gmsm %v", msg, der, got, want)
	}
	// Through the raw forms, when the DER (read leniently by encoding/asn1)
	// holds two integers of ≤ 32 bytes; gmsm answers for their canonical
	// encoding.
	var sig struct{ R, S *big.Int }
	if rest, err := asn1Unmarshal(der, &sig); err == nil && len(rest) == 0 &&
		sig.R.Sign() >= 0 && sig.S.Sign() >= 0 && sig.R.BitLen() <= 256 && sig.S.BitLen() <= 256 {
		canon := derSig(t, sig.R, sig.S)
		wantRaw := sm2.VerifyASN1WithSM2(tk.pub, nil, msg, canon)
		if bytes.Equal(canon, der) && wantRaw != want {
			t.Fatal("gmsm answers differently for the same DER")
		}
		rs := rawSig(sig.R, sig.S)
		if got := tk.k.Verify(msg, rs); got != wantRaw {
			t.Fatalf("Verify(%x, %x) = %v, gmsm %v", msg, rs, got, wantRaw)
		}
		e, err := sm2.CalculateSM2Hash(tk.pub, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, gm := tk.k.VerifyDigest(e, rs), sm2.VerifyASN1(tk.pub, e, canon); got != gm || gm != wantRaw {
			t.Fatalf("VerifyDigest = %v, gmsm VerifyASN1 %v, VerifyASN1WithSM2 %v", got, gm, wantRaw)
		}
	}
	return want
}

func TestDifferentialGmsm(t *testing.T) {
	keys := testKeys(t, 24)
	rnd := newReader(1)
	r := rand.New(rand.NewPCG(8, 8))
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(refN, one)
	max256 := new(big.Int).Sub(pow2(256), one)
	valid, invalid := 0, 0
	count := func(ok bool) {
		if ok {
			valid++
		} else {
			invalid++
		}
	}
	for ki, tk := range keys {
		for m := range 6 {
			msg := make([]byte, r.IntN(200))
			for i := range msg {
				msg[i] = byte(r.Uint32())
			}
			der, err := tk.priv.SignWithSM2(rnd, nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			if !check(t, tk, msg, der) {
				t.Fatalf("key %d: gmsm signature does not verify", ki)
			}
			count(true)
			var sig struct{ R, S *big.Int }
			if _, err := asn1Unmarshal(der, &sig); err != nil {
				t.Fatal(err)
			}
			rr, ss := sig.R, sig.S
			flip := func(v *big.Int) *big.Int {
				return new(big.Int).Xor(v, new(big.Int).Lsh(one, uint(r.IntN(256))))
			}
			mutants := [][]byte{
				derSig(t, flip(rr), ss), derSig(t, rr, flip(ss)), derSig(t, flip(rr), flip(ss)),
				derSig(t, ss, rr),
				derSig(t, new(big.Int), ss), derSig(t, rr, new(big.Int)),
				derSig(t, refN, ss), derSig(t, rr, refN),
				derSig(t, nm1, ss), derSig(t, rr, nm1),
				derSig(t, new(big.Int).Add(refN, one), ss), derSig(t, rr, new(big.Int).Add(refN, one)),
				derSig(t, max256, ss), derSig(t, rr, max256),
				derSig(t, new(big.Int).Add(rr, refN), ss), derSig(t, rr, new(big.Int).Add(ss, refN)),
				derSig(t, pow2(256), ss), derSig(t, rr, pow2(300)),
				derSig(t, rr, new(big.Int).Sub(refN, rr)), // t = 0
				derSig(t, one, one),
			}
			for _, mu := range mutants {
				count(check(t, tk, msg, mu))
			}
			// Bit flips in the message; a message one byte longer.
			if len(msg) > 0 {
				m2 := bytes.Clone(msg)
				m2[r.IntN(len(m2))] ^= byte(1 << r.IntN(8))
				count(check(t, tk, m2, der))
			}
			count(check(t, tk, append(bytes.Clone(msg), 0), der))
			// Bit flips in the DER bytes themselves.
			for range 4 {
				d2 := bytes.Clone(der)
				d2[r.IntN(len(d2))] ^= byte(1 << r.IntN(8))
				count(check(t, tk, msg, d2))
			}
			// The wrong key.
			other := keys[(ki+1+m)%len(keys)]
			count(check(t, other, msg, der))
		}
	}
	t.Logf("%d valid, %d invalid signatures agreed with gmsm", valid, invalid)
	if invalid == 0 {
		t.Fatal("no invalid signature was tried")
	}
}

// TestReferenceSigner verifies signatures made by the math/big signer in
// ref_test.go with fixed nonces, including small and large nonces.
func TestReferenceSigner(t *testing.T) {
	keys := testKeys(t, 8)
	r := rand.New(rand.NewPCG(9, 9))
	for _, tk := range keys {
		d := tk.priv.D
		for _, nonce := range []*big.Int{big.NewInt(1), big.NewInt(2), new(big.Int).Sub(refN, big.NewInt(1)), randScalar(r), randScalar(r)} {
			msg := []byte("reference nonce " + nonce.Text(16))
			e := new(big.Int).SetBytes(tk.k.digestForTest(msg))
			rr, ss, ok := refSign(d, nonce, e)
			if !ok {
				continue
			}
			if !tk.k.Verify(msg, rawSig(rr, ss)) {
				t.Errorf("d=%x k=%x: reference signature rejected", d, nonce)
			}
			if !check(t, tk, msg, derSig(t, rr, ss)) {
				t.Errorf("d=%x k=%x: gmsm rejects the reference signature", d, nonce)
			}
		}
	}
}

func (k *PublicKey) digestForTest(msg []byte) []byte {
	e := k.digest(msg)
	return e[:]
}

// DER forms that are not the canonical encoding: gmsm (cryptobyte) refuses
// them, and so must we.
func TestDERStrictness(t *testing.T) {
	tk := testKeys(t, 6)[5]
	msg := []byte("DER corner cases")
	der, err := tk.priv.SignWithSM2(newReader(2), nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	rb, sb := sig.R.Bytes(), sig.S.Bytes()
	integer := func(b []byte) []byte { return append([]byte{0x02, byte(len(b))}, b...) }
	seq := func(parts ...[]byte) []byte {
		body := bytes.Join(parts, nil)
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	minimal := func(b []byte) []byte {
		if b[0]&0x80 != 0 {
			return append([]byte{0}, b...)
		}
		return b
	}
	cases := map[string][]byte{
		"canonical":          seq(integer(minimal(rb)), integer(minimal(sb))),
		"extra leading zero": seq(integer(append([]byte{0, 0}, rb...)), integer(minimal(sb))),
		"negative r":         seq(integer(append([]byte{0xff}, rb...)), integer(minimal(sb))),
		"r without sign":     seq(integer(rb), integer(minimal(sb))),
		"trailing byte":      append(seq(integer(minimal(rb)), integer(minimal(sb))), 0),
		"three integers":     seq(integer(minimal(rb)), integer(minimal(sb)), integer([]byte{1})),
		"one integer":        seq(integer(minimal(rb))),
		"empty":              {},
		"empty sequence":     {0x30, 0},
		"empty integer":      seq([]byte{0x02, 0}, integer(minimal(sb))),
		"zero r":             seq(integer([]byte{0}), integer(minimal(sb))),
		"octet string r":     seq(append([]byte{0x04, byte(len(rb))}, rb...), integer(minimal(sb))),
		"set":                append([]byte{0x31}, seq(integer(minimal(rb)), integer(minimal(sb)))[1:]...),
	}
	for name, d := range cases {
		ok := check(t, tk, msg, d)
		switch {
		case name == "canonical" || name == "r without sign" && rb[0]&0x80 == 0:
			if !ok {
				t.Errorf("%s rejected", name)
			}
		case ok:
			t.Errorf("%s accepted", name)
		}
	}
}

func TestTjfocSignatures(t *testing.T) {
	rnd := newReader(3)
	for i := range 12 {
		priv, err := tjsm2.GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		// tjfoc's curve object has SM2's parameters; we accept it as is,
		// and in gmsm's clothes.
		for _, pub := range []*ecdsa.PublicKey{
			{Curve: priv.PublicKey.Curve, X: priv.PublicKey.X, Y: priv.PublicKey.Y},
			{Curve: sm2.P256(), X: priv.PublicKey.X, Y: priv.PublicKey.Y},
		} {
			k, err := NewPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("签名 by tjfoc/gmsm v1.4.1, #" + string(rune('a'+i)))
			r, s, err := tjsm2.Sm2Sign(priv, msg, nil, rnd)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Verify(msg, rawSig(r, s)) {
				t.Errorf("tjfoc Sm2Sign signature rejected")
			}
			der, err := priv.Sign(rnd, msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !k.VerifyASN1(msg, der) {
				t.Errorf("tjfoc Sign (DER) signature rejected")
			}
			// tjfoc's own verifier agrees with us on a forged variant.
			bad := rawSig(r, new(big.Int).Add(s, big.NewInt(1)))
			if k.Verify(msg, bad) || tjsm2.Sm2Verify(&priv.PublicKey, msg, nil, r, new(big.Int).Add(s, big.NewInt(1))) {
				t.Errorf("s+1 accepted")
			}
			if k.Verify(append(msg, '!'), rawSig(r, s)) || (&priv.PublicKey).Verify(append(msg, '!'), der) {
				t.Errorf("signature over another message accepted")
			}
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The GB/T 32918 / GM/T 0003 example on the recommended curve, as in
// certs/kat_test.go.
func TestGBT32918Example(t *testing.T) {
	x := new(big.Int).SetBytes(unhex(t, "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"))
	y := new(big.Int).SetBytes(unhex(t, "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13"))
	pub := &ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y}
	k, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.za[:]) != "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3" {
		t.Errorf("Z_A = %x", k.za)
	}
	msg := []byte("message digest")
	e := unhex(t, "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640")
	if got := sm3.Sum(append(k.za[:], msg...)); !bytes.Equal(got[:], e) {
		t.Errorf("e = %x", got)
	}
	rs := unhex(t, "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3"+
		"B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA")
	if !k.Verify(msg, rs) {
		t.Error("published (r, s) rejected by Verify")
	}
	if !k.VerifyDigest(e, rs) {
		t.Error("published (r, s) rejected by VerifyDigest")
	}
	der := derSig(t, new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:]))
	if !k.VerifyASN1(msg, der) {
		t.Error("published (r, s) rejected by VerifyASN1")
	}
	if k.Verify([]byte("message digesT"), rs) {
		t.Error("published signature verifies over another message")
	}
	// Made with the user ID ALICE123@YAHOO.COM: not ours to accept.
	sigA := derSig(t, mustHex("b0e3e7d4ac2178f833ad73fa9d1191e41c76c8bfedb5ad89040ba2e5184bde58"),
		mustHex("cc8d096578f7dd2669ac1ac42f7e722bcfa42b9e0be0b1b5df7ca0b53fdd5750"))
	if !sm2.VerifyASN1WithSM2(pub, []byte("ALICE123@YAHOO.COM"), msg, sigA) {
		t.Fatal("gmsm rejects the ALICE signature")
	}
	if k.VerifyASN1(msg, sigA) {
		t.Error("signature made with another user ID accepted")
	}
}

func TestNewPublicKeyRejects(t *testing.T) {
	good := testKeys(t, 6)[5].pub
	offCurve := &ecdsa.PublicKey{Curve: sm2.P256(), X: good.X, Y: new(big.Int).Add(good.Y, big.NewInt(1))}
	xPlusP := &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).Add(good.X, refP), Y: good.Y}
	if xPlusP.X.BitLen() > 256 {
		xPlusP.X = new(big.Int).Set(refP) // still ≥ p
	}
	p256 := elliptic.P256()
	nist := &ecdsa.PublicKey{Curve: p256, X: p256.Params().Gx, Y: p256.Params().Gy}
	// SM2-looking parameters with another b.
	fake := *sm2.P256().Params()
	fake.B = new(big.Int).Add(fake.B, big.NewInt(1))
	for name, pub := range map[string]*ecdsa.PublicKey{
		"nil":           nil,
		"no curve":      {X: good.X, Y: good.Y},
		"no X":          {Curve: sm2.P256(), Y: good.Y},
		"off curve":     offCurve,
		"x ≥ p":         xPlusP,
		"negative y":    {Curve: sm2.P256(), X: good.X, Y: new(big.Int).Neg(good.Y)},
		"y - p":         {Curve: sm2.P256(), X: good.X, Y: new(big.Int).Sub(good.Y, refP)},
		"origin":        {Curve: sm2.P256(), X: new(big.Int), Y: new(big.Int)},
		"NIST P-256":    nist,
		"other b":       {Curve: &fake, X: good.X, Y: good.Y},
		"x = 2^256":     {Curve: sm2.P256(), X: pow2(256), Y: good.Y},
		"y = p + y":     {Curve: sm2.P256(), X: good.X, Y: new(big.Int).Add(good.Y, refP)},
		"huge":          {Curve: sm2.P256(), X: pow2(1000), Y: good.Y},
		"G":             {Curve: sm2.P256(), X: refGx, Y: refGy},
		"G x, wrong y":  {Curve: sm2.P256(), X: refGx, Y: new(big.Int).Add(refGy, big.NewInt(2))},
		"negative zero": {Curve: sm2.P256(), X: new(big.Int).Neg(new(big.Int)), Y: good.Y},
	} {
		_, err := NewPublicKey(pub)
		if wantOK := name == "G"; (err == nil) != wantOK {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := NewPublicKey(good); err != nil {
		t.Fatal(err)
	}
	// A PublicKey not made by NewPublicKey verifies nothing (and does not
	// panic), even a signature valid under some key.
	tk := testKeys(t, 6)[5]
	msg := []byte("zero value")
	der, err := tk.priv.SignWithSM2(newReader(5), nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	rs, e := rawSig(sig.R, sig.S), tk.k.digestForTest(msg)
	for _, k := range []*PublicKey{{}, nil} {
		if k.Verify(msg, rs) || k.VerifyASN1(msg, der) || k.VerifyDigest(e, rs) {
			t.Error("a PublicKey not made by NewPublicKey verified a signature")
		}
	}
	// -G is on the curve: accepted.
	if _, err := NewPublicKey(&ecdsa.PublicKey{Curve: sm2.P256(), X: refGx, Y: new(big.Int).Sub(refP, refGy)}); err != nil {
		t.Errorf("-G refused: %v", err)
	}
}

func TestWrongLengths(t *testing.T) {
	tk := testKeys(t, 6)[5]
	msg := []byte("lengths")
	der, err := tk.priv.SignWithSM2(newReader(4), nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	rs := rawSig(sig.R, sig.S)
	if !tk.k.Verify(msg, rs) {
		t.Fatal("valid signature rejected")
	}
	for _, l := range []int{0, 1, 32, 63, 65, 128} {
		b := make([]byte, l)
		copy(b, rs)
		if tk.k.Verify(msg, b) || tk.k.VerifyDigest(tk.k.digestForTest(msg), b) {
			t.Errorf("%d-byte r||s accepted", l)
		}
	}
	// Digests of other lengths behave as in gmsm's VerifyASN1.
	e := tk.k.digestForTest(msg)
	for _, d := range [][]byte{nil, e[:31], append(bytes.Clone(e), 1, 2, 3), e[1:]} {
		if got, want := tk.k.VerifyDigest(d, rs), sm2.VerifyASN1(tk.pub, d, der); got != want {
			t.Errorf("digest %x: %v, gmsm %v", d, got, want)
		}
	}
	if !tk.k.VerifyDigest(append(bytes.Clone(e), 9, 9), rs) {
		t.Error("a digest longer than 32 bytes is not truncated to its leftmost 256 bits")
	}
}

func TestConcurrentUse(t *testing.T) {
	keys := testKeys(t, 7)[5:]
	type item struct {
		k   *PublicKey
		msg []byte
		rs  []byte
	}
	var items []item
	for i, tk := range keys {
		for j := range 4 {
			msg := []byte{byte(i), byte(j)}
			der, err := tk.priv.SignWithSM2(newReader(byte(10+i*4+j)), nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			var sig struct{ R, S *big.Int }
			if _, err := asn1Unmarshal(der, &sig); err != nil {
				t.Fatal(err)
			}
			items = append(items, item{tk.k, msg, rawSig(sig.R, sig.S)})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(items))
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, it := range items {
				if !it.k.Verify(it.msg, it.rs) {
					errs <- "valid signature rejected"
				}
				if items[(i+g+1)%len(items)].k.Verify(it.msg, it.rs) && items[(i+g+1)%len(items)].k != it.k {
					errs <- "signature accepted under another key"
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
