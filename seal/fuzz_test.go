package seal

import (
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join(interopDir, n)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
}

// FuzzParseSeal: any input is parsed or rejected with an error, never a
// panic, and a parsed seal can be checked without panicking.
func FuzzParseSeal(f *testing.F) {
	addSeeds(f, "UserV4.esl", "UserV1.esl")
	p := getPKI(f)
	spec := testSpec(p)
	spec.CertListType = CertListDigests
	for _, s := range []SealSpec{testSpec(p), spec} {
		der, err := MakeSeal(s, p.maker, p.makerKey)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSeal(b)
		if err != nil {
			if s != nil {
				t.Fatal("non-nil seal with an error")
			}
			return
		}
		_ = s.VerifyMaker()
		_ = s.Lists(s.MakerCertRaw)
		_ = Show(s)
	})
}

func FuzzParseSignature(f *testing.F) {
	addSeeds(f, "SignedValueV4.dat")
	p := getPKI(f)
	der, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		f.Fatal(err)
	}
	sig, err := SignData(der, p.signer, p.signerKey, []byte("doc"), "doc", testNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := ParseSignature(b)
		if err != nil {
			return
		}
		_ = sig.VerifyHash(sig.DataHash)
	})
}
