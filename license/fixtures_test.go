package license

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Fixed test clock and keys: the package certs is built in parallel, so
// tests make their own small PKI with gmsm directly.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func testKey(t testing.TB, seed string) *sm2.PrivateKey {
	t.Helper()
	h := sm3.Sum([]byte(seed))
	k, err := sm2.NewPrivateKey(h[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testCert(t testing.TB, key *sm2.PrivateKey, cn string, parent *smx509.Certificate, parentKey *sm2.PrivateKey, ca bool) *smx509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(int64(len(cn)) + 1000),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Zhengxin test"}},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	var p any = tmpl
	signer := key
	if parent != nil {
		p, signer = parent, parentKey
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, p, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const testIssuer = "11330106MA0001018C"

func testSigner(t testing.TB) (*Signer, *smx509.Certificate) {
	t.Helper()
	rootKey := testKey(t, "root")
	root := testCert(t, rootKey, "Test Root", nil, nil, true)
	key := testKey(t, "signer")
	cert := testCert(t, key, "Test License Signer", root, rootKey, false)
	s, err := NewSigner(key, cert, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return testNow }
	return s, cert
}

func issueSample(t testing.TB, s *Signer, typ string, mod func(*Request)) *License {
	t.Helper()
	for _, r := range SampleRequests() {
		if r.Type == typ {
			r.StatusList = "L1"
			r.StatusIndex = 12345
			if mod != nil {
				mod(&r)
			}
			l, err := s.Issue(r)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
	}
	t.Fatalf("no sample for %s", typ)
	return nil
}
