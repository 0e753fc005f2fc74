package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

const realIssuerCode = "11330106MA0001018C" // a valid GB 32100 code (verify's test vectors use it)

// realPKI makes root -> agency CA -> license signer with package certs and
// returns the signer and a trust pool holding the chain.
func realPKI(t testing.TB, now time.Time) (*license.Signer, *certs.Pool) {
	t.Helper()
	key := func() *sm2.PrivateKey {
		k, err := certs.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	t0 := now.Add(-24 * time.Hour)
	rk, ak, sk := key(), key(), key()
	root, err := certs.NewRootCA(rk, certs.Name{CommonName: "证信测试根CA", Organization: "证信测试"}, t0, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	agency, err := certs.CA{Cert: root, Key: rk}.NewAgencyCA(&ak.PublicKey, certs.Name{CommonName: "测试市场监督管理局CA", Organization: "测试市场监督管理局", CreditCode: realIssuerCode}, t0, 5*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := certs.CA{Cert: agency, Key: ak}.Issue(certs.LicenseSigner, &sk.PublicKey, certs.Name{CommonName: "证照签名", CreditCode: realIssuerCode}, t0, 2*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := certs.NewPool()
	pool.AddAnchor(root)
	pool.AddIntermediate(agency)
	pool.AddCertificate(sc)
	pool.SetClock(func() time.Time { return now })
	s, err := license.NewSigner(sk, sc, realIssuerCode)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	return s, pool
}

// TestRealLicenseEndToEnd wires the real license, certs and verify
// packages: issue over the API, fetch the QR PNG, upload the picture to
// verify (gozxing decodes what go-qrcode drew), revoke, verify again.
func TestRealLicenseEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	signer, pool := realPKI(t, now)
	var e *env
	e = newEnv(t, func(d *Deps, c *Config) {
		d.Issuer = &LicenseIssuer{Signer: func(string) (*license.Signer, error) { return signer, nil }}
		st := d.Store
		d.Verify = VerifierFor(verify.Options{Trust: pool, Status: StoreStatus{Store: st}, Now: func() time.Time { return now }})
	})
	sample := license.SampleRequests()[0] // business_license
	fields := map[string]string{}
	for k, v := range sample.Fields {
		if k != "holder_name" && k != "holder_id" {
			fields[k] = v
		}
	}
	res := e.do(rIssuerA, "POST", "/api/v1/licenses", map[string]any{"type": sample.Type, "holder_name": sample.Fields["holder_name"], "holder_id": sample.Fields["holder_id"], "fields": fields})
	if res.Code != 201 {
		t.Fatalf("issue: %d %s", res.Code, res.Body)
	}
	var l License
	mustJSON(t, res.Body.Bytes(), &l)
	if !strings.HasPrefix(l.QR, license.PrefixLicense) || l.HolderID != sample.Fields["holder_id"] {
		t.Fatalf("issued %+v", l)
	}
	// A missing required field is a 422 naming it.
	delete(fields, "address")
	res = e.do(rIssuerA, "POST", "/api/v1/licenses", map[string]any{"type": sample.Type, "holder_name": "x", "holder_id": sample.Fields["holder_id"], "fields": fields})
	var p Problem
	mustJSON(t, res.Body.Bytes(), &p)
	if res.Code != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "address" {
		t.Fatalf("missing address: %d %+v", res.Code, p.Errors)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses", map[string]any{"type": "no_such_type", "holder_name": "x", "holder_id": "y"}); res.Code != 422 {
		t.Fatalf("unknown type: %d", res.Code)
	}

	png := e.do(rIssuerA, "GET", "/api/v1/licenses/"+l.ID+"/qr", nil)
	if png.Code != 200 {
		t.Fatalf("qr: %d", png.Code)
	}
	verifyPNG := func() *report.Report {
		res := e.do(rNone, "POST", "/api/v1/verify", png.Body.Bytes(), "Content-Type", "image/png")
		if res.Code != http.StatusOK {
			t.Fatalf("verify picture: %d %s", res.Code, res.Body)
		}
		var rep report.Report
		mustJSON(t, res.Body.Bytes(), &rep)
		return &rep
	}
	if rep := verifyPNG(); rep.Verdict != report.Passed || rep.Kind != report.KindLicenseQR {
		t.Fatalf("fresh license: %s %s %s %+v", rep.Verdict, rep.Reason, rep.Kind, rep.Signatures)
	}
	// One changed character of the payload is not a valid license.
	bad := l.QR[:len(l.QR)-5] + "A" + l.QR[len(l.QR)-4:]
	if bad == l.QR {
		bad = l.QR[:len(l.QR)-5] + "B" + l.QR[len(l.QR)-4:]
	}
	if rep := verifyQR(t, e, bad); rep.Verdict == report.Passed {
		t.Fatal("altered QR passed")
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses/"+l.ID+"/status", map[string]string{"status": "revoked", "reason": "吊销：测试"}); res.Code != 200 {
		t.Fatalf("revoke: %d %s", res.Code, res.Body)
	}
	if rep := verifyPNG(); rep.Verdict != report.Failed || rep.Reason != report.LicenseRevoked {
		t.Fatalf("revoked license: %s %s", rep.Verdict, rep.Reason)
	}
}
