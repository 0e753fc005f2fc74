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
)

// TestIndependentVerifier runs testdata/zx1verify.py, a verifier written
// from docs/formats.md alone (Python's standard library and the OpenSSL
// command line: SM4 for the salts, SM2 with the default ID for the
// signature), over a static QR of every shipped type: it must accept
// them, read the same field values, and refuse a QR whose value was
// changed and re-encoded.
func TestIndependentVerifier(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the independent verifier cannot run")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: the independent verifier cannot run")
	}
	s, cert := testSigner(t)
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
		return string(out), err == nil && strings.Contains(string(out), "SIGNATURE OK")
	}
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
		var got struct {
			Type   uint64         `json:"type"`
			Issuer string         `json:"issuer"`
			Values map[string]any `json:"values"`
		}
		if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &got); err != nil {
			t.Fatalf("%s: %v\n%s", req.Type, err, out)
		}
		if got.Type != l.Type.Num || got.Issuer != l.Issuer || len(got.Values) != len(l.values) {
			t.Errorf("%s: read type %d issuer %s, %d values", req.Type, got.Type, got.Issuer, len(got.Values))
		}
		for tag, v := range l.values {
			g := got.Values[strconv.FormatUint(tag, 10)]
			if fmt.Sprint(g) != fmt.Sprint(v) {
				t.Errorf("%s: tag %d read as %v, want %v", req.Type, tag, g, v)
			}
		}

		// The holder's name changed by one character, re-encoded validly.
		body, err := unwrapQR(text, PrefixLicense)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := l.Value("holder_name")
		r := []rune(name)
		r[len(r)-1] = '甲'
		if r[len(r)-1] == []rune(name)[len(r)-1] {
			r[len(r)-1] = '乙'
		}
		altered := bytes.Replace(bytes.Clone(body), []byte(name), []byte(string(r)), 1)
		if len(string(r)) != len(name) || bytes.Equal(altered, body) {
			t.Fatalf("%s: could not alter %q", req.Type, name)
		}
		if out, ok := run(PrefixLicense + Base45Encode(compress(altered))); ok {
			t.Errorf("%s: the independent verifier accepts an altered QR:\n%s", req.Type, out)
		}
		// Our own verifier agrees on both.
		if q, err := ParseQR(PrefixLicense + Base45Encode(compress(altered))); err == nil && q.VerifySignature(cert.PublicKey) == nil {
			t.Errorf("%s: our verifier accepts the altered QR", req.Type)
		}
	}
}
