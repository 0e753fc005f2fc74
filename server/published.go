package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

func (s *Server) trustList(w http.ResponseWriter, r *http.Request) {
	if s.deps.Published == nil {
		notConfigured(w, r, "信任列表 (trust list)")
		return
	}
	d, err := s.deps.Published.TrustList(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	serveDocument(w, r, d)
}

func (s *Server) statusList(w http.ResponseWriter, r *http.Request) {
	if s.deps.Published == nil {
		notConfigured(w, r, "状态列表 (status lists)")
		return
	}
	d, err := s.deps.Published.StatusList(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, r, probNotFound, "状态列表不存在。", "No such status list.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	serveDocument(w, r, d)
}

// serveDocument sends a signed document so that CDNs and verifiers can
// cache it: a strong ETag over the bytes, public max-age, and 304 when the
// client already has these bytes. The signature inside the document, not
// the transport, is what verifiers trust.
func serveDocument(w http.ResponseWriter, r *http.Request, d *Document) {
	sum := sha256.Sum256(d.Body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	maxAge := d.MaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	h.Set("Vary", "Accept-Encoding")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(d.Body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(d.Body)
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
