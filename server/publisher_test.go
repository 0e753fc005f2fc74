package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// TestStatusListPublishedOffline: a license issued with a reserved status
// slot is revoked over the API; the status list the server publishes,
// checked by package license and verify alone (offline), says revoked.
func TestStatusListPublishedOffline(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	signer, pool := realPKI(t, clock.Now())
	ss, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "z.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	st := FromStore(ss, LicenseQRText)
	if err := st.CreateAgency(ctx, &Agency{Code: "XH", Name: "西湖区市场监督管理局", CreditCode: realIssuerCode}); err != nil {
		t.Fatal(err)
	}
	pub := &Publisher{Store: ss, Signer: func(string) (*license.Signer, error) { return signer, nil }, Now: clock.Now, Refresh: time.Minute}
	srv, err := New(Deps{
		Store: st, Published: pub, Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify: VerifierFor(verify.Options{Trust: pool, Status: StoreStatus{Store: st}, Now: clock.Now}),
		Issuer: &LicenseIssuer{Signer: func(string) (*license.Signer, error) { return signer, nil }, Reserve: ReserveFrom(ss), LazyQR: true},
	}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, store: st, clock: clock, tokens: map[string]string{}}
	e.tokens["xh"] = e.addToken("xh", RoleIssuer, "XH", "")
	sample := license.SampleRequests()[0]
	fields := map[string]string{}
	for k, v := range sample.Fields {
		if k != "holder_name" && k != "holder_id" {
			fields[k] = v
		}
	}
	var ls []License
	for range 3 {
		res := e.do("xh", "POST", "/api/v1/licenses", map[string]any{"type": sample.Type, "holder_name": sample.Fields["holder_name"], "holder_id": sample.Fields["holder_id"], "fields": fields})
		if res.Code != 201 {
			t.Fatalf("issue: %d %s", res.Code, res.Body)
		}
		var l License
		mustJSON(t, res.Body.Bytes(), &l)
		ls = append(ls, l)
	}
	// LazyQR: the issue answer has no QR; a read derives it from the signed license.
	for i := range ls {
		if ls[i].QR != "" {
			t.Fatalf("LazyQR issue answer has a QR")
		}
		ls[i].QR = getLicense(t, e, "xh", ls[i].ID).QR
	}
	if ls[1].StatusList != "XH" || ls[1].StatusIndex == ls[0].StatusIndex {
		t.Fatalf("status slots: %s/%d, %s/%d", ls[0].StatusList, ls[0].StatusIndex, ls[1].StatusList, ls[1].StatusIndex)
	}
	if res := e.do("xh", "POST", "/api/v1/licenses/"+ls[1].ID+"/status", map[string]string{"status": "revoked", "reason": "测试吊销"}); res.Code != 200 {
		t.Fatalf("revoke: %d %s", res.Code, res.Body)
	}
	res := e.do(rNone, "GET", "/api/v1/status-lists/XH", nil)
	if res.Code != 200 {
		t.Fatalf("status list: %d %s", res.Code, res.Body)
	}
	// Offline: the verifier holds only the trust pool and the downloaded list.
	lists := license.NewStatusLists(pool, verify.LicenseSigningEKU)
	if _, err := lists.Add(res.Body.Bytes()); err != nil {
		t.Fatalf("published list does not verify: %v", err)
	}
	opts := verify.Options{Trust: pool, Status: lists, Now: clock.Now}
	for i, want := range []report.Reason{"", report.LicenseRevoked, ""} {
		if r := verify.VerifyLicenseQR(ctx, ls[i].QR, opts); r.Reason != want {
			t.Errorf("license %d offline: %s %s, want %q", i, r.Verdict, r.Reason, want)
		}
	}
	// Cached until Refresh: same bytes, same ETag, 304 for the holder of it.
	etag := res.Header().Get("ETag")
	if again := e.do(rNone, "GET", "/api/v1/status-lists/XH", nil, "If-None-Match", etag); again.Code != 304 {
		t.Fatalf("second fetch: %d", again.Code)
	}
	if res := e.do(rNone, "GET", "/api/v1/status-lists/nobody", nil); res.Code != 404 {
		t.Fatalf("unknown list: %d", res.Code)
	}
	e.clock.Advance(time.Minute)
	if later := e.do(rNone, "GET", "/api/v1/status-lists/XH", nil, "If-None-Match", etag); later.Code != 200 || later.Header().Get("ETag") == etag {
		t.Fatalf("after Refresh: %d, ETag unchanged %v", later.Code, later.Header().Get("ETag") == etag)
	}
}
