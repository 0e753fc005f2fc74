package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Deps is everything the server needs from the rest of Zhengxin. Each piece
// is a small interface so that cmd/zhengxin wires the real packages (store,
// license, certs, seal, pdf, verify) and tests wire fakes. Only Store and
// Verify are required; a nil optional piece makes its routes answer 503
// "not_configured" instead of panicking.
type Deps struct {
	Store  Store    // required
	Verify Verifier // required: POST /api/v1/verify

	Issuer    Issuer    // POST /licenses, GET /licenses/{id}/pdf, GET /license-types
	Published Published // GET /trust-list, GET /status-lists/{id}
	Seals     Seals     // /seals
	PDFSigner PDFSigner // POST /pdf/sign
	// Binder re-signs a claimed license for the wallet's device key, so
	// its presentations must come from that device. Nil: claims with a
	// device_key are refused (422 binding_unavailable).
	Binder Binder

	// Pages serves everything outside /api/v1, /healthz, /readyz and
	// /metrics (the console, counter and wallet pages and their static
	// files); nil means those paths answer 404. It runs behind the same
	// security headers, session and CSRF middleware as the API, so page
	// handlers can call [PrincipalFrom] and [CSRFToken].
	Pages http.Handler

	// SessionKey signs page session cookies and derives CSRF tokens. At
	// least 32 random bytes; all replicas behind one load balancer need the
	// same key. Nil: a random key is made at start, so sessions do not
	// survive a restart.
	SessionKey []byte

	// Now is the clock; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Logger receives JSON request logs; nil means slog.Default().
	Logger *slog.Logger
}

// Config holds the tunables. The zero value gives the documented defaults.
type Config struct {
	// Addr is where Run listens, "127.0.0.1:8080" when empty.
	Addr string
	// TLS reports that the server is reached over HTTPS (directly or via a
	// TLS-terminating proxy), so cookies get the Secure attribute.
	TLS bool
	// VerifyRate and VerifyBurst are the per-client-IP token bucket for
	// verify and claim: VerifyRate tokens per second, up to VerifyBurst at
	// once. Defaults 20/s and 40.
	VerifyRate  float64
	VerifyBurst int
	// LoginRate and LoginBurst are the separate, stricter bucket of
	// password logins (POST /session). Defaults 0.2/s (12 a minute) and 10.
	LoginRate  float64
	LoginBurst int
	// TrustProxyHeaders makes the client IP come from the last entry of
	// X-Forwarded-For. Only set it behind a proxy that overwrites that
	// header, or clients choose their own rate-limit bucket.
	TrustProxyHeaders bool
	// SessionTTL is how long a page login lasts; 8h when zero.
	SessionTTL time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// after its context ends; 30s when zero.
	ShutdownTimeout time.Duration
}

// Verifier verifies anything presented: QR text, a PDF, a seal file. kindHint
// is "qr", "pdf", "seal" or "" (detect). It never returns nil.
// verify.Verify, bound to its Options, fits this shape.
type Verifier func(ctx context.Context, input []byte, kindHint string) *report.Report

// Store is the persistence the server needs. store/ implements it for
// SQLite and PostgreSQL (through a thin adapter where names differ); tests
// use [NewMemStore]. Lookups of something absent return an error wrapping
// [ErrNotFound].
type Store interface {
	LicenseStore
	AuditStore
	UsageStore
	AccessStore
	// Ping reports whether the database is reachable (for /readyz).
	Ping(ctx context.Context) error
}

// Errors a Store returns (wrapped) so handlers can answer 404 / 409.
var (
	ErrNotFound = errors.New("server: not found")
	ErrConflict = errors.New("server: already exists")
)

// LicenseStore keeps issued licenses.
type LicenseStore interface {
	// CreateLicense stores l and appends audit (when not nil) in one
	// transaction. If idemKey is not empty and a license was already
	// created by the same agency with the same key, it writes nothing and
	// returns that license and created=false (an idempotent retry).
	CreateLicense(ctx context.Context, l *License, idemKey string, audit *AuditEntry) (stored *License, created bool, err error)
	GetLicense(ctx context.Context, id string) (*License, error)
	// ListLicenses returns up to f.Limit licenses matching f, newest
	// first (IssuedAt desc, ID desc), and an opaque cursor for the next
	// page ("" when there is none).
	ListLicenses(ctx context.Context, f LicenseFilter) (page []*License, next string, err error)
	// SetLicenseStatus changes the status and appends an audit entry
	// (action "license.status", actor) in one transaction, and returns the
	// updated license. A change from revoked or cancelled, or to the same
	// status, is an error wrapping ErrConflict.
	SetLicenseStatus(ctx context.Context, id, status, reason, actor string, at time.Time) (*License, error)
	// CreateClaim stores a one-time claim code (by hash) for a license.
	CreateClaim(ctx context.Context, c *Claim) error
	// RedeemClaim marks the claim with this code hash used (at most
	// once, before it expires) and returns it; ErrNotFound otherwise.
	RedeemClaim(ctx context.Context, codeHash []byte, at time.Time) (*Claim, error)
}

// BatchLicenseStore is implemented by stores that write many licenses in
// one transaction (store.IssueLicenses). When the Store has it, concurrent
// POST /licenses requests are grouped into one transaction each time the
// previous one commits (group commit): one request alone is written as
// before; under load, throughput grows with the batch instead of being
// bounded by one serialized transaction per license.
type BatchLicenseStore interface {
	// CreateLicenses stores ls (idemKeys[i] for ls[i], "" for none) and
	// appends audit once, in one transaction; created[i] is false when
	// the key was used before, and stored[i] is then the earlier license.
	CreateLicenses(ctx context.Context, ls []*License, idemKeys []string, audit *AuditEntry) (stored []*License, created []bool, err error)
}

// AuditStore is the append-only, hash-chained audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries oldest first (by Seq) with keyset pagination.
	ListAudit(ctx context.Context, f AuditFilter) (page []*AuditEntry, next string, err error)
	// VerifyAudit recomputes the hash chain; it returns how many entries
	// were checked and an error naming the first broken entry.
	VerifyAudit(ctx context.Context) (checked int, err error)
}

// UsageStore keeps usage records (用证记录).
type UsageStore interface {
	AddUsage(ctx context.Context, u *Usage) error
	ListUsage(ctx context.Context, f UsageFilter) (page []*Usage, next string, err error)
}

// AccessStore keeps agencies, API tokens and page users.
type AccessStore interface {
	CreateAgency(ctx context.Context, a *Agency) error // ErrConflict if the code exists
	GetAgency(ctx context.Context, code string) (*Agency, error)
	ListAgencies(ctx context.Context) ([]*Agency, error)

	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash finds a token by the SHA-256 of its secret.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	ListTokens(ctx context.Context, agency string) ([]*Token, error) // "" = all
	RevokeToken(ctx context.Context, id string, at time.Time) error

	CreateUser(ctx context.Context, u *User) error // ErrConflict if the name exists
	GetUser(ctx context.Context, name string) (*User, error)
}

// Issuer validates and signs new licenses and renders them.
type Issuer interface {
	// Issue validates req (returning a *[ValidationError] naming each bad
	// field), assigns the identifier and status-list slot, and signs.
	// It does not store: the server does, with the idempotency key.
	Issue(ctx context.Context, agency string, req *IssueRequest) (*License, error)
	// PDF renders the license as a sealed PDF.
	PDF(ctx context.Context, l *License) ([]byte, error)
	// Types describes the license types this deployment issues (any
	// JSON-encodable value; served at GET /api/v1/license-types).
	Types() any
}

// Published serves the signed documents verifiers download: the trust list
// and the status lists. Bodies are served as is.
type Published interface {
	TrustList(ctx context.Context) (*Document, error)
	StatusList(ctx context.Context, id string) (*Document, error) // ErrNotFound
}

// Document is a signed, cacheable file.
type Document struct {
	Body        []byte
	ContentType string
	// MaxAge is the Cache-Control max-age; 5 minutes when zero.
	MaxAge time.Duration
}

// Seals lists, serves and makes GB/T 38540 seals.
type Seals interface {
	ListSeals(ctx context.Context, agency string) ([]*SealInfo, error) // "" = all
	// GetSeal returns the seal's description and its .esl bytes.
	GetSeal(ctx context.Context, id string) (*SealInfo, []byte, error)
	MakeSeal(ctx context.Context, agency string, req *SealRequest) (*SealInfo, error)
}

// Binder binds a license to a holder's device key (PEM SubjectPublicKeyInfo,
// SM2 or ECDSA P-256): the license is re-signed with the key's thumbprint,
// same identifier. A bad key is an error wrapping ErrInvalidKey.
type Binder interface {
	BindHolder(ctx context.Context, licenseID string, deviceKeyPEM []byte) (*License, error)
}

// ErrInvalidKey is wrapped by a Binder for a device key it cannot use.
var ErrInvalidKey = errors.New("server: invalid device key")

// PDFSigner signs any PDF with an agency's seal by incremental update.
type PDFSigner interface {
	SignPDF(ctx context.Context, agency string, req *SignPDFRequest) ([]byte, error)
}

// License is one issued license as the server stores and returns it.
type License struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Agency     string         `json:"agency"`
	HolderName string         `json:"holder_name"`
	HolderID   string         `json:"holder_id"` // ID number or unified social credit code
	Status     string         `json:"status"`    // valid, suspended, revoked, cancelled
	Reason     string         `json:"status_reason,omitempty"`
	IssuedAt   time.Time      `json:"issued_at"`
	ValidFrom  time.Time      `json:"valid_from"`
	ValidUntil *time.Time     `json:"valid_until,omitempty"` // nil: no expiry (长期)
	Fields     map[string]any `json:"fields,omitempty"`
	// QR is the signed QR payload text; the PNG is rendered from it.
	QR string `json:"qr"`
	// Signed is the signed license (canonical bytes as license/ defines).
	Signed      []byte `json:"signed,omitempty"`
	StatusList  string `json:"status_list,omitempty"`
	StatusIndex uint64 `json:"status_index"`
	// IndexReserved says the Issuer reserved StatusIndex from the store
	// (store.ReserveStatusIndexes) and signed it in; otherwise the store
	// assigns the index on CreateLicense.
	IndexReserved bool   `json:"-"`
	Number        string `json:"number,omitempty"`         // the license's own number (证照编号)
	HolderIDType  string `json:"holder_id_type,omitempty"` // e.g. 身份证, 统一社会信用代码
}

// IssueRequest is the body of POST /api/v1/licenses.
type IssueRequest struct {
	Type       string            `json:"type"`
	HolderName string            `json:"holder_name"`
	HolderID   string            `json:"holder_id"`
	ValidFrom  string            `json:"valid_from,omitempty"`  // YYYY-MM-DD; today when empty
	ValidUntil string            `json:"valid_until,omitempty"` // YYYY-MM-DD; empty = 长期
	Fields     map[string]string `json:"fields,omitempty"`
	// Agency is only read from admin callers; issuers always issue for
	// their own agency.
	Agency string `json:"agency,omitempty"`
}

// LicenseFilter selects licenses for ListLicenses. Empty fields match all.
type LicenseFilter struct {
	Agency   string
	Type     string
	Status   string
	HolderID string
	// Query matches a substring of the holder name or the identifier.
	Query  string
	Cursor string
	Limit  int
}

// Claim is a one-time code with which a holder takes a license into a wallet.
type Claim struct {
	CodeHash  []byte
	LicenseID string
	HolderID  string
	Expires   time.Time
	UsedAt    *time.Time
}

// AuditEntry is one line of the audit log. Seq, PrevHash and Hash are set
// by the store.
type AuditEntry struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // "token:<id>" or "user:<name>"
	Action string    `json:"action"` // license.issue, license.status, seal.make, ...
	Object string    `json:"object,omitempty"`
	// Agency is the code of the agency the entry concerns (whose issuers
	// read it); empty for deployment-wide entries. It is part of the
	// entry's hash.
	Agency string `json:"agency,omitempty"`
	// Detail holds the facts of the action ("agency", "type", "holder"
	// masked, ...). Never a full ID number or a secret.
	Detail   map[string]string `json:"detail,omitempty"`
	PrevHash []byte            `json:"prev_hash,omitempty"`
	Hash     []byte            `json:"hash,omitempty"`
}

// AuditFilter selects audit entries. Empty fields match all.
type AuditFilter struct {
	Object string
	Agency string
	Cursor string
	Limit  int
}

// Usage is one use of a license at a counter (用证记录).
type Usage struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	LicenseID   string    `json:"license_id"`
	HolderID    string    `json:"-"`        // for the holder's own listing; never returned
	Counter     string    `json:"counter"`  // the counter's agency code
	Operator    string    `json:"operator"` // the counter token's or user's name
	ServiceItem string    `json:"service_item"`
	Verdict     string    `json:"verdict"`
	Reason      string    `json:"reason,omitempty"`    // the report's reason when not PASSED
	Disclosed   []string  `json:"disclosed,omitempty"` // names of the fields shown
}

// UsageFilter selects usage records; set exactly one of LicenseID and HolderID.
type UsageFilter struct {
	LicenseID string
	HolderID  string
	Cursor    string
	Limit     int
}

// Agency is an issuing agency (发证机构).
type Agency struct {
	Code       string    `json:"code"` // short code chosen by the admin; tokens and licenses refer to it
	Name       string    `json:"name"`
	CreditCode string    `json:"credit_code,omitempty"` // 统一社会信用代码 (GB 32100)
	RegionCode string    `json:"region_code,omitempty"` // GB/T 2260 division code
	CreatedAt  time.Time `json:"created_at"`
}

// Token is an API token. Only the SHA-256 of the secret is kept.
type Token struct {
	ID        string     `json:"id"`
	Hash      []byte     `json:"-"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Agency    string     `json:"agency,omitempty"` // issuer and counter tokens
	HolderID  string     `json:"-"`                // holder tokens
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// User is a page login (console, counter). PasswordHash is an argon2id
// PHC string made by [HashPassword].
type User struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Role         Role      `json:"role"`
	Agency       string    `json:"agency,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// SealInfo describes a seal without its bytes.
type SealInfo struct {
	ID         string    `json:"id"`
	Agency     string    `json:"agency"`
	Name       string    `json:"name"`
	Type       string    `json:"type,omitempty"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

// SealRequest is what POST /api/v1/seals asks for.
type SealRequest struct {
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
	ValidDays int    `json:"valid_days,omitempty"`
	Picture   []byte `json:"picture,omitempty"` // PNG; a drawn stamp when empty
	Agency    string `json:"agency,omitempty"`  // admin callers only
}

// SignPDFRequest is one PDF signing job.
type SignPDFRequest struct {
	SealID string  // "" = the agency's default seal
	Page   int     // 1-based; 0 = last page
	X, Y   float64 // seal centre in PDF points from the bottom left; 0,0 = signer's default
	PDF    []byte
}

// ValidationError lists what is wrong with a request, field by field.
// Issuer implementations return it so the API answers 422 with details.
type ValidationError struct {
	Fields []FieldError
}

// FieldError is one invalid field, explained in Chinese and English.
type FieldError struct {
	Field string `json:"field"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

func (e *ValidationError) Error() string {
	s := "server: invalid request"
	for i, f := range e.Fields {
		if i == 0 {
			s += ": "
		} else {
			s += "; "
		}
		s += f.Field + ": " + f.EN
	}
	return s
}
