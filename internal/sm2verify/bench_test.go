package sm2verify

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// A fixed key and signature (the GB/T 32918 example key, a fixed nonce).
func benchInput(b *testing.B) (pub *ecdsa.PublicKey, msg, der, rs []byte) {
	b.Helper()
	d := mustHex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
	pub = refToECDSA(refMul(d, refG))
	msg = []byte("license QR payload: 证照编号 0001, fixed for benchmarking")
	e, err := sm2.CalculateSM2Hash(pub, msg, nil)
	if err != nil {
		b.Fatal(err)
	}
	r, s, ok := refSign(d, mustHex("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"), new(big.Int).SetBytes(e))
	if !ok {
		b.Fatal("bad nonce")
	}
	return pub, msg, derSig(b, r, s), rawSig(r, s)
}

func BenchmarkGmsmVerify(b *testing.B) {
	pub, msg, der, _ := benchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(pub, nil, msg, der) {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkPreparedVerify(b *testing.B) {
	pub, msg, der, _ := benchInput(b)
	k, err := NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	gTable()
	b.ReportAllocs()
	for b.Loop() {
		if !k.VerifyASN1(msg, der) {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkPreparedVerifyRaw(b *testing.B) {
	pub, msg, _, rs := benchInput(b)
	k, err := NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	gTable()
	b.ReportAllocs()
	for b.Loop() {
		if !k.Verify(msg, rs) {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkNewPublicKey is the cost of preparing a key: its table (kept,
// 256 KiB) and Z_A; B/op also counts the temporary Jacobian points.
func BenchmarkNewPublicKey(b *testing.B) {
	pub, _, _, _ := benchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPublicKey(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGTable is the one-time cost of G's table.
func BenchmarkGTable(b *testing.B) {
	params := sm2.P256().Params()
	g, err := affineFromBig(params.Gx, params.Gy)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		newTable(&g, gWindow)
	}
}
