package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zhengxin/zhengxin/store"
)

// FromStore adapts a store.Store (SQLite or PostgreSQL) to the server's
// Store. qrText turns a stored signed license (LicenseRecord.Payload) into
// its QR payload text — with package license that is
//
//	func(p []byte) (string, error) { l, err := license.ParseLicense(p); if err != nil { return "", err }; return l.QRText() }
//
// nil leaves License.QR empty (then GET /licenses/{id}/qr answers 404). It
// runs on single-license reads (GetLicense), not on list pages, where it
// would cost a parse per row, nor on the answer to an issuance: those
// carry "qr" only when the Issuer made it.
//
// One mapping is worth knowing: ListLicenses pages in the store's keyset
// order (by identifier).
func FromStore(st store.Store, qrText func(payload []byte) (string, error)) Store {
	return &storeAdapter{st: st, qr: qrText}
}

type storeAdapter struct {
	st store.Store
	qr func([]byte) (string, error)
}

// mapErr turns the store's sentinel errors into the server's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrRevoked),
		errors.Is(err, store.ErrClaimUsed), errors.Is(err, store.ErrClaimExpired):
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalidTransition):
		return fmt.Errorf("%w (%w)", ErrConflict, err)
	}
	return err
}

func (a *storeAdapter) Ping(ctx context.Context) error { return a.st.Ping(ctx) }

func (a *storeAdapter) toLicense(r *store.LicenseRecord) *License {
	l := &License{
		ID: r.ID, Type: r.TypeCode, Agency: r.AgencyID, Number: r.Number, HolderName: r.HolderName,
		HolderIDType: r.HolderIDType, HolderID: r.HolderIDNumber, Status: string(r.Status),
		IssuedAt: r.IssuedAt, ValidFrom: r.ValidFrom, Signed: r.Payload,
		StatusList: r.StatusListID, StatusIndex: uint64(r.StatusIndex),
	}
	if !r.ValidTo.IsZero() {
		t := r.ValidTo
		l.ValidUntil = &t
	}
	if len(r.Fields) > 0 && string(r.Fields) != "{}" {
		_ = json.Unmarshal(r.Fields, &l.Fields) // the store checked it is a JSON object
	}
	return l
}

func (a *storeAdapter) withQR(l *License) *License {
	if a.qr != nil && l.QR == "" && len(l.Signed) > 0 {
		if q, err := a.qr(l.Signed); err == nil {
			l.QR = q
		}
	}
	return l
}

func fromLicense(l *License, idem string) (store.LicenseRecord, error) {
	r := store.LicenseRecord{
		ID: l.ID, AgencyID: l.Agency, TypeCode: l.Type, Number: l.Number, HolderName: l.HolderName,
		HolderIDType: l.HolderIDType, HolderIDNumber: l.HolderID, Status: store.LicenseStatus(l.Status),
		ValidFrom: l.ValidFrom, IssuedAt: l.IssuedAt, StatusListID: l.StatusList, StatusIndex: int64(l.StatusIndex),
		IndexReserved: l.IndexReserved, Payload: l.Signed, IdempotencyKey: idem,
	}
	if l.ValidUntil != nil {
		r.ValidTo = *l.ValidUntil
	}
	if len(l.Fields) > 0 {
		b, err := json.Marshal(l.Fields)
		if err != nil {
			return r, fmt.Errorf("server: license %s fields: %w", l.ID, err)
		}
		r.Fields = b
	}
	return r, nil
}

func toStoreAudit(e *AuditEntry) (store.AuditEntry, error) {
	se := store.AuditEntry{At: e.At, Actor: e.Actor, Action: e.Action, Object: e.Object, Agency: e.Agency}
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return se, err
		}
		se.Detail = b
	}
	return se, nil
}

func fromStoreAudit(se *store.AuditEntry) *AuditEntry {
	e := &AuditEntry{Seq: se.Seq, At: se.At, Actor: se.Actor, Action: se.Action, Object: se.Object, Agency: se.Agency, PrevHash: se.PrevHash, Hash: se.Hash}
	if len(se.Detail) > 0 && json.Unmarshal(se.Detail, &e.Detail) != nil {
		// Entries written by other tools may hold any JSON value.
		e.Detail = map[string]string{"json": string(se.Detail)}
	}
	return e
}

func (a *storeAdapter) CreateLicense(ctx context.Context, l *License, idemKey string, audit *AuditEntry) (*License, bool, error) {
	rec, err := fromLicense(l, idemKey)
	if err != nil {
		return nil, false, err
	}
	if audit == nil { // store/ audits every issuance in the same transaction
		audit = &AuditEntry{At: l.IssuedAt, Actor: "system", Action: "license.issue", Object: l.ID, Agency: l.Agency}
	}
	se, err := toStoreAudit(audit)
	if err != nil {
		return nil, false, err
	}
	stored, existed, err := a.st.IssueLicense(ctx, rec, se)
	if err != nil {
		return nil, false, mapErr(err)
	}
	out := a.toLicense(&stored)
	if !existed {
		out.QR = l.QR // as the issuer made it (empty with LicenseIssuer.LazyQR)
	}
	return out, !existed, nil
}

// CreateLicenses implements BatchLicenseStore with store.IssueLicenses.
func (a *storeAdapter) CreateLicenses(ctx context.Context, ls []*License, keys []string, audit *AuditEntry) ([]*License, []bool, error) {
	recs := make([]store.LicenseRecord, len(ls))
	for i, l := range ls {
		r, err := fromLicense(l, keys[i])
		if err != nil {
			return nil, nil, err
		}
		recs[i] = r
	}
	var sa *store.AuditEntry
	if audit != nil {
		e, err := toStoreAudit(audit)
		if err != nil {
			return nil, nil, err
		}
		sa = &e
	}
	res, err := a.st.IssueLicenses(ctx, recs, sa)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	stored, created := make([]*License, len(ls)), make([]bool, len(ls))
	for i, r := range res {
		if r.Existed {
			l, err := a.GetLicense(ctx, r.ID)
			if err != nil {
				return nil, nil, err
			}
			stored[i] = l
			continue
		}
		c := *ls[i]
		c.StatusIndex = uint64(r.StatusIndex)
		if c.StatusList == "" {
			c.StatusList = c.Agency // store/'s default list is the agency's
		}
		stored[i], created[i] = &c, true
	}
	return stored, created, nil
}

func (a *storeAdapter) GetLicense(ctx context.Context, id string) (*License, error) {
	r, err := a.st.GetLicense(ctx, id)
	if err != nil {
		return nil, mapErr(err)
	}
	l := a.withQR(a.toLicense(&r))
	if r.Status != store.StatusValid && r.Status != "" {
		// The reason lives in the history; show the latest.
		if h, err := a.st.LicenseHistory(ctx, id); err == nil && len(h) > 0 {
			l.Reason = h[len(h)-1].Reason
		}
	}
	return l, nil
}

func (a *storeAdapter) ListLicenses(ctx context.Context, f LicenseFilter) ([]*License, string, error) {
	p, err := a.st.ListLicenses(ctx, store.LicenseFilter{
		AgencyID: f.Agency, TypeCode: f.Type, HolderIDNumber: f.HolderID, Status: store.LicenseStatus(f.Status),
		Query: f.Query, After: f.Cursor, Limit: f.Limit,
	})
	if err != nil {
		return nil, "", mapErr(err)
	}
	out := make([]*License, len(p.Items))
	for i := range p.Items {
		out[i] = a.toLicense(&p.Items[i])
	}
	return out, p.Next, nil
}

func (a *storeAdapter) SetLicenseStatus(ctx context.Context, id, status, reason, actor string, at time.Time) (*License, error) {
	if err := a.st.SetLicenseStatus(ctx, id, store.LicenseStatus(status), reason, actor, at); err != nil {
		return nil, mapErr(err)
	}
	return a.GetLicense(ctx, id)
}

func (a *storeAdapter) CreateClaim(ctx context.Context, c *Claim) error {
	return mapErr(a.st.CreateClaimCode(ctx, store.ClaimCode{Hash: c.CodeHash, LicenseID: c.LicenseID, Expires: c.Expires}))
}

func (a *storeAdapter) RedeemClaim(ctx context.Context, codeHash []byte, at time.Time) (*Claim, error) {
	id, err := a.st.RedeemClaimCode(ctx, codeHash, at)
	if err != nil {
		return nil, mapErr(err)
	}
	r, err := a.st.GetLicense(ctx, id)
	if err != nil {
		return nil, mapErr(err)
	}
	return &Claim{CodeHash: codeHash, LicenseID: id, HolderID: r.HolderIDNumber, UsedAt: &at}, nil
}

func (a *storeAdapter) AppendAudit(ctx context.Context, e *AuditEntry) error {
	se, err := toStoreAudit(e)
	if err != nil {
		return err
	}
	got, err := a.st.AppendAudit(ctx, se)
	if err != nil {
		return mapErr(err)
	}
	e.Seq, e.Agency, e.PrevHash, e.Hash = got.Seq, got.Agency, got.PrevHash, got.Hash
	return nil
}

func (a *storeAdapter) ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, string, error) {
	var after int64
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n < 0 {
			return nil, "", nil
		}
		after = n
	}
	es, err := a.st.ListAudit(ctx, store.AuditFilter{AfterSeq: after, Object: f.Object, Agency: f.Agency, Limit: f.Limit})
	if err != nil {
		return nil, "", mapErr(err)
	}
	out := make([]*AuditEntry, len(es))
	for i := range es {
		out[i] = fromStoreAudit(&es[i])
	}
	next := ""
	if f.Limit > 0 && len(out) == f.Limit {
		next = strconv.FormatInt(out[len(out)-1].Seq, 10)
	}
	return out, next, nil
}

func (a *storeAdapter) VerifyAudit(ctx context.Context) (int, error) {
	c, err := a.st.VerifyAuditChain(ctx)
	if err != nil {
		return 0, err
	}
	if !c.OK {
		return int(c.Entries), fmt.Errorf("store: audit entry %d does not match the hash chain: %s", c.FirstBroken, c.Reason)
	}
	return int(c.Entries), nil
}

func (a *storeAdapter) AddUsage(ctx context.Context, u *Usage) error {
	id, err := a.st.AppendUsage(ctx, store.UsageRecord{
		At: u.At, LicenseID: u.LicenseID, HolderIDNumber: u.HolderID, CounterID: u.Counter, ServiceItem: u.ServiceItem,
		Operator: u.Operator, Verdict: u.Verdict, Reason: u.Reason, Disclosed: u.Disclosed,
	})
	if err != nil {
		return mapErr(err)
	}
	u.ID = strconv.FormatInt(id, 10)
	return nil
}

func (a *storeAdapter) ListUsage(ctx context.Context, f UsageFilter) ([]*Usage, string, error) {
	var before int64
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n < 1 {
			return nil, "", nil
		}
		before = n
	}
	rs, err := a.st.ListUsage(ctx, store.UsageFilter{LicenseID: f.LicenseID, HolderIDNumber: f.HolderID, BeforeID: before, Limit: f.Limit})
	if err != nil {
		return nil, "", mapErr(err)
	}
	out := make([]*Usage, len(rs))
	for i, r := range rs {
		out[i] = &Usage{ID: strconv.FormatInt(r.ID, 10), At: r.At, LicenseID: r.LicenseID, HolderID: r.HolderIDNumber,
			Counter: r.CounterID, Operator: r.Operator, ServiceItem: r.ServiceItem, Verdict: r.Verdict, Reason: r.Reason, Disclosed: r.Disclosed}
	}
	next := ""
	if f.Limit > 0 && len(out) == f.Limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func (a *storeAdapter) CreateAgency(ctx context.Context, ag *Agency) error {
	return mapErr(a.st.CreateAgency(ctx, store.Agency{ID: ag.Code, Name: ag.Name, CreditCode: ag.CreditCode, RegionCode: ag.RegionCode, CreatedAt: ag.CreatedAt}))
}

func fromStoreAgency(s store.Agency) *Agency {
	return &Agency{Code: s.ID, Name: s.Name, CreditCode: s.CreditCode, RegionCode: s.RegionCode, CreatedAt: s.CreatedAt}
}

func (a *storeAdapter) GetAgency(ctx context.Context, code string) (*Agency, error) {
	s, err := a.st.GetAgency(ctx, code)
	if err != nil {
		return nil, mapErr(err)
	}
	return fromStoreAgency(s), nil
}

func (a *storeAdapter) ListAgencies(ctx context.Context) ([]*Agency, error) {
	ss, err := a.st.ListAgencies(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]*Agency, len(ss))
	for i, s := range ss {
		out[i] = fromStoreAgency(s)
	}
	return out, nil
}

func (a *storeAdapter) CreateToken(ctx context.Context, t *Token) error {
	st := store.Token{ID: t.ID, Name: t.Name, Role: store.Role(t.Role), AgencyID: t.Agency, Hash: t.Hash, CreatedAt: t.CreatedAt}
	if t.Role == RoleHolder { // a holder token acts for a holder, never an agency
		st.AgencyID, st.HolderID = "", t.HolderID
	}
	return mapErr(a.st.CreateToken(ctx, st))
}

func fromStoreToken(s store.Token) *Token {
	t := &Token{ID: s.ID, Hash: s.Hash, Name: s.Name, Role: Role(s.Role), Agency: s.AgencyID, HolderID: s.HolderID, CreatedAt: s.CreatedAt}
	if s.Revoked {
		// The store keeps a flag, not a time; the zero time says "revoked, when unknown".
		t.RevokedAt = new(time.Time)
	}
	return t
}

func (a *storeAdapter) TokenByHash(ctx context.Context, hash []byte) (*Token, error) {
	s, err := a.st.TokenByHash(ctx, hash)
	if err != nil {
		return nil, mapErr(err)
	}
	return fromStoreToken(s), nil
}

func (a *storeAdapter) ListTokens(ctx context.Context, agency string) ([]*Token, error) {
	ss, err := a.st.ListTokens(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	var out []*Token
	for _, s := range ss {
		if t := fromStoreToken(s); agency == "" || t.Agency == agency {
			out = append(out, t)
		}
	}
	return out, nil
}

func (a *storeAdapter) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return mapErr(a.st.RevokeToken(ctx, id))
}

func (a *storeAdapter) CreateUser(ctx context.Context, u *User) error {
	// PutUser replaces; creating must not overwrite someone's password.
	if _, err := a.st.GetUser(ctx, u.Name); err == nil {
		return fmt.Errorf("server: user %q: %w", u.Name, ErrConflict)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return mapErr(a.st.PutUser(ctx, store.User{Username: u.Name, PasswordHash: u.PasswordHash, Role: store.Role(u.Role), AgencyID: u.Agency, CreatedAt: u.CreatedAt}))
}

func (a *storeAdapter) GetUser(ctx context.Context, name string) (*User, error) {
	s, err := a.st.GetUser(ctx, name)
	if err != nil {
		return nil, mapErr(err)
	}
	return &User{Name: s.Username, PasswordHash: s.PasswordHash, Role: Role(s.Role), Agency: s.AgencyID, CreatedAt: s.CreatedAt}, nil
}
