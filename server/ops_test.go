package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, func(d *Deps, c *Config) {
		d.Pages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	})
	for _, path := range []string{"/api/v1/trust-list", "/counter", "/wallet", "/api/v1/nope"} {
		res := e.do(rNone, "GET", path, nil)
		h := res.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline script", path)
		}
		if got := strings.Contains(csp, "'wasm-unsafe-eval'"); got != (path == "/wallet") {
			t.Errorf("%s: wasm-unsafe-eval present = %v", path, got)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if !strings.Contains(h.Get("Permissions-Policy"), "camera=(self)") {
			t.Errorf("%s: Permissions-Policy %q", path, h.Get("Permissions-Policy"))
		}
	}
	if res := e.do(rNone, "GET", "/api/v1/nope", nil); res.Code != 404 || problemCode(t, res) != "not_found" {
		t.Fatalf("unknown API path: %d", res.Code)
	}
	if res := e.do(rNone, "PUT", "/api/v1/verify", nil); res.Code != 405 || problemCode(t, res) != "method_not_allowed" {
		t.Fatalf("wrong method: %d", res.Code)
	}
	if res := e.do(rNone, "HEAD", "/api/v1/trust-list", nil); res.Code != 200 || res.Header().Get("ETag") == "" {
		t.Fatalf("HEAD trust list: %d", res.Code)
	}
	bare := newEnv(t) // no pages: other paths are problems too
	if res := bare.do(rNone, "GET", "/console", nil); res.Code != 404 || problemCode(t, res) != "not_found" {
		t.Fatalf("no pages: %d", res.Code)
	}
}

func TestPasswordHashReferenceVector(t *testing.T) {
	// From the Argon2 reference implementation's tests (phc-winner-argon2 src/test.c).
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	if !CheckPassword(ref, "password") {
		t.Fatal("reference argon2id hash does not verify")
	}
	if CheckPassword(ref, "passwore") {
		t.Fatal("wrong password verifies")
	}
	h := HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterz") {
		t.Fatalf("own hash %q", h)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFh", "$argon2id$v=19$m=999999999,t=2,p=1$c29tZXNhbHQ$CTFh", "plain"} {
		if CheckPassword(bad, "password") {
			t.Errorf("%q verifies", bad)
		}
	}
}

func login(t *testing.T, e *env, origin string) *httptest.ResponseRecorder {
	t.Helper()
	if origin == "" {
		return e.do(rNone, "POST", "/api/v1/session", map[string]string{"name": "li", "password": "correct horse battery"})
	}
	return e.do(rNone, "POST", "/api/v1/session", map[string]string{"name": "li", "password": "correct horse battery"}, "Origin", origin)
}

func TestSessionCookieAndCSRF(t *testing.T) {
	for _, tls := range []bool{false, true} {
		e := newEnv(t, func(d *Deps, c *Config) { c.TLS = tls })
		if res := e.do(rAdmin, "POST", "/api/v1/users", map[string]string{"name": "li", "password": "correct horse battery", "role": "issuer", "agency": "A"}); res.Code != 201 {
			t.Fatalf("create user: %d %s", res.Code, res.Body)
		}
		if res := e.do(rNone, "POST", "/api/v1/session", map[string]string{"name": "li", "password": "wrong horse battery"}); res.Code != 401 || problemCode(t, res) != "invalid_credentials" {
			t.Fatalf("wrong password: %d", res.Code)
		}
		if res := e.do(rNone, "POST", "/api/v1/session", map[string]string{"name": "nobody", "password": "correct horse battery"}); res.Code != 401 {
			t.Fatalf("unknown user: %d", res.Code)
		}
		if res := login(t, e, "https://evil.example"); res.Code != 403 {
			t.Fatalf("cross-origin login: %d", res.Code)
		}
		res := login(t, e, "http://example.com") // httptest's Host
		if res.Code != 200 {
			t.Fatalf("login: %d %s", res.Code, res.Body)
		}
		var sess sessionResponse
		mustJSON(t, res.Body.Bytes(), &sess)
		ck := res.Result().Cookies()
		if len(ck) != 1 || ck[0].Name != sessionCookie || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Secure != tls {
			t.Fatalf("cookie %+v (tls %v)", ck, tls)
		}
		if sess.Role != RoleIssuer || sess.Agency != "A" || sess.CSRFToken == "" {
			t.Fatalf("session %+v", sess)
		}
		withCookie := func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.AddCookie(ck[0])
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			return rec
		}
		if res := withCookie("GET", "/api/v1/licenses", ""); res.Code != 200 {
			t.Fatalf("GET with cookie: %d", res.Code)
		}
		issue := `{"type":"business-license","holder_name":"赵六","holder_id":"` + holderA + `"}`
		if res := withCookie("POST", "/api/v1/licenses", issue); res.Code != 403 || problemCode(t, res) != "csrf_failed" {
			t.Fatalf("POST without CSRF token: %d", res.Code)
		}
		if res := withCookie("POST", "/api/v1/licenses", issue, csrfHeader, "forged"); res.Code != 403 {
			t.Fatalf("POST with a wrong CSRF token: %d", res.Code)
		}
		if res := withCookie("POST", "/api/v1/licenses", issue, csrfHeader, sess.CSRFToken, "Origin", "https://evil.example"); res.Code != 403 {
			t.Fatalf("POST with token from another origin: %d", res.Code)
		}
		if res := withCookie("POST", "/api/v1/licenses", issue, csrfHeader, sess.CSRFToken, "Origin", "http://example.com"); res.Code != 201 {
			t.Fatalf("POST with CSRF token: %d %s", res.Code, res.Body)
		}
		// The audit log names the page user.
		if !strings.Contains(e.do(rAdmin, "GET", "/api/v1/audit", nil).Body.String(), `"actor":"user:li"`) {
			t.Fatal("audit does not name the page user")
		}
		var who sessionResponse
		mustJSON(t, withCookie("GET", "/api/v1/session", "").Body.Bytes(), &who)
		if who.CSRFToken != sess.CSRFToken || who.Name != "li" {
			t.Fatalf("whoami %+v", who)
		}
		// After the session's lifetime the cookie is ignored.
		e.clock.Advance(8*time.Hour + time.Second)
		if res := withCookie("GET", "/api/v1/licenses", ""); res.Code != 401 {
			t.Fatalf("expired session: %d", res.Code)
		}
		// A tampered cookie is ignored too.
		ck[0].Value = strings.Replace(ck[0].Value, ".", "x.", 1)
		if res := withCookie("GET", "/api/v1/licenses", ""); res.Code != 401 {
			t.Fatalf("tampered session: %d", res.Code)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(d *Deps, c *Config) { c.VerifyRate, c.VerifyBurst = 1, 3 })
	send := func(ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/verify", strings.NewReader("ZXT1:x:y"))
		req.Header.Set("Content-Type", "text/plain")
		req.RemoteAddr = ip + ":5555"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	for i := 0; i < 3; i++ {
		if res := send("192.0.2.1"); res.Code != 200 {
			t.Fatalf("request %d: %d", i, res.Code)
		}
	}
	res := send("192.0.2.1")
	if res.Code != 429 || problemCode(t, res) != "rate_limited" || res.Header().Get("Retry-After") != "1" {
		t.Fatalf("4th request: %d Retry-After %q", res.Code, res.Header().Get("Retry-After"))
	}
	if res := send("192.0.2.2"); res.Code != 200 {
		t.Fatalf("other client: %d", res.Code)
	}
	e.clock.Advance(time.Second)
	if res := send("192.0.2.1"); res.Code != 200 {
		t.Fatalf("after refill: %d", res.Code)
	}
	if res := send("192.0.2.1"); res.Code != 429 {
		t.Fatalf("one token per second: %d", res.Code)
	}
	// Other routes are not limited.
	for i := 0; i < 10; i++ {
		if res := e.do(rNone, "GET", "/api/v1/trust-list", nil); res.Code != 200 {
			t.Fatalf("trust list %d: %d", i, res.Code)
		}
	}
	if !strings.Contains(e.do(rNone, "GET", "/metrics", nil).Body.String(), "zhengxin_rate_limited_total 2") {
		t.Fatal("rate-limit metric not counted")
	}
}

func TestPublishedDocumentsCache(t *testing.T) {
	e := newEnv(t)
	res := e.do(rNone, "GET", "/api/v1/trust-list", nil)
	etag := res.Header().Get("ETag")
	if res.Code != 200 || res.Body.String() != "trust list v1" || len(etag) != 34 || res.Header().Get("Cache-Control") != "public, max-age=3600" {
		t.Fatalf("trust list: %d %q ETag %q CC %q", res.Code, res.Body, etag, res.Header().Get("Cache-Control"))
	}
	if res := e.do(rNone, "GET", "/api/v1/trust-list", nil, "If-None-Match", `"other", `+etag); res.Code != 304 || res.Body.Len() != 0 || res.Header().Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d", res.Code)
	}
	e.pub.mu.Lock()
	e.pub.trust = []byte("trust list v2")
	e.pub.mu.Unlock()
	res = e.do(rNone, "GET", "/api/v1/trust-list", nil, "If-None-Match", etag)
	if res.Code != 200 || res.Header().Get("ETag") == etag {
		t.Fatalf("changed trust list: %d", res.Code)
	}
	res = e.do(rNone, "GET", "/api/v1/status-lists/A-1", nil)
	if res.Code != 200 || res.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("status list: %d %q", res.Code, res.Header().Get("Cache-Control"))
	}
	if res := e.do(rNone, "GET", "/api/v1/status-lists/none", nil); res.Code != 404 {
		t.Fatalf("unknown status list: %d", res.Code)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	e := newEnv(t)
	if res := e.do(rNone, "GET", "/healthz", nil); res.Code != 200 {
		t.Fatalf("healthz %d", res.Code)
	}
	if res := e.do(rNone, "GET", "/readyz", nil); res.Code != 200 {
		t.Fatalf("readyz %d", res.Code)
	}
	e.mem.mu.Lock()
	e.mem.PingError = errors.New("connection refused")
	e.mem.mu.Unlock()
	if res := e.do(rNone, "GET", "/readyz", nil); res.Code != 503 || problemCode(t, res) != "unavailable" {
		t.Fatalf("readyz with the database down: %d", res.Code)
	}
	e.mem.mu.Lock()
	e.mem.PingError = nil
	e.mem.mu.Unlock()
	if res := e.do(rNone, "GET", "/readyz", nil); res.Code != 200 {
		t.Fatalf("readyz after recovery: %d", res.Code)
	}
	l := getLicense(t, e, rIssuerA, e.licA)
	verifyQR(t, e, l.QR)
	verifyQR(t, e, "garbage")
	m := e.do(rNone, "GET", "/metrics", nil).Body.String()
	for _, want := range []string{
		`zhengxin_http_requests_total{method="GET",route="/api/v1/licenses/{id}",status="200"} 1`,
		`zhengxin_http_requests_total{method="GET",route="/readyz",status="503"} 1`,
		`zhengxin_verifications_total{kind="license-qr",reason="",verdict="PASSED"} 1`,
		`zhengxin_verifications_total{kind="license-qr",reason="FORMAT_FAILURE",verdict="FAILED"} 1`,
		`zhengxin_licenses_issued_total{type="business-license"} 2`,
		`zhengxin_http_request_duration_seconds_bucket{method="POST",route="/api/v1/verify",le="+Inf"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestLogsHideSecrets: request and issuance logs carry no full ID number and
// no token.
func TestLogsHideSecrets(t *testing.T) {
	e := newEnv(t)
	e.do(rIssuerA, "GET", "/api/v1/licenses?holder_id="+holderA, nil)
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"license issued"`) || !strings.Contains(logs, "1101********002X") {
		t.Fatalf("issuance log line missing or unmasked:\n%s", logs)
	}
	for name, secret := range map[string]string{"holder A's ID number": holderA, "holder B's ID number": holderB, "issuer token": e.tokens[rIssuerA], "admin token": e.tokens[rAdmin]} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %s", name)
		}
	}
	if got := MaskID("11010519491231002X"); got != "1101********002X" {
		t.Fatalf("MaskID = %q", got)
	}
	if got := MaskID("91310000MA1K4XXX7Q"); got != "9131********XX7Q" {
		t.Fatalf("MaskID(credit code) = %q", got)
	}
	if got := MaskID("123"); got != "****23" {
		t.Fatalf("MaskID(short) = %q", got)
	}
}

// TestGracefulShutdown: cancelling Run's context lets an in-flight request
// finish before Serve returns. Channels sequence it; no sleeps.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, func(d *Deps, c *Config) {
		d.Pages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "finished")
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{string(b), err}
	}()
	<-entered
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case r := <-got:
		t.Fatalf("request finished before it was released: %+v", r)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestBehindProxy: with TrustProxyHeaders the login origin check uses
// X-Forwarded-Host and the rate limit keys on the last X-Forwarded-For
// entry; without it, both headers are ignored.
func TestBehindProxy(t *testing.T) {
	for _, trust := range []bool{false, true} {
		e := newEnv(t, func(d *Deps, c *Config) { c.TrustProxyHeaders = trust; c.LoginRate, c.LoginBurst = 1, 1 })
		if err := e.store.CreateUser(t.Context(), &User{Name: "li", PasswordHash: HashPassword("correct horse battery"), Role: RoleIssuer, Agency: "A"}); err != nil {
			t.Fatal(err)
		}
		req := func(xff string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"name":"li","password":"correct horse battery"}`))
			r.Host = "10.0.0.5:8080"
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", "https://zx.example.gov.cn")
			r.Header.Set("X-Forwarded-Host", "zx.example.gov.cn")
			r.Header.Set("X-Forwarded-For", "spoofed, "+xff)
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, r)
			return rec
		}
		first, second, other := req("198.51.100.1").Code, req("198.51.100.1").Code, req("198.51.100.2").Code
		if trust && (first != 200 || second != 429 || other != 200) {
			t.Fatalf("trusted proxy: %d %d %d, want 200 429 200", first, second, other)
		}
		// Untrusted: the origin does not match the Host, and all requests
		// share the proxy's address (httptest's 192.0.2.1).
		if !trust && (first != 403 || second != 429 || other != 429) {
			t.Fatalf("untrusted proxy headers: %d %d %d, want 403 429 429", first, second, other)
		}
	}
}
