package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Request size limits. Over the limit the API answers 413 payload_too_large.
const (
	MaxJSONBytes  = 1 << 20  // JSON and QR text bodies
	MaxImageBytes = 10 << 20 // a QR picture
	MaxPDFBytes   = 50 << 20 // a PDF to verify or sign
)

// Content-Security-Policy: no inline script or style anywhere; the wallet
// alone may compile WebAssembly.
const (
	CSP       = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	WalletCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.URL.Path == "/wallet" || strings.HasPrefix(r.URL.Path, "/wallet/") {
			h.Set("Content-Security-Policy", WalletCSP)
		} else {
			h.Set("Content-Security-Policy", CSP)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.TLS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// recorder remembers the status code for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// observe logs each request as one JSON line, counts it in the metrics and
// turns a panic into a 500 problem. It logs the path but never the query
// string (it may hold a holder ID number) nor any header.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // wall time on purpose: latency, not a decision
		rw := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rw.status == 0 {
					writeProblem(rw, r, probInternal, "", "")
				}
			}
			if rw.status == 0 {
				rw.status = http.StatusOK
			}
			el := time.Since(start)
			s.metrics.observe(r, rw.status, el.Seconds())
			route := ""
			if rc := chi.RouteContext(r.Context()); rc != nil {
				route = rc.RoutePattern()
			}
			if s.log.Enabled(r.Context(), slog.LevelInfo) && !s.quietRoute(route) {
				attrs := []slog.Attr{
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
					slog.Int("status", rw.status), slog.Int64("bytes", rw.bytes),
					slog.Float64("ms", float64(el.Microseconds())/1000),
				}
				if p := PrincipalFrom(r.Context()); p != nil {
					attrs = append(attrs, slog.String("actor", p.Actor), slog.String("role", string(p.Role)))
				}
				s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// quietRoute keeps probes out of the log; they still count in metrics.
func (s *Server) quietRoute(route string) bool {
	return route == "/healthz" || route == "/readyz" || route == "/metrics"
}

// limitBody caps the request body at n bytes. A declared Content-Length
// over the cap is refused at once; a chunked body is cut off by
// http.MaxBytesReader and the decoder reports 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				tooLarge(w, r, n)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

func tooLarge(w http.ResponseWriter, r *http.Request, n int64) {
	writeProblem(w, r, probTooLarge,
		fmt.Sprintf("请求内容超过上限 %d MB。", n>>20), fmt.Sprintf("The request body exceeds the limit of %d MB.", n>>20))
}

// answerTooLarge answers 413 when err is a body-limit error, naming the
// limit that applied; it reports whether it did.
func answerTooLarge(w http.ResponseWriter, r *http.Request, err error) bool {
	var mb *http.MaxBytesError
	if !errors.As(err, &mb) {
		return false
	}
	tooLarge(w, r, mb.Limit)
	return true
}

// decodeJSON reads a JSON body into v, answering the problem itself and
// returning false when the body is not acceptable.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" {
			writeProblem(w, r, probMediaType, "请使用 Content-Type: application/json。", "Send Content-Type: application/json.")
			return false
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if answerTooLarge(w, r, err) {
			return false
		}
		writeProblem(w, r, probInvalidJSON, "请求体不是有效的 JSON："+jsonErrorText(err), "The body is not valid JSON: "+jsonErrorText(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeProblem(w, r, probInvalidJSON, "JSON 之后还有多余内容。", "Unexpected data after the JSON value.")
		return false
	}
	return true
}

// jsonErrorText says what is wrong without echoing the body.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type (want %s)", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "empty body"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "cannot decode"
}

// writeJSON answers v as JSON with a Content-Length (no chunking, so
// keep-alive clients and proxies see the whole answer at once).
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := getBuf()
	defer putBuf(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"code":"internal"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// internal logs err (never shown to the client) and answers 500.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("internal error", "path", r.URL.Path, "err", err.Error())
	writeProblem(w, r, probInternal, "", "")
}
