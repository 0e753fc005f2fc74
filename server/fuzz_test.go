package server

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzVerifyBody sends arbitrary bodies under each accepted Content-Type to
// POST /api/v1/verify: the handler must never panic and must answer a
// report (200) or a problem with a documented status.
func FuzzVerifyBody(f *testing.F) {
	e := newEnv(f, func(d *Deps, c *Config) { c.VerifyRate, c.VerifyBurst = 1e9, 1<<30 })
	f.Add([]byte(`{"qr":"ZXT1:a:b"}`), uint8(0))
	f.Add([]byte("ZXT1:a:b"), uint8(1))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), uint8(2))
	f.Add([]byte("%PDF-1.7\n"), uint8(3))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"qr\"\r\n\r\nZXT1:a:b\r\n--b--\r\n"), uint8(4))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"), uint8(5))
	types := []string{"application/json", "text/plain", "image/png", "application/pdf", "multipart/form-data; boundary=b", "application/octet-stream", "", "image/jpeg"}
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		if len(body) > 1<<16 {
			return
		}
		req := httptest.NewRequest("POST", "/api/v1/verify", bytes.NewReader(body))
		if c := types[int(ct)%len(types)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case 200:
			if !strings.Contains(rec.Body.String(), `"verdict"`) {
				t.Fatalf("200 without a report: %s", rec.Body)
			}
		case 400, 413, 415, 422:
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without problem details", rec.Code)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzSessionCookie: a forged or mangled session cookie is never accepted
// and never panics the parser.
func FuzzSessionCookie(f *testing.F) {
	e := newEnv(f)
	good, _ := e.srv.makeSession("li")
	f.Add(good)
	f.Add("")
	f.Add(".")
	f.Add("eyJ1IjoibGkiLCJzaWQiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		c, ok := e.srv.parseSession(v)
		if ok && v != good {
			t.Fatalf("accepted forged cookie %q as %+v", v, c)
		}
	})
}

// FuzzClaimCode: normalisation of typed claim codes never panics and is
// idempotent, so a code hashes the same however it was typed.
func FuzzClaimCode(f *testing.F) {
	f.Add("ABCD-EFGH-JKLM-NPQR")
	f.Add("abcd efgh jklm npqr")
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeClaimCode(s)
		if normalizeClaimCode(n) != n || !bytes.Equal(claimHash(s), claimHash(n)) {
			t.Fatalf("normalisation of %q is not stable", s)
		}
	})
}

// FuzzCursor: the MemStore's keyset cursors are parsed from client input.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(testTime(), "T-A-000001"))
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, c string) {
		decodeCursor(c)
	})
}
