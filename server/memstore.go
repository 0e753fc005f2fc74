package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// MemStore is an in-memory Store for tests, the load generator and quick
// demos. It keeps everything in maps under one lock and loses it all on
// exit; deployments use store/ (SQLite or PostgreSQL).
type MemStore struct {
	mu        sync.RWMutex
	licenses  map[string]*License
	order     []*License // by (IssuedAt, ID) ascending
	idem      map[string]string
	claims    map[string]*Claim
	audit     []*AuditEntry
	usage     []*Usage
	agencies  map[string]*Agency
	tokens    map[string]*Token // by hex hash
	users     map[string]*User
	PingError error // set by tests to make Ping fail
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{licenses: map[string]*License{}, idem: map[string]string{}, claims: map[string]*Claim{},
		agencies: map[string]*Agency{}, tokens: map[string]*Token{}, users: map[string]*User{}}
}

var _ Store = (*MemStore)(nil)

func (m *MemStore) Ping(ctx context.Context) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.PingError
}

func clone[T any](v *T) *T { c := *v; return &c }

func (m *MemStore) CreateLicense(ctx context.Context, l *License, idemKey string, audit *AuditEntry) (*License, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := l.Agency + "\x00" + idemKey
	if idemKey != "" {
		if id, ok := m.idem[key]; ok {
			return clone(m.licenses[id]), false, nil
		}
	}
	if _, ok := m.licenses[l.ID]; ok {
		return nil, false, fmt.Errorf("memstore: license %s: %w", l.ID, ErrConflict)
	}
	c := clone(l)
	m.licenses[c.ID] = c
	i, _ := slices.BinarySearchFunc(m.order, c, cmpLicense)
	m.order = slices.Insert(m.order, i, c)
	if idemKey != "" {
		m.idem[key] = c.ID
	}
	if audit != nil {
		m.appendAudit(audit)
	}
	return clone(c), true, nil
}

// CreateLicenses implements BatchLicenseStore: all or nothing under one lock.
func (m *MemStore) CreateLicenses(ctx context.Context, ls []*License, keys []string, audit *AuditEntry) ([]*License, []bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, l := range ls {
		if _, ok := m.licenses[l.ID]; ok || seen[l.ID] {
			return nil, nil, fmt.Errorf("memstore: license %s: %w", l.ID, ErrConflict)
		}
		seen[l.ID] = true
	}
	stored, created := make([]*License, len(ls)), make([]bool, len(ls))
	for i, l := range ls {
		key := l.Agency + "\x00" + keys[i]
		if keys[i] != "" {
			if id, ok := m.idem[key]; ok {
				stored[i] = clone(m.licenses[id])
				continue
			}
		}
		c := clone(l)
		m.licenses[c.ID] = c
		j, _ := slices.BinarySearchFunc(m.order, c, cmpLicense)
		m.order = slices.Insert(m.order, j, c)
		if keys[i] != "" {
			m.idem[key] = c.ID
		}
		stored[i], created[i] = clone(c), true
	}
	if audit != nil {
		m.appendAudit(audit)
	}
	return stored, created, nil
}

func cmpLicense(a, b *License) int {
	if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func (m *MemStore) GetLicense(ctx context.Context, id string) (*License, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	l, ok := m.licenses[id]
	if !ok {
		return nil, fmt.Errorf("memstore: license %q: %w", id, ErrNotFound)
	}
	return clone(l), nil
}

// Cursors are base64("<unix nanos>/<id>") of the last item returned.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "/" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ns, id, ok := strings.Cut(string(b), "/")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(0, n), id, true
}

func (m *MemStore) ListLicenses(ctx context.Context, f LicenseFilter) ([]*License, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	end := len(m.order)
	if f.Cursor != "" {
		t, id, ok := decodeCursor(f.Cursor)
		if !ok {
			return nil, "", nil
		}
		end, _ = slices.BinarySearchFunc(m.order, &License{IssuedAt: t, ID: id}, cmpLicense)
	}
	var out []*License
	for i := end - 1; i >= 0; i-- {
		l := m.order[i]
		if (f.Agency != "" && l.Agency != f.Agency) || (f.Type != "" && l.Type != f.Type) || (f.Status != "" && l.Status != f.Status) ||
			(f.HolderID != "" && !strings.EqualFold(l.HolderID, f.HolderID)) ||
			(f.Query != "" && !strings.Contains(l.HolderName, f.Query) && !strings.Contains(l.ID, f.Query)) {
			continue
		}
		if len(out) == f.Limit {
			last := out[len(out)-1]
			return out, encodeCursor(last.IssuedAt, last.ID), nil
		}
		out = append(out, clone(l))
	}
	return out, "", nil
}

func (m *MemStore) SetLicenseStatus(ctx context.Context, id, status, reason, actor string, at time.Time) (*License, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.licenses[id]
	if !ok {
		return nil, fmt.Errorf("memstore: license %q: %w", id, ErrNotFound)
	}
	if l.Status == status || l.Status == StatusRevoked || l.Status == StatusCancelled {
		return nil, fmt.Errorf("memstore: license %q is %s: %w", id, l.Status, ErrConflict)
	}
	m.appendAudit(&AuditEntry{At: at, Actor: actor, Action: "license.status", Object: id, Agency: l.Agency,
		Detail: map[string]string{"agency": l.Agency, "from": l.Status, "to": status, "reason": reason}})
	l.Status, l.Reason = status, reason
	return clone(l), nil
}

func (m *MemStore) CreateClaim(ctx context.Context, c *Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims[string(c.CodeHash)] = clone(c)
	return nil
}

func (m *MemStore) RedeemClaim(ctx context.Context, codeHash []byte, at time.Time) (*Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.claims[string(codeHash)]
	if !ok || c.UsedAt != nil || !at.Before(c.Expires) {
		return nil, fmt.Errorf("memstore: claim: %w", ErrNotFound)
	}
	c.UsedAt = &at
	return clone(c), nil
}

// auditHash chains entries: SM3(prev hash || seq || fields, length-prefixed),
// the agency last and only when there is one. Without it there is an even
// number of fields (four, then detail pairs); with it an odd one, so no
// detail can pass for an agency.
func auditHash(prev []byte, e *AuditEntry) []byte {
	h := sm3.New()
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	fields := []string{e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Object}
	for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
		fields = append(fields, k, e.Detail[k])
	}
	if e.Agency != "" {
		fields = append(fields, "agency="+e.Agency)
	}
	for _, s := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

func (m *MemStore) AppendAudit(ctx context.Context, e *AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appendAudit(e)
	return nil
}

func (m *MemStore) appendAudit(e *AuditEntry) {
	c := clone(e)
	c.Detail = maps.Clone(e.Detail)
	c.Seq = int64(len(m.audit) + 1)
	if len(m.audit) > 0 {
		c.PrevHash = m.audit[len(m.audit)-1].Hash
	}
	c.Hash = auditHash(c.PrevHash, c)
	m.audit = append(m.audit, c)
	e.Seq, e.PrevHash, e.Hash = c.Seq, c.PrevHash, c.Hash
}

func (m *MemStore) ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	start := 0 // index of the first entry after the cursor's seq
	if f.Cursor != "" {
		n, err := strconv.Atoi(f.Cursor)
		if err != nil || n < 0 {
			return nil, "", nil
		}
		start = min(n, len(m.audit))
	}
	var out []*AuditEntry
	for i := start; i < len(m.audit); i++ {
		e := m.audit[i]
		if (f.Object != "" && e.Object != f.Object) || (f.Agency != "" && e.Agency != f.Agency) {
			continue
		}
		if len(out) == f.Limit {
			return out, strconv.FormatInt(out[len(out)-1].Seq, 10), nil
		}
		out = append(out, clone(e))
	}
	return out, "", nil
}

func (m *MemStore) VerifyAudit(ctx context.Context) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var prev []byte
	for i, e := range m.audit {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, auditHash(prev, e)) {
			return i, fmt.Errorf("memstore: audit entry %d does not match the hash chain", i+1)
		}
		prev = e.Hash
	}
	return len(m.audit), nil
}

// TamperAudit changes the detail of entry seq without fixing the chain, for
// tests of VerifyAudit.
func (m *MemStore) TamperAudit(seq int, detail string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit[seq-1].Detail = map[string]string{"tampered": detail}
}

// MoveAudit moves entry seq to another agency without fixing the chain,
// for tests of VerifyAudit.
func (m *MemStore) MoveAudit(seq int, agency string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit[seq-1].Agency = agency
}

func (m *MemStore) AddUsage(ctx context.Context, u *Usage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u.ID = strconv.Itoa(len(m.usage) + 1)
	m.usage = append(m.usage, clone(u))
	return nil
}

func (m *MemStore) ListUsage(ctx context.Context, f UsageFilter) ([]*Usage, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	end := len(m.usage)
	if f.Cursor != "" {
		n, err := strconv.Atoi(f.Cursor)
		if err != nil || n < 0 || n > end {
			return nil, "", nil
		}
		end = n
	}
	var out []*Usage
	for i := end - 1; i >= 0; i-- {
		u := m.usage[i]
		if (f.LicenseID != "" && u.LicenseID != f.LicenseID) || (f.HolderID != "" && !strings.EqualFold(u.HolderID, f.HolderID)) {
			continue
		}
		if len(out) == f.Limit {
			return out, strconv.Itoa(i + 1), nil
		}
		out = append(out, clone(u))
	}
	return out, "", nil
}

func (m *MemStore) CreateAgency(ctx context.Context, a *Agency) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.agencies[a.Code]; ok {
		return fmt.Errorf("memstore: agency %q: %w", a.Code, ErrConflict)
	}
	m.agencies[a.Code] = clone(a)
	return nil
}

func (m *MemStore) GetAgency(ctx context.Context, code string) (*Agency, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.agencies[code]
	if !ok {
		return nil, fmt.Errorf("memstore: agency %q: %w", code, ErrNotFound)
	}
	return clone(a), nil
}

func (m *MemStore) ListAgencies(ctx context.Context) ([]*Agency, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Agency
	for _, a := range m.agencies {
		out = append(out, clone(a))
	}
	slices.SortFunc(out, func(a, b *Agency) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

func (m *MemStore) CreateToken(ctx context.Context, t *Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[string(t.Hash)] = clone(t)
	return nil
}

func (m *MemStore) TokenByHash(ctx context.Context, hash []byte) (*Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.tokens[string(hash)]
	if !ok {
		return nil, fmt.Errorf("memstore: token: %w", ErrNotFound)
	}
	return clone(t), nil
}

func (m *MemStore) ListTokens(ctx context.Context, agency string) ([]*Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Token
	for _, t := range m.tokens {
		if agency == "" || t.Agency == agency {
			out = append(out, clone(t))
		}
	}
	slices.SortFunc(out, func(a, b *Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (m *MemStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tokens {
		if t.ID == id {
			if t.RevokedAt == nil {
				t.RevokedAt = &at
			}
			return nil
		}
	}
	return fmt.Errorf("memstore: token %q: %w", id, ErrNotFound)
}

func (m *MemStore) CreateUser(ctx context.Context, u *User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[u.Name]; ok {
		return fmt.Errorf("memstore: user %q: %w", u.Name, ErrConflict)
	}
	m.users[u.Name] = clone(u)
	return nil
}

func (m *MemStore) GetUser(ctx context.Context, name string) (*User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.users[name]
	if !ok {
		return nil, fmt.Errorf("memstore: user %q: %w", name, ErrNotFound)
	}
	return clone(u), nil
}
