package seal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// benchSeal is a realistic seal: our PKI and a rendered 42 mm stamp at
// 600 dpi (about 100 KB) as its picture; small uses the 20-byte fake
// picture instead, to show the fixed costs.
func benchSeal(b *testing.B, small ...bool) (*testPKI, []byte) {
	p := getPKI(b)
	spec := testSpec(p)
	if len(small) == 0 || !small[0] {
		pic, err := RenderStamp(StampSpec{Shape: Round, Agency: "北京市海淀区市场监督管理局", Purpose: "合同专用章", Code: "1101080012345"})
		if err != nil {
			b.Fatal(err)
		}
		spec.Picture.Data = pic
	}
	der, err := MakeSeal(spec, p.maker, p.makerKey)
	if err != nil {
		b.Fatal(err)
	}
	return p, der
}

var benchSizes = []struct {
	name  string
	small bool
}{{"picture=100KB", false}, {"picture=20B", true}}

// BenchmarkParseVerifySeal: parse a seal and check its maker signature.
func BenchmarkParseVerifySeal(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			_, der := benchSeal(b, sz.small)
			b.SetBytes(int64(len(der)))
			b.ResetTimer()
			for b.Loop() {
				s, err := ParseSeal(der)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.VerifyMaker(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSM2VerifyBaseline is the raw SM2 verification (with Z_A) over
// the same SES_SealInfo bytes: the floor of BenchmarkParseVerifySeal.
func BenchmarkSM2VerifyBaseline(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			p, der := benchSeal(b, sz.small)
			s, err := ParseSeal(der)
			if err != nil {
				b.Fatal(err)
			}
			pub := p.maker.PublicKey.(*ecdsa.PublicKey)
			b.SetBytes(int64(len(der)))
			b.ResetTimer()
			for b.Loop() {
				if !sm2.VerifyASN1WithSM2(pub, nil, s.RawSealInfo, s.SignedValue) {
					b.Fatal("does not verify")
				}
			}
		})
	}
}

// BenchmarkSM3Baseline hashes the whole seal once: the cost of touching
// its bytes.
func BenchmarkSM3Baseline(b *testing.B) {
	_, der := benchSeal(b)
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		sm3.Sum(der)
	}
}

// BenchmarkSignHash: make an SES_Signature over a document hash (parses
// the seal, checks the signer is listed, signs TBS_Sign).
func BenchmarkSignHash(b *testing.B) {
	p, der := benchSeal(b)
	h := sm3.Sum([]byte("document"))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Sign(der, p.signer, p.signerKey, h[:], "doc.pdf", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSM2SignBaseline is a raw SM2 signature over a TBS_Sign-sized
// message.
func BenchmarkSM2SignBaseline(b *testing.B) {
	p, der := benchSeal(b)
	for b.Loop() {
		if _, err := p.signerKey.Sign(rand.Reader, der, sm2.DefaultSM2SignerOpts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySignature: parse an SES_Signature and run every check.
func BenchmarkVerifySignature(b *testing.B) {
	p, der := benchSeal(b)
	doc := []byte("document")
	sigDER, err := SignData(der, p.signer, p.signerKey, doc, "doc.pdf", testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		sig, err := ParseSignature(sigDER)
		if err != nil {
			b.Fatal(err)
		}
		if err := sig.Verify(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderStamp(b *testing.B) {
	for b.Loop() {
		if _, err := RenderStamp(StampSpec{Shape: Round, Agency: "北京市海淀区市场监督管理局", Purpose: "合同专用章", Code: "1101080012345"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSeal: parsing alone (with the maker certificate), no
// signature check.
func BenchmarkParseSeal(b *testing.B) {
	_, der := benchSeal(b)
	b.SetBytes(int64(len(der)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseSeal(der); err != nil {
			b.Fatal(err)
		}
	}
}
