package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

type agencyRequest struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	CreditCode string `json:"credit_code,omitempty"`
	RegionCode string `json:"region_code,omitempty"`
}

func validCode(c string) bool {
	if c == "" || len(c) > 64 {
		return false
	}
	for _, r := range c {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *Server) createAgency(w http.ResponseWriter, r *http.Request) {
	var req agencyRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	var fe []FieldError
	if !validCode(req.Code) {
		fe = append(fe, FieldError{"code", "机构代码须为 1–64 位字母、数字、- 或 _。", "1 to 64 letters, digits, - or _."})
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(req.Name)); n == 0 || n > 100 {
		fe = append(fe, FieldError{"name", "须填写机构名称（不超过 100 字）。", "the agency name is required (at most 100 characters)."})
	}
	if len(req.CreditCode) != 18 {
		fe = append(fe, FieldError{"credit_code", "须填写 18 位统一社会信用代码。", "the 18-character unified social credit code is required."})
	}
	if req.RegionCode != "" && len(req.RegionCode) != 6 {
		fe = append(fe, FieldError{"region_code", "行政区划代码为 6 位数字。", "a division code has 6 digits."})
	}
	if fe != nil {
		validationProblem(w, r, fe)
		return
	}
	a := &Agency{Code: req.Code, Name: strings.TrimSpace(req.Name), CreditCode: req.CreditCode, RegionCode: req.RegionCode, CreatedAt: s.now().UTC()}
	if err := s.store.CreateAgency(r.Context(), a); errors.Is(err, ErrConflict) {
		writeProblem(w, r, probConflict, "机构代码已存在。", "An agency with this code exists.")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, a.Code, "agency.create", "agency:"+a.Code, map[string]string{"agency": a.Code, "name": a.Name})
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) {
	as, err := s.store.ListAgencies(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, as, "")
}

type tokenRequest struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Agency   string `json:"agency,omitempty"`
	HolderID string `json:"holder_id,omitempty"`
}

type tokenResponse struct {
	*Token
	// Secret is the bearer token. It is shown this once; only its hash is kept.
	Secret string `json:"token"`
}

// checkRoleScope validates the role and its agency / holder binding.
func (s *Server) checkRoleScope(r *http.Request, role Role, agency, holderID string) ([]FieldError, error) {
	var fe []FieldError
	if !role.valid() {
		fe = append(fe, FieldError{"role", "角色须为 admin、issuer、counter 或 holder。", "role must be admin, issuer, counter or holder."})
	}
	if role == RoleIssuer || role == RoleCounter {
		if agency == "" {
			fe = append(fe, FieldError{"agency", "发证和窗口角色须指定机构。", "issuer and counter roles need an agency."})
		} else if _, err := s.store.GetAgency(r.Context(), agency); errors.Is(err, ErrNotFound) {
			fe = append(fe, FieldError{"agency", "机构不存在。", "no such agency."})
		} else if err != nil {
			return nil, err
		}
	} else if agency != "" {
		fe = append(fe, FieldError{"agency", "此角色不属于机构。", "this role has no agency."})
	}
	if role == RoleHolder && holderID == "" {
		fe = append(fe, FieldError{"holder_id", "持证人令牌须绑定证件号码。", "holder tokens need the holder's ID number."})
	}
	return fe, nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	fe, err := s.checkRoleScope(r, req.Role, req.Agency, req.HolderID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if n := utf8.RuneCountInString(req.Name); n == 0 || n > 100 {
		fe = append(fe, FieldError{"name", "须填写令牌名称（不超过 100 字）。", "a token name is required (at most 100 characters)."})
	}
	if fe != nil {
		validationProblem(w, r, fe)
		return
	}
	secret, hash := NewTokenSecret()
	t := &Token{ID: randomID(8), Hash: hash, Name: req.Name, Role: req.Role, Agency: req.Agency,
		HolderID: strings.ToUpper(req.HolderID), CreatedAt: s.now().UTC()}
	if err := s.store.CreateToken(r.Context(), t); err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, t.Agency, "token.create", "token:"+t.ID, map[string]string{"agency": t.Agency, "role": string(t.Role), "name": t.Name})
	writeJSON(w, http.StatusCreated, tokenResponse{Token: t, Secret: secret})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.ListTokens(r.Context(), r.URL.Query().Get("agency"))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, ts, "")
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	err := s.store.RevokeToken(r.Context(), id, s.now().UTC())
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, r, probNotFound, "令牌不存在。", "No such token.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, s.tokenAgency(r.Context(), id), "token.revoke", "token:"+id, nil)
	w.WriteHeader(http.StatusNoContent)
}

// tokenAgency is the agency of token id ("" for admin and holder tokens),
// for the audit entry of its revocation. Revocations are rare; the store
// has no lookup by id, so this reads the list.
func (s *Server) tokenAgency(ctx context.Context, id string) string {
	ts, err := s.store.ListTokens(ctx, "")
	if err != nil {
		s.log.Error("token revoked; its agency for the audit entry is unknown", "token", id, "err", err.Error())
		return ""
	}
	for _, t := range ts {
		if t.ID == id {
			return t.Agency
		}
	}
	return ""
}

type userRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     Role   `json:"role"`
	Agency   string `json:"agency,omitempty"`
}

// MinPasswordLength is the shortest page password accepted.
const MinPasswordLength = 12

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	fe, err := s.checkRoleScope(r, req.Role, req.Agency, "x")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if req.Role == RoleHolder {
		fe = append(fe, FieldError{"role", "持证人使用钱包令牌，不使用密码登录。", "holders use wallet tokens, not passwords."})
	}
	if !validCode(req.Name) {
		fe = append(fe, FieldError{"name", "用户名须为 1–64 位字母、数字、- 或 _。", "1 to 64 letters, digits, - or _."})
	}
	if utf8.RuneCountInString(req.Password) < MinPasswordLength || len(req.Password) > 256 {
		fe = append(fe, FieldError{"password", "密码至少 12 个字符。", "at least 12 characters."})
	}
	if fe != nil {
		validationProblem(w, r, fe)
		return
	}
	u := &User{Name: req.Name, PasswordHash: HashPassword(req.Password), Role: req.Role, Agency: req.Agency, CreatedAt: s.now().UTC()}
	if err := s.store.CreateUser(r.Context(), u); errors.Is(err, ErrConflict) {
		writeProblem(w, r, probConflict, "用户名已存在。", "A user with this name exists.")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, u.Agency, "user.create", "user:"+u.Name, map[string]string{"agency": u.Agency, "role": string(u.Role)})
	writeJSON(w, http.StatusCreated, u)
}

func validationProblem(w http.ResponseWriter, r *http.Request, fe []FieldError) {
	sendProblem(w, &Problem{Type: ProblemTypePrefix + probValidation.code, Title: bilingual(probValidation.title),
		Status: probValidation.status, Code: probValidation.code, Instance: r.URL.Path, Message: probValidation.title, Errors: fe})
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Agency    string `json:"agency,omitempty"`
	CSRFToken string `json:"csrf_token"`
	Expires   int64  `json:"expires,omitempty"`
}

// login checks a page password and sets the session cookie. It accepts JSON
// or a form post; a cross-origin Origin is refused (login CSRF).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		writeProblem(w, r, probCSRF, "登录请求来自其他站点。", "The login request came from another site.")
		return
	}
	var req loginRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			if answerTooLarge(w, r, err) {
				return
			}
			writeProblem(w, r, probBadRequest, "表单无法解析。", "The form cannot be parsed.")
			return
		}
		req.Name, req.Password = r.PostForm.Get("name"), r.PostForm.Get("password")
	} else if !decodeJSON(w, r, &req) {
		return
	}
	if len(req.Password) > 256 || len(req.Name) > 64 {
		writeProblem(w, r, probInvalidCredent, "", "")
		return
	}
	u, err := s.store.GetUser(r.Context(), req.Name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	if u == nil || err != nil {
		CheckPassword(dummyHash, req.Password) // same time as a real check
		s.log.Info("login failed", "user_known", false)
		writeProblem(w, r, probInvalidCredent, "", "")
		return
	}
	if !CheckPassword(u.PasswordHash, req.Password) {
		s.log.Info("login failed", "user", u.Name)
		writeProblem(w, r, probInvalidCredent, "", "")
		return
	}
	value, c := s.makeSession(u.Name)
	s.setCookie(w, value, int(s.cfg.SessionTTL/time.Second))
	s.log.Info("login", "user", u.Name, "role", string(u.Role))
	writeJSON(w, http.StatusOK, sessionResponse{Name: u.Name, Role: u.Role, Agency: u.Agency, CSRFToken: s.csrfFor(c.ID), Expires: c.Expires})
}

// whoami tells pages who is logged in and the CSRF token to send back.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p == nil {
		writeProblem(w, r, probUnauthorized, "", "")
		return
	}
	writeJSON(w, http.StatusOK, sessionResponse{Name: p.Name, Role: p.Role, Agency: p.Agency, CSRFToken: CSRFToken(r)})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.setCookie(w, "", -1)
	w.WriteHeader(http.StatusNoContent)
}
