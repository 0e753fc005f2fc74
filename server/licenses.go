package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/zhengxin/zhengxin/license/qrpng"
)

// License statuses (CONTRACT.md: valid, suspended 暂扣, revoked 吊销, cancelled 注销).
const (
	StatusValid     = "valid"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
	StatusCancelled = "cancelled"
)

func validStatus(s string) bool {
	switch s {
	case StatusValid, StatusSuspended, StatusRevoked, StatusCancelled:
		return true
	}
	return false
}

// agencyFor is the agency an issuer-side call acts for: the caller's own,
// or for admins the one they name. It answers 422 itself when an admin
// names none.
func agencyFor(w http.ResponseWriter, r *http.Request, p *Principal, named string) (string, bool) {
	if p.Role != RoleAdmin {
		return p.Agency, true
	}
	if named == "" {
		writeProblem(w, r, probValidation, "管理员需指定 agency（发证机构代码）。", "Admins must name the agency.")
		return "", false
	}
	return named, true
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	if s.deps.Issuer == nil {
		notConfigured(w, r, "签发服务 (issuer)")
		return
	}
	var req IssueRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	p := PrincipalFrom(r.Context())
	agency, ok := agencyFor(w, r, p, req.Agency)
	if !ok {
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > 200 {
		writeProblem(w, r, probBadRequest, "Idempotency-Key 过长（最多 200 字符）。", "Idempotency-Key is too long (at most 200 characters).")
		return
	}
	l, err := s.deps.Issuer.Issue(r.Context(), agency, &req)
	var ve *ValidationError
	if errors.As(err, &ve) {
		sendProblem(w, &Problem{
			Type: ProblemTypePrefix + probValidation.code, Title: bilingual(probValidation.title), Status: probValidation.status,
			Code: probValidation.code, Instance: r.URL.Path, Message: probValidation.title, Errors: ve.Fields,
		})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	audit := s.auditEntry(r, l.Agency, "license.issue", l.ID, map[string]string{"agency": l.Agency, "type": l.Type, "holder": MaskID(l.HolderID)})
	var stored *License
	var created bool
	if s.batcher != nil {
		stored, created, err = s.batcher.create(l, idem, audit)
	} else {
		stored, created, err = s.store.CreateLicense(r.Context(), l, idem, audit)
	}
	if errors.Is(err, ErrConflict) {
		writeProblem(w, r, probConflict, "证照标识已存在。", "A license with this identifier already exists.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/licenses/"+url.PathEscape(stored.ID))
	if !created {
		writeJSON(w, http.StatusOK, stored)
		return
	}
	s.metrics.issued.WithLabelValues(stored.Type).Inc()
	s.log.Info("license issued", "id", stored.ID, "agency", stored.Agency, "type", stored.Type, "holder", MaskID(stored.HolderID))
	writeJSON(w, http.StatusCreated, stored)
}

func actorOf(r *http.Request) string {
	if p := PrincipalFrom(r.Context()); p != nil {
		return p.Actor
	}
	return "anonymous"
}

// auditEntry makes an entry of agency's audit trail ("" for a
// deployment-wide one): the agency whose license, seal, token or user the
// action concerns, so that the agency's issuers can read it.
func (s *Server) auditEntry(r *http.Request, agency, action, object string, detail map[string]string) *AuditEntry {
	return &AuditEntry{At: s.now().UTC(), Actor: actorOf(r), Action: action, Object: object, Agency: agency, Detail: detail}
}

// audit appends to the audit log for actions the store does not audit in
// their own transaction. A failure is logged loudly but does not undo the
// action that already happened.
func (s *Server) audit(r *http.Request, agency, action, object string, detail map[string]string) {
	if err := s.store.AppendAudit(r.Context(), s.auditEntry(r, agency, action, object, detail)); err != nil {
		s.log.Error("audit append failed", "action", action, "object", object, "err", err.Error())
	}
}

// pageParams reads cursor and limit (1..500, default 50).
func pageParams(w http.ResponseWriter, r *http.Request) (cursor string, limit int, ok bool) {
	q := r.URL.Query()
	limit = 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeProblem(w, r, probBadRequest, "limit 须为 1 到 500 之间的整数。", "limit must be an integer from 1 to 500.")
			return "", 0, false
		}
		limit = n
	}
	return q.Get("cursor"), limit, true
}

type pageOf[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// writePage answers 200 with one page of a list; an empty page has
// "items": [], never null, so clients can iterate without a check.
func writePage[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, pageOf[T]{Items: items, NextCursor: next})
}

func (s *Server) listLicenses(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	q := r.URL.Query()
	cursor, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	f := LicenseFilter{
		Agency: q.Get("agency"), Type: q.Get("type"), Status: q.Get("status"),
		HolderID: strings.ToUpper(q.Get("holder_id")), Query: q.Get("q"), Cursor: cursor, Limit: limit,
	}
	if p.Role != RoleAdmin {
		f.Agency = p.Agency // an issuer sees its own agency only, whatever it asks
	}
	if f.Status != "" && !validStatus(f.Status) {
		writeProblem(w, r, probBadRequest, "status 取值须为 valid、suspended、revoked 或 cancelled。", "status must be valid, suspended, revoked or cancelled.")
		return
	}
	items, next, err := s.store.ListLicenses(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, next)
}

// license loads {id} and checks the caller may see it; otherwise it
// answers 404 itself — the same answer whether the license does not exist
// or belongs to someone else.
func (s *Server) license(w http.ResponseWriter, r *http.Request) (*License, bool) {
	id := chi.URLParam(r, "id")
	l, err := s.store.GetLicense(r.Context(), id)
	if errors.Is(err, ErrNotFound) || (err == nil && !canSee(PrincipalFrom(r.Context()), l)) {
		writeProblem(w, r, probNotFound, "证照不存在。", "No such license.")
		return nil, false
	}
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	return l, true
}

func (s *Server) getLicense(w http.ResponseWriter, r *http.Request) {
	if l, ok := s.license(w, r); ok {
		writeJSON(w, http.StatusOK, l)
	}
}

func (s *Server) licenseQR(w http.ResponseWriter, r *http.Request) {
	l, ok := s.license(w, r)
	if !ok {
		return
	}
	size := 512
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 128 || n > 2048 {
			writeProblem(w, r, probBadRequest, "size 须在 128 到 2048 像素之间。", "size must be 128 to 2048 pixels.")
			return
		}
		size = n
	}
	if l.QR == "" {
		writeProblem(w, r, probNotFound, "此证照没有二维码。", "This license has no QR payload.")
		return
	}
	png, err := qrpng.Encode(l.QR, size) // read back before it is sent
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(png)
}

func (s *Server) licensePDF(w http.ResponseWriter, r *http.Request) {
	if s.deps.Issuer == nil {
		notConfigured(w, r, "签发服务 (issuer)")
		return
	}
	l, ok := s.license(w, r)
	if !ok {
		return
	}
	b, err := s.deps.Issuer.PDF(r.Context(), l)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(l.ID)+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(b)
}

// safeFilename keeps a Content-Disposition filename to harmless characters.
func safeFilename(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 0x80 && (c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	var req statusRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	l, ok := s.license(w, r)
	if !ok {
		return
	}
	var fe []FieldError
	if !validStatus(req.Status) {
		fe = append(fe, FieldError{"status", "须为 valid（有效）、suspended（暂扣）、revoked（吊销）或 cancelled（注销）。", "must be valid, suspended, revoked or cancelled."})
	}
	if strings.TrimSpace(req.Reason) == "" {
		fe = append(fe, FieldError{"reason", "须填写变更原因。", "a reason is required."})
	} else if len(req.Reason) > 500 {
		fe = append(fe, FieldError{"reason", "原因不超过 500 字节。", "at most 500 bytes."})
	}
	if fe != nil {
		sendProblem(w, &Problem{Type: ProblemTypePrefix + probValidation.code, Title: bilingual(probValidation.title),
			Status: 422, Code: probValidation.code, Instance: r.URL.Path, Message: probValidation.title, Errors: fe})
		return
	}
	// Revocation and cancellation are final; suspension can be lifted.
	if l.Status == StatusRevoked || l.Status == StatusCancelled {
		writeProblem(w, r, probConflict, "证照已"+map[string]string{StatusRevoked: "吊销", StatusCancelled: "注销"}[l.Status]+"，状态不能再变更。",
			"The license is "+l.Status+"; that is final.")
		return
	}
	if l.Status == req.Status {
		writeJSON(w, http.StatusOK, l)
		return
	}
	nl, err := s.store.SetLicenseStatus(r.Context(), l.ID, req.Status, req.Reason, actorOf(r), s.now().UTC())
	if errors.Is(err, ErrConflict) { // a concurrent change got there first
		writeProblem(w, r, probConflict, "证照状态已被其他操作变更，请刷新后重试。", "The status was changed meanwhile; reload and try again.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("license status changed", "id", l.ID, "agency", l.Agency, "from", l.Status, "to", req.Status)
	writeJSON(w, http.StatusOK, nl)
}

type claimCodeRequest struct {
	ValidHours int `json:"valid_hours,omitempty"`
}

type claimCodeResponse struct {
	Code      string    `json:"code"`
	LicenseID string    `json:"license_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// claimCodeAlphabet is Crockford-like base32 without padding: no 0/O or 1/I
// confusion when a clerk reads the code out.
var claimEncoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// normalizeClaimCode makes typed codes comparable: upper case, no dashes or spaces.
func normalizeClaimCode(c string) string {
	c = strings.ToUpper(c)
	c = strings.NewReplacer("-", "", " ", "").Replace(c)
	return c
}

func claimHash(code string) []byte {
	h := sha256.Sum256([]byte("zhengxin claim\x00" + normalizeClaimCode(code)))
	return h[:]
}

func (s *Server) claimCode(w http.ResponseWriter, r *http.Request) {
	var req claimCodeRequest
	if r.ContentLength != 0 && !decodeJSON(w, r, &req) {
		return
	}
	l, ok := s.license(w, r)
	if !ok {
		return
	}
	if req.ValidHours == 0 {
		req.ValidHours = 72
	}
	if req.ValidHours < 1 || req.ValidHours > 24*30 {
		writeProblem(w, r, probValidation, "valid_hours 须在 1 到 720 之间。", "valid_hours must be 1 to 720.")
		return
	}
	// 80 random bits, 16 characters in 4 groups: short enough to type,
	// far too many to guess at the rate limit.
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		s.internal(w, r, err)
		return
	}
	raw := claimEncoding.EncodeToString(b[:])
	code := raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
	c := &Claim{CodeHash: claimHash(code), LicenseID: l.ID, HolderID: l.HolderID, Expires: s.now().UTC().Add(time.Duration(req.ValidHours) * time.Hour)}
	if err := s.store.CreateClaim(r.Context(), c); err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, l.Agency, "license.claim-code", l.ID, map[string]string{"agency": l.Agency, "expires": c.Expires.Format(time.RFC3339)})
	writeJSON(w, http.StatusCreated, claimCodeResponse{Code: code, LicenseID: l.ID, ExpiresAt: c.Expires})
}

func (s *Server) licenseTypes(w http.ResponseWriter, r *http.Request) {
	if s.deps.Issuer == nil {
		notConfigured(w, r, "签发服务 (issuer)")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	var buf bytes.Buffer
	if err := jsonEncode(&buf, s.deps.Issuer.Types()); err != nil {
		s.internal(w, r, err)
		return
	}
	_, _ = w.Write(buf.Bytes())
}
