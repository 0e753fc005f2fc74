package certs_test

import (
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/verify/report"
)

// A root, an agency CA and a license signer; then a verifier that trusts
// the root checks the signer's chain at two times.
func Example() {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour

	rootKey, _ := certs.GenerateKey()
	root, err := certs.NewRootCA(rootKey, certs.Name{CommonName: "某省电子证照根CA", Organization: "某省政务服务管理局"}, now, 20*year)
	if err != nil {
		panic(err)
	}
	agencyKey, _ := certs.GenerateKey()
	agency, err := certs.CA{Cert: root, Key: rootKey}.NewAgencyCA(&agencyKey.PublicKey,
		certs.Name{CommonName: "福州市市场监督管理局 CA", Organization: "福州市市场监督管理局", CreditCode: "91350100M000100Y43"},
		now, 10*year)
	if err != nil {
		panic(err)
	}
	signerKey, _ := certs.GenerateKey()
	signer, err := certs.CA{Cert: agency, Key: agencyKey}.Issue(certs.LicenseSigner, &signerKey.PublicKey,
		certs.Name{CommonName: "电子证照签发"}, now, 2*year)
	if err != nil {
		panic(err)
	}

	pool := certs.NewPool()
	pool.AddAnchor(root)
	chain, err := pool.VerifyChain(signer, []*smx509.Certificate{agency}, now.Add(year), certs.OIDExtKeyUsageLicenseSigning)
	for _, c := range chain {
		fmt.Println(c.Subject.CommonName)
	}
	_, err = pool.VerifyChain(signer, []*smx509.Certificate{agency}, now.Add(3*year), certs.OIDExtKeyUsageLicenseSigning)
	fmt.Println(report.ReasonOf(err))
	// Output:
	// 电子证照签发
	// 福州市市场监督管理局 CA
	// 某省电子证照根CA
	// CERT_EXPIRED
}
