package pdf

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"

	dpdf "github.com/digitorus/pdf"
	pdfsign "github.com/digitorus/pdfsign/sign"
	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/verify/report"
)

// TestCMSFromGmsm: CMS made by gmsm itself (RFC and GB/T 35275 content
// types) verify with our reader; a wrong digest is HASH_FAILURE.
func TestCMSFromGmsm(t *testing.T) {
	p := getPKI(t)
	content := []byte("the signed byte ranges of some PDF")
	digest := sm3.Sum(content)
	mk := map[string]func() (*pkcs7.SignedData, error){
		"RFC 5652 + SM3": func() (*pkcs7.SignedData, error) {
			sd, err := pkcs7.NewSignedData(content)
			if err == nil {
				sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSM3)
			}
			return sd, err
		},
		"GB/T 35275": func() (*pkcs7.SignedData, error) { return pkcs7.NewSMSignedData(content) },
	}
	for name, f := range mk {
		t.Run(name, func(t *testing.T) {
			sd, err := f()
			if err != nil {
				t.Fatal(err)
			}
			if err := sd.AddSignerChain(p.leaf, p.leafKey, nil, pkcs7.SignerInfoConfig{}); err != nil {
				t.Fatal(err)
			}
			sd.Detach()
			der, err := sd.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if sniffContents(append(der, 0, 0, 0)) != CMS {
				t.Fatal("not sniffed as CMS")
			}
			info, err := parseCMS(append(der, make([]byte, 100)...)) // zero padding as in /Contents
			if err != nil {
				t.Fatal(err)
			}
			if err := info.checkDigest(digest[:]); err != nil {
				t.Errorf("digest: %v", err)
			}
			if err := info.checkSig(digest[:]); err != nil {
				t.Errorf("signature: %v", err)
			}
			wrong := sm3.Sum([]byte("other"))
			if err := info.checkDigest(wrong[:]); report.ReasonOf(err) != report.HashFailure {
				t.Errorf("wrong digest: %v", err)
			}
		})
	}
}

// TestCMSAlgorithmVariants: our builder with the SignerInfo algorithm
// 1.2.156.10197.1.501 (what OpenSSL 3.2+ writes) and GB/T 35275 content
// type still verifies; a signature by another key fails.
func TestCMSAlgorithmVariants(t *testing.T) {
	p := getPKI(t)
	d := sm3.Sum([]byte("x"))
	for _, v := range []struct{ ct, alg asn1.ObjectIdentifier }{
		{oidSignedData, oidSM2WithSM3}, {oidSMSignedData, oidSM2Sign}, {oidSMSignedData, oidSM2WithSM3},
	} {
		der, err := buildCMSWith(d[:], p.leafKey, p.leaf, nil, fixedNow, v.ct, v.alg)
		if err != nil {
			t.Fatal(err)
		}
		info, err := parseCMS(der)
		if err != nil {
			t.Fatalf("%v/%v: %v", v.ct, v.alg, err)
		}
		if info.checkDigest(d[:]) != nil || info.checkSig(d[:]) != nil || !info.SigningTime.Equal(fixedNow) {
			t.Errorf("%v/%v does not verify", v.ct, v.alg)
		}
	}
	// Signed by the CA key but naming the leaf certificate.
	der, _ := buildCMS(d[:], p.caKey, p.leaf, nil, fixedNow)
	info, err := parseCMS(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := info.checkSig(d[:]); report.ReasonOf(err) != report.SigCryptoFailure {
		t.Errorf("wrong key: %v, want SIG_CRYPTO_FAILURE", err)
	}
}

// TestRSAFromPdfsign: an RSA signature made by digitorus/pdfsign verifies
// with our verifier, and our countersignature keeps it valid.
func TestRSAFromPdfsign(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "RSA signer"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	cd, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	cert, _ := x509.ParseCertificate(cd)
	in := simplePDF(t, 1)
	rd, err := dpdf.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = pdfsign.Sign(bytes.NewReader(in), &out, rd, int64(len(in)), pdfsign.SignData{
		Signature: pdfsign.SignDataSignature{CertType: pdfsign.ApprovalSignature, Info: pdfsign.SignDataSignatureInfo{Name: "rsa", Date: fixedNow}},
		Signer:    k, DigestAlgorithm: crypto.SHA256, Certificate: cert,
	})
	if err != nil {
		t.Fatal(err)
	}
	signed := out.Bytes()
	both := signBytes(t, signed, getPKI(t).opts())
	qpdfCheck(t, both)
	res := verifyBytes(t, both)
	if len(res.Signatures) != 2 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	for _, s := range res.Signatures {
		assertValid(t, s)
	}
	if res.Signatures[0].Algorithm != "RSA-with-SHA256" {
		t.Errorf("algorithm %q", res.Signatures[0].Algorithm)
	}
}

// TestDocMDP: a document certified by pdfsign with "no changes" is refused
// for signing; one certified with "form filling and signing" can be
// countersigned, but an added comment then breaks the certification.
func TestDocMDP(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "certifier"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	cd, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	cert, _ := x509.ParseCertificate(cd)
	certify := func(perm pdfsign.DocMDPPerm) []byte {
		in := simplePDF(t, 1)
		rd, err := dpdf.NewReader(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := pdfsign.Sign(bytes.NewReader(in), &out, rd, int64(len(in)), pdfsign.SignData{
			Signature: pdfsign.SignDataSignature{CertType: pdfsign.CertificationSignature, DocMDPPerm: perm, Info: pdfsign.SignDataSignatureInfo{Name: "c", Date: fixedNow}},
			Signer:    k, DigestAlgorithm: crypto.SHA256, Certificate: cert,
		}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	locked := certify(pdfsign.DoNotAllowAnyChangesPerms)
	if err := Sign(bytes.NewReader(locked), int64(len(locked)), &bytes.Buffer{}, getPKI(t).opts()); err == nil {
		t.Error("signing a DocMDP P=1 document should be refused")
	}
	forms := certify(pdfsign.AllowFillingExistingFormFieldsAndSignaturesPerms)
	both := signBytes(t, forms, getPKI(t).opts())
	for _, s := range verifyBytes(t, both).Signatures {
		assertValid(t, s)
	}
	rd, _ := openReader(bytes.NewReader(both), int64(len(both)))
	page := rd.Page(1).V
	pd := dictOf(page)
	var annots bytes.Buffer
	writeObj(&annots, append(rawItems(page.Key("Annots")), ref{ID: 900}))
	pd.Set("Annots", rawToken(annots.String()))
	var pb bytes.Buffer
	writeObj(&pb, pd)
	commented := appendUpdate(t, both, map[int]string{
		900:                 "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (note) >>",
		int(ptrOf(page).ID): pb.String(),
	})
	res := verifyBytes(t, commented)
	if report.ReasonOf(res.Signatures[0].ModifiedErr) != report.ModifiedAfterSigning {
		t.Errorf("certified P=2 then commented: %v, want MODIFIED_AFTER_SIGNING", res.Signatures[0].ModifiedErr)
	}
	if res.Signatures[1].ModifiedErr != nil {
		t.Errorf("our approval signature allows comments: %v", res.Signatures[1].ModifiedErr)
	}
}
