package certs

import (
	"crypto/ecdsa"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// t0 is the fixed clock of every test.
var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

const year = 365 * 24 * time.Hour

// Valid GB 32100 codes from STANDARDS.md §5.2.
const (
	codeA = "91350100M000100Y43"
	codeB = "11100000000013338W"
)

type testPKI struct {
	rootKey, agencyKey, signerKey, sealKey, makerKey *sm2.PrivateKey
	root, agency, signer, seal, maker                *smx509.Certificate
}

func (p *testPKI) rootCA() CA   { return CA{Cert: p.root, Key: p.rootKey} }
func (p *testPKI) agencyCA() CA { return CA{Cert: p.agency, Key: p.agencyKey} }

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  error
)

// fixturePKI is one root -> agency CA -> {license signer, seal, seal maker}
// hierarchy shared by the tests (made once: key generation and issuance
// are what other tests check).
func fixturePKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func makePKI() (*testPKI, error) {
	p := &testPKI{}
	var err error
	for _, k := range []**sm2.PrivateKey{&p.rootKey, &p.agencyKey, &p.signerKey, &p.sealKey, &p.makerKey} {
		if *k, err = GenerateKey(); err != nil {
			return nil, err
		}
	}
	if p.root, err = NewRootCA(p.rootKey, Name{CommonName: "证信测试根CA Zhengxin Test Root", Organization: "证信 Zhengxin"}, t0, 20*year); err != nil {
		return nil, err
	}
	if p.agency, err = p.rootCA().NewAgencyCA(&p.agencyKey.PublicKey, Name{CommonName: "福州市市场监督管理局 CA", Organization: "福州市市场监督管理局", CreditCode: codeA}, t0, 10*year); err != nil {
		return nil, err
	}
	a := p.agencyCA()
	if p.signer, err = a.Issue(LicenseSigner, &p.signerKey.PublicKey, Name{CommonName: "电子证照签发 License Signer"}, t0, 5*year); err != nil {
		return nil, err
	}
	if p.seal, err = a.Issue(SealSigner, &p.sealKey.PublicKey, Name{CommonName: "福州市市场监督管理局 公章"}, t0, 5*year); err != nil {
		return nil, err
	}
	if p.maker, err = a.Issue(SealMaker, &p.makerKey.PublicKey, Name{CommonName: "制章人 Seal Maker"}, t0, 5*year); err != nil {
		return nil, err
	}
	return p, nil
}

func pub(k *sm2.PrivateKey) *ecdsa.PublicKey { return &k.PublicKey }
