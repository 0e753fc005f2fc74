package pdf

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/verify/report"
)

var updateTestdata = flag.Bool("update", false, "regenerate pdf/testdata (needs qpdf)")

// Expectation is one line of testdata/expected.json: the verdict and
// reason VerifyPDF must give for a file, with trust.pem (+ crl.pem) as the
// trust anchors and the clock at 2026-11-23T10:00:00Z.
type Expectation struct {
	File    string         `json:"file"`
	Verdict report.Verdict `json:"verdict"`
	Reason  report.Reason  `json:"reason"`
	What    string         `json:"what"`
}

// TestGenerateTestdata writes pdf/testdata: a trust bundle, a CRL, good_*
// and bad_* PDFs and expected.json. Run: go test ./pdf -run Generate -update
func TestGenerateTestdata(t *testing.T) {
	if !*updateTestdata {
		t.Skip("run with -update to regenerate pdf/testdata")
	}
	needTool(t, "qpdf")
	p := getPKI(t)
	dir := "testdata"
	os.MkdirAll(dir, 0o755)
	var exp []Expectation
	put := func(name string, b []byte, v report.Verdict, r report.Reason, what string) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		exp = append(exp, Expectation{name, v, r, what})
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	os.WriteFile(filepath.Join(dir, "trust.pem"), pemOf("CERTIFICATE", p.root.Raw), 0o644)
	os.WriteFile(filepath.Join(dir, "ca.pem"), pemOf("CERTIFICATE", p.ca.Raw), 0o644)

	// A second signer, revoked the day before signing.
	rk := mustKey(t)
	revoked := makeCert(t, &smx509.Certificate{SerialNumber: big.NewInt(4), Subject: pkix.Name{CommonName: "吊销的印章 Revoked Signer"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}, p.ca, &rk.PublicKey, p.caKey)
	crl, err := smx509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: fixedNow.Add(-time.Hour), NextUpdate: fixedNow.AddDate(1, 0, 0),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(4), RevocationTime: fixedNow.AddDate(0, 0, -1)}},
	}, p.ca, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "crl.pem"), pemOf("X509 CRL", crl), 0o644)

	visible := func(o SignOptions) SignOptions {
		o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 400, Y: 600, W: 100, H: 100}}
		return o
	}
	plain := simplePDF(t, 1)
	put("unsigned.pdf", plain, report.Indeterminate, report.FormatFailure, "fpdf output, no signature")
	good := signBytes(t, plain, visible(p.opts()))
	put("good_signed.pdf", good, report.Passed, "", "fpdf output signed (CMS SM2/SM3, visible seal)")
	put("good_countersigned.pdf", signBytes(t, good, visible(p.opts())), report.Passed, "", "signed twice; both signatures valid")

	src := writeTemp(t, "in.pdf", plain)
	xs := filepath.Join(filepath.Dir(src), "xs.pdf")
	if out, err := exec.Command("qpdf", "--object-streams=generate", src, xs).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	xsb, _ := os.ReadFile(xs)
	put("xrefstream.pdf", xsb, report.Indeterminate, report.FormatFailure, "qpdf output with an xref stream, unsigned")
	put("good_xrefstream_signed.pdf", signBytes(t, xsb, visible(p.opts())), report.Passed, "", "xref-stream input signed with an xref-stream update")
	enc := filepath.Join(filepath.Dir(src), "enc.pdf")
	if out, err := exec.Command("qpdf", "--encrypt", "", "owner", "256", "--", src, enc).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	encb, _ := os.ReadFile(enc)
	put("encrypted.pdf", encb, report.Failed, report.FormatFailure, "AES-256 encrypted: refused with a clear error")

	so := visible(p.opts())
	so.Format = SES
	so.SESSeal = makeSeal(t, p.leaf, fixedNow.AddDate(0, -1, 0), fixedNow.AddDate(1, 0, 0), false)
	put("good_ses_signed.pdf", signBytes(t, plain, so), report.Passed, "", "GB/T 38540 SES_Signature in /Contents")

	lic, err := RenderAndSign(sampleLicense(t), p.opts())
	if err != nil {
		t.Fatal(err)
	}
	put("good_license_signed.pdf", lic, report.Passed, "", "RenderLicense output signed with the seal over the issuer")

	flip := append([]byte{}, good...)
	i := bytes.Index(flip, []byte("/Producer"))
	flip[i+12] ^= 1
	put("bad_byte_flipped.pdf", flip, report.Failed, report.HashFailure, "one byte changed inside the signed range")
	put("bad_appended.pdf", append(append([]byte{}, good...), "1 0 obj (appended) endobj\n"...), report.Failed, report.ModifiedAfterSigning, "bytes appended after %%EOF, not an incremental update")

	short := append([]byte{}, good...)
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+) *\]`).FindSubmatchIndex(short)
	last, _ := strconv.Atoi(string(short[m[6]:m[7]]))
	repl := []byte(strconv.Itoa(last - 200))
	for len(repl) < m[7]-m[6] {
		repl = append(repl, ' ')
	}
	copy(short[m[6]:], repl)
	put("bad_byterange_short.pdf", short, report.Failed, report.FormatFailure, "/ByteRange stops 200 bytes before the end of the revision")

	other := signBytes(t, simplePDF(t, 2), visible(p.opts()))
	sw := append([]byte{}, good...)
	gs, os2 := verifyBytes(t, good).Signatures[0].ByteRange, verifyBytes(t, other).Signatures[0].ByteRange
	copy(sw[gs[1]:gs[2]], other[os2[1]:os2[2]])
	put("bad_contents_swapped.pdf", sw, report.Failed, report.HashFailure, "/Contents taken from another signed PDF")

	rd, _ := openReader(bytes.NewReader(good), int64(len(good)))
	cref, _ := asRef(rawKey(rd.Page(1).V, "Contents"))
	body := "BT /F1 24 Tf 72 720 Td (FORGED) Tj ET"
	put("bad_content_replaced.pdf", appendUpdate(t, good, map[int]string{int(cref.ID): fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(body), body)}),
		report.Failed, report.ModifiedAfterSigning, "page content stream replaced by a later incremental update")

	ro := visible(p.opts())
	ro.Signer, ro.Cert = rk, revoked
	put("bad_signer_revoked.pdf", signBytes(t, plain, ro), report.Failed, report.CertRevoked, "signer certificate revoked (crl.pem) before the signing time")

	sk := mustKey(t)
	st := &smx509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "自签名 Self-signed Signer"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	self := makeCert(t, st, st, &sk.PublicKey, sk)
	uo := visible(p.opts())
	uo.Signer, uo.Cert, uo.Chain = sk, self, nil
	put("untrusted_selfsigned.pdf", signBytes(t, plain, uo), report.Indeterminate, report.NoCertificateChainFound, "valid signature by a self-signed certificate outside the trust list")

	withSESSigner(t, sesUnchecked)
	eo := visible(p.opts())
	eo.Format = SES
	eo.SESSeal = makeSeal(t, p.leaf, fixedNow.AddDate(-2, 0, 0), fixedNow.AddDate(0, 0, -1), false)
	put("bad_seal_expired.pdf", signBytes(t, plain, eo), report.Failed, report.SealInvalid, "SES signature with a seal that expired the day before signing")
	mo := visible(p.opts())
	mo.Format = SES
	mo.SESSeal = makeSeal(t, p.leaf, fixedNow.AddDate(0, -1, 0), fixedNow.AddDate(1, 0, 0), true)
	put("bad_seal_maker_untrusted.pdf", signBytes(t, plain, mo), report.Failed, report.SealInvalid, "SES seal made by a self-signed maker outside the trust list")

	j, _ := json.MarshalIndent(exp, "", "  ")
	os.WriteFile(filepath.Join(dir, "expected.json"), append(j, '\n'), 0o644)
}

// TestCommittedTestdata checks the committed files at the level of this
// package (the verdicts are checked by verify's tests).
func TestCommittedTestdata(t *testing.T) {
	j, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Skip("no testdata/expected.json")
	}
	var exp []Expectation
	if err := json.Unmarshal(j, &exp); err != nil {
		t.Fatal(err)
	}
	for _, e := range exp {
		b, err := os.ReadFile(filepath.Join("testdata", e.File))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Verify(bytes.NewReader(b), int64(len(b)))
		switch {
		case e.File == "encrypted.pdf":
			if err != ErrEncrypted {
				t.Errorf("%s: %v, want ErrEncrypted", e.File, err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", e.File, err)
			continue
		}
		var got report.Reason
		for _, s := range res.Signatures {
			for _, err := range []error{s.ByteRangeErr, s.DigestErr, s.SignatureErr, s.ModifiedErr} {
				if err != nil && got == "" {
					got = report.ReasonOf(err)
				}
			}
		}
		switch e.Reason {
		case report.HashFailure, report.ModifiedAfterSigning:
			if got != e.Reason {
				t.Errorf("%s: first failing check %q, want %q", e.File, got, e.Reason)
			}
		case report.FormatFailure:
			if len(res.Signatures) > 0 && got != e.Reason {
				t.Errorf("%s: %q, want %q", e.File, got, e.Reason)
			}
		default: // chain and seal questions are verify's
			if got != "" {
				t.Errorf("%s: document-level check failed: %q", e.File, got)
			}
		}
	}
}
