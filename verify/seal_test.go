package verify

import (
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/verify/report"
)

// sealInteropDir holds the ofdrw samples (../shared/interop/README.md).
const sealInteropDir = "../../shared/interop/seal"

// sealNow is the fixed clock the interop samples are judged at.
var sealNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func sealInterop(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sealInteropDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("interop sample %s absent (the shared interop folder is not next to this clone)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sealInteropPool(t *testing.T) *certs.Pool {
	blk, _ := pem.Decode(sealInterop(t, "ROOT.cert.pem"))
	root, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	p := certs.NewPool()
	p.AddAnchor(root)
	return p
}

func sealOpts(trust Trust, now time.Time) Options {
	return Options{Trust: trust, Now: func() time.Time { return now }}
}

func checkResult(t *testing.T, r *report.Report, name string) report.Check {
	t.Helper()
	for _, s := range r.Signatures {
		for _, c := range s.Checks {
			if c.Name == name {
				return c
			}
		}
	}
	t.Fatalf("report has no %q check: %+v", name, r.Signatures)
	return report.Check{}
}

func TestVerifySealFileOfdrw(t *testing.T) {
	for _, name := range []string{"UserV4.esl", "UserV1.esl"} {
		t.Run(name, func(t *testing.T) {
			r := VerifySealFile(context.Background(), sealInterop(t, name), sealOpts(sealInteropPool(t), sealNow))
			if r.Verdict == report.Passed || r.Kind != report.KindSeal {
				t.Fatalf("ofdrw's expired seal: verdict %s kind %s", r.Verdict, r.Kind)
			}
			// Authentic but expired and (strictly) untrusted: the maker
			// signature holds, the chain and the validity window do not.
			if c := checkResult(t, r, CheckMakerSignature); c.Result != report.Passed {
				t.Errorf("maker signature: %+v", c)
			}
			if c := checkResult(t, r, CheckSealValidity); c.Result != report.Failed || c.Reason != report.SealInvalid {
				t.Errorf("validity: %+v", c)
			}
			switch c := checkResult(t, r, CheckMakerChain); c.Reason {
			case report.CertExpired, report.ChainConstraintsFailure:
			default:
				t.Errorf("maker chain: %+v, want CERT_EXPIRED or CHAIN_CONSTRAINTS_FAILURE", c)
			}
			// The seal's own expiry is what the clerk is told.
			if r.Verdict != report.Failed || r.Reason != report.SealInvalid {
				t.Errorf("verdict %s reason %s, want FAILED SEAL_INVALID", r.Verdict, r.Reason)
			}
			if subjectMap(r)["es_id"] == "" || subjectMap(r)["name"] == nil || r.Message.ZH == "" {
				t.Errorf("subject %v message %v", r.Subject, r.Message)
			}
		})
	}
	// Judged in 2021 the seal is in its window; the chain still fails
	// because ofdrw's ROOT lacks keyCertSign.
	r := VerifySealFile(context.Background(), sealInterop(t, "UserV4.esl"), sealOpts(sealInteropPool(t), time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)))
	if c := checkResult(t, r, CheckSealValidity); c.Result != report.Passed {
		t.Errorf("validity in 2021: %+v", c)
	}
	if r.Reason != report.ChainConstraintsFailure {
		t.Errorf("2021: reason %s, want CHAIN_CONSTRAINTS_FAILURE (ROOT lacks keyCertSign)", r.Reason)
	}
}

func TestVerifySESSignatureOfdrw(t *testing.T) {
	der := sealInterop(t, "SignedValueV4.dat")
	xml := sealInterop(t, "Signature.xml")
	r := VerifySESSignature(context.Background(), der, xml, sealOpts(sealInteropPool(t), sealNow))
	if r.Verdict != report.Failed || r.Reason != report.HashFailure || r.Kind != report.KindSealSignature {
		t.Fatalf("bound to Signature.xml: %s %s, want FAILED HASH_FAILURE", r.Verdict, r.Reason)
	}
	if c := checkResult(t, r, CheckSignature); c.Result != report.Passed {
		t.Errorf("signature over TBS_Sign: %+v", c)
	}
	if r := VerifySESSignatureHash(context.Background(), der, nil, sealOpts(sealInteropPool(t), sealNow)); r.Verdict == report.Passed {
		t.Error("PASSED with no document")
	}
}

func TestVerifySealGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not a seal"), {0x30, 0x03, 0x02, 0x01, 0x04}} {
		if r := VerifySealFile(context.Background(), in, sealOpts(certs.NewPool(), sealNow)); r.Verdict != report.Failed || r.Reason != report.FormatFailure {
			t.Errorf("%q: %s %s", in, r.Verdict, r.Reason)
		}
		if r := VerifySESSignature(context.Background(), in, []byte("x"), sealOpts(certs.NewPool(), sealNow)); r.Verdict != report.Failed || r.Reason != report.FormatFailure {
			t.Errorf("signature %q: %s %s", in, r.Verdict, r.Reason)
		}
	}
}

// sealFixture is our own PKI, made with gmsm directly: root -> agency CA
// -> seal maker (seal-making EKU) and seal signer (seal-signing EKU).
type sealFixture struct {
	root, agency, maker, signer *smx509.Certificate
	makerKey, signerKey         *sm2.PrivateKey
}

func newSealFixture(t *testing.T) *sealFixture {
	t.Helper()
	key := func() *sm2.PrivateKey {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	mk := func(tmpl, parent *smx509.Certificate, pub *sm2.PrivateKey, signer *sm2.PrivateKey) *smx509.Certificate {
		if parent == nil {
			parent = tmpl
		}
		der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, &pub.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	start, end := sealNow.AddDate(-1, 0, 0), sealNow.AddDate(4, 0, 0)
	ca := func(n int64, cn string) *smx509.Certificate {
		return &smx509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: cn}, NotBefore: start, NotAfter: end,
			IsCA: true, BasicConstraintsValid: true, KeyUsage: smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign}
	}
	ee := func(n int64, cn string, eku asn1.ObjectIdentifier) *smx509.Certificate {
		return &smx509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: cn}, NotBefore: start, NotAfter: end,
			KeyUsage: smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment, UnknownExtKeyUsage: []asn1.ObjectIdentifier{eku}}
	}
	rootKey, agKey := key(), key()
	f := &sealFixture{makerKey: key(), signerKey: key()}
	f.root = mk(ca(1, "Seal Test Root"), nil, rootKey, rootKey)
	f.agency = mk(ca(2, "Seal Test Agency CA"), f.root, agKey, rootKey)
	f.maker = mk(ee(3, "制章人", SealMakingEKU), f.agency, f.makerKey, agKey)
	f.signer = mk(ee(4, "合同专用章", SealSigningEKU), f.agency, f.signerKey, agKey)
	return f
}

func (f *sealFixture) pool() *certs.Pool {
	p := certs.NewPool()
	p.AddAnchor(f.root)
	p.AddIntermediate(f.agency)
	return p
}

func (f *sealFixture) makeSeal(t *testing.T) []byte {
	t.Helper()
	pic, err := seal.RenderStamp(seal.StampSpec{Shape: seal.Round, Agency: "证信测试市场监督管理局", Purpose: "合同专用章", DPI: 150})
	if err != nil {
		t.Fatal(err)
	}
	der, err := seal.MakeSeal(seal.SealSpec{
		ESID: "ZX-TEST-0001", Name: "证信测试市场监督管理局合同专用章", Type: seal.TypeOrganisation,
		SignerCerts: []*smx509.Certificate{f.signer},
		Picture:     seal.Picture{Type: "PNG", Data: pic, WidthMM: 42, HeightMM: 42},
		ValidStart:  sealNow.AddDate(0, -1, 0), ValidEnd: sealNow.AddDate(2, 0, 0),
	}, f.maker, f.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifySealFileOurs(t *testing.T) {
	f := newSealFixture(t)
	der := f.makeSeal(t)
	r := VerifySealFile(context.Background(), der, sealOpts(f.pool(), sealNow))
	if r.Verdict != report.Passed {
		t.Fatalf("our fresh seal: %s %s %+v", r.Verdict, r.Reason, r.Signatures)
	}
	if subjectMap(r)["es_id"] != "ZX-TEST-0001" || len(r.Signatures[0].Chain) != 3 {
		t.Errorf("subject %v chain %v", r.Subject, r.Signatures[0].Chain)
	}
	// Untrusted root: INDETERMINATE, not PASSED.
	if r := VerifySealFile(context.Background(), der, sealOpts(certs.NewPool(), sealNow)); r.Verdict != report.Indeterminate || r.Reason != report.NoCertificateChainFound {
		t.Errorf("no anchor: %s %s", r.Verdict, r.Reason)
	}
	if r := VerifySealFile(context.Background(), der, Options{Now: func() time.Time { return sealNow }}); r.Verdict != report.Indeterminate {
		t.Errorf("no trust at all: %s %s", r.Verdict, r.Reason)
	}
	// After the seal's window.
	if r := VerifySealFile(context.Background(), der, sealOpts(f.pool(), sealNow.AddDate(3, 0, 0))); r.Verdict != report.Failed {
		t.Errorf("three years on: %s %s", r.Verdict, r.Reason)
	}
	// One changed byte in the seal name breaks the maker signature.
	bad := append([]byte(nil), der...)
	i := indexOf(bad, []byte("ZX-TEST-0001"))
	bad[i] = 'Y'
	if r := VerifySealFile(context.Background(), bad, sealOpts(f.pool(), sealNow)); r.Verdict != report.Failed || r.Reason != report.SigCryptoFailure {
		t.Errorf("altered seal: %s %s", r.Verdict, r.Reason)
	}
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	panic("not found")
}

func TestVerifySESSignatureOurs(t *testing.T) {
	f := newSealFixture(t)
	sealDER := f.makeSeal(t)
	doc := []byte("合同正文 contract text")
	at := sealNow.Add(-time.Hour)
	der, err := seal.SignData(sealDER, f.signer, f.signerKey, doc, "contract.txt", at)
	if err != nil {
		t.Fatal(err)
	}
	r := VerifySESSignature(context.Background(), der, doc, sealOpts(f.pool(), sealNow))
	if r.Verdict != report.Passed {
		t.Fatalf("fresh signature: %s %s %+v", r.Verdict, r.Reason, r.Signatures)
	}
	if subjectMap(r)["signer"] == nil || subjectMap(r)["property_info"] != "contract.txt" || r.Signatures[0].SignedAt == nil || !r.Signatures[0].SignedAt.Equal(at) {
		t.Errorf("subject %v", r.Subject)
	}
	if r := VerifySESSignature(context.Background(), der, append(doc, '!'), sealOpts(f.pool(), sealNow)); r.Verdict != report.Failed || r.Reason != report.HashFailure {
		t.Errorf("altered document: %s %s", r.Verdict, r.Reason)
	}
	if r := VerifySESSignature(context.Background(), der, doc, sealOpts(certs.NewPool(), sealNow)); r.Verdict != report.Indeterminate {
		t.Errorf("untrusted: %s %s", r.Verdict, r.Reason)
	}
}

// A seal signature given where a seal file is expected is recognised and
// checked as far as possible; without its document it cannot pass.
func TestVerifySealFileGivenSignature(t *testing.T) {
	r := VerifySealFile(context.Background(), sealInterop(t, "SignedValueV4.dat"), sealOpts(sealInteropPool(t), sealNow))
	if r.Kind != report.KindSealSignature || r.Verdict != report.Failed {
		t.Fatalf("kind %s verdict %s", r.Kind, r.Verdict)
	}
	if c := checkResult(t, r, CheckSignature); c.Result != report.Passed {
		t.Errorf("signature: %+v", c)
	}
	if c := checkResult(t, r, CheckDocumentHash); c.Result != report.Failed {
		t.Errorf("document hash without document: %+v", c)
	}
}

// subjectMap is a seal report's subject (a map; licenses have a typed one).
func subjectMap(r *report.Report) map[string]any {
	m, _ := r.Subject.(map[string]any)
	return m
}
