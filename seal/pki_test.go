package seal

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// testPKI is a root CA, an agency CA and three end-entity certificates made
// with gmsm directly (package certs is built in parallel; these fixtures do
// not depend on it).
type testPKI struct {
	root, agency             *smx509.Certificate
	maker, signer, other     *smx509.Certificate
	makerKey, signerKey      *sm2.PrivateKey
	otherKey, rootKey, agKey *sm2.PrivateKey
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	pkiErr  error
)

// testNow is the fixed clock of our own fixtures.
var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newCert(tmpl *smx509.Certificate, parent *smx509.Certificate, pub any, priv *sm2.PrivateKey) (*smx509.Certificate, error) {
	if parent == nil {
		parent = tmpl
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, err
	}
	return smx509.ParseCertificate(der)
}

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

func makePKI() (*testPKI, error) {
	p := &testPKI{}
	keys := make([]*sm2.PrivateKey, 5)
	for i := range keys {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	p.rootKey, p.agKey, p.makerKey, p.signerKey, p.otherKey = keys[0], keys[1], keys[2], keys[3], keys[4]
	start, end := testNow.AddDate(-1, 0, 0), testNow.AddDate(5, 0, 0)
	ca := func(serial int64, cn string, pathLen int) *smx509.Certificate {
		return &smx509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Country: []string{"CN"}},
			NotBefore: start, NotAfter: end, IsCA: true, BasicConstraintsValid: true,
			MaxPathLen: pathLen, MaxPathLenZero: pathLen == 0,
			KeyUsage: smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
		}
	}
	ee := func(serial int64, cn string) *smx509.Certificate {
		return &smx509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Country: []string{"CN"}},
			NotBefore: start, NotAfter: end.AddDate(-1, 0, 0),
			KeyUsage:    smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment,
			ExtKeyUsage: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
		}
	}
	var err error
	if p.root, err = newCert(ca(1, "测试根CA Test Root", 1), nil, &p.rootKey.PublicKey, p.rootKey); err != nil {
		return nil, err
	}
	if p.agency, err = newCert(ca(2, "测试市场监督管理局CA", 0), p.root, &p.agKey.PublicKey, p.rootKey); err != nil {
		return nil, err
	}
	if p.maker, err = newCert(ee(3, "制章人 Seal Maker"), p.agency, &p.makerKey.PublicKey, p.agKey); err != nil {
		return nil, err
	}
	if p.signer, err = newCert(ee(4, "合同专用章 Seal Signer"), p.agency, &p.signerKey.PublicKey, p.agKey); err != nil {
		return nil, err
	}
	if p.other, err = newCert(ee(5, "Other Signer"), p.agency, &p.otherKey.PublicKey, p.agKey); err != nil {
		return nil, err
	}
	return p, nil
}

// testSpec is a valid spec for a seal usable by p.signer.
func testSpec(p *testPKI) SealSpec {
	return SealSpec{
		ESID:        "110108000000001",
		Name:        "测试市场监督管理局合同专用章",
		Type:        TypeOrganisation,
		SignerCerts: []*smx509.Certificate{p.signer},
		Picture:     Picture{Type: "PNG", Data: []byte("\x89PNG\r\n\x1a\nnot really"), WidthMM: 42, HeightMM: 42},
		CreateDate:  testNow.AddDate(0, -1, 0),
		ValidStart:  testNow.AddDate(0, -1, 0),
		ValidEnd:    testNow.AddDate(2, 0, 0),
	}
}
