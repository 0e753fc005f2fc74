package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/certs"
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
