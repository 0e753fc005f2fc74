package certs

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"github.com/zhengxin/zhengxin/verify/report"
)

func fixtureList(t *testing.T, p *testPKI, entries ...*smx509.Certificate) *TrustList {
	t.Helper()
	if entries == nil {
		entries = []*smx509.Certificate{p.root, p.agency, p.signer, p.seal, p.maker}
	}
	tl := &TrustList{Sequence: 3, IssuedAt: t0, NextUpdate: t0.Add(30 * 24 * time.Hour)}
	for _, c := range entries {
		tl.Entries = append(tl.Entries, TrustEntry{Cert: c})
	}
	return tl
}

func TestTrustList(t *testing.T) {
	p := fixturePKI(t)
	data, err := SignTrustList(fixtureList(t, p), p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(24 * time.Hour)
	pool, err := LoadTrustList(data, []*smx509.Certificate{p.root}, now)
	if err != nil {
		t.Fatal(err)
	}
	// The signer certificate is found by kid, with no intermediates given.
	signer, err := pool.CertificateByKID(KID(p.signer))
	if err != nil || !signer.Equal(p.signer) {
		t.Fatalf("kid lookup: %v", err)
	}
	if _, err := pool.VerifyChain(signer, nil, now, OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
	if pool.ExpiresWithin(7 * 24 * time.Hour) {
		t.Error("list valid for 29 more days reported as expiring within 7")
	}
	if !pool.ExpiresWithin(30 * 24 * time.Hour) {
		t.Error("list expiring in 29 days not reported as expiring within 30")
	}
	if seq, at := pool.TrustListInfo(); seq != 3 || !at.Equal(t0) {
		t.Errorf("trust list info %d %v", seq, at)
	}
	if certs, err := ParseCertificatesPEM(fixtureList(t, p).CertificatesPEM()); err != nil || len(certs) != 5 {
		t.Errorf("CertificatesPEM: %d %v", len(certs), err)
	}
	if !pool.NextUpdate().Equal(t0.Add(30 * 24 * time.Hour)) {
		t.Errorf("next update %v", pool.NextUpdate())
	}

	// The body is the documented JSON; check a few fields independently.
	block, _ := pem.Decode(data)
	var body map[string]any
	if err := json.Unmarshal(block.Bytes, &body); err != nil {
		t.Fatal(err)
	}
	if body["format"] != "zhengxin-trust-list" || body["version"] != 1.0 || body["next_update"] != "2026-12-23T08:00:00Z" {
		t.Errorf("body header %v %v %v", body["format"], body["version"], body["next_update"])
	}
	e0 := body["entries"].([]any)[1].(map[string]any)
	if e0["role"] != "agency-ca" || e0["credit_code"] != codeA || e0["kid"] != hexKID(p.agency) {
		t.Errorf("entry %v", e0)
	}
}

func hexKID(c *smx509.Certificate) string {
	const hx = "0123456789abcdef"
	var b []byte
	for _, x := range KID(c) {
		b = append(b, hx[x>>4], hx[x&15])
	}
	return string(b)
}

func TestTrustListExpired(t *testing.T) {
	p := fixturePKI(t)
	data, err := SignTrustList(fixtureList(t, p), p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	late := t0.Add(31 * 24 * time.Hour)
	pool, err := LoadTrustList(data, []*smx509.Certificate{p.root}, late)
	if err != nil {
		t.Fatal(err)
	}
	// Even checked at a time inside the list's validity, the verifier's
	// clock is past next update: never a pass.
	_, err = pool.VerifyChain(p.signer, nil, t0.Add(time.Hour), OIDExtKeyUsageLicenseSigning)
	wantReason(t, err, report.TrustListExpired, "expired at 2026-12-23T08:00:00Z")
	if report.VerdictFor(report.ReasonOf(err)) != report.Indeterminate {
		t.Error("expired trust list does not lead to INDETERMINATE")
	}
	if !pool.ExpiresWithin(0) {
		t.Error("expired list not reported by ExpiresWithin(0)")
	}
	// A forged leaf stays FAILED rather than being masked.
	raw := bytes.Clone(p.signer.Raw)
	raw[len(raw)-4] ^= 2
	forged, _ := smx509.ParseCertificate(raw)
	_, err = pool.VerifyChain(forged, nil, t0.Add(time.Hour), nil)
	wantReason(t, err, report.SigCryptoFailure, "")

	// A long-running server: loaded in time, then its clock moves on.
	fresh, err := LoadTrustList(data, []*smx509.Certificate{p.root}, t0)
	if err != nil {
		t.Fatal(err)
	}
	clock := t0
	fresh.SetClock(func() time.Time { return clock })
	if _, err := fresh.VerifyChain(p.signer, nil, t0, nil); err != nil {
		t.Fatal(err)
	}
	clock = late
	_, err = fresh.VerifyChain(p.signer, nil, t0, nil)
	wantReason(t, err, report.TrustListExpired, "")
}

func TestTrustListRefusals(t *testing.T) {
	p := fixturePKI(t)
	anchors := []*smx509.Certificate{p.root}
	now := t0.Add(time.Hour)
	good, err := SignTrustList(fixtureList(t, p), p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("altered body", func(t *testing.T) {
		block, rest := pem.Decode(good)
		block.Bytes = bytes.Replace(block.Bytes, []byte(`"sequence": 3`), []byte(`"sequence": 4`), 1)
		bad := append(pem.EncodeToMemory(block), rest...)
		_, err := LoadTrustList(bad, anchors, now)
		wantReason(t, err, report.SigCryptoFailure, "altered or is forged")
	})
	t.Run("unsigned", func(t *testing.T) {
		block, _ := pem.Decode(good)
		_, err := LoadTrustList(pem.EncodeToMemory(block), anchors, now)
		if err == nil || !strings.Contains(err.Error(), "not signed") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("other anchor", func(t *testing.T) {
		other, _ := makePKI()
		_, err := LoadTrustList(good, []*smx509.Certificate{other.root}, now)
		wantReason(t, err, report.NoCertificateChainFound, "signer is not trusted")
	})
	t.Run("no anchor", func(t *testing.T) {
		_, err := LoadTrustList(good, nil, now)
		wantReason(t, err, report.NoCertificateChainFound, "no trust anchor")
	})
	t.Run("issued in the future", func(t *testing.T) {
		_, err := LoadTrustList(good, anchors, t0.Add(-time.Hour))
		if err == nil || !strings.Contains(err.Error(), "clock") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("signer without trust-list EKU", func(t *testing.T) {
		data, err := SignTrustList(fixtureList(t, p), p.signer, p.signerKey)
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadTrustList(data, anchors, now)
		wantReason(t, err, report.NoCertificateChainFound, "signer is not trusted")
	})
	t.Run("delegated signer", func(t *testing.T) {
		k, _ := GenerateKey()
		tls, err := p.rootCA().Issue(TrustListSigner, pub(k), Name{CommonName: "信任列表签名 Trust List Signer"}, t0, year)
		if err != nil {
			t.Fatal(err)
		}
		data, err := SignTrustList(fixtureList(t, p), tls, k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTrustList(data, anchors, now); err != nil {
			t.Fatalf("trust-list signer under the root: %v", err)
		}
	})
	t.Run("agency dropped from the list", func(t *testing.T) {
		data, err := SignTrustList(fixtureList(t, p, p.root), p.root, p.rootKey)
		if err != nil {
			t.Fatal(err)
		}
		pool, err := LoadTrustList(data, anchors, now)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pool.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, now, nil)
		wantReason(t, err, report.NoCertificateChainFound, "")
		_, err = pool.CertificateByKID(KID(p.signer))
		wantReason(t, err, report.NoCertificateChainFound, "")
	})
	t.Run("wrong key", func(t *testing.T) {
		if _, err := SignTrustList(fixtureList(t, p), p.root, p.agencyKey); err == nil {
			t.Fatal("signed with a key not matching the signer certificate")
		}
	})
}

func TestLoadTrust(t *testing.T) {
	p := fixturePKI(t)
	now := t0.Add(time.Hour)
	list, err := SignTrustList(fixtureList(t, p), p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := p.agencyCA().NewCRL([]Revocation{{Serial: p.seal.SerialNumber, At: t0, Reason: ReasonKeyCompromise}}, 1, t0, t0.Add(year))
	if err != nil {
		t.Fatal(err)
	}
	file := append(EncodeCertificatePEM(p.root), list...)
	file = append(file, EncodeCRLPEM(crl)...)
	pool, err := LoadTrust(file, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.VerifyChain(p.signer, nil, now, OIDExtKeyUsageLicenseSigning); err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyChain(p.seal, nil, now, nil)
	wantReason(t, err, report.CertRevoked, "")

	// Plain bundle.
	bundle, err := LoadTrust(EncodeCertificatePEM(p.root), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.VerifyChain(p.signer, []*smx509.Certificate{p.agency}, now, nil); err != nil {
		t.Fatal(err)
	}
	if bundle.ExpiresWithin(100 * year) {
		t.Error("a PEM bundle has no expiry")
	}
	// A list alone has nothing to check its signature against.
	_, err = LoadTrust(list, now)
	wantReason(t, err, report.NoCertificateChainFound, "no trust anchor")
}
