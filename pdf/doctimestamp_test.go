package pdf

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/pdf/tsatest"
	"github.com/zhengxin/zhengxin/verify/report"
)

// docStamp adds a document timestamp to b with stamp and hash, failing the
// test on error.
func docStamp(t testing.TB, b []byte, hash string, stamp func(asn1.ObjectIdentifier, []byte) ([]byte, error)) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := AddDocTimestamp(bytes.NewReader(b), int64(len(b)), &out, DocTimestampOptions{Hash: hash, Stamp: stamp}); err != nil {
		t.Fatalf("AddDocTimestamp: %v", err)
	}
	if !bytes.HasPrefix(out.Bytes(), b) {
		t.Fatal("AddDocTimestamp changed the original bytes")
	}
	return out.Bytes()
}

// docTimestampOf returns the document timestamp of the verified file.
func docTimestampOf(t testing.TB, res *Result) Signature {
	t.Helper()
	for _, s := range res.Signatures {
		if s.Format == DocTimestamp {
			return s
		}
	}
	t.Fatalf("no document timestamp among %d signatures", len(res.Signatures))
	return Signature{}
}

// TestDocTimestampTestTSA seals a PDF with our CMS signer, adds a document
// timestamp from the test TSA (SM2 over SM3, gmsm's pkcs7; ECDSA over
// SHA-256) and checks that both verify: the timestamp's imprint is the
// hash of its byte range, computed here independently, its signer the
// TSA, its time the genTime; the seal before it sees only a signature
// added. qpdf finds the file sound.
func TestDocTimestampTestTSA(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sm2Key bool
		hash   string
		sum    func([]byte) []byte
	}{
		{"SM2-SM3", true, "SM3", func(b []byte) []byte { s := sm3.Sum(b); return s[:] }},
		{"ECDSA-SHA256", false, "", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := goodTSA(t, tc.sm2Key)
			sealed := signBytes(t, simplePDF(t, 1), getPKI(t).opts())
			b := docStamp(t, sealed, tc.hash, ts.tsa().StampDigest)
			qpdfCheck(t, b)
			res := verifyBytes(t, b)
			if len(res.Signatures) != 2 {
				t.Fatalf("%d signatures, want the seal and the timestamp", len(res.Signatures))
			}
			seal, dts := res.Signatures[0], docTimestampOf(t, res)
			assertValid(t, seal)
			assertValid(t, dts)
			if seal.Format != CMS || !strings.Contains(strings.Join(seal.Changes, ","), "signature added") {
				t.Errorf("seal: format %v, changes %v", seal.Format, seal.Changes)
			}
			if dts.SubFilter != SubFilterDocTimeStamp || !dts.CoversWholeFile || dts.Field != "DocTimeStamp1" {
				t.Errorf("timestamp: subfilter %q, whole file %v, field %q", dts.SubFilter, dts.CoversWholeFile, dts.Field)
			}
			if want := tc.sum(signedRanges(b, dts.ByteRange)); !bytes.Equal(dts.Digest, want) {
				t.Errorf("digest %x, want %x", dts.Digest, want)
			}
			if dts.Signer == nil || !dts.Signer.Equal(ts.cert) || !dts.SigningTime.Equal(tsGenTime) || dts.Timestamp == nil || dts.Timestamp.Err != nil {
				t.Errorf("timestamp read wrong: signer %v, time %v, token %+v", dts.Signer, dts.SigningTime, dts.Timestamp)
			}
			// The dictionary is a DocTimeStamp (ISO 32000-2 Table 255).
			if !bytes.Contains(b[len(sealed):], []byte("/Type /DocTimeStamp")) {
				t.Error("no /Type /DocTimeStamp in the update")
			}
		})
	}
}

// TestDocTimestampBadWriter: AddDocTimestamp refuses a token that does not
// stamp what it asked for, one that does not parse, a TSA error; Sign
// refuses to make a document timestamp.
func TestDocTimestampBadWriter(t *testing.T) {
	ts := goodTSA(t, false).tsa()
	b := simplePDF(t, 1)
	for name, stamp := range map[string]func(asn1.ObjectIdentifier, []byte) ([]byte, error){
		"other imprint": func(oid asn1.ObjectIdentifier, d []byte) ([]byte, error) { return ts.Stamp([]byte("other")) },
		"garbage":       func(asn1.ObjectIdentifier, []byte) ([]byte, error) { return []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil },
		"tsa error":     func(asn1.ObjectIdentifier, []byte) ([]byte, error) { return nil, errors.New("tsa down") },
	} {
		var out bytes.Buffer
		err := AddDocTimestamp(bytes.NewReader(b), int64(len(b)), &out, DocTimestampOptions{Stamp: stamp})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := AddDocTimestamp(bytes.NewReader(b), int64(len(b)), &bytes.Buffer{}, DocTimestampOptions{Hash: "MD5", Stamp: ts.StampDigest}); err == nil {
		t.Error("MD5 accepted")
	}
	o := getPKI(t).opts()
	o.Format = DocTimestamp
	if err := Sign(bytes.NewReader(b), int64(len(b)), &bytes.Buffer{}, o); err == nil {
		t.Error("Sign made a document timestamp")
	}
}

// swapToken replaces the token tok in the /Contents of the PDF b with
// other (padded with zeros as the placeholder is), as an attacker would.
func swapToken(t testing.TB, b, tok, other []byte) []byte {
	t.Helper()
	old := []byte(hex.EncodeToString(tok))
	i := bytes.Index(b, old)
	if i < 0 {
		t.Fatal("token not found in the file")
	}
	end := i + bytes.IndexByte(b[i:], '>')
	if 2*len(other) > end-i {
		t.Fatal("the other token does not fit")
	}
	out := append([]byte{}, b...)
	copy(out[i:end], bytes.Repeat([]byte("0"), end-i))
	hex.Encode(out[i:], other)
	return out
}

// opensslTSA is `openssl ts -reply` with an ECDSA test TSA: an
// independent implementation of RFC 3161 to make and check tokens.
type opensslTSA struct {
	t                        testing.TB
	bin, dir                 string
	cnf, key, cert, rootFile string
	ts                       *testTSA
}

func newOpenSSLTSA(t testing.TB) *opensslTSA {
	o := &opensslTSA{t: t, bin: needTool(t, "openssl"), dir: t.TempDir(), ts: goodTSA(t, false)}
	keyDER, err := x509.MarshalPKCS8PrivateKey(o.ts.key)
	if err != nil {
		t.Fatal(err)
	}
	o.key = o.write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	o.cert = o.write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.ts.cert.Raw}))
	o.rootFile = o.write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.ts.root.Raw}))
	o.write("serial", []byte("01\n"))
	o.cnf = o.write("ts.cnf", []byte(strings.Join([]string{
		"[ tsa ]", "default_tsa = t", "[ t ]",
		"serial = " + filepath.Join(o.dir, "serial"),
		"crypto_device = builtin", "signer_digest = sha256", "default_policy = 1.3.6.1.4.1.32473.2026.9.1",
		"digests = sha256, sha384, sha512", "accuracy = secs:1", "ordering = yes", "tsa_name = yes",
		"ess_cert_id_alg = sha256", "certs = " + o.cert, ""}, "\n")))
	return o
}

func (o *opensslTSA) write(name string, b []byte) string {
	p := filepath.Join(o.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return p
}

func (o *opensslTSA) run(args ...string) (string, error) {
	out, err := exec.Command(o.bin, args...).CombinedOutput()
	return string(out), err
}

// stamp answers a request for (SHA-256, digest) with a nonce, as a TSA
// would, and returns the token.
func (o *opensslTSA) stamp(hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	if !hashAlg.Equal(oidSHA256) {
		return nil, errors.New("this OpenSSL TSA is asked for SHA-256 only")
	}
	q, tok := filepath.Join(o.dir, "q.tsq"), filepath.Join(o.dir, "tok.der")
	if out, err := o.run("ts", "-query", "-digest", hex.EncodeToString(digest), "-sha256", "-cert", "-out", q); err != nil {
		return nil, errors.New(out)
	}
	if out, err := o.run("ts", "-reply", "-config", o.cnf, "-queryfile", q, "-signer", o.cert, "-inkey", o.key, "-token_out", "-out", tok); err != nil {
		return nil, errors.New(out)
	}
	return os.ReadFile(tok)
}

// verifies runs `openssl ts -verify -data` on the bytes the token should
// stamp.
func (o *opensslTSA) verifies(tok, data []byte) bool {
	out, err := o.run("ts", "-verify", "-data", o.write("data.bin", data), "-in", o.write("v.der", tok), "-token_in",
		"-CAfile", o.rootFile, "-untrusted", o.cert)
	return err == nil && strings.Contains(out, "Verification: OK")
}

// TestDocTimestampOpenSSL adds a document timestamp whose token OpenSSL
// made (`openssl ts -reply`, ESS signingCertificateV2, nonce, ordering):
// Verify accepts it and `openssl ts -verify -data` over the byte range
// agrees. Tampered variants fail in both: a token over other bytes
// swapped in (HASH_FAILURE), a flipped bit in the token's signature
// (SIG_CRYPTO_FAILURE), a byte of the document changed (HASH_FAILURE), bytes
// appended (MODIFIED_AFTER_SIGNING).
func TestDocTimestampOpenSSL(t *testing.T) {
	o := newOpenSSLTSA(t)
	var tok []byte
	b := docStamp(t, simplePDF(t, 1), "SHA256", func(oid asn1.ObjectIdentifier, d []byte) ([]byte, error) {
		var err error
		tok, err = o.stamp(oid, d)
		return tok, err
	})
	qpdfCheck(t, b)
	dts := docTimestampOf(t, verifyBytes(t, b))
	assertValid(t, dts)
	if !dts.Signer.Equal(o.ts.cert) || dts.Algorithm != "ECDSA-with-SHA256 (RFC 3161)" || dts.DigestAlgorithm != "SHA256" {
		t.Errorf("read wrong: %v %q %q", dts.Signer.Subject, dts.Algorithm, dts.DigestAlgorithm)
	}
	ranges := signedRanges(b, dts.ByteRange)
	if !o.verifies(tok, ranges) {
		t.Fatal("openssl ts -verify rejects the token over the byte range we accepted")
	}

	reason := func(s Signature) (report.Reason, report.Reason) {
		return report.ReasonOf(s.DigestErr), report.ReasonOf(s.SignatureErr)
	}

	// A genuine token over other bytes.
	d := sha256.Sum256([]byte("another document"))
	other, err := o.stamp(oidSHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	swapped := swapToken(t, b, tok, other)
	s := docTimestampOf(t, verifyBytes(t, swapped))
	if dr, sr := reason(s); dr != report.HashFailure || sr != "" {
		t.Errorf("other token: digest %q signature %q, want HASH_FAILURE and a good token", dr, sr)
	}
	if o.verifies(other, ranges) {
		t.Error("openssl accepts a token over other bytes")
	}

	// The token's signature altered (its last byte is in the signature).
	flipped := append([]byte{}, tok...)
	flipped[len(flipped)-1] ^= 1
	s = docTimestampOf(t, verifyBytes(t, swapToken(t, b, tok, flipped)))
	if dr, sr := reason(s); dr != "" || sr != report.SigCryptoFailure {
		t.Errorf("flipped token: digest %q signature %q, want SIG_CRYPTO_FAILURE", dr, sr)
	}
	if o.verifies(flipped, ranges) {
		t.Error("openssl accepts a flipped token")
	}

	// The document changed under the timestamp: "Zhengxin test page" is
	// in the page's content stream (uncompressed by fpdf? if not, the
	// header comment is used).
	changed := append([]byte{}, b...)
	i := bytes.Index(changed, []byte("%PDF-1."))
	changed[i+len("%PDF-1.")] ^= 0x01 // 1.3 <-> 1.2: still a PDF
	s = docTimestampOf(t, verifyBytes(t, changed))
	if dr, _ := reason(s); dr != report.HashFailure {
		t.Errorf("changed document: digest %q, want HASH_FAILURE", dr)
	}
	if o.verifies(tok, signedRanges(changed, s.ByteRange)) {
		t.Error("openssl accepts the token over the changed document")
	}

	// Appended bytes that are not an incremental update.
	s = docTimestampOf(t, verifyBytes(t, append(append([]byte{}, b...), "junk junk\n"...)))
	if r := report.ReasonOf(s.ModifiedErr); r != report.ModifiedAfterSigning {
		t.Errorf("appended: %q, want MODIFIED_AFTER_SIGNING", r)
	}
}

// TestDocTimestampTestTSAOpenSSL: OpenSSL verifies the test TSA's ECDSA
// document timestamp over the byte range Verify hashed, so the two agree
// on what a document timestamp stamps.
func TestDocTimestampTestTSAOpenSSL(t *testing.T) {
	o := newOpenSSLTSA(t)
	ours := &tsatest.TSA{Key: o.ts.key, Cert: o.ts.cert, Time: tsGenTime}
	var tok []byte
	b := docStamp(t, simplePDF(t, 1), "SHA256", func(oid asn1.ObjectIdentifier, d []byte) ([]byte, error) {
		var err error
		tok, err = ours.StampDigest(oid, d)
		return tok, err
	})
	dts := docTimestampOf(t, verifyBytes(t, b))
	assertValid(t, dts)
	if !o.verifies(tok, signedRanges(b, dts.ByteRange)) {
		t.Error("openssl ts -verify rejects the test TSA's document timestamp")
	}
}

// TestDocTimestampNotAToken: /SubFilter ETSI.RFC3161 over a CMS signature
// (not a TSTInfo) is a broken document timestamp, not a signature.
func TestDocTimestampNotAToken(t *testing.T) {
	ts := goodTSA(t, true).tsa()
	var tok []byte
	b := docStamp(t, simplePDF(t, 1), "SM3", func(oid asn1.ObjectIdentifier, d []byte) ([]byte, error) {
		var err error
		tok, err = ts.StampDigest(oid, d)
		return tok, err
	})
	p := getPKI(t)
	cms, err := buildCMS(make([]byte, 32), p.leafKey, p.leaf, nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	s := docTimestampOf(t, verifyBytes(t, swapToken(t, b, tok, cms)))
	if r := report.ReasonOf(s.SignatureErr); r != report.FormatFailure || !strings.Contains(s.SignatureErr.Error(), "id-ct-TSTInfo") {
		t.Errorf("CMS in a document timestamp: %v", s.SignatureErr)
	}
}
