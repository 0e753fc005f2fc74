package main

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
)

// What the wallet module does per QR refresh, natively, against the raw SM2
// signature it contains (the baseline): the ratio shows what the license
// parsing, salts, CBOR and QR wrapping add. The browser figure (WebAssembly
// in headless Chromium) is logged by server's TestBrowserEndToEnd.

func benchLicense(b *testing.B) ([]byte, *sm2.PrivateKey) {
	b.Helper()
	now := time.Now()
	rootKey, _ := certs.GenerateKey()
	root, err := certs.NewRootCA(rootKey, certs.Name{CommonName: "bench root"}, now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	caKey, _ := certs.GenerateKey()
	ca, err := certs.CA{Cert: root, Key: rootKey}.NewAgencyCA(&caKey.PublicKey, certs.Name{CommonName: "bench CA", CreditCode: "11350100MB0000019U"}, now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	sKey, _ := certs.GenerateKey()
	sCert, err := certs.CA{Cert: ca, Key: caKey}.Issue(certs.LicenseSigner, &sKey.PublicKey, certs.Name{CommonName: "bench signer"}, now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	s, err := license.NewSigner(sKey, sCert, "11350100MB0000019U")
	if err != nil {
		b.Fatal(err)
	}
	dev, _ := sm2.GenerateKey(rand.Reader)
	l, err := s.Issue(license.Request{Type: "driving_license", HolderKey: &dev.PublicKey, Fields: map[string]string{
		"holder_name": "张三", "holder_id": "11010519491231002X", "address": "演示市鼓楼区五四路 1 号", "first_issue": "2010-05-01",
		"vehicle_class": "6", "valid_from": "2020-05-01", "valid_to": "2030-05-01", "issuer_name": "演示市公安局交通警察支队", "issue_date": "2020-05-01"}})
	if err != nil {
		b.Fatal(err)
	}
	return l.Marshal(), dev
}

func BenchmarkPresentSM2(b *testing.B) {
	lic, dev := benchLicense(b)
	o := license.PresentOptions{Profile: "traffic", Now: time.Now()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := license.MakePresentationWith(lic, dev, o); err != nil {
			b.Fatal(err)
		}
	}
}

// Baseline: one raw SM2 signature (with Z_A) over a message of the size of
// a presentation's to-be-signed bytes.
func BenchmarkRawSM2Sign(b *testing.B) {
	dev, _ := sm2.GenerateKey(rand.Reader)
	msg := make([]byte, 120)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dev.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts); err != nil {
			b.Fatal(err)
		}
	}
}
