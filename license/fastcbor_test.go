package license

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// slowStaticQR is the general decoding fastStaticQR stands in for.
func slowStaticQR(body []byte) (staticQR, *coseSign1, error) {
	var q staticQR
	if err := envDecMode.Unmarshal(body, &q); err != nil {
		return q, nil, err
	}
	cs, err := parseCOSESign1(q.COSE)
	return q, cs, err
}

func normMap[V any](m map[uint64]V) map[uint64]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// compareFast checks that whenever the fast path accepts body, the general
// decoder accepts it too and gives the same result.
func compareFast(t *testing.T, body []byte) bool {
	t.Helper()
	var fq staticQR
	var fcs coseSign1
	var vals []tagValue
	if !fastStaticQR(body, &fq, &fcs, &vals) {
		return false
	}
	for _, e := range vals {
		if fq.Values == nil {
			fq.Values = map[uint64]cbor.RawMessage{}
		}
		if _, dup := fq.Values[e.tag]; dup {
			t.Fatalf("%x: fast path gives tag %d twice", body, e.tag)
		}
		fq.Values[e.tag] = e.raw
	}
	sq, scs, err := slowStaticQR(body)
	if err != nil {
		t.Fatalf("%x: fast path accepted what fxamacker/cbor refuses: %v", body, err)
	}
	if !bytes.Equal(fq.COSE, sq.COSE) || !bytes.Equal(fq.Claims, sq.Claims) || !bytes.Equal(fq.Master, sq.Master) ||
		!reflect.DeepEqual(normMap(fq.Values), normMap(sq.Values)) || !reflect.DeepEqual(normMap(fq.Omitted), normMap(sq.Omitted)) {
		t.Fatalf("%x: fast path decodes\n%+v\nfxamacker/cbor\n%+v", body, fq, sq)
	}
	if !bytes.Equal(fcs.Protected, scs.Protected) || !bytes.Equal(fcs.Unprotected, scs.Unprotected) ||
		(fcs.Payload == nil) != (scs.Payload == nil) || !bytes.Equal(fcs.Signature, scs.Signature) {
		t.Fatalf("%x: fast COSE %+v, fxamacker/cbor %+v", body, fcs, *scs)
	}
	fh, fok := fastProtected(fcs.Protected)
	var sh header
	serr := decMode.Unmarshal(fcs.Protected, &sh)
	if fok && (serr != nil || !reflect.DeepEqual(fh, sh)) {
		t.Fatalf("%x: fast header %+v, fxamacker/cbor %+v %v", fcs.Protected, fh, sh, serr)
	}
	return true
}

func qrBody(t testing.TB, text string) []byte {
	z, err := Base45Decode(text[len(PrefixLicense):])
	if err != nil {
		t.Fatal(err)
	}
	b, err := decompress(z)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// TestFastPathMatchesGeneralDecoder: real QR bodies take the fast path;
// every one-byte change, truncation and extension either leaves it
// (general decoder, old behaviour) or decodes exactly as fxamacker/cbor.
func TestFastPathMatchesGeneralDecoder(t *testing.T) {
	s, _ := testSigner(t)
	var bodies [][]byte
	for _, r := range SampleRequests() {
		l, err := s.Issue(r)
		if err != nil {
			t.Fatal(err)
		}
		text, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, qrBody(t, text))
	}
	l := issueSample(t, s, "business_license", nil)
	var omit []string
	for _, f := range l.Type.Fields {
		if !f.Core() && len(omit) < 2 {
			omit = append(omit, f.Key)
		}
	}
	text, err := l.QRText(omit...)
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies, qrBody(t, text))
	fast, mutants := 0, 0
	for _, body := range bodies {
		if !compareFast(t, body) {
			t.Fatalf("QRText output %x does not take the fast path", body)
		}
		for i := range body {
			for _, bit := range []byte{0x01, 0x02, 0x08, 0x20, 0x80} {
				m := bytes.Clone(body)
				m[i] ^= bit
				mutants++
				if compareFast(t, m) {
					fast++
				}
			}
			compareFast(t, body[:i])
			compareFast(t, append(bytes.Clone(body[:i]), append([]byte{0x00}, body[i:]...)...))
		}
		compareFast(t, append(bytes.Clone(body), 0))
	}
	t.Logf("%d mutants, %d on the fast path", mutants, fast)
	// Payloads outside the fast path still parse as before.
	if _, err := ParseQR(text); err != nil {
		t.Fatal(err)
	}
}

// TestFastPathDeclines: encodings the general decoder accepts but QRText
// never writes leave the fast path.
func TestFastPathDeclines(t *testing.T) {
	for name, hdr := range map[string][]byte{
		"non-shortest alg":  {0xa1, 0x01, 0x38, 0x00},
		"keys out of order": {0xa2, 0x04, 0x41, 0x00, 0x01, 0x26},
		"unknown key":       {0xa2, 0x01, 0x26, 0x05, 0x00},
		"indefinite map":    {0xbf, 0x01, 0x26, 0xff},
		"alg beyond int64":  {0xa1, 0x01, 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0},
		"-alg beyond int64": {0xa1, 0x01, 0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, ok := fastProtected(hdr); ok {
			t.Errorf("%s: fast path took %x", name, hdr)
		}
	}
	if h, ok := fastProtected([]byte{0xa2, 0x01, 0x3a, 0x00, 0x01, 0x00, 0x00, 0x04, 0x42, 0xab, 0xcd}); !ok || h.Alg != AlgSM2SM3 || !bytes.Equal(h.KID, []byte{0xab, 0xcd}) {
		t.Errorf("canonical header: %+v %v", h, ok)
	}
	if _, ok := skipCanonical([]byte{0xc1, 0x00}, 3); ok {
		t.Error("tag taken")
	}
	long := append([]byte{0x98, 65}, make([]byte, 65)...)
	if _, ok := skipCanonical(long, 3); ok {
		t.Error("array of 65 taken (fxamacker/cbor's limit is 64)")
	}
	if n, ok := skipCanonical([]byte{0x83, 0x00, 0x00}, 3); ok || n != 0 {
		t.Error("truncated array taken")
	}
	if n, ok := skipCanonical(append([]byte{0x98, 64}, make([]byte, 64)...), 3); !ok || n != 66 {
		t.Errorf("array of 64: %d %v", n, ok)
	}
	if _, ok := skipCanonical([]byte{0x81, 0x81, 0x81, 0x00}, 3); ok {
		t.Error("nesting beyond depth taken")
	}
}

func FuzzFastPathMatchesGeneralDecoder(f *testing.F) {
	s, _ := testSigner(f)
	text, _ := issueSample(f, s, "business_license", nil).QRText()
	f.Add(qrBody(f, text))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxCBOR {
			return
		}
		compareFast(t, b)
		if h, ok := fastProtected(b); ok {
			var sh header
			if err := decMode.Unmarshal(b, &sh); err != nil || !reflect.DeepEqual(h, sh) {
				t.Fatalf("%x: fast header %+v, fxamacker/cbor %+v %v", b, h, sh, err)
			}
		}
	})
}
