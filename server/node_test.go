package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	pngcodec "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// The service as `zhengxin serve` wires it to a data directory, driven over
// HTTP: issue, claim into a wallet with a device key, present, replay,
// move to a new phone, seal a PDF, revoke — and an offline verifier that
// only has the published trust list and status list agrees.
func TestForDataDirEndToEnd(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(offset.Load())) }
	advance := func(d time.Duration) { offset.Add(int64(d)) }

	dir := t.TempDir() + "/d"
	pass := []byte("test passphrase")
	d, err := datadir.Init(ctx, dir, datadir.InitOptions{Passphrase: pass, Demo: true, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Now = now
	deps, err := server.ForDataDir(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(deps, server.Config{VerifyRate: 1000, VerifyBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	agency := datadir.DemoAgency.CreditCode
	secret, hash := server.NewTokenSecret()
	if err := deps.Store.CreateToken(ctx, &server.Token{ID: "t1", Hash: hash, Name: "issuer", Role: server.RoleIssuer, Agency: agency, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token, ctype string, body []byte, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return b
	}
	verifyText := func(text string) *report.Report {
		t.Helper()
		var r report.Report
		if err := json.Unmarshal(call("POST", "/api/v1/verify", "", "text/plain", []byte(text), 200), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	want := func(r *report.Report, v report.Verdict, reason report.Reason) {
		t.Helper()
		if r.Verdict != v || r.Reason != reason {
			t.Fatalf("verdict %s %s, want %s %s (%s)", r.Verdict, r.Reason, v, reason, r.Message.EN)
		}
	}

	// Issue.
	body, _ := json.Marshal(map[string]any{"type": "business_license", "holder_name": "福州示例科技有限公司", "holder_id": "91350100M000100Y43",
		"fields": map[string]string{"enterprise_type": "有限责任公司", "legal_rep": "陈明", "established": "2020-05-18", "valid_from": "2020-05-18",
			"address": "福建省福州市鼓楼区五四路100号", "scope": "软件开发", "issuer_name": "演示市市场监督管理局", "issue_date": "2024-03-01"}})
	var lic server.License
	json.Unmarshal(call("POST", "/api/v1/licenses", secret, "application/json", body, 201), &lic)
	if _, err := license.ParseIdentifier(lic.ID); err != nil {
		t.Fatalf("issued id %q: %v", lic.ID, err)
	}
	// Its static QR verifies; the PNG of it too.
	json.Unmarshal(call("GET", "/api/v1/licenses/"+lic.ID, secret, "", nil, 200), &lic)
	want(verifyText(lic.QR), report.Passed, "")
	png := call("GET", "/api/v1/licenses/"+lic.ID+"/qr", secret, "", nil, 200)
	var r report.Report
	json.Unmarshal(call("POST", "/api/v1/verify", "", "image/png", png, 200), &r)
	want(&r, report.Passed, "")

	// The sealed PDF verifies, and says it is a document, not a license.
	pdf := call("GET", "/api/v1/licenses/"+lic.ID+"/pdf", secret, "", nil, 200)
	json.Unmarshal(call("POST", "/api/v1/verify", "", "application/pdf", pdf, 200), &r)
	want(&r, report.Passed, "")
	if r.Kind != report.KindPDF {
		t.Fatalf("PDF verified as %s", r.Kind)
	}

	// The agency's seal and its stamp picture (what the console shows).
	var seals struct{ Items []server.SealInfo }
	json.Unmarshal(call("GET", "/api/v1/seals", secret, "", nil, 200), &seals)
	if len(seals.Items) == 0 {
		t.Fatal("no seals listed")
	}
	esl := call("GET", "/api/v1/seals/"+seals.Items[0].ID, secret, "", nil, 200)
	sl, err := seal.ParseSeal(esl)
	if err != nil {
		t.Fatal(err)
	}
	if pic := call("GET", "/api/v1/seals/"+seals.Items[0].ID+"/picture", secret, "", nil, 200); !bytes.Equal(pic, sl.Picture.Data) {
		t.Fatalf("seal picture: %d bytes, the seal holds %d", len(pic), len(sl.Picture.Data))
	} else if _, err := pngcodec.Decode(bytes.NewReader(pic)); err != nil {
		t.Fatalf("seal picture is not a PNG: %v", err)
	}

	// Claim into a wallet, binding the device key.
	claim := func(device []byte) (server.License, string) {
		t.Helper()
		var cc struct{ Code string }
		json.Unmarshal(call("POST", "/api/v1/licenses/"+lic.ID+"/claim-code", secret, "application/json", []byte("{}"), 201), &cc)
		b, _ := json.Marshal(map[string]string{"code": cc.Code, "device_key": string(device)})
		var out struct {
			License server.License
			Token   string
		}
		json.Unmarshal(call("POST", "/api/v1/holder/claim", "", "application/json", b, 200), &out)
		return out.License, out.Token
	}
	phone, _ := license.GenerateHolderKey(rand.Reader, "sm2")
	phonePub, _ := license.MarshalHolderPublicKey(phone.Public())
	bound, holderToken := claim(phonePub)
	if holderToken == "" {
		t.Fatal("no holder token from the first claim")
	}
	bl, err := license.ParseLicense(bound.Signed)
	if err != nil || bl.HolderKey == nil || bl.ID() != lic.ID {
		t.Fatalf("claimed license not bound: %v", err)
	}
	p1, err := license.MakePresentationWith(bound.Signed, phone, license.PresentOptions{Now: now()})
	if err != nil {
		t.Fatal(err)
	}
	want(verifyText(p1), report.Passed, "")
	want(verifyText(p1), report.Failed, report.Replay)
	// A claim code with a device key that is not a key is refused before it is spent.
	call("POST", "/api/v1/holder/claim", "", "application/json", []byte(`{"code":"ABCDEFGHJKMNPQRS","device_key":"not a key"}`), 422)

	// Expired after a minute and a bit.
	p2, _ := license.MakePresentationWith(bound.Signed, phone, license.PresentOptions{Now: now()})
	advance(2 * time.Minute)
	want(verifyText(p2), report.Failed, report.PresentationExpired)

	// The holder moves to a new phone: the old one's presentations fail.
	newPhone, _ := license.GenerateHolderKey(rand.Reader, "p256")
	newPub, _ := license.MarshalHolderPublicKey(newPhone.Public())
	rebound, _ := claim(newPub)
	old, _ := license.MakePresentationWith(bound.Signed, phone, license.PresentOptions{Now: now()})
	want(verifyText(old), report.Failed, report.HolderBindingFailure)
	fresh, _ := license.MakePresentationWith(rebound.Signed, newPhone, license.PresentOptions{Now: now()})
	want(verifyText(fresh), report.Passed, "")

	// Revoke: online verification fails at once.
	call("POST", "/api/v1/licenses/"+lic.ID+"/status", secret, "application/json", []byte(`{"status":"revoked","reason":"吊销：测试"}`), 200)
	fresh2, _ := license.MakePresentationWith(rebound.Signed, newPhone, license.PresentOptions{Now: now()})
	want(verifyText(fresh2), report.Failed, report.LicenseRevoked)

	// Offline: the published trust list and status list say the same.
	trustFile := call("GET", "/api/v1/trust-list", "", "", nil, 200)
	pool, err := certs.LoadTrust(trustFile, now())
	if err != nil {
		t.Fatalf("published trust list: %v", err)
	}
	advance(2 * time.Minute) // past the publisher's refresh
	statusFile := call("GET", "/api/v1/status-lists/"+agency, "", "", nil, 200)
	lists := license.NewStatusLists(pool, verify.LicenseSigningEKU)
	if _, err := lists.Add(statusFile); err != nil {
		t.Fatalf("published status list: %v", err)
	}
	offline := verify.Options{Trust: pool, Status: lists, Now: now}
	want(verify.Verify(ctx, []byte(lic.QR), offline), report.Failed, report.LicenseRevoked)
	if !strings.HasPrefix(lic.QR, license.PrefixLicense) {
		t.Fatalf("QR %q", lic.QR[:10])
	}
}
