package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is what a caller may do. Roles do not nest except that admin may do
// everything; issuer and counter are scoped to one agency, holder to one
// holder ID number.
type Role string

const (
	RoleAdmin   Role = "admin"   // agencies, tokens, users, the whole audit log
	RoleIssuer  Role = "issuer"  // licenses, seals, PDF signing of its agency
	RoleCounter Role = "counter" // verify, record usage
	RoleHolder  Role = "holder"  // own licenses and usage records
)

func (r Role) valid() bool {
	switch r {
	case RoleAdmin, RoleIssuer, RoleCounter, RoleHolder:
		return true
	}
	return false
}

// Principal is the authenticated caller of a request.
type Principal struct {
	Role     Role
	Agency   string // issuer, counter
	HolderID string // holder
	Name     string // token or user name
	Actor    string // "token:<id>" or "user:<name>", for the audit log
	// Cookie is true when the caller was authenticated by the page session
	// cookie (then CSRF checks apply), false for bearer tokens.
	Cookie    bool
	sessionID string
}

type ctxKey int

const principalKey ctxKey = 1

// PrincipalFrom returns the caller of the request, or nil when anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// TokenPrefix starts every API token, so leaked tokens are easy to grep for.
const TokenPrefix = "zx_"

// NewTokenSecret returns a fresh token secret (shown to its owner once) and
// the SHA-256 hash under which the store keeps it.
func NewTokenSecret() (secret string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, TokenHash(secret)
}

// TokenHash is the hash of a token secret as stored. A plain SHA-256 is
// enough: the secret has 256 bits of entropy, so there is nothing to
// brute-force (unlike passwords).
func TokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Argon2id parameters for page passwords: the OWASP minimum profile
// (m = 19 MiB, t = 2, p = 1), about 30 ms on the reference 2-core machine.
// They are stored in each hash, so raising them later keeps old hashes valid.
var (
	argonTime    uint32 = 2
	argonMemory  uint32 = 19 * 1024 // KiB
	argonThreads uint8  = 1
)

const argonKeyLen = 32

// HashPassword returns an argon2id hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (raw base64).
func HashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash made by
// HashPassword, comparing in constant time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a login names an unknown user, so the
// answer takes as long as for a known one.
var dummyHash = HashPassword("zhengxin-dummy")

// Session cookies. The value is base64url(JSON claims) "." base64url(HMAC);
// it is stateless so replicas need only share SessionKey, and each request
// re-reads the user so deleting a user ends their sessions.
const (
	sessionCookie = "zx_session"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
)

type sessionClaims struct {
	User    string `json:"u"`
	ID      string `json:"sid"`
	Expires int64  `json:"exp"`
}

func (s *Server) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.sessionKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (s *Server) makeSession(user string) (value string, c sessionClaims) {
	c = sessionClaims{User: user, ID: randomID(16), Expires: s.now().Add(s.cfg.SessionTTL).Unix()}
	body, _ := json.Marshal(c)
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", b)), c
}

func (s *Server) parseSession(value string) (sessionClaims, bool) {
	var c sessionClaims
	b, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 1024 {
		return c, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", b)) {
		return c, false
	}
	body, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil || json.Unmarshal(body, &c) != nil {
		return c, false
	}
	if s.now().Unix() >= c.Expires || c.User == "" || c.ID == "" {
		return c, false
	}
	return c, true
}

func (s *Server) csrfFor(sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", sessionID))
}

// CSRFToken returns the token a page must send back (header X-CSRF-Token,
// or form field csrf_token) with every POST/PUT/PATCH/DELETE made under
// the session cookie; "" when the request has no session. Pages put it in
// a <meta> tag or a hidden field.
func CSRFToken(r *http.Request) string {
	p := PrincipalFrom(r.Context())
	s, _ := r.Context().Value(serverKey).(*Server)
	if p == nil || !p.Cookie || s == nil {
		return ""
	}
	return s.csrfFor(p.sessionID)
}

const serverKey ctxKey = 2

func (s *Server) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.cfg.TLS,
		SameSite: http.SameSiteStrictMode,
	})
}

var errBadToken = errors.New("server: unknown or revoked token")

// authenticate finds the caller: a bearer token, else a session cookie,
// else anonymous. A bad bearer token is an error (401); a bad or expired
// cookie is simply ignored, as if logged out.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 128 {
			return nil, errBadToken
		}
		t, err := s.store.TokenByHash(r.Context(), TokenHash(secret))
		if errors.Is(err, ErrNotFound) || (err == nil && (t.RevokedAt != nil || !t.Role.valid())) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
		return &Principal{Role: t.Role, Agency: t.Agency, HolderID: t.HolderID, Name: t.Name, Actor: "token:" + t.ID}, nil
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	c, ok := s.parseSession(ck.Value)
	if !ok {
		return nil, nil
	}
	u, err := s.store.GetUser(r.Context(), c.User)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Principal{Role: u.Role, Agency: u.Agency, Name: u.Name, Actor: "user:" + u.Name, Cookie: true, sessionID: c.ID}, nil
}

// authMiddleware puts the Principal in the context and enforces CSRF for
// cookie-authenticated state changes: the X-CSRF-Token header (or form
// field) must equal the session's token, and a present Origin must be this
// host. SameSite=Strict already keeps the cookie off cross-site requests;
// the token is the second line for browsers or proxies that get that wrong.
func (s *Server) authMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if errors.Is(err, errBadToken) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeProblem(w, r, probUnauthorized, "API 令牌无效或已吊销。", "The API token is unknown or revoked.")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), serverKey, s)
		if p != nil {
			if p.Cookie && !safeMethod(r.Method) && !s.csrfOK(r, p) {
				writeProblem(w, r, probCSRF, "缺少或错误的 CSRF 令牌，请刷新页面后重试。", "Missing or wrong CSRF token; reload the page and try again.")
				return
			}
			ctx = context.WithValue(ctx, principalKey, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Server) csrfOK(r *http.Request, p *Principal) bool {
	if !s.sameOrigin(r) {
		return false
	}
	got := r.Header.Get(csrfHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue(csrfField)
	}
	want := s.csrfFor(p.sessionID)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin reports whether the Origin header, when a browser sent one,
// names this host (with TrustProxyHeaders, the host the proxy received:
// X-Forwarded-Host). Requests without Origin (curl, old browsers) fall back
// on Sec-Fetch-Site and the token.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		sfs := r.Header.Get("Sec-Fetch-Site")
		return sfs == "" || sfs == "same-origin" || sfs == "none"
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); s.cfg.TrustProxyHeaders && fh != "" {
		host = strings.TrimSpace(fh[strings.LastIndexByte(fh, ',')+1:])
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// require lets the request through only for the given roles (admin always):
// 401 for anonymous callers, 403 for the wrong role.
func require(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := PrincipalFrom(r.Context())
			if p == nil {
				w.Header().Set("WWW-Authenticate", `Bearer`)
				writeProblem(w, r, probUnauthorized, "", "")
				return
			}
			if p.Role == RoleAdmin {
				next.ServeHTTP(w, r)
				return
			}
			for _, ro := range roles {
				if p.Role == ro {
					next.ServeHTTP(w, r)
					return
				}
			}
			writeProblem(w, r, probForbidden, "角色“"+string(p.Role)+"”不能执行此操作。", "Role "+string(p.Role)+" may not do this.")
		})
	}
}

// requireOnly is require without the admin pass: for routes that act on
// the caller's own identity (a holder's wallet), which an admin has not.
func requireOnly(role Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := PrincipalFrom(r.Context())
			switch {
			case p == nil:
				w.Header().Set("WWW-Authenticate", `Bearer`)
				writeProblem(w, r, probUnauthorized, "", "")
			case p.Role != role:
				writeProblem(w, r, probForbidden, "只有“"+string(role)+"”角色可以执行此操作。", "Only the "+string(role)+" role may do this.")
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// canSee reports whether p may read or act on license l. Callers answer
// 404 (not 403) when it is false, so another agency's license IDs cannot be
// probed for existence.
func canSee(p *Principal, l *License) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleIssuer:
		return l.Agency == p.Agency
	case RoleHolder:
		return p.HolderID != "" && strings.EqualFold(l.HolderID, p.HolderID)
	}
	return false
}
