package license

import (
	"testing"
)

func seedCorpus(f *testing.F) (qr, pres string, holder []byte) {
	s, _ := testSigner(f)
	dev := testDevice(f, "sm2")
	l := issueSample(f, s, "business_license", func(r *Request) { r.HolderKey = dev.Public() })
	qr, _ = l.QRText()
	pres, err := MakePresentation(l.Marshal(), dev, nil, "c1", testNow)
	if err != nil {
		f.Fatal(err)
	}
	return qr, pres, l.Marshal()
}

// FuzzParseQR feeds the whole chain: prefix, Base45, zlib, COSE, claims.
func FuzzParseQR(f *testing.F) {
	qr, _, _ := seedCorpus(f)
	f.Add(qr)
	f.Add(PrefixLicense + "BB8")
	f.Fuzz(func(t *testing.T, s string) {
		if l, err := ParseQR(s); err == nil {
			_ = l.String()
			_ = l.Subject()
		}
	})
}

// FuzzCBORBody skips Base45 so the fuzzer works on the CBOR directly.
func FuzzCBORBody(f *testing.F) {
	qr, pres, _ := seedCorpus(f)
	b1, _ := unwrapQR(qr, PrefixLicense)
	b2, _ := unwrapQR(pres, PrefixPresentation)
	f.Add(b1, true)
	f.Add(b2, false)
	f.Fuzz(func(t *testing.T, b []byte, license bool) {
		if len(b) > maxCBOR {
			return
		}
		if license {
			ParseQR(wrapQR(PrefixLicense, b))
		} else if p, err := ParsePresentation(wrapQR(PrefixPresentation, b)); err == nil {
			p.CheckDisclosures()
			p.CheckHolder()
		}
	})
}

func FuzzParsePresentation(f *testing.F) {
	_, pres, _ := seedCorpus(f)
	f.Add(pres)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePresentation(s); err == nil {
			p.CheckDisclosures()
			p.CheckHolder()
			_ = p.License.Subject()
		}
	})
}

func FuzzParseLicense(f *testing.F) {
	_, _, holder := seedCorpus(f)
	f.Add(holder)
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := ParseLicense(b); err == nil {
			l.QRText()
			_ = l.Marshal()
		}
	})
}

func FuzzDecompress(f *testing.F) {
	f.Add(compress([]byte("有限公司 hello")))
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, err := decompress(b); err == nil && len(out) > maxCBOR {
			t.Fatalf("inflated %d bytes", len(out))
		}
	})
}

func FuzzHolderKeyFiles(f *testing.F) {
	k, _ := GenerateHolderKey(nil, "sm2")
	priv, _ := MarshalHolderKey(k)
	pub, _ := MarshalHolderPublicKey(k.Public())
	f.Add(priv)
	f.Add(pub)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<14 {
			return
		}
		ParseHolderKey(b)
		ParseHolderPublicKey(b)
	})
}

func FuzzRequestJSON(f *testing.F) {
	f.Add([]byte(`{"type":"营业执照","serial":"A1","fields":{"holder_name":"某某有限公司","registered_capital":500.5}}`))
	s, _ := testSigner(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<14 {
			return
		}
		if r, err := RequestFromJSON(b); err == nil {
			s.Issue(r) // validation must refuse, never panic
		}
	})
}
