package verify

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/verify/report"
)

// BenchmarkRawSM2Verify is the baseline: one SM2 verify of a message the
// size of a license's ToBeSigned bytes.
func BenchmarkRawSM2Verify(b *testing.B) {
	k := seedKey(b, "bench")
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkVerifyLicenseQR verifies a business license QR fully offline:
// Base45, zlib, CBOR, digests, signature, chain from a cached pool, CRL,
// status list lookup, report.
func BenchmarkVerifyLicenseQR(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := VerifyLicenseQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}

func BenchmarkVerifyPresentationQR(b *testing.B) {
	pool, sl := loadVectorTrust(b)
	v := readVector(b, filepath.Join(vectorDir, "good_presentation_sm2.txt"))
	o := vectorOptions(pool, sl, v)
	o.Nonces = nil
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := VerifyPresentationQR(ctx, v.payload, o); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}
