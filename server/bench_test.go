package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// benchSetup wires the real license/verify packages on a MemStore, with
// production logging (JSON, discarded) and no rate limit.
func benchSetup(b *testing.B) (*Server, verify.Options, *License) {
	now := time.Now()
	signer, pool := realPKI(b, now)
	st := NewMemStore()
	opts := verify.Options{Trust: pool, Status: StoreStatus{Store: st}}
	iss := &LicenseIssuer{Signer: func(string) (*license.Signer, error) { return signer, nil }}
	srv, err := New(Deps{Store: st, Verify: VerifierFor(opts), Issuer: iss, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))},
		Config{VerifyRate: 1e12, VerifyBurst: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	sample := license.SampleRequests()[0]
	req := &IssueRequest{Type: sample.Type, HolderName: sample.Fields["holder_name"], HolderID: sample.Fields["holder_id"], Fields: map[string]string{}}
	for k, v := range sample.Fields {
		if k != "holder_name" && k != "holder_id" {
			req.Fields[k] = v
		}
	}
	l, err := iss.Issue(context.Background(), "A", req)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := st.CreateLicense(context.Background(), l, "", nil); err != nil {
		b.Fatal(err)
	}
	return srv, opts, l
}

// BenchmarkRawSM2Verify is the baseline: one SM2 verify of 400 bytes.
func BenchmarkRawSM2Verify(b *testing.B) {
	k, _ := sm2.GenerateKey(rand.Reader)
	msg := make([]byte, 400)
	sig, _ := k.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&k.PublicKey, nil, msg, sig) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkVerifyInProcess is verify.VerifyLicenseQR alone, same license and trust.
func BenchmarkVerifyInProcess(b *testing.B) {
	_, opts, l := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := verify.VerifyLicenseQR(ctx, l.QR, opts); r.Verdict != report.Passed {
			b.Fatal(r.Reason)
		}
	}
}

// BenchmarkVerifyHandler is POST /api/v1/verify through the whole router
// and middleware (auth, rate limit, metrics, logging), without the network.
func BenchmarkVerifyHandler(b *testing.B) {
	srv, _, l := benchSetup(b)
	body, _ := json.Marshal(map[string]string{"qr": l.QR})
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/verify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(`"PASSED"`)) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkIssueHandler is POST /api/v1/licenses on a MemStore: validation,
// SM2 signing, audit chain (SM3), JSON.
func BenchmarkIssueHandler(b *testing.B) {
	srv, _, l := benchSetup(b)
	st := srv.store
	secret, hash := NewTokenSecret()
	st.CreateToken(context.Background(), &Token{ID: "b", Hash: hash, Role: RoleIssuer, Agency: "A"})
	body, _ := json.Marshal(map[string]any{"type": l.Type, "holder_name": l.HolderName, "holder_id": l.HolderID, "fields": benchFields(l)})
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/licenses", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}

func benchFields(l *License) map[string]string {
	out := map[string]string{}
	sample := license.SampleRequests()[0]
	for k, v := range sample.Fields {
		if k != "holder_name" && k != "holder_id" {
			out[k] = v
		}
	}
	return out
}
