package server

import (
	"errors"
	"net/http"
)

// listAudit reads the audit log, oldest first (cursor = last seq seen):
//   - admins read the whole log, or one agency's with ?agency=;
//   - issuers read their own agency's entries (never another's, nor the
//     deployment-wide ones), all of them or one object's with ?object=;
//   - holders read the entries of one license of theirs (?object=, the
//     license's history).
//
// Naming a license the caller cannot see answers 404, as everywhere.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	cursor, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := AuditFilter{Object: q.Get("object"), Agency: q.Get("agency"), Cursor: cursor, Limit: limit}
	switch p.Role {
	case RoleAdmin:
	case RoleIssuer:
		if p.Agency == "" || (f.Agency != "" && f.Agency != p.Agency) {
			writeProblem(w, r, probForbidden, "只能查看本机构的审计日志。", "Issuers read only their own agency's audit log.")
			return
		}
		f.Agency = p.Agency
		if f.Object != "" && !s.mayReadObject(w, r, p, f.Object, false) {
			return
		}
	default:
		if f.Object == "" {
			writeProblem(w, r, probForbidden, "须用 object 参数指定您的证照。", "Name one of your licenses with object.")
			return
		}
		f.Agency = ""
		if !s.mayReadObject(w, r, p, f.Object, true) {
			return
		}
	}
	items, next, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, next)
}

// mayReadObject answers 404 (and false) when object is a license p cannot
// see, or, if mustBeLicense, no license at all.
func (s *Server) mayReadObject(w http.ResponseWriter, r *http.Request, p *Principal, object string, mustBeLicense bool) bool {
	l, err := s.store.GetLicense(r.Context(), object)
	switch {
	case errors.Is(err, ErrNotFound) && !mustBeLicense:
		return true // another object (a seal, a token); the agency filter applies
	case errors.Is(err, ErrNotFound) || (err == nil && !canSee(p, l)):
		writeProblem(w, r, probNotFound, "证照不存在。", "No such license.")
		return false
	case err != nil:
		s.internal(w, r, err)
		return false
	}
	return true
}

type auditCheck struct {
	OK      bool   `json:"ok"`
	Checked int    `json:"checked"`
	Error   string `json:"error,omitempty"`
}

// verifyAudit recomputes the audit log's hash chain. A broken chain is a
// finding, not a server error: the answer is 200 with ok=false.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	n, err := s.store.VerifyAudit(r.Context())
	res := auditCheck{OK: err == nil, Checked: n}
	if err != nil {
		res.Error = err.Error()
		s.log.Error("audit chain broken", "err", err.Error())
	}
	writeJSON(w, http.StatusOK, res)
}
