package server

import (
	"errors"
	"net/http"
)

// listAudit: admins read the whole log (oldest first, cursor = last seq
// seen); other roles may read the entries of one license they can see
// (?object=<license id>), the license's history.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	cursor, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	f := AuditFilter{Object: r.URL.Query().Get("object"), Cursor: cursor, Limit: limit}
	if p.Role != RoleAdmin {
		if f.Object == "" {
			writeProblem(w, r, probForbidden, "非管理员须用 object 参数指定本机构的证照。", "Non-admins must name a license of their agency with object.")
			return
		}
		l, err := s.store.GetLicense(r.Context(), f.Object)
		if errors.Is(err, ErrNotFound) || (err == nil && !canSee(p, l)) {
			writeProblem(w, r, probNotFound, "证照不存在。", "No such license.")
			return
		}
		if err != nil {
			s.internal(w, r, err)
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
