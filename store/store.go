package store

import (
	"context"
	"errors"
	"iter"
	"path/filepath"
	"strings"
	"time"
)

// Errors callers test with errors.Is. Every error the store returns is
// prefixed "store: " and wraps one of these where one applies.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with the same key exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalidTransition: the license status change is not allowed
	// (same status, or the license is revoked or cancelled already).
	ErrInvalidTransition = errors.New("不允许的状态变更 / status change not allowed")
	// ErrClaimUsed: the holder claim code has been redeemed before.
	ErrClaimUsed = errors.New("claim code already used")
	// ErrClaimExpired: the holder claim code is past its expiry.
	ErrClaimExpired = errors.New("claim code expired")
	// ErrRevoked: the API token has been revoked.
	ErrRevoked = errors.New("token revoked")
	// ErrConflict: a license identifier is taken by a record with another
	// idempotency key (a numbering bug upstream, never a retry).
	ErrConflict = errors.New("identifier already used by another record")
	// ErrInvalid: a record is missing a required field or has a malformed one.
	ErrInvalid = errors.New("invalid record")
)

// Store is the persistence interface of Zhengxin. Both implementations
// (SQLite and PostgreSQL) pass the same conformance suite, storetest.Run.
// All methods are safe for concurrent use.
type Store interface {
	// Backend is "sqlite" or "postgres".
	Backend() string
	// Ping reports whether the database answers (for /readyz).
	Ping(ctx context.Context) error
	Close() error

	CreateAgency(ctx context.Context, a Agency) error
	GetAgency(ctx context.Context, id string) (Agency, error)
	ListAgencies(ctx context.Context) ([]Agency, error)

	// PutCertificate inserts a certificate; ErrExists if the serial is known.
	PutCertificate(ctx context.Context, c Certificate) error
	GetCertificate(ctx context.Context, serial string) (Certificate, error)
	// CertificatesByKID returns every certificate with that 8-byte key id
	// (a renewed certificate keeps its key, so there can be several).
	CertificatesByKID(ctx context.Context, kid []byte) ([]Certificate, error)
	ListCertificates(ctx context.Context, f CertFilter) ([]Certificate, error)
	RevokeCertificate(ctx context.Context, serial string, at time.Time, reason string) error

	// IssueLicense stores rec, assigns its StatusIndex and appends audit, in
	// one transaction. If rec.IdempotencyKey is set and the agency already
	// has a license with that key, nothing is written and the existing
	// license is returned with existed = true. The audit entry belongs to
	// rec's agency (an empty Agency is set to it, another is ErrInvalid);
	// the same holds for BindHolderKey and SupersedeLicense.
	IssueLicense(ctx context.Context, rec LicenseRecord, audit AuditEntry) (stored LicenseRecord, existed bool, err error)
	// IssueLicenses is the bulk form: one transaction for the whole batch,
	// the fastest insert path of the database, status indexes reserved per
	// batch. Result i belongs to batch[i]. audit, if not nil, is appended
	// once for the batch in the same transaction; it belongs to the batch's
	// agency when all rows have one (an empty Agency is set to it), and a
	// batch of several agencies needs an entry of no agency (ErrInvalid).
	IssueLicenses(ctx context.Context, batch []LicenseRecord, audit *AuditEntry) ([]IssueResult, error)
	// ReserveStatusIndexes hands out n consecutive status-list indexes of
	// the agency, first..first+n-1, for licenses whose signed payload must
	// carry its index: reserve, sign with the index, then issue with
	// IndexReserved set. Indexes that end up unused (a failed signing, a
	// replayed row) stay unused; a status list treats them as absent.
	ReserveStatusIndexes(ctx context.Context, agencyID string, n int) (first int64, err error)
	// LookupIdempotencyKeys returns, for the keys the agency has already
	// used, the license they issued (Existed set). A resumed bulk import
	// calls it before signing, to skip the rows done before.
	LookupIdempotencyKeys(ctx context.Context, agencyID string, keys []string) (map[string]IssueResult, error)
	GetLicense(ctx context.Context, id string) (LicenseRecord, error)
	ListLicenses(ctx context.Context, f LicenseFilter) (LicensePage, error)
	// SetLicenseStatus changes the status, records the change in the
	// license's history and appends an audit entry (actor operator, action
	// "license.status", the license's agency), in one transaction.
	SetLicenseStatus(ctx context.Context, id string, to LicenseStatus, reason, operator string, at time.Time) error
	LicenseHistory(ctx context.Context, id string) ([]StatusEvent, error)
	// BindHolderKey records the holder's device key and the license re-signed
	// for it (same identifier), with an audit entry, in one transaction. A
	// revoked or cancelled license cannot be bound (ErrInvalidTransition).
	BindHolderKey(ctx context.Context, id string, deviceKey, payload []byte, audit AuditEntry) error
	// SupersedeLicense issues next as the new version of oldID (next.Replaces
	// and next.Version are set by the store) and cancels the old license
	// with reason "superseded by <next.ID>", in one transaction.
	SupersedeLicense(ctx context.Context, oldID string, next LicenseRecord, audit AuditEntry) (LicenseRecord, error)
	// StatusSnapshot streams (list, index, status) of every license of the
	// agency in index order, for building a status list. Memory stays flat.
	StatusSnapshot(ctx context.Context, agencyID string) iter.Seq2[StatusEntry, error]

	PutSeal(ctx context.Context, s Seal) error
	GetSeal(ctx context.Context, id string) (Seal, error)
	ListSeals(ctx context.Context, agencyID string) ([]Seal, error)
	DeleteSeal(ctx context.Context, id string) error

	// AppendAudit appends e to the hash chain and returns it with Seq, At
	// (if zero), Agency (if empty: [AuditAgency] of e), PrevHash and Hash
	// filled in.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// VerifyAuditChain recomputes the whole chain, agencies included (see
	// AuditAgency for entries written before agencies were hashed).
	VerifyAuditChain(ctx context.Context) (AuditCheck, error)

	// AppendUsage records one use of a license at a counter and returns its id.
	AppendUsage(ctx context.Context, u UsageRecord) (int64, error)
	ListUsage(ctx context.Context, f UsageFilter) ([]UsageRecord, error)

	// CreateToken stores an API token record. Only its hash is stored.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash finds a token by hash; a revoked token gives ErrRevoked.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id string) error

	// PutUser creates or replaces a page-login user.
	PutUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	DeleteUser(ctx context.Context, username string) error

	CreateClaimCode(ctx context.Context, c ClaimCode) error
	// RedeemClaimCode marks the code used at at and returns its license id,
	// atomically: of two concurrent redemptions exactly one succeeds.
	// Errors: ErrNotFound, ErrClaimUsed, ErrClaimExpired.
	RedeemClaimCode(ctx context.Context, hash []byte, at time.Time) (licenseID string, err error)

	// SeenNonce records nonce until expires and reports whether it was
	// already recorded and unexpired at now (a replay). Expired nonces are
	// purged on the way. Atomic: of two concurrent calls one sees a replay.
	SeenNonce(ctx context.Context, nonce []byte, expires, now time.Time) (replay bool, err error)
	// PurgeNonces deletes nonces that expired before now.
	PurgeNonces(ctx context.Context, now time.Time) (int64, error)
}

// Agency is an issuing agency (发证机构).
type Agency struct {
	ID         string
	Name       string
	CreditCode string // 18-character unified social credit code (GB 32100)
	RegionCode string // administrative division code (GB/T 2260)
	CreatedAt  time.Time
}

// CertRole is what a certificate is for.
type CertRole string

const (
	RoleRoot          CertRole = "root"
	RoleAgencyCA      CertRole = "agency"
	RoleLicenseSigner CertRole = "license-signer"
	RoleSeal          CertRole = "seal"
	RoleSealMaker     CertRole = "seal-maker"
)

// Certificate is an issued certificate. AgencyID is empty for a root.
type Certificate struct {
	Serial           string // hex
	AgencyID         string
	Role             CertRole
	Subject          string
	NotBefore        time.Time
	NotAfter         time.Time
	DER              []byte
	KID              []byte    // 8 bytes
	RevokedAt        time.Time // zero: not revoked
	RevocationReason string
}

// CertFilter selects certificates; empty fields match everything.
type CertFilter struct {
	AgencyID string
	Role     CertRole
}

// LicenseStatus is the life-cycle state of an e-license.
type LicenseStatus string

const (
	StatusValid     LicenseStatus = "valid"
	StatusSuspended LicenseStatus = "suspended" // 暂扣
	StatusRevoked   LicenseStatus = "revoked"   // 吊销
	StatusCancelled LicenseStatus = "cancelled" // 注销
)

// Known reports whether s is one of the four statuses.
func (s LicenseStatus) Known() bool {
	switch s {
	case StatusValid, StatusSuspended, StatusRevoked, StatusCancelled:
		return true
	}
	return false
}

// Final reports whether no change may follow s.
func (s LicenseStatus) Final() bool { return s == StatusRevoked || s == StatusCancelled }

// LicenseRecord is an issued e-license as stored.
type LicenseRecord struct {
	ID             string // the e-license identifier (GB/T 36904), primary key
	AgencyID       string
	TypeCode       string
	Number         string
	HolderName     string
	HolderIDType   string
	HolderIDNumber string
	Status         LicenseStatus // empty means valid on issuance
	ValidFrom      time.Time
	ValidTo        time.Time // zero: no end (长期)
	IssuedAt       time.Time
	Version        int // 0 means 1 on issuance
	Replaces       string
	// StatusListID names the status list the license is in; empty means
	// the agency id. StatusIndex is the license's position in the agency's
	// status list: a per-agency sequence from 0, unique, never reused.
	// Without IndexReserved the store assigns it on issuance; with
	// IndexReserved the caller got it from ReserveStatusIndexes (so it
	// could sign it into the payload) and the store keeps it.
	StatusListID    string
	StatusIndex     int64
	IndexReserved   bool   // not stored; see StatusIndex
	Payload         []byte // the signed license bytes
	Fields          []byte // JSON object of the license fields; empty means {}
	IdempotencyKey  string // unique per agency when not empty
	HolderDeviceKey []byte // optional
}

// IssueResult is the outcome of one row of IssueLicenses.
type IssueResult struct {
	ID          string
	StatusIndex int64
	Existed     bool // the idempotency key was present: nothing written
}

// LicenseFilter selects licenses; empty fields match everything. Pages are
// keyset-paginated by id: pass the previous page's Next as After.
type LicenseFilter struct {
	AgencyID       string
	TypeCode       string
	HolderIDNumber string
	Status         LicenseStatus
	Query          string // substring of holder name or number (case-insensitive: ASCII only on SQLite)
	After          string
	Limit          int // 0 means 100; at most 1000
}

// LicensePage is one page of ListLicenses. Next is empty on the last page.
type LicensePage struct {
	Items []LicenseRecord
	Next  string
}

// StatusEvent is one entry of a license's status history.
type StatusEvent struct {
	LicenseID string
	From, To  LicenseStatus
	Reason    string
	Operator  string
	At        time.Time
}

// StatusEntry is one row of StatusSnapshot.
type StatusEntry struct {
	ListID string
	Index  int64
	Status LicenseStatus
}

// Seal is an electronic seal (GB/T 38540 SESeal, the .esl bytes).
type Seal struct {
	ID        string // esID
	AgencyID  string
	Name      string
	Type      string
	DER       []byte
	ValidFrom time.Time
	ValidTo   time.Time
	CreatedAt time.Time
}

// AuditEntry is one entry of the hash-chained audit log. See the package
// documentation for the exact hash input.
type AuditEntry struct {
	Seq    int64
	At     time.Time // stored with microsecond precision, UTC
	Actor  string
	Action string // required
	Object string
	Detail []byte // a JSON value; empty means {}
	// Agency is the id (unified social credit code) of the agency the
	// entry belongs to, so that the agency's own auditors can read it;
	// empty for deployment-wide entries (the root CA, admins' accounts).
	// Left empty, AppendAudit fills it with what [AuditAgency] finds in
	// the entry, and the license operations with the license's agency.
	Agency   string
	PrevHash []byte
	Hash     []byte
}

// AuditFilter selects audit entries with Seq > AfterSeq, oldest first.
// Empty fields match everything.
type AuditFilter struct {
	AfterSeq int64
	Object   string
	Actor    string
	Agency   string
	Limit    int // 0 means 100; at most 1000
}

// AuditCheck is the result of VerifyAuditChain.
type AuditCheck struct {
	OK      bool
	Entries int64  // entries checked
	Head    []byte // hash of the last entry (32 zero bytes when empty)
	// FirstBroken is the seq of the first entry that does not verify (the
	// position where the sequence breaks if rows are missing), and Reason
	// says why. Both are empty when OK.
	FirstBroken int64
	Reason      string
}

// UsageRecord is a use of a license at a service counter (用证记录).
type UsageRecord struct {
	ID             int64
	At             time.Time
	LicenseID      string
	HolderIDNumber string // of the license used, so holders can see their uses
	CounterID      string
	ServiceItem    string // 办理事项
	Operator       string
	Verdict        string
	Reason         string
	Disclosed      []string // names of the disclosed fields
}

// UsageFilter selects usage records, newest first, keyset-paginated by
// ID (BeforeID: 0 means from the newest).
type UsageFilter struct {
	LicenseID      string
	HolderIDNumber string
	CounterID      string
	BeforeID       int64
	Limit          int // 0 means 100; at most 1000
}

// Role of an API token or page user.
type Role string

const (
	RoleAdmin   Role = "admin"
	RoleIssuer  Role = "issuer"
	RoleCounter Role = "counter"
	RoleHolder  Role = "holder"
)

// Token is an API bearer token. Hash is SM3 or SHA-256 of the token; the
// token itself is never stored.
type Token struct {
	ID       string
	Name     string
	Role     Role
	AgencyID string // issuer and counter tokens
	// HolderID is the ID number of the holder a holder token acts for
	// (role holder only).
	HolderID  string
	Hash      []byte
	CreatedAt time.Time
	Revoked   bool
}

// User is a page-login account. PasswordHash is opaque to the store.
type User struct {
	Username     string
	PasswordHash string
	Role         Role
	AgencyID     string
	CreatedAt    time.Time
}

// ClaimCode is a one-time code that delivers a license to a wallet. Only
// the hash of the code is stored.
type ClaimCode struct {
	Hash      []byte
	LicenseID string
	Expires   time.Time
	UsedAt    time.Time // zero: not used
}

// Open opens (creating if needed) the store named by dsn and applies
// pending migrations. A dsn starting with postgres:// or postgresql://
// selects PostgreSQL; anything else (normally empty) selects the SQLite
// file zhengxin.db in dataDir.
func Open(ctx context.Context, dsn, dataDir string) (Store, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	if dataDir == "" {
		return nil, errors.New("store: no data directory given for the SQLite database; pass --dir or a postgres:// URL")
	}
	return openSQLite(ctx, filepath.Join(dataDir, "zhengxin.db"))
}

// IsPostgres reports whether dsn selects PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// OpenSQLite opens the SQLite database at path (created if absent).
func OpenSQLite(ctx context.Context, path string) (Store, error) { return openSQLite(ctx, path) }

// Nonces adapts a Store to the verifier's nonce cache (Seen(ctx, nonce,
// expires)), with Now as the clock (nil: time.Now).
type Nonces struct {
	Store Store
	Now   func() time.Time
}

// Seen records nonce until expires and reports a replay.
func (n Nonces) Seen(ctx context.Context, nonce []byte, expires time.Time) (bool, error) {
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	return n.Store.SeenNonce(ctx, nonce, expires, now())
}
