package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/go-pdf/fpdf"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/pdf/tsatest"
	"github.com/zhengxin/zhengxin/verify/report"
)

// pdfClock is the clock the pdf/testdata files were made for.
var pdfClock = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// pdfTrust makes a pool with the anchors in anchorFile and, if given, the
// agency CA and its CRL.
func pdfTrust(t *testing.T, anchorFile string, caAndCRL ...string) *certs.Pool {
	t.Helper()
	read := func(f string) []byte {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("%s absent: %v", f, err)
		}
		return b
	}
	pool, err := certs.LoadPEMBundle(read(anchorFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(caAndCRL) == 2 {
		ca, err := certs.ParseCertificatePEM(read(caAndCRL[0]))
		if err != nil {
			t.Fatal(err)
		}
		pool.AddIntermediate(ca)
		crl, err := certs.ParseCRL(read(caAndCRL[1]))
		if err != nil {
			t.Fatal(err)
		}
		if err := pool.AddCRL(crl); err != nil {
			t.Fatal(err)
		}
	}
	pool.SetClock(func() time.Time { return pdfClock })
	return pool
}

func verifyPDFFile(t *testing.T, path string, trust Trust) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyPDF(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Trust: trust, Now: func() time.Time { return pdfClock }})
}

// TestPDFVectors checks every file of pdf/testdata against the verdict and
// reason in expected.json, with trust.pem and crl.pem as the trust.
func TestPDFVectors(t *testing.T) {
	dir := filepath.Join("..", "pdf", "testdata")
	j, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Skip("pdf/testdata/expected.json absent")
	}
	var exp []struct {
		File    string         `json:"file"`
		Verdict report.Verdict `json:"verdict"`
		Reason  report.Reason  `json:"reason"`
		What    string         `json:"what"`
	}
	if err := json.Unmarshal(j, &exp); err != nil {
		t.Fatal(err)
	}
	trust := pdfTrust(t, filepath.Join(dir, "trust.pem"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem"))
	for _, e := range exp {
		t.Run(e.File, func(t *testing.T) {
			rep := verifyPDFFile(t, filepath.Join(dir, e.File), trust)
			if rep.Verdict != e.Verdict || rep.Reason != e.Reason {
				js, _ := json.MarshalIndent(rep, "", " ")
				t.Errorf("%s (%s): got %s %s, want %s %s\n%s", e.File, e.What, rep.Verdict, rep.Reason, e.Verdict, e.Reason, js)
			}
			if rep.Kind != report.KindPDF || rep.Message.ZH == "" {
				t.Errorf("kind %q message %v", rep.Kind, rep.Message)
			}
		})
	}
}

// TestPDFVectorsWithoutTrust: the same good files with no trust at all
// are never PASSED.
func TestPDFVectorsWithoutTrust(t *testing.T) {
	path := filepath.Join("..", "pdf", "testdata", "good_countersigned.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Skip("pdf/testdata absent")
	}
	rep := verifyPDFFile(t, path, nil)
	if rep.Verdict != report.Indeterminate || rep.Reason != report.NoCertificateChainFound {
		t.Errorf("no trust: %s %s", rep.Verdict, rep.Reason)
	}
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	for _, s := range rep.Signatures {
		if s.SignedAt == nil || !s.SignedAt.Equal(pdfClock) || !strings.Contains(s.Signer, "Seal Signer") || s.Algorithm != "SM2-with-SM3" {
			t.Errorf("signature summary: %+v", s)
		}
	}
}

// TestPDFInteropECDSA: the pdfsign-made ECDSA signature verifies; its
// self-signed signer is untrusted unless pinned as an anchor.
func TestPDFInteropECDSA(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "interop", "pdf")
	path := filepath.Join(dir, "signed_ecdsa_testfile12.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Skip("interop samples absent (../shared/interop/pdf)")
	}
	other := pdfTrust(t, filepath.Join("..", "pdf", "testdata", "trust.pem"))
	rep := verifyPDFFile(t, path, other)
	if rep.Verdict != report.Indeterminate || rep.Reason != report.NoCertificateChainFound {
		t.Errorf("untrusted: %s %s", rep.Verdict, rep.Reason)
	}
	for _, c := range rep.Signatures[0].Checks {
		if (c.Name == "digest" || c.Name == "signature" || c.Name == "byte-range" || c.Name == "modification") && c.Result != report.Passed {
			t.Errorf("check %s: %s %s", c.Name, c.Result, c.Detail)
		}
	}
	pinned := pdfTrust(t, filepath.Join(dir, "ecdsa_selfsigned.pem"))
	if rep := verifyPDFFile(t, path, pinned); rep.Verdict != report.Passed {
		js, _ := json.MarshalIndent(rep, "", " ")
		t.Errorf("pinned: %s %s\n%s", rep.Verdict, rep.Reason, js)
	}
}

func TestPDFNotAPDF(t *testing.T) {
	b := []byte("this is not a PDF")
	rep := VerifyPDF(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Now: func() time.Time { return pdfClock }})
	if rep.Verdict != report.Failed || rep.Reason != report.FormatFailure {
		t.Errorf("%s %s", rep.Verdict, rep.Reason)
	}
}

// Timestamps (RFC 3161). The clock is pdfClock ("now"). One signer's
// certificate expired ten days ago; its signatures claim (/M and
// signingTime) a time five days ago — after the expiry: only a timestamp
// can show the signature existed while the certificate was valid. Another
// signer's certificate was revoked (superseded) fifteen days ago; it
// back-dates its claim to twenty days ago, which a timestamp exposes.
var (
	tsExpiredAt = pdfClock.Add(-10 * 24 * time.Hour)
	tsLateClaim = pdfClock.Add(-5 * 24 * time.Hour)
	tsEarlyGen  = pdfClock.Add(-20 * 24 * time.Hour)
	tsRevokedAt = pdfClock.Add(-15 * 24 * time.Hour)
)

type tsFixture struct {
	pool                    *certs.Pool
	agency                  certs.CA
	good, expiring, revoked signerKey
	sm2TSA, p256TSA         *tsatest.TSA // under trusted TSA roots
	untrustedTSA, noEKUTSA  *tsatest.TSA
	expiredTSA              *tsatest.TSA // its certificate expired before tsEarlyGen
	p256TSARoot             *smx509.Certificate
}

type signerKey struct {
	key  *sm2.PrivateKey
	cert *smx509.Certificate
}

func genSM2(t testing.TB) *sm2.PrivateKey {
	k, err := certs.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tsaEKU is the critical extended key usage extension RFC 3161 §2.3 asks
// of a TSA certificate: id-kp-timeStamping only.
func tsaEKU(t testing.TB, critical bool) pkix.Extension {
	v, err := asn1.Marshal([]asn1.ObjectIdentifier{tsatest.OIDExtKeyUsageTimeStamping})
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical, Value: v}
}

// sm2TSACert issues an SM2 TSA certificate under ca with gmsm's smx509
// (package certs issues only this project's profiles).
func sm2TSACert(t testing.TB, ca certs.CA, cn string, nb, na time.Time, exts ...pkix.Extension) *tsatest.TSA {
	k := genSM2(t)
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: exts}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &k.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tsatest.TSA{Key: k, Cert: c}
}

func newTSFixture(t testing.TB) *tsFixture {
	t.Helper()
	f := &tsFixture{}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	rootKey, agencyKey := genSM2(t), genSM2(t)
	rootCert, err := certs.NewRootCA(rootKey, certs.Name{CommonName: "证信测试根CA Timestamp Test Root"}, t0, 20*year)
	if err != nil {
		t.Fatal(err)
	}
	root := certs.CA{Cert: rootCert, Key: rootKey}
	agencyCert, err := root.NewAgencyCA(&agencyKey.PublicKey, certs.Name{CommonName: "测试市场监督管理局CA", CreditCode: vecIssuer}, t0, 15*year)
	if err != nil {
		t.Fatal(err)
	}
	f.agency = certs.CA{Cert: agencyCert, Key: agencyKey}
	issue := func(from time.Time, validity time.Duration, cn string) signerKey {
		k := genSM2(t)
		c, err := f.agency.Issue(certs.SealSigner, &k.PublicKey, certs.Name{CommonName: cn}, from, validity)
		if err != nil {
			t.Fatal(err)
		}
		return signerKey{k, c}
	}
	f.good = issue(t0, 10*year, "印章 Good Signer")
	f.expiring = issue(tsExpiredAt.Add(-60*24*time.Hour), 60*24*time.Hour, "印章 Expired Signer")
	f.revoked = issue(t0, 10*year, "印章 Revoked Signer")
	if !f.expiring.cert.NotAfter.Equal(tsExpiredAt) {
		t.Fatalf("expiring signer valid until %v", f.expiring.cert.NotAfter)
	}

	// SM2 TSAs: a trusted root (package certs) with a good TSA, one
	// without extended key usage and one long expired; an untrusted root
	// with an otherwise good TSA.
	tsaRootKey := genSM2(t)
	tsaRootCert, err := certs.NewRootCA(tsaRootKey, certs.Name{CommonName: "时间戳根CA TSA Root"}, t0, 20*year)
	if err != nil {
		t.Fatal(err)
	}
	tsaRoot := certs.CA{Cert: tsaRootCert, Key: tsaRootKey}
	far := t0.Add(15 * year)
	f.sm2TSA = sm2TSACert(t, tsaRoot, "国家授时时间戳服务 SM2 TSA", t0, far, tsaEKU(t, true))
	f.noEKUTSA = sm2TSACert(t, tsaRoot, "No-EKU TSA", t0, far)
	f.expiredTSA = sm2TSACert(t, tsaRoot, "Expired TSA", t0, tsEarlyGen.Add(-24*time.Hour), tsaEKU(t, true))
	otherKey := genSM2(t)
	otherCert, err := certs.NewRootCA(otherKey, certs.Name{CommonName: "未知根CA Unknown TSA Root"}, t0, 20*year)
	if err != nil {
		t.Fatal(err)
	}
	f.untrustedTSA = sm2TSACert(t, certs.CA{Cert: otherCert, Key: otherKey}, "Unknown TSA", t0, far, tsaEKU(t, true))

	// ECDSA P-256 TSA with crypto/x509.
	ecKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ecRootKey, ecTSAKey := ecKey(), ecKey()
	ecRootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "P-256 TSA Root"}, NotBefore: t0, NotAfter: far,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ecRootDER, err := x509.CreateCertificate(rand.Reader, ecRootT, ecRootT, &ecRootKey.PublicKey, ecRootKey)
	if err != nil {
		t.Fatal(err)
	}
	ecRootX, _ := x509.ParseCertificate(ecRootDER)
	ecTSAT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "P-256 TSA"}, NotBefore: t0, NotAfter: far,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{tsaEKU(t, true)}}
	ecTSADER, err := x509.CreateCertificate(rand.Reader, ecTSAT, ecRootX, &ecTSAKey.PublicKey, ecRootKey)
	if err != nil {
		t.Fatal(err)
	}
	f.p256TSARoot, _ = smx509.ParseCertificate(ecRootDER)
	ecTSACert, _ := smx509.ParseCertificate(ecTSADER)
	f.p256TSA = &tsatest.TSA{Key: ecTSAKey, Cert: ecTSACert}

	f.pool = certs.NewPool()
	f.pool.AddAnchor(rootCert)
	f.pool.AddAnchor(tsaRootCert)
	f.pool.AddAnchor(f.p256TSARoot)
	f.pool.AddIntermediate(agencyCert)
	crl, err := f.agency.NewCRL([]certs.Revocation{{Serial: f.revoked.cert.SerialNumber, At: tsRevokedAt, Reason: certs.ReasonSuperseded}}, 1, pdfClock.Add(-24*time.Hour), pdfClock.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.pool.AddCRL(crl); err != nil {
		t.Fatal(err)
	}
	f.pool.SetClock(func() time.Time { return pdfClock })
	return f
}

// signTS signs a fresh one-page PDF with pdf.Sign as s, claiming time
// claimed, with a timestamp from stamp (nil: none).
func (f *tsFixture) signTS(t testing.TB, s signerKey, claimed time.Time, stamp func([]byte) ([]byte, error)) []byte {
	t.Helper()
	doc := fpdf.New("P", "mm", "A4", "")
	doc.AddPage()
	doc.SetFont("Helvetica", "", 14)
	doc.Cell(40, 10, "timestamp test")
	var in bytes.Buffer
	if err := doc.Output(&in); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := pdf.Sign(bytes.NewReader(in.Bytes()), int64(in.Len()), &out, pdf.SignOptions{
		Signer: s.key, Cert: s.cert, Chain: []*smx509.Certificate{f.agency.Cert}, Time: claimed,
		Reason: "盖章 Sealed", Timestamp: stamp,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// stampAt returns a stamp function of tsa at genTime, with tamper applied
// to the token (nil: none) or data replacing the stamped bytes.
func stampAt(tsa *tsatest.TSA, genTime time.Time, tamper func([]byte) []byte, data []byte) func([]byte) ([]byte, error) {
	return func(sig []byte) ([]byte, error) {
		c := *tsa
		c.Time = genTime
		if data != nil {
			sig = data
		}
		tok, err := c.Stamp(sig)
		if err == nil && tamper != nil {
			tok = tamper(tok)
		}
		return tok, err
	}
}

func flipLast(tok []byte) []byte {
	tok[len(tok)-1] ^= 1 // the last byte of the token's signature
	return tok
}

func checkNamed(rep *report.Report, name string) (report.Check, bool) {
	for _, c := range rep.Signatures[0].Checks {
		if c.Name == name {
			return c, true
		}
	}
	return report.Check{}, false
}

// TestPDFTimestamp: the verdict, the timestamp check and the time the
// signer's chain is checked at, for good, untrusted and broken timestamps.
func TestPDFTimestamp(t *testing.T) {
	f := newTSFixture(t)
	recent := pdfClock.Add(-time.Hour)
	type want struct {
		verdict  report.Verdict
		reason   report.Reason
		tsResult report.Verdict // "" when there is no timestamp check
		tsReason report.Reason
		signedAt time.Time
	}
	cases := []struct {
		name    string
		signer  signerKey
		claimed time.Time
		stamp   func([]byte) ([]byte, error)
		trust   bool
		want    want
	}{
		// The certificate expired after genTime but before the claimed time and now.
		{"expired signer, no timestamp", f.expiring, tsLateClaim, nil, true,
			want{report.Failed, report.CertExpired, "", "", tsLateClaim}},
		{"expired signer, SM2 timestamp from before the expiry", f.expiring, tsLateClaim, stampAt(f.sm2TSA, tsEarlyGen, nil, nil), true,
			want{report.Passed, "", report.Passed, "", tsEarlyGen}},
		{"expired signer, P-256 timestamp from before the expiry", f.expiring, tsLateClaim, stampAt(f.p256TSA, tsEarlyGen, nil, nil), true,
			want{report.Passed, "", report.Passed, "", tsEarlyGen}},
		{"expired signer, timestamp from after the expiry", f.expiring, tsLateClaim, stampAt(f.sm2TSA, tsLateClaim, nil, nil), true,
			want{report.Failed, report.CertExpired, report.Passed, "", tsLateClaim}},
		{"expired signer, untrusted TSA", f.expiring, tsLateClaim, stampAt(f.untrustedTSA, tsEarlyGen, nil, nil), true,
			want{report.Failed, report.CertExpired, report.Indeterminate, report.NoCertificateChainFound, tsLateClaim}},
		{"expired signer, imprint of other bytes", f.expiring, tsLateClaim, stampAt(f.sm2TSA, tsEarlyGen, nil, []byte("other")), true,
			want{report.Failed, report.CertExpired, report.Failed, report.HashFailure, tsLateClaim}},
		{"expired signer, token signature bit flipped", f.expiring, tsLateClaim, stampAt(f.sm2TSA, tsEarlyGen, flipLast, nil), true,
			want{report.Failed, report.CertExpired, report.Failed, report.SigCryptoFailure, tsLateClaim}},
		{"expired signer, TSA certificate without id-kp-timeStamping", f.expiring, tsLateClaim, stampAt(f.noEKUTSA, tsEarlyGen, nil, nil), true,
			want{report.Failed, report.CertExpired, report.Failed, report.ChainConstraintsFailure, tsLateClaim}},
		{"expired signer, TSA certificate expired at genTime", f.expiring, tsLateClaim, stampAt(f.expiredTSA, tsEarlyGen, nil, nil), true,
			want{report.Failed, report.CertExpired, report.Failed, report.CertExpired, tsLateClaim}},

		// A valid signer: a timestamp that does not hold never makes the verdict worse.
		{"valid signer, good timestamp", f.good, recent, stampAt(f.sm2TSA, recent.Add(time.Minute), nil, nil), true,
			want{report.Passed, "", report.Passed, "", recent.Add(time.Minute)}},
		{"valid signer, untrusted TSA", f.good, recent, stampAt(f.untrustedTSA, recent.Add(time.Minute), nil, nil), true,
			want{report.Passed, "", report.Indeterminate, report.NoCertificateChainFound, recent}},
		{"valid signer, token signature bit flipped", f.good, recent, stampAt(f.sm2TSA, recent.Add(time.Minute), flipLast, nil), true,
			want{report.Passed, "", report.Failed, report.SigCryptoFailure, recent}},
		{"valid signer, no trust at all", f.good, recent, stampAt(f.sm2TSA, recent.Add(time.Minute), nil, nil), false,
			want{report.Indeterminate, report.NoCertificateChainFound, report.Indeterminate, report.NoCertificateChainFound, recent}},

		// Back-dating: the claim is before the revocation, the timestamp after.
		{"revoked signer back-dating, no timestamp", f.revoked, tsEarlyGen, nil, true,
			want{report.Passed, "", "", "", tsEarlyGen}},
		{"revoked signer back-dating, timestamp exposes it", f.revoked, tsEarlyGen, stampAt(f.sm2TSA, tsExpiredAt, nil, nil), true,
			want{report.Failed, report.CertRevoked, report.Passed, "", tsExpiredAt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := f.signTS(t, c.signer, c.claimed, c.stamp)
			var trust Trust
			if c.trust {
				trust = f.pool
			}
			rep := VerifyPDF(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Trust: trust, Now: func() time.Time { return pdfClock }})
			js, _ := json.MarshalIndent(rep, "", " ")
			if rep.Verdict != c.want.verdict || rep.Reason != c.want.reason {
				t.Errorf("verdict %s %s, want %s %s\n%s", rep.Verdict, rep.Reason, c.want.verdict, c.want.reason, js)
			}
			tc, has := checkNamed(rep, CheckTimestamp)
			if has != (c.want.tsResult != "") || tc.Result != c.want.tsResult || tc.Reason != c.want.tsReason {
				t.Errorf("timestamp check %+v, want %s %s\n%s", tc, c.want.tsResult, c.want.tsReason, js)
			}
			if s := rep.Signatures[0]; s.SignedAt == nil || !s.SignedAt.Equal(c.want.signedAt) {
				t.Errorf("signed_at %v, want %v", s.SignedAt, c.want.signedAt)
			}
			if has && tc.Result == report.Passed && (!strings.Contains(tc.Detail, "TSA") || !strings.Contains(tc.Detail, c.want.signedAt.Format(time.RFC3339))) {
				t.Errorf("timestamp detail %q", tc.Detail)
			}
			if has && tc.Result != report.Passed && !strings.Contains(tc.Detail, "时间戳未采用") {
				t.Errorf("a timestamp set aside should say so: %q", tc.Detail)
			}
		})
	}
}

// docTimestamp adds a document timestamp to b from tsa at genTime; tamper
// (nil: none) replaces the token in the file afterwards, given the token
// and the imprint it was asked for, as an attacker could (the writer
// refuses bad tokens).
func docTimestamp(t testing.TB, b []byte, tsa *tsatest.TSA, genTime time.Time, tamper func(tok []byte, hashAlg asn1.ObjectIdentifier, digest []byte) []byte) []byte {
	t.Helper()
	c := *tsa
	c.Time = genTime
	var tok, digest []byte
	var alg asn1.ObjectIdentifier
	var out bytes.Buffer
	err := pdf.AddDocTimestamp(bytes.NewReader(b), int64(len(b)), &out, pdf.DocTimestampOptions{Hash: "SM3",
		Stamp: func(oid asn1.ObjectIdentifier, d []byte) ([]byte, error) {
			var err error
			alg, digest = oid, d
			tok, err = c.StampDigest(oid, d)
			return tok, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	res := out.Bytes()
	if tamper == nil {
		return res
	}
	other := tamper(append([]byte{}, tok...), alg, digest)
	old := []byte(hex.EncodeToString(tok))
	i := bytes.Index(res, old)
	end := i + bytes.IndexByte(res[i:], '>')
	if i < 0 || 2*len(other) > end-i {
		t.Fatal("cannot swap the token")
	}
	copy(res[i:end], bytes.Repeat([]byte("0"), end-i))
	hex.Encode(res[i:], other)
	return res
}

// TestPDFDocTimestamp: a document timestamp (/SubFilter ETSI.RFC3161) is
// an entry of its own after the seal's, signed by the TSA at genTime. It
// passes when it holds and the TSA is trusted, is INDETERMINATE when the
// TSA is not, and FAILS when the token or the document was tampered with
// — unlike a signature's timestamp, which is only set aside.
func TestPDFDocTimestamp(t *testing.T) {
	f := newTSFixture(t)
	recent := pdfClock.Add(-time.Hour)
	gen := recent.Add(time.Minute)
	restamp := func(tsa *tsatest.TSA) func([]byte, asn1.ObjectIdentifier, []byte) []byte {
		return func(_ []byte, alg asn1.ObjectIdentifier, d []byte) []byte {
			c := *tsa
			c.Time = gen
			tok, err := c.StampDigest(alg, d)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	cases := []struct {
		name    string
		tsa     *tsatest.TSA
		tamper  func([]byte, asn1.ObjectIdentifier, []byte) []byte
		append  string
		verdict report.Verdict
		reason  report.Reason
		check   string // the check of the timestamp entry that decides
	}{
		{"SM2 TSA", f.sm2TSA, nil, "", report.Passed, "", ""},
		{"P-256 TSA", f.p256TSA, nil, "", report.Passed, "", ""},
		{"untrusted TSA", f.untrustedTSA, nil, "", report.Indeterminate, report.NoCertificateChainFound, "certificate-chain"},
		{"token signature bit flipped", f.sm2TSA, func(tok []byte, _ asn1.ObjectIdentifier, _ []byte) []byte { return flipLast(tok) }, "", report.Failed, report.SigCryptoFailure, "signature"},
		{"token over other bytes", f.sm2TSA, func(_ []byte, alg asn1.ObjectIdentifier, _ []byte) []byte {
			return restamp(f.sm2TSA)(nil, alg, make([]byte, 32))
		}, "", report.Failed, report.HashFailure, "digest"},
		{"TSA certificate without id-kp-timeStamping", f.sm2TSA, restamp(f.noEKUTSA), "", report.Failed, report.ChainConstraintsFailure, "signature"},
		{"bytes appended after the timestamp", f.sm2TSA, nil, "% not an update\n", report.Failed, report.ModifiedAfterSigning, "modification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sealed := f.signTS(t, f.good, recent, nil)
			b := append(docTimestamp(t, sealed, c.tsa, gen, c.tamper), c.append...)
			rep := VerifyPDF(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Trust: f.pool, Now: func() time.Time { return pdfClock }})
			js, _ := json.MarshalIndent(rep, "", " ")
			if rep.Verdict != c.verdict || rep.Reason != c.reason {
				t.Errorf("verdict %s %s, want %s %s\n%s", rep.Verdict, rep.Reason, c.verdict, c.reason, js)
			}
			if len(rep.Signatures) != 2 {
				t.Fatalf("%d entries, want the seal and the document timestamp\n%s", len(rep.Signatures), js)
			}
			dts := rep.Signatures[1]
			if !strings.Contains(dts.Signer, c.tsa.Cert.Subject.CommonName) || dts.SignedAt == nil || !dts.SignedAt.Equal(gen) {
				if c.check != "signature" {
					t.Errorf("timestamp entry: signer %q, signed_at %v", dts.Signer, dts.SignedAt)
				}
			}
			var names []string
			for _, ch := range dts.Checks {
				names = append(names, ch.Name)
				if ch.Name == CheckTimestamp {
					t.Errorf("a document timestamp has no %q check of its own: it is the signature", CheckTimestamp)
				}
				if c.check == "" && ch.Result != report.Passed {
					t.Errorf("check %s: %s %s", ch.Name, ch.Result, ch.Reason)
				}
				if ch.Name == c.check && (ch.Result != report.VerdictFor(c.reason) || ch.Reason != c.reason) {
					t.Errorf("check %s: %s %s, want %s", ch.Name, ch.Result, ch.Reason, c.reason)
				}
			}
			if c.check == "" && strings.Join(names, ",") != "byte-range,digest,signature,certificate-chain,modification" {
				t.Errorf("checks %v", names)
			}
			// The seal under the timestamp is untouched by it.
			for _, ch := range rep.Signatures[0].Checks {
				if ch.Result != report.Passed && c.append == "" {
					t.Errorf("seal check %s: %s %s", ch.Name, ch.Result, ch.Reason)
				}
			}
		})
	}
}

// TestPDFLicenseDocTimestamp: a license PDF sealed by us (the committed
// vector) and then document-timestamped keeps its verdict, now with two
// entries: the seal and the timestamp.
func TestPDFLicenseDocTimestamp(t *testing.T) {
	dir := filepath.Join("..", "pdf", "testdata")
	trust := pdfTrust(t, filepath.Join(dir, "trust.pem"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem"))
	sealed, err := os.ReadFile(filepath.Join(dir, "good_license_signed.pdf"))
	if err != nil {
		t.Skip(err)
	}
	tsa, root, err := tsatest.New(pdfClock, true)
	if err != nil {
		t.Fatal(err)
	}
	trust.AddAnchor(root)
	before := VerifyPDF(context.Background(), bytes.NewReader(sealed), int64(len(sealed)), Options{Trust: trust, Now: func() time.Time { return pdfClock }})
	if before.Verdict != report.Passed {
		t.Fatalf("the license vector does not pass: %s %s", before.Verdict, before.Reason)
	}
	b := docTimestamp(t, sealed, tsa, pdfClock, nil)
	rep := VerifyPDF(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Trust: trust, Now: func() time.Time { return pdfClock }})
	js, _ := json.MarshalIndent(rep, "", " ")
	if rep.Verdict != report.Passed || len(rep.Signatures) != 2 {
		t.Fatalf("timestamped license: %s %s, %d entries\n%s", rep.Verdict, rep.Reason, len(rep.Signatures), js)
	}
	if rep.Signatures[0].Signer != before.Signatures[0].Signer || !strings.Contains(rep.Signatures[1].Signer, "tsatest") {
		t.Errorf("entries: %q, %q", rep.Signatures[0].Signer, rep.Signatures[1].Signer)
	}
}

// TestPDFUnsignedMessage: an unsigned PDF is INDETERMINATE, and the clerk
// is told it has no signature, not that it is damaged.
func TestPDFUnsignedMessage(t *testing.T) {
	rep := verifyPDFFile(t, filepath.Join("..", "pdf", "testdata", "unsigned.pdf"), nil)
	if rep.Verdict != report.Indeterminate || !strings.Contains(rep.Message.ZH, "没有签章") || !strings.Contains(rep.Message.EN, "no signature") {
		t.Errorf("unsigned PDF: %s %s %v", rep.Verdict, rep.Reason, rep.Message)
	}
}
