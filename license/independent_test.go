package license

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"
	"github.com/fxamacker/cbor/v2"
)

// TestIndependentVerifier runs testdata/zx1verify.py, a verifier written
// from docs/formats.md alone (Python's standard library and the OpenSSL
// command line: SM4 for the salts, SM2 with the default ID for the
// signature), over a static QR of every shipped type: it must accept
// them, read the same field values, and refuse a QR whose value was
// changed and re-encoded.
func TestIndependentVerifier(t *testing.T) {
	s, cert := testSigner(t)
	run := independentVerifier(t, cert)
	for _, req := range SampleRequests() {
		l := issueSample(t, s, req.Type, nil)
		text, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		out, ok := run(text)
		if !ok {
			t.Fatalf("%s: the independent verifier refuses our QR:\n%s", req.Type, out)
		}
		checkIndependentRead(t, req.Type, out, l, l.values)

		// The holder's name changed by one character, re-encoded validly.
		body, err := unwrapQR(text, PrefixLicense)
		if err != nil {
			t.Fatal(err)
		}
		altered := alterHolderName(t, body, l)
		if out, ok := run(PrefixLicense + Base45Encode(compress(altered))); ok {
			t.Errorf("%s: the independent verifier accepts an altered QR:\n%s", req.Type, out)
		}
		// Our own verifier agrees on both.
		if q, err := ParseQR(PrefixLicense + Base45Encode(compress(altered))); err == nil && q.VerifySignature(cert.PublicKey) == nil {
			t.Errorf("%s: our verifier accepts the altered QR", req.Type)
		}
	}
}

// TestIndependentPresentationVerifier: the same for holder-bound
// presentations with SM2 and P-256 device keys (issuer signature,
// disclosures, thumbprint, device signature over the exact bytes).
func TestIndependentPresentationVerifier(t *testing.T) {
	s, cert := testSigner(t)
	run := independentVerifier(t, cert)
	for _, curve := range []string{"sm2", "p256"} {
		dev := testDevice(t, curve)
		l := issueSample(t, s, "food_business_permit", func(r *Request) { r.HolderKey = dev.Public() })
		text, err := MakePresentationWith(l.Marshal(), dev, PresentOptions{Profile: "food_counter", Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		out, ok := run(text)
		if !ok || !strings.Contains(out, "PRESENTATION OK") {
			t.Fatalf("%s: the independent verifier refuses our presentation:\n%s", curve, out)
		}
		p, err := ParsePresentation(text)
		if err != nil {
			t.Fatal(err)
		}
		checkIndependentRead(t, curve, out, l, p.License.values)
		// A disclosed value changed: the digest no longer matches.
		body, err := unwrapQR(text, PrefixPresentation)
		if err != nil {
			t.Fatal(err)
		}
		altered := alterHolderName(t, body, l)
		if out, ok := run(PrefixPresentation + Base45Encode(compress(altered))); ok {
			t.Errorf("%s: the independent verifier accepts an altered presentation:\n%s", curve, out)
		}
		// Another device's key and signature spliced onto this license
		// and these disclosures: the key is not the one the license binds.
		other := testDevice(t, curve+"-other")
		lo := issueSample(t, s, "food_business_permit", func(r *Request) { r.HolderKey = other.Public() })
		otext, err := MakePresentationWith(lo.Marshal(), other, PresentOptions{Profile: "food_counter", Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		obody, err := unwrapQR(otext, PrefixPresentation)
		if err != nil {
			t.Fatal(err)
		}
		var mine, theirs []cbor.RawMessage
		if cbor.Unmarshal(body, &mine) != nil || cbor.Unmarshal(obody, &theirs) != nil || len(mine) != 4 || len(theirs) != 4 {
			t.Fatal("presentation bodies are not arrays of 4")
		}
		spliced := append([]byte{0x84}, mine[0]...)
		spliced = append(append(append(spliced, mine[1]...), theirs[2]...), theirs[3]...)
		forged := PrefixPresentation + Base45Encode(compress(spliced))
		if out, ok := run(forged); ok || !strings.Contains(out, "not the key the license is bound to") {
			t.Errorf("%s: the independent verifier does not refuse another device's key:\n%s", curve, out)
		}
		if p, err := ParsePresentation(forged); err != nil || p.CheckHolder() == nil {
			t.Errorf("%s: our verifier does not refuse the spliced presentation (%v)", curve, err)
		}
	}
}

// independentVerifier returns a function that runs testdata/zx1verify.py
// on a payload with cert's key as the issuer's; ok is true when the
// script printed its success line and exited 0.
func independentVerifier(t *testing.T, cert *smx509.Certificate) func(text string) (string, bool) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the independent verifier cannot run")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: the independent verifier cannot run")
	}
	dir := t.TempDir()
	spki, err := smx509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(dir, "signer.pub.pem")
	dictFile := filepath.Join(dir, "dict.bin")
	os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644)
	os.WriteFile(dictFile, []byte(ZlibDictionary()), 0o644)
	run := func(text string) (string, bool) {
		t.Helper()
		qrFile := filepath.Join(dir, "qr.txt")
		os.WriteFile(qrFile, []byte(text+"\n"), 0o644)
		out, err := exec.Command(py, "testdata/zx1verify.py", qrFile, pubFile, dictFile).CombinedOutput()
		if err != nil {
			if _, exit := err.(*exec.ExitError); !exit {
				t.Fatalf("running the independent verifier: %v", err)
			}
		}
		return string(out), err == nil && (strings.Contains(string(out), "SIGNATURE OK") || strings.Contains(string(out), "PRESENTATION OK"))
	}
	return run
}

// checkIndependentRead compares what the script read with the license.
func checkIndependentRead(t *testing.T, name, out string, l *License, values map[uint64]any) {
	t.Helper()
	var got struct {
		Type   uint64         `json:"type"`
		Issuer string         `json:"issuer"`
		Values map[string]any `json:"values"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &got); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	if got.Type != l.Type.Num || got.Issuer != l.Issuer || len(got.Values) != len(values) {
		t.Errorf("%s: read type %d issuer %s, %d values, want %d", name, got.Type, got.Issuer, len(got.Values), len(values))
	}
	for tag, v := range values {
		if g := got.Values[strconv.FormatUint(tag, 10)]; fmt.Sprint(g) != fmt.Sprint(v) {
			t.Errorf("%s: tag %d read as %v, want %v", name, tag, g, v)
		}
	}
}

// alterHolderName changes the last character of the holder's name in a
// payload body (same UTF-8 length, so the CBOR stays well formed).
func alterHolderName(t *testing.T, body []byte, l *License) []byte {
	t.Helper()
	name, _ := l.Value("holder_name")
	r := []rune(name)
	last := r[len(r)-1]
	r[len(r)-1] = '甲'
	if last == '甲' {
		r[len(r)-1] = '乙'
	}
	altered := bytes.Replace(bytes.Clone(body), []byte(name), []byte(string(r)), 1)
	if len(string(r)) != len(name) || bytes.Equal(altered, body) {
		t.Fatalf("could not alter %q", name)
	}
	return altered
}
