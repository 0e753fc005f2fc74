package certs

import (
	"bytes"
	"encoding/pem"
	"testing"
	"time"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/smx509"
)

// Fuzz targets for every parser of outside data. Inputs are bounded by the
// parsers themselves (maxPEMInput); the targets check that nothing panics
// and that what parses is self-consistent.

const fuzzMax = 64 << 10

func FuzzParsePrivateKeyPEM(f *testing.F) {
	p := fixturePKI(f)
	// A cheap KDF for the seed, and a low iteration limit while fuzzing,
	// so each run stays fast; the bound itself is what is exercised.
	der, err := pkcs8.MarshalPrivateKey(p.signerKey, testPass, pkcs.NewPBESEncrypter(pkcs.SM4CBC, pkcs.NewPBKDF2Opts(pkcs.SM3, 16, 1000)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), testPass)
	plain, _ := smx509.MarshalPKCS8PrivateKey(p.signerKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: plain}), []byte(nil))
	sec1, _ := smx509.MarshalSM2PrivateKey(p.signerKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), []byte(nil))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("x"))
	oldI, oldM := maxKDFIterations, maxScryptMemory
	maxKDFIterations, maxScryptMemory = 2000, 1<<20
	f.Cleanup(func() { maxKDFIterations, maxScryptMemory = oldI, oldM })
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		if len(data) > fuzzMax {
			return
		}
		k, err := ParsePrivateKeyPEM(data, pass)
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v with error %v", k != nil, err)
		}
		if k != nil && !k.Curve.IsOnCurve(k.X, k.Y) {
			t.Fatal("parsed key not on the curve")
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	p := fixturePKI(f)
	f.Add(p.signer.RawSubjectPublicKeyInfo)
	_, _, point, _ := parseSPKI(p.signer.RawSubjectPublicKeyInfo)
	f.Add(buildSPKI(oidSM2, nil, point))
	f.Add(buildSPKI(oidSM2, oidSM2, point))
	f.Fuzz(func(t *testing.T, der []byte) {
		if len(der) > fuzzMax {
			return
		}
		k, err := ParsePublicKey(der)
		if err == nil && !k.Curve.IsOnCurve(k.X, k.Y) {
			t.Fatal("parsed key not on the curve")
		}
		ParsePublicKeyPEM(der)
	})
}

func FuzzParseCertificatesPEM(f *testing.F) {
	p := fixturePKI(f)
	f.Add(EncodeCertificatePEM(p.signer))
	f.Add(append(EncodeCertificatePEM(p.root), EncodeCertificatePEM(p.agency)...))
	f.Add(p.agency.Raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMax {
			return
		}
		if c, err := ParseCertificatePEM(data); err == nil {
			if !bytes.Equal(EncodeCertificatePEM(c), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})) {
				t.Fatal("re-encoding differs")
			}
			CertificateSummary(c)
			KID(c)
		}
		ParseCertificatesPEM(data)
		ParseCertificate(data)
		if pool, err := LoadPEMBundle(data); err == nil {
			for _, a := range pool.Anchors() {
				pool.VerifyChain(a, nil, t0, OIDExtKeyUsageLicenseSigning)
			}
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	p := fixturePKI(f)
	crl, err := p.agencyCA().NewCRL([]Revocation{{Serial: p.seal.SerialNumber, At: t0, Reason: ReasonKeyCompromise}}, 1, t0, t0.Add(year))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(EncodeCRLPEM(crl))
	f.Add(crl.Raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMax {
			return
		}
		c, err := ParseCRL(data)
		if err != nil {
			return
		}
		pool := rootPool(p)
		pool.AddIntermediate(p.agency)
		if pool.AddCRL(c) == nil {
			pool.VerifyChain(p.signer, nil, t0.Add(time.Hour), nil)
		}
	})
}

func FuzzTrustList(f *testing.F) {
	p := fixturePKI(f)
	list := &TrustList{Sequence: 1, IssuedAt: t0, NextUpdate: t0.Add(year)}
	for _, c := range []*smx509.Certificate{p.root, p.agency, p.signer} {
		list.Entries = append(list.Entries, TrustEntry{Cert: c})
	}
	data, err := SignTrustList(list, p.root, p.rootKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	block, _ := pem.Decode(data)
	f.Add(block.Bytes) // the bare JSON body
	f.Add(append(EncodeCertificatePEM(p.root), data...))
	anchors := []*smx509.Certificate{p.root}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMax {
			return
		}
		if tl, err := parseTrustListBody(data); err == nil && tl.Signer == nil {
			t.Fatal("body parsed without a signer")
		}
		if pool, err := LoadTrustList(data, anchors, t0.Add(time.Hour)); err == nil {
			pool.VerifyChain(p.signer, nil, t0.Add(time.Hour), nil)
			pool.ExpiresWithin(time.Hour)
		}
		LoadTrust(data, t0.Add(time.Hour))
	})
}
