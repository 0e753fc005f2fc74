package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/pdf/tsatest"
	"github.com/zhengxin/zhengxin/verify/report"
)

// tsGenTime is when the test TSAs stamp: a minute after the signature.
var tsGenTime = fixedNow.Add(time.Minute)

// testTSA is a root and a TSA certificate under it.
type testTSA struct {
	rootKey, key crypto.Signer
	root, cert   *smx509.Certificate
}

// ekuExt is an extended key usage extension with the given purposes.
func ekuExt(t testing.TB, critical bool, oids ...asn1.ObjectIdentifier) pkix.Extension {
	v, err := asn1.Marshal(oids)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: critical, Value: v}
}

// newTestTSA makes a root and a TSA certificate, SM2 (gmsm smx509) or
// ECDSA P-256 (crypto/x509), with the extensions given (nil: none, so no
// extended key usage at all). Validity spans decades: gmsm's verifier,
// used as a reference, checks the token's signingTime, which it sets to
// the real clock.
func newTestTSA(t testing.TB, sm2Key bool, exts ...pkix.Extension) *testTSA {
	t.Helper()
	nb, na := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
	rootT := &x509.Certificate{SerialNumber: big.NewInt(100), Subject: pkix.Name{CommonName: "测试时间戳根CA Test TSA Root"},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	tsaT := &x509.Certificate{SerialNumber: big.NewInt(101), Subject: pkix.Name{CommonName: "测试时间戳服务 Test TSA"},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: exts}
	ts := &testTSA{}
	if sm2Key {
		rk, k := mustKey(t), mustKey(t)
		ts.rootKey, ts.key = rk, k
		ts.root = makeCert(t, (*smx509.Certificate)(rootT), (*smx509.Certificate)(rootT), &rk.PublicKey, rk)
		ts.cert = makeCert(t, (*smx509.Certificate)(tsaT), ts.root, &k.PublicKey, rk)
		return ts
	}
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rk, k := gen(), gen()
	ts.rootKey, ts.key = rk, k
	mk := func(tmpl, parent *x509.Certificate, pub any, signer crypto.Signer) *smx509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ts.root = mk(rootT, rootT, &rk.PublicKey, rk)
	rootX, _ := x509.ParseCertificate(ts.root.Raw)
	ts.cert = mk(tsaT, rootX, &k.PublicKey, rk)
	return ts
}

func goodTSA(t testing.TB, sm2Key bool) *testTSA {
	return newTestTSA(t, sm2Key, ekuExt(t, true, OIDExtKeyUsageTimeStamping))
}

func (ts *testTSA) tsa() *tsatest.TSA {
	return &tsatest.TSA{Key: ts.key, Cert: ts.cert, Time: tsGenTime}
}

// signStamped signs a small PDF with our signer and a timestamp from
// stamp, and returns the file and the signature value stamp was given.
func signStamped(t testing.TB, stamp func(sig []byte) ([]byte, error)) (pdf, sigValue []byte) {
	t.Helper()
	o := getPKI(t).opts()
	o.Timestamp = func(sig []byte) ([]byte, error) {
		sigValue = append([]byte{}, sig...)
		return stamp(sig)
	}
	return signBytes(t, simplePDF(t, 1), o), sigValue
}

// onlySignature verifies b and returns its one signature, whose own checks
// (byte range, digest, signature, changes) must pass: a timestamp, good or
// bad, never touches them.
func onlySignature(t testing.TB, b []byte) Signature {
	t.Helper()
	res := verifyBytes(t, b)
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	s := res.Signatures[0]
	assertValid(t, s)
	if s.Timestamp == nil {
		t.Fatal("the timestamp was not found")
	}
	return s
}

// tstInfoRef is TSTInfo as encoding/asn1 reads it: an independent view of
// what the tokens say.
type tstInfoRef struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time     `asn1:"generalized"`
	Accuracy     asn1.RawValue `asn1:"optional"`
}

// TestTimestampSM2 signs a PDF with a timestamp from an SM2 TSA (token
// made by gmsm's pkcs7) and checks it with our verifier and, independently,
// with gmsm: the token's signature verifies, the PDF's SignerInfo carries
// the token as id-aa-timeStampToken, and the imprint is SM3 of that
// SignerInfo's signature value.
func TestTimestampSM2(t *testing.T) {
	ts := goodTSA(t, true)
	var token []byte
	b, sigValue := signStamped(t, func(sig []byte) ([]byte, error) {
		var err error
		token, err = ts.tsa().Stamp(sig)
		return token, err
	})
	qpdfCheck(t, b)
	s := onlySignature(t, b)
	got := s.Timestamp
	if got.Err != nil {
		t.Fatalf("good token refused: %v", got.Err)
	}
	if !got.GenTime.Equal(tsGenTime) || got.TSA == nil || !got.TSA.Equal(ts.cert) ||
		got.Algorithm != "SM2-with-SM3" || got.HashAlgorithm != "SM3" || got.Accuracy != time.Second ||
		!got.Policy.Equal(tsatest.DefaultPolicy) || got.SerialNumber.Int64() != 1 || !bytes.Equal(got.Raw, token) {
		t.Errorf("timestamp read wrong: %+v", got)
	}
	if !s.SigningTime.Equal(fixedNow) {
		t.Errorf("the claimed signing time changed: %v", s.SigningTime)
	}

	// Independent: gmsm parses the PDF's CMS; the unsigned attribute is
	// id-aa-timeStampToken holding our token, and the signature value is
	// what the TSA was asked to stamp.
	p7, err := pkcs7.Parse(s.Contents)
	if err != nil {
		t.Fatal(err)
	}
	si := p7.Signers[0]
	if !bytes.Equal(si.EncryptedDigest, sigValue) {
		t.Error("the TSA was not given the SignerInfo's signature value")
	}
	if len(si.UnauthenticatedAttributes) != 1 || !si.UnauthenticatedAttributes[0].Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}) ||
		!bytes.Equal(si.UnauthenticatedAttributes[0].Value.Bytes, token) {
		t.Errorf("unsigned attributes: %+v", si.UnauthenticatedAttributes)
	}
	p7.Content = signedRanges(b, s.ByteRange)
	if err := p7.Verify(); err != nil {
		t.Errorf("gmsm rejects the timestamped signature: %v", err)
	}
	tp7, err := pkcs7.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp7.Verify(); err != nil {
		t.Errorf("gmsm rejects the token: %v", err)
	}
	var info tstInfoRef
	if _, err := asn1.Unmarshal(tp7.Content, &info); err != nil {
		t.Fatal(err)
	}
	if d := sm3.Sum(si.EncryptedDigest); !bytes.Equal(info.MessageImprint.HashedMessage, d[:]) || !info.GenTime.Equal(tsGenTime) {
		t.Errorf("TSTInfo: imprint %x genTime %v", info.MessageImprint.HashedMessage, info.GenTime)
	}
	if !strings.Contains(got.String(), "Test TSA") || !strings.Contains(got.String(), "2026-11-23T10:01:00Z") {
		t.Errorf("summary %q", got.String())
	}
}

// TestTimestampECDSADigitorus: a token made by digitorus/timestamp (another
// implementation, ECDSA P-256 with SHA-256) over SHA-256 of the signature
// value is accepted.
func TestTimestampECDSADigitorus(t *testing.T) {
	ts := goodTSA(t, false)
	certX, _ := x509.ParseCertificate(ts.cert.Raw)
	b, _ := signStamped(t, func(sig []byte) ([]byte, error) {
		d := sha256.Sum256(sig)
		req := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Time: tsGenTime,
			Policy: asn1.ObjectIdentifier{1, 2, 3, 4}, AddTSACertificate: true}
		resp, err := req.CreateResponseWithOpts(certX, ts.key, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		parsed, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return parsed.RawToken, nil
	})
	got := onlySignature(t, b).Timestamp
	if got.Err != nil {
		t.Fatalf("digitorus token refused: %v", got.Err)
	}
	if !got.GenTime.Equal(tsGenTime) || got.Algorithm != "ECDSA-with-SHA256" || got.HashAlgorithm != "SHA256" || !got.TSA.Equal(ts.cert) {
		t.Errorf("timestamp read wrong: %+v", got)
	}
}

// TestTimestampBad: tokens that must not be accepted, each with the reason
// it is reported with. The document's own signature stays valid.
func TestTimestampBad(t *testing.T) {
	good := goodTSA(t, true)
	other := mustKey(t)
	cases := []struct {
		name  string
		stamp func(sig []byte) ([]byte, error)
		want  report.Reason
	}{
		{"imprint of other bytes", func([]byte) ([]byte, error) { return good.tsa().Stamp([]byte("other bytes")) }, report.HashFailure},
		{"imprint of a truncated signature value", func(sig []byte) ([]byte, error) {
			return good.tsa().Stamp(sig[:len(sig)-1])
		}, report.HashFailure},
		{"token signature bit flipped", func(sig []byte) ([]byte, error) {
			tok, err := good.tsa().Stamp(sig)
			if err == nil {
				tok[len(tok)-1] ^= 1 // the last byte of the SignerInfo's signature
			}
			return tok, err
		}, report.SigCryptoFailure},
		{"TSTInfo altered (genTime back-dated)", func(sig []byte) ([]byte, error) {
			tok, err := good.tsa().Stamp(sig)
			if err == nil {
				i := bytes.Index(tok, []byte("20261123100100Z"))
				if i < 0 {
					return nil, errors.New("genTime not found in the token")
				}
				tok[i+3] = '5' // 2025
			}
			return tok, err
		}, report.SigCryptoFailure},
		{"signed by another key", func(sig []byte) ([]byte, error) {
			tsa := good.tsa()
			tsa.Key = other
			return tsa.Stamp(sig)
		}, report.SigCryptoFailure},
		{"eContentType id-data", func(sig []byte) ([]byte, error) {
			tsa := good.tsa()
			tsa.EContentType = oidData
			return tsa.Stamp(sig)
		}, report.FormatFailure},
		{"no signing certificate attribute", func(sig []byte) ([]byte, error) {
			tsa := good.tsa()
			tsa.NoSigningCertificate = true
			return tsa.Stamp(sig)
		}, report.FormatFailure},
		{"signing certificate attribute names the root", func(sig []byte) ([]byte, error) {
			tsa := good.tsa()
			tsa.SigningCertificate = good.root
			return tsa.Stamp(sig)
		}, report.SigCryptoFailure},
		{"SHA-1 imprint", func(sig []byte) ([]byte, error) {
			d := sha1.Sum(sig)
			return good.tsa().StampDigest(oidSHA1, d[:])
		}, report.UnsupportedAlgorithm},
		{"TSA certificate without extended key usage", func(sig []byte) ([]byte, error) {
			ts := newTestTSA(t, true)
			return ts.tsa().Stamp(sig)
		}, report.ChainConstraintsFailure},
		{"TSA certificate with id-kp-timeStamping not critical", func(sig []byte) ([]byte, error) {
			ts := newTestTSA(t, true, ekuExt(t, false, OIDExtKeyUsageTimeStamping))
			return ts.tsa().Stamp(sig)
		}, report.ChainConstraintsFailure},
		{"TSA certificate with another usage beside timeStamping", func(sig []byte) ([]byte, error) {
			ts := newTestTSA(t, true, ekuExt(t, true, OIDExtKeyUsageTimeStamping, asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}))
			return ts.tsa().Stamp(sig)
		}, report.ChainConstraintsFailure},
		{"not a token at all", func([]byte) ([]byte, error) {
			return []byte{0x30, 0x03, 0x06, 0x01, 0x00}, nil
		}, report.FormatFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _ := signStamped(t, c.stamp)
			got := onlySignature(t, b).Timestamp
			if r := report.ReasonOf(got.Err); r != c.want {
				t.Errorf("got %v (%s), want %s", got.Err, r, c.want)
			}
		})
	}
}

// TestTimestampWithoutTSACertificate: a token that leaves out the TSA's
// certificate (RFC 3161 certReq false) cannot be checked here: the TSA is
// unknown, NO_CERTIFICATE_CHAIN_FOUND.
func TestTimestampWithoutTSACertificate(t *testing.T) {
	ts := goodTSA(t, false)
	certX, _ := x509.ParseCertificate(ts.cert.Raw)
	b, _ := signStamped(t, func(sig []byte) ([]byte, error) {
		d := sha256.Sum256(sig)
		req := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Time: tsGenTime, Policy: asn1.ObjectIdentifier{1, 2, 3}}
		resp, err := req.CreateResponseWithOpts(certX, ts.key, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		parsed, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return parsed.RawToken, nil
	})
	if got := onlySignature(t, b).Timestamp; report.ReasonOf(got.Err) != report.NoCertificateChainFound || got.TSA != nil || !got.GenTime.Equal(tsGenTime) {
		t.Errorf("got %v, TSA %v, genTime %v", got.Err, got.TSA, got.GenTime)
	}
}

func TestTimestampSignOptions(t *testing.T) {
	p := getPKI(t)
	in := simplePDF(t, 1)
	sign := func(o SignOptions) error {
		return Sign(bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, o)
	}
	o := p.opts()
	o.Format, o.SESSeal = SES, []byte{0x30, 0}
	o.Timestamp = func([]byte) ([]byte, error) { return nil, nil }
	if err := sign(o); err == nil || !strings.Contains(err.Error(), "CMS only") {
		t.Errorf("SES with a timestamp: %v", err)
	}
	o = p.opts()
	o.Timestamp = func([]byte) ([]byte, error) { return nil, errors.New("TSA unreachable") }
	if err := sign(o); err == nil || !strings.Contains(err.Error(), "TSA unreachable") {
		t.Errorf("TSA error: %v", err)
	}
	o.Timestamp = func([]byte) ([]byte, error) {
		// A TimeStampResp: SEQUENCE { PKIStatusInfo SEQUENCE {...}, token }.
		return []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00}, nil
	}
	if err := sign(o); err == nil || !strings.Contains(err.Error(), "TimeStampResp") {
		t.Errorf("a whole response: %v", err)
	}
	o.Timestamp = func([]byte) ([]byte, error) { return bigContentInfo(maxSignTimestamp + 1), nil }
	if err := sign(o); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("an oversized token: %v", err)
	}
}

// bigContentInfo is a SEQUENCE { OID, OCTET STRING } of more than n bytes.
func bigContentInfo(n int) []byte {
	body := append([]byte{0x06, 0x01, 0x00, 0x04, 0x83}, byte(n>>16), byte(n>>8), byte(n))
	body = append(body, make([]byte, n)...)
	l := len(body)
	return append([]byte{0x30, 0x83, byte(l >> 16), byte(l >> 8), byte(l)}, body...)
}

func TestParseGenTime(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 1, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"20261123100100Z":           base,
		"20261123100100.5Z":         base.Add(500 * time.Millisecond),
		"20261123100100.123Z":       base.Add(123 * time.Millisecond),
		"20261123100100.000000001Z": base.Add(time.Nanosecond),
	} {
		if got, err := parseGenTime(in); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "20261123100100", "202611231001Z", "20261123100100.Z", "20261123100100+0800",
		"20261323100100Z", "20261123100100.1234567890Z", "20261123100100.-1Z", "20261123100100,5Z"} {
		if _, err := parseGenTime(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestTimestampOpenSSL cross-checks with OpenSSL 3 (`openssl ts`), an
// implementation that shares no code with ours: a token OpenSSL's TSA
// makes (ECDSA P-256, genTime with milliseconds) over SHA-256 of our
// signature value is accepted, with the genTime OpenSSL prints, and
// `openssl ts -verify` agrees; a token over other bytes and a token with a
// flipped signature bit are refused by both. Our test TSA's ECDSA tokens
// pass `openssl ts -verify` too, and OpenSSL reads the TSTInfo of its SM2
// tokens as we do (OpenSSL 3.0 cannot sign or verify SM2 CMS with the
// standard user ID, TOOLING.md).
func TestTimestampOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl")
	dir := t.TempDir()
	ts := goodTSA(t, false)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(ts.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := write("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	certFile := write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.cert.Raw}))
	rootFile := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.root.Raw}))
	write("serial", []byte("01\n"))
	cnf := write("ts.cnf", []byte(strings.Join([]string{
		"[ tsa ]", "default_tsa = t", "[ t ]",
		"serial = " + filepath.Join(dir, "serial"),
		"crypto_device = builtin", "signer_digest = sha256", "default_policy = 1.3.6.1.4.1.32473.2026.9.1",
		"digests = sha256", "accuracy = secs:1", "clock_precision_digits = 3", "ordering = no", "tsa_name = yes",
		// ess_cert_id_alg is left at its default: ESS signingCertificate v1 (SHA-1).
		"certs = " + certFile, "other_policies = 1.3.6.1.4.1.32473.2026.9.2", ""}, "\n")))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	opensslStamp := func(digest []byte) ([]byte, error) {
		q := filepath.Join(dir, "q.tsq")
		tok := filepath.Join(dir, "tok.der")
		if out, err := run("ts", "-query", "-digest", hex.EncodeToString(digest), "-sha256", "-cert", "-no_nonce", "-out", q); err != nil {
			return nil, errors.New(out)
		}
		if out, err := run("ts", "-reply", "-config", cnf, "-queryfile", q, "-signer", certFile, "-inkey", keyFile, "-token_out", "-out", tok); err != nil {
			return nil, errors.New(out)
		}
		return os.ReadFile(tok)
	}
	opensslVerify := func(tok, digest []byte) bool {
		out, err := run("ts", "-verify", "-digest", hex.EncodeToString(digest), "-in", write("v.der", tok), "-token_in",
			"-CAfile", rootFile, "-untrusted", certFile)
		return err == nil && strings.Contains(out, "Verification: OK")
	}
	opensslGenTime := func(tok []byte) time.Time {
		out, err := run("ts", "-reply", "-in", write("p.der", tok), "-token_in", "-text")
		if err != nil {
			t.Fatalf("openssl ts -text: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`Time stamp: (.*) GMT`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no time in:\n%s", out)
		}
		g, err := time.Parse("Jan _2 15:04:05.000 2006", m[1])
		if err != nil {
			g, err = time.Parse("Jan _2 15:04:05 2006", m[1])
		}
		if err != nil {
			t.Fatalf("openssl time %q: %v", m[1], err)
		}
		return g
	}

	var token []byte
	b, sigValue := signStamped(t, func(sig []byte) ([]byte, error) {
		d := sha256.Sum256(sig)
		var err error
		token, err = opensslStamp(d[:])
		return token, err
	})
	imprint := sha256.Sum256(sigValue)
	got := onlySignature(t, b).Timestamp
	if got.Err != nil {
		t.Fatalf("OpenSSL token refused: %v", got.Err)
	}
	if want := opensslGenTime(token); !got.GenTime.Equal(want) {
		t.Errorf("genTime %v, OpenSSL says %v", got.GenTime, want)
	}
	if got.Algorithm != "ECDSA-with-SHA256" || got.HashAlgorithm != "SHA256" || !got.TSA.Equal(ts.cert) {
		t.Errorf("timestamp read wrong: %+v", got)
	}
	if !opensslVerify(token, imprint[:]) {
		t.Error("openssl ts -verify rejects the token we accepted")
	}
	if !bytes.Contains(token, oidBytes(oidAttrSigningCertificate)) {
		t.Error("OpenSSL's token should use ESS signingCertificate v1 (this test covers that path)")
	}

	// Tampered: imprint of other bytes, and a flipped signature bit.
	otherD := sha256.Sum256([]byte("other bytes"))
	other, err := opensslStamp(otherD[:])
	if err != nil {
		t.Fatal(err)
	}
	if r := report.ReasonOf(VerifyTimestampToken(other, sigValue).Err); r != report.HashFailure {
		t.Errorf("other imprint: %s, want HASH_FAILURE", r)
	}
	if opensslVerify(other, imprint[:]) {
		t.Error("openssl accepts a token over other bytes")
	}
	flipped := append([]byte{}, token...)
	flipped[len(flipped)-1] ^= 1
	if r := report.ReasonOf(VerifyTimestampToken(flipped, sigValue).Err); r != report.SigCryptoFailure {
		t.Errorf("flipped: %s, want SIG_CRYPTO_FAILURE", r)
	}
	if opensslVerify(flipped, imprint[:]) {
		t.Error("openssl accepts a flipped token")
	}

	// Our test TSA, checked by OpenSSL: ECDSA tokens verify; SM2 tokens'
	// TSTInfo reads the same.
	ours, err := ts.tsa().Stamp(sigValue)
	if err != nil {
		t.Fatal(err)
	}
	if !opensslVerify(ours, imprint[:]) {
		t.Error("openssl ts -verify rejects the test TSA's ECDSA token")
	}
	sm2Tok, err := goodTSA(t, true).tsa().Stamp(sigValue)
	if err != nil {
		t.Fatal(err)
	}
	if g := opensslGenTime(sm2Tok); !g.Equal(tsGenTime) {
		t.Errorf("OpenSSL reads the SM2 token's genTime as %v", g)
	}
	out, _ := run("ts", "-reply", "-in", write("s.der", sm2Tok), "-token_in", "-text")
	smImprint := sm3.Sum(sigValue)
	if !strings.Contains(out, "Hash Algorithm: sm3") || !strings.Contains(strings.ReplaceAll(hexDump(out), " ", ""), hex.EncodeToString(smImprint[:])) {
		t.Errorf("OpenSSL reads the SM2 token differently:\n%s", out)
	}
}

// hexDump pulls the hex bytes out of OpenSSL's "Message data" dump.
func hexDump(out string) string {
	var b strings.Builder
	re := regexp.MustCompile(`^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})`)
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			b.WriteString(strings.NewReplacer("-", "", " ", "").Replace(m[1]))
		}
	}
	return b.String()
}

// TestTimestampRSADigitorus: an RSA TSA (PKCS #1 v1.5, SHA-384 imprint and
// signature) through digitorus/timestamp is accepted too.
func TestTimestampRSADigitorus(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "RSA TSA"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{ekuExt(t, true, OIDExtKeyUsageTimeStamping)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	certX, _ := x509.ParseCertificate(der)
	b, _ := signStamped(t, func(sig []byte) ([]byte, error) {
		d := sha512.Sum384(sig)
		req := timestamp.Timestamp{HashAlgorithm: crypto.SHA384, HashedMessage: d[:], Time: tsGenTime,
			Policy: asn1.ObjectIdentifier{1, 2, 3, 4}, AddTSACertificate: true}
		resp, err := req.CreateResponseWithOpts(certX, k, crypto.SHA384)
		if err != nil {
			return nil, err
		}
		parsed, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return parsed.RawToken, nil
	})
	got := onlySignature(t, b).Timestamp
	if got.Err != nil || got.Algorithm != "RSA-with-SHA384" || got.HashAlgorithm != "SHA384" || !got.GenTime.Equal(tsGenTime) {
		t.Errorf("RSA token: %v %+v", got.Err, got)
	}
}
