package tsatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// New returns a TSA stamping at genTime with a fresh key (SM2 if sm2Key,
// else ECDSA P-256) and a TSA certificate (critical extended key usage
// id-kp-timeStamping only, RFC 3161 §2.3) under a fresh root, which it
// also returns for the verifier's trust anchors. The certificates are
// valid from 2000 to 2099.
func New(genTime time.Time, sm2Key bool) (*TSA, *smx509.Certificate, error) {
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{OIDExtKeyUsageTimeStamping})
	if err != nil {
		return nil, nil, err
	}
	return NewWithExtensions(genTime, sm2Key, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku})
}

// NewWithExtensions is New with the TSA certificate's extensions given
// (no extended key usage unless one of them is): to make TSAs that
// verifiers must refuse.
func NewWithExtensions(genTime time.Time, sm2Key bool, exts ...pkix.Extension) (*TSA, *smx509.Certificate, error) {
	nb, na := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
	rootT := &x509.Certificate{SerialNumber: big.NewInt(200), Subject: pkix.Name{CommonName: "tsatest 时间戳根CA Root"},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	tsaT := &x509.Certificate{SerialNumber: big.NewInt(201), Subject: pkix.Name{CommonName: "tsatest 时间戳服务 TSA"},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: exts}
	var rootKey, key crypto.Signer
	if sm2Key {
		rk, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		rootKey, key = rk, k
		rootDER, err := smx509.CreateCertificate(rand.Reader, (*smx509.Certificate)(rootT), (*smx509.Certificate)(rootT), &rk.PublicKey, rk)
		if err != nil {
			return nil, nil, err
		}
		root, err := smx509.ParseCertificate(rootDER)
		if err != nil {
			return nil, nil, err
		}
		der, err := smx509.CreateCertificate(rand.Reader, (*smx509.Certificate)(tsaT), root, &k.PublicKey, rk)
		if err != nil {
			return nil, nil, err
		}
		cert, err := smx509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		return &TSA{Key: key, Cert: cert, Time: genTime}, root, nil
	}
	rk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	rootKey, key = rk, k
	rootDER, err := x509.CreateCertificate(rand.Reader, rootT, rootT, &rk.PublicKey, rootKey)
	if err != nil {
		return nil, nil, err
	}
	rootX, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tsaT, rootX, &k.PublicKey, rootKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	root, err := smx509.ParseCertificate(rootDER)
	if err != nil {
		return nil, nil, err
	}
	return &TSA{Key: key, Cert: cert, Time: genTime}, root, nil
}
