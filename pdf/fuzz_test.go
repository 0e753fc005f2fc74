package pdf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

const maxFuzzInput = 64 << 10

func FuzzParseCMS(f *testing.F) {
	p := getPKI(f)
	d := make([]byte, 32)
	if der, err := buildCMS(d, p.leafKey, p.leaf, nil, fixedNow); err == nil {
		f.Add(der)
	}
	if der, err := buildCMSStamped(d, p.leafKey, p.leaf, nil, fixedNow, oidSignedData, oidSM2Sign, goodTSA(f, true).tsa().Stamp); err == nil {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		sniffContents(b)
		info, err := parseCMS(b)
		if err != nil {
			return
		}
		if info.checkDigest != nil {
			info.checkDigest(make([]byte, 32))
		}
		info.checkSig(make([]byte, 32))
		if info.timestampToken != nil {
			VerifyTimestampToken(info.timestampToken, info.signatureValue)
		}
	})
}

// FuzzVerify feeds whole files to the signature extractor and checker.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"good_signed.pdf", "good_xrefstream_signed.pdf", "unsigned.pdf", "xrefstream.pdf", "bad_content_replaced.pdf"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil && len(b) <= maxFuzzInput {
			f.Add(b)
		}
	}
	f.Add([]byte("%PDF-1.7\ntrailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"))
	if b, _ := signStamped(f, goodTSA(f, true).tsa().Stamp); len(b) <= maxFuzzInput {
		f.Add(b)
	}
	if b := docStamp(f, simplePDF(f, 1), "SM3", goodTSA(f, true).tsa().StampDigest); len(b) <= maxFuzzInput {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		Verify(bytes.NewReader(b), int64(len(b)))
	})
}

// FuzzVerifyTimestampToken feeds tokens to the RFC 3161 parser and checks:
// it never panics, and it never accepts a token for bytes other than the
// ones the seeds stamp.
func FuzzVerifyTimestampToken(f *testing.F) {
	stamped := []byte("the signature value")
	for _, sm2Key := range []bool{true, false} {
		if tok, err := goodTSA(f, sm2Key).tsa().Stamp(stamped); err == nil {
			f.Add(tok)
		}
	}
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		ts := VerifyTimestampToken(b, stamped)
		if ts.Err == nil && (ts.TSA == nil || ts.GenTime.IsZero()) {
			t.Fatalf("accepted a token without TSA or genTime")
		}
		if VerifyTimestampToken(b, []byte("other bytes")).Err == nil {
			t.Fatalf("accepted a token for other bytes")
		}
	})
}
