package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"
)

// The two backends differ only in connection handling, a few SQL spellings
// and the bulk insert path; everything else is written once here against
// these small interfaces, so that both pass the same suite for the same
// reasons. SQL is written with ? placeholders; the PostgreSQL backend
// rewrites them to $n.

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface{ Scan(dest ...any) error }

type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
}

// errNoRows is what both backends' row wrappers return for an empty result.
var errNoRows = errors.New("no rows")

type backend interface {
	name() string
	reader() querier // autocommit reads (and single-statement writes on PostgreSQL)
	writer() querier // autocommit single-statement writes
	// tx runs fn in one read-write transaction; an error from fn rolls back.
	tx(ctx context.Context, fn func(q querier) error) error
	forUpdate() string // row lock suffix, "" where the whole database is locked
	likeOp() string
	// lockAudit serializes audit appends until the transaction ends.
	lockAudit(ctx context.Context, q querier) error
	// migrationLock serializes migrations until the transaction ends.
	migrationLock(ctx context.Context, q querier) error
	// existingKeys returns id and status index of agency's licenses whose
	// idempotency key is in keys.
	existingKeys(ctx context.Context, q querier, agency string, keys []string) (map[string]IssueResult, error)
	// bulkInsert inserts recs (normalized, indexes assigned) into licenses.
	bulkInsert(ctx context.Context, q querier, recs []LicenseRecord) error
	isUnique(err error) bool
	ts(t time.Time) any // a time as a query argument; zero is NULL
	ping(ctx context.Context) error
	close() error
}

type db struct{ b backend }

func (d *db) Backend() string                { return d.b.name() }
func (d *db) Ping(ctx context.Context) error { return d.b.ping(ctx) }
func (d *db) Close() error                   { return d.b.close() }

// tcol scans a time column stored as microseconds (SQLite) or timestamptz
// (PostgreSQL); NULL scans as the zero time.
type tcol struct{ t *time.Time }

func (c tcol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(x).UTC()
	case time.Time:
		*c.t = x.UTC()
	default:
		return fmt.Errorf("store: unexpected time column type %T", v)
	}
	return nil
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

func notFound(what, key string) error {
	return fmt.Errorf("store: %s %q: %w", what, key, ErrNotFound)
}

func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// ---- agencies ----

func (d *db) CreateAgency(ctx context.Context, a Agency) error {
	if a.ID == "" || a.Name == "" {
		return fmt.Errorf("store: agency needs an id and a name: %w", ErrInvalid)
	}
	if len(a.CreditCode) != 18 {
		return fmt.Errorf("store: agency %q: credit code must be 18 characters (GB 32100), got %d: %w", a.ID, len(a.CreditCode), ErrInvalid)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	return d.b.tx(ctx, func(q querier) error {
		_, err := q.exec(ctx, `INSERT INTO agencies (id, name, credit_code, region_code, created_at) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Name, a.CreditCode, a.RegionCode, d.b.ts(micro(a.CreatedAt)))
		if d.b.isUnique(err) {
			return fmt.Errorf("store: agency %q or credit code %s: %w", a.ID, a.CreditCode, ErrExists)
		}
		if err != nil {
			return wrap("create agency", err)
		}
		_, err = q.exec(ctx, `INSERT INTO status_counters (agency_id, next) VALUES (?, 0)`, a.ID)
		return wrap("create agency status counter", err)
	})
}

const agencyCols = `id, name, credit_code, region_code, created_at`

func scanAgency(r row) (Agency, error) {
	var a Agency
	err := r.Scan(&a.ID, &a.Name, &a.CreditCode, &a.RegionCode, tcol{&a.CreatedAt})
	return a, err
}

func (d *db) GetAgency(ctx context.Context, id string) (Agency, error) {
	a, err := scanAgency(d.b.reader().queryRow(ctx, `SELECT `+agencyCols+` FROM agencies WHERE id = ?`, id))
	if errors.Is(err, errNoRows) {
		return a, notFound("agency", id)
	}
	return a, wrap("get agency", err)
}

func (d *db) ListAgencies(ctx context.Context) ([]Agency, error) {
	return list(ctx, d.b.reader(), scanAgency, "list agencies", `SELECT `+agencyCols+` FROM agencies ORDER BY id`)
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, q querier, scan func(row) (T, error), what, sqlText string, args ...any) ([]T, error) {
	rs, err := q.query(ctx, sqlText, args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rs.Close()
	var out []T
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, v)
	}
	return out, wrap(what, rs.Err())
}

// ---- certificates ----

var certRoles = map[CertRole]bool{RoleRoot: true, RoleAgencyCA: true, RoleLicenseSigner: true, RoleSeal: true, RoleSealMaker: true}

const certCols = `serial, agency_id, role, subject, not_before, not_after, der, kid, revoked_at, revocation_reason`

func scanCert(r row) (Certificate, error) {
	var c Certificate
	err := r.Scan(&c.Serial, &c.AgencyID, &c.Role, &c.Subject, tcol{&c.NotBefore}, tcol{&c.NotAfter}, &c.DER, &c.KID, tcol{&c.RevokedAt}, &c.RevocationReason)
	return c, err
}

func (d *db) PutCertificate(ctx context.Context, c Certificate) error {
	switch {
	case c.Serial == "" || len(c.DER) == 0:
		return fmt.Errorf("store: certificate needs a serial and DER: %w", ErrInvalid)
	case len(c.KID) != 8:
		return fmt.Errorf("store: certificate %s: kid must be 8 bytes, got %d: %w", c.Serial, len(c.KID), ErrInvalid)
	case !certRoles[c.Role]:
		return fmt.Errorf("store: certificate %s: unknown role %q: %w", c.Serial, c.Role, ErrInvalid)
	}
	_, err := d.b.writer().exec(ctx, `INSERT INTO certificates (`+certCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Serial, c.AgencyID, string(c.Role), c.Subject, d.b.ts(micro(c.NotBefore)), d.b.ts(micro(c.NotAfter)), c.DER, c.KID,
		d.b.ts(micro(c.RevokedAt)), c.RevocationReason)
	if d.b.isUnique(err) {
		return fmt.Errorf("store: certificate %s: %w", c.Serial, ErrExists)
	}
	return wrap("put certificate", err)
}

func (d *db) GetCertificate(ctx context.Context, serial string) (Certificate, error) {
	c, err := scanCert(d.b.reader().queryRow(ctx, `SELECT `+certCols+` FROM certificates WHERE serial = ?`, serial))
	if errors.Is(err, errNoRows) {
		return c, notFound("certificate", serial)
	}
	return c, wrap("get certificate", err)
}

func (d *db) CertificatesByKID(ctx context.Context, kid []byte) ([]Certificate, error) {
	return list(ctx, d.b.reader(), scanCert, "certificates by kid", `SELECT `+certCols+` FROM certificates WHERE kid = ? ORDER BY not_before DESC, serial`, kid)
}

func (d *db) ListCertificates(ctx context.Context, f CertFilter) ([]Certificate, error) {
	var where []string
	var args []any
	if f.AgencyID != "" {
		where, args = append(where, "agency_id = ?"), append(args, f.AgencyID)
	}
	if f.Role != "" {
		where, args = append(where, "role = ?"), append(args, string(f.Role))
	}
	return list(ctx, d.b.reader(), scanCert, "list certificates", `SELECT `+certCols+` FROM certificates`+whereClause(where)+` ORDER BY serial`, args...)
}

func whereClause(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

func (d *db) RevokeCertificate(ctx context.Context, serial string, at time.Time, reason string) error {
	if at.IsZero() {
		return fmt.Errorf("store: revoke certificate %s: no revocation time: %w", serial, ErrInvalid)
	}
	n, err := d.b.writer().exec(ctx, `UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ? AND revoked_at IS NULL`,
		d.b.ts(micro(at)), reason, serial)
	if err != nil {
		return wrap("revoke certificate", err)
	}
	if n == 0 {
		c, err := d.GetCertificate(ctx, serial)
		if err != nil {
			return err
		}
		return fmt.Errorf("store: certificate %s was revoked already at %s: %w", serial, c.RevokedAt.Format(time.RFC3339), ErrExists)
	}
	return nil
}

// ---- licenses ----

const licCols = `id, agency_id, type_code, number, holder_name, holder_id_type, holder_id_number, status, valid_from, valid_to, issued_at, version, replaces, status_list_id, status_index, payload, fields, idem_key, holder_device_key`

const licInsert = `INSERT INTO licenses (` + licCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func scanLicense(r row) (LicenseRecord, error) {
	var l LicenseRecord
	var fields string
	err := r.Scan(&l.ID, &l.AgencyID, &l.TypeCode, &l.Number, &l.HolderName, &l.HolderIDType, &l.HolderIDNumber, &l.Status,
		tcol{&l.ValidFrom}, tcol{&l.ValidTo}, tcol{&l.IssuedAt}, &l.Version, &l.Replaces, &l.StatusListID, &l.StatusIndex,
		&l.Payload, &fields, &l.IdempotencyKey, &l.HolderDeviceKey)
	l.Fields = []byte(fields)
	return l, err
}

func (d *db) licArgs(l *LicenseRecord) []any {
	return []any{l.ID, l.AgencyID, l.TypeCode, l.Number, l.HolderName, l.HolderIDType, l.HolderIDNumber, string(l.Status),
		d.b.ts(l.ValidFrom), d.b.ts(l.ValidTo), d.b.ts(l.IssuedAt), l.Version, l.Replaces, l.StatusListID, l.StatusIndex,
		l.Payload, string(l.Fields), l.IdempotencyKey, nilIfEmpty(l.HolderDeviceKey)}
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// normalize checks a license record and fills the defaults.
func normalize(l *LicenseRecord, now time.Time) error {
	switch {
	case l.ID == "":
		return fmt.Errorf("store: license has no id: %w", ErrInvalid)
	case l.AgencyID == "":
		return fmt.Errorf("store: license %s has no agency: %w", l.ID, ErrInvalid)
	case l.TypeCode == "":
		return fmt.Errorf("store: license %s has no type code: %w", l.ID, ErrInvalid)
	case len(l.Payload) == 0:
		return fmt.Errorf("store: license %s has no signed payload: %w", l.ID, ErrInvalid)
	}
	if l.Status == "" {
		l.Status = StatusValid
	}
	if !l.Status.Known() {
		return fmt.Errorf("store: license %s: unknown status %q (want valid, suspended, revoked or cancelled): %w", l.ID, l.Status, ErrInvalid)
	}
	if l.Version == 0 {
		l.Version = 1
	}
	if l.StatusListID == "" {
		l.StatusListID = l.AgencyID
	}
	if len(l.Fields) == 0 {
		l.Fields = []byte("{}")
	} else if !json.Valid(l.Fields) {
		return fmt.Errorf("store: license %s: fields are not valid JSON: %w", l.ID, ErrInvalid)
	}
	if l.IssuedAt.IsZero() {
		l.IssuedAt = now
	}
	l.IssuedAt, l.ValidFrom, l.ValidTo = micro(l.IssuedAt), micro(l.ValidFrom), micro(l.ValidTo)
	return nil
}

// The explicit idem_key <> (empty string) in the lookups below lets both planners use
// the partial unique index (agency_id, idem_key) WHERE idem_key is not empty; a
// bare "idem_key = ?" does not imply the index predicate.
func (d *db) licenseByKey(ctx context.Context, q querier, agency, key string) (LicenseRecord, error) {
	return scanLicense(q.queryRow(ctx, `SELECT `+licCols+` FROM licenses WHERE agency_id = ? AND idem_key = ? AND idem_key <> ''`, agency, key))
}

// reserve locks agency's status counter and advances it by n, returning
// the first reserved index. The lock is what serializes issuance per agency
// on PostgreSQL (idempotency checks happen after it).
func (d *db) reserve(ctx context.Context, q querier, agency string, n int64) (int64, error) {
	var next int64
	err := q.queryRow(ctx, `SELECT next FROM status_counters WHERE agency_id = ?`+d.b.forUpdate(), agency).Scan(&next)
	if errors.Is(err, errNoRows) {
		return 0, notFound("agency", agency)
	}
	if err != nil {
		return 0, wrap("lock status counter", err)
	}
	return next, d.advance(ctx, q, agency, n)
}

// advance moves agency's counter on by n; the caller holds its lock.
func (d *db) advance(ctx context.Context, q querier, agency string, n int64) error {
	if n == 0 {
		return nil
	}
	_, err := q.exec(ctx, `UPDATE status_counters SET next = next + ? WHERE agency_id = ?`, n, agency)
	return wrap("advance status counter", err)
}

func (d *db) IssueLicense(ctx context.Context, rec LicenseRecord, audit AuditEntry) (LicenseRecord, bool, error) {
	if err := normalize(&rec, time.Now()); err != nil {
		return rec, false, err
	}
	var existed bool
	err := d.b.tx(ctx, func(q querier) error {
		var err error
		rec, existed, err = d.issue(ctx, q, rec, audit)
		return err
	})
	return rec, existed, err
}

// checkReserved refuses a preset status index that was never handed out
// by ReserveStatusIndexes (next is the agency's counter).
func checkReserved(rec *LicenseRecord, next int64) error {
	if rec.StatusIndex < 0 || rec.StatusIndex >= next {
		return fmt.Errorf("store: license %s: status index %d was not reserved (agency %s has reserved 0..%d); call ReserveStatusIndexes first: %w",
			rec.ID, rec.StatusIndex, rec.AgencyID, next-1, ErrInvalid)
	}
	return nil
}

func (d *db) ReserveStatusIndexes(ctx context.Context, agencyID string, n int) (int64, error) {
	if n < 1 || n > 1_000_000 {
		return 0, fmt.Errorf("store: reserve %d status indexes: want 1 to 1000000: %w", n, ErrInvalid)
	}
	var first int64
	err := d.b.tx(ctx, func(q querier) error {
		var err error
		first, err = d.reserve(ctx, q, agencyID, int64(n))
		return err
	})
	return first, err
}

func (d *db) LookupIdempotencyKeys(ctx context.Context, agencyID string, keys []string) (map[string]IssueResult, error) {
	out := map[string]IssueResult{}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 10000)]
		keys = keys[len(chunk):]
		m, err := d.b.existingKeys(ctx, d.b.reader(), agencyID, chunk)
		if err != nil {
			return nil, wrap("look up idempotency keys", err)
		}
		for k, r := range m {
			r.Existed = true
			out[k] = r
		}
	}
	return out, nil
}

// licenseAudit fills the agency of a license operation's audit entry with
// the license's, and refuses an entry that names another agency: one
// agency's auditors must not find, or miss, another agency's licenses.
func licenseAudit(e *AuditEntry, licenseID, agency string) error {
	if e.Agency == "" {
		e.Agency = agency
		return nil
	}
	if e.Agency != agency {
		return fmt.Errorf("store: audit entry of agency %s for license %s of agency %s: %w", e.Agency, licenseID, agency, ErrInvalid)
	}
	return nil
}

// issue is IssueLicense inside a transaction.
func (d *db) issue(ctx context.Context, q querier, rec LicenseRecord, audit AuditEntry) (LicenseRecord, bool, error) {
	if err := licenseAudit(&audit, rec.ID, rec.AgencyID); err != nil {
		return rec, false, err
	}
	next, err := d.reserve(ctx, q, rec.AgencyID, 0) // locks the counter
	if err != nil {
		return rec, false, err
	}
	if rec.IdempotencyKey != "" {
		old, err := d.licenseByKey(ctx, q, rec.AgencyID, rec.IdempotencyKey)
		if err == nil {
			return old, true, nil
		}
		if !errors.Is(err, errNoRows) {
			return rec, false, wrap("look up idempotency key", err)
		}
	}
	if rec.IndexReserved {
		if err := checkReserved(&rec, next); err != nil {
			return rec, false, err
		}
	} else {
		if err := d.advance(ctx, q, rec.AgencyID, 1); err != nil {
			return rec, false, err
		}
		rec.StatusIndex = next
	}
	if _, err := q.exec(ctx, licInsert, d.licArgs(&rec)...); err != nil {
		if d.b.isUnique(err) {
			return rec, false, fmt.Errorf("store: license %s or its status index %d is already used: %w", rec.ID, rec.StatusIndex, ErrConflict)
		}
		return rec, false, wrap("insert license", err)
	}
	if audit.Object == "" {
		audit.Object = rec.ID
	}
	if _, err := d.appendAudit(ctx, q, audit); err != nil {
		return rec, false, err
	}
	return rec, false, nil
}

func (d *db) IssueLicenses(ctx context.Context, batch []LicenseRecord, audit *AuditEntry) ([]IssueResult, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	now := time.Now()
	recs := make([]LicenseRecord, len(batch))
	copy(recs, batch)
	byAgency := map[string][]int{}
	for i := range recs {
		if err := normalize(&recs[i], now); err != nil {
			return nil, fmt.Errorf("%w (batch row %d)", err, i)
		}
		byAgency[recs[i].AgencyID] = append(byAgency[recs[i].AgencyID], i)
	}
	agencies := make([]string, 0, len(byAgency))
	for a := range byAgency {
		agencies = append(agencies, a)
	}
	sort.Strings(agencies) // one lock order for every batch: no deadlocks
	if audit != nil {
		// One entry covers the batch: it belongs to the batch's agency, or
		// to none (deployment-wide) when the batch spans several.
		a := *audit
		if a.Agency == "" && len(agencies) == 1 {
			a.Agency = agencies[0]
		}
		if a.Agency == "" {
			a.Agency = AuditAgency(a)
		}
		for _, ag := range agencies {
			if a.Agency != "" && ag != a.Agency {
				return nil, fmt.Errorf("store: the batch's audit entry belongs to agency %s but the batch has licenses of agency %s; write one batch per agency, or an entry without agency: %w", a.Agency, ag, ErrInvalid)
			}
		}
		audit = &a
	}
	res := make([]IssueResult, len(recs))
	err := d.b.tx(ctx, func(q querier) error {
		fresh := make([]LicenseRecord, 0, len(recs))
		for _, agency := range agencies {
			rows := byAgency[agency]
			base, err := d.reserve(ctx, q, agency, 0) // locks the counter
			if err != nil {
				return err
			}
			var keys []string
			for _, i := range rows {
				if k := recs[i].IdempotencyKey; k != "" {
					keys = append(keys, k)
				}
			}
			seen := map[string]IssueResult{}
			if len(keys) > 0 {
				var err error
				if seen, err = d.b.existingKeys(ctx, q, agency, keys); err != nil {
					return wrap("look up idempotency keys", err)
				}
			}
			var newRows []int
			firstInBatch := map[string]int{} // key -> batch row that inserts it
			dupOf := map[int]int{}           // batch row -> earlier row with the same key
			for _, i := range rows {
				k := recs[i].IdempotencyKey
				if k != "" {
					if r, ok := seen[k]; ok {
						r.Existed = true
						res[i] = r
						continue
					}
					if j, ok := firstInBatch[k]; ok {
						dupOf[i] = j
						continue
					}
					firstInBatch[k] = i
				}
				newRows = append(newRows, i)
			}
			var assign int64
			for _, i := range newRows {
				if !recs[i].IndexReserved {
					assign++
				}
			}
			if err := d.advance(ctx, q, agency, assign); err != nil {
				return err
			}
			next := base // reserved indexes are below base; base.. are assigned now
			for _, i := range newRows {
				if recs[i].IndexReserved {
					if err := checkReserved(&recs[i], base); err != nil {
						return err
					}
				} else {
					recs[i].StatusIndex = next
					next++
				}
				res[i] = IssueResult{ID: recs[i].ID, StatusIndex: recs[i].StatusIndex}
				fresh = append(fresh, recs[i])
			}
			// A key twice in one batch: the second row is a replay of the first.
			for i, j := range dupOf {
				res[i] = res[j]
				res[i].Existed = true
			}
		}
		if len(fresh) > 0 {
			if err := d.b.bulkInsert(ctx, q, fresh); err != nil {
				if d.b.isUnique(err) {
					return fmt.Errorf("store: bulk insert: a license id in the batch is already used (%v): %w", err, ErrConflict)
				}
				return wrap("bulk insert licenses", err)
			}
		}
		if audit != nil {
			if _, err := d.appendAudit(ctx, q, *audit); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (d *db) GetLicense(ctx context.Context, id string) (LicenseRecord, error) {
	l, err := scanLicense(d.b.reader().queryRow(ctx, `SELECT `+licCols+` FROM licenses WHERE id = ?`, id))
	if errors.Is(err, errNoRows) {
		return l, notFound("license", id)
	}
	return l, wrap("get license", err)
}

func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

func (d *db) ListLicenses(ctx context.Context, f LicenseFilter) (LicensePage, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	if f.AgencyID != "" {
		add("agency_id = ?", f.AgencyID)
	}
	if f.TypeCode != "" {
		add("type_code = ?", f.TypeCode)
	}
	if f.HolderIDNumber != "" {
		add("holder_id_number = ?", f.HolderIDNumber)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Query != "" {
		p := likePattern(f.Query)
		op := d.b.likeOp()
		add("(holder_name "+op+" ? ESCAPE '\\' OR number "+op+" ? ESCAPE '\\')", p, p)
	}
	if f.After != "" {
		add("id > ?", f.After)
	}
	n := limit(f.Limit)
	items, err := list(ctx, d.b.reader(), scanLicense, "list licenses",
		`SELECT `+licCols+` FROM licenses`+whereClause(where)+fmt.Sprintf(` ORDER BY id LIMIT %d`, n+1), args...)
	if err != nil {
		return LicensePage{}, err
	}
	var p LicensePage
	if len(items) > n {
		items = items[:n]
		p.Next = items[n-1].ID
	}
	p.Items = items
	return p, nil
}

func (d *db) SetLicenseStatus(ctx context.Context, id string, to LicenseStatus, reason, operator string, at time.Time) error {
	if !to.Known() {
		return fmt.Errorf("store: unknown license status %q (want valid, suspended, revoked or cancelled): %w", to, ErrInvalid)
	}
	if at.IsZero() {
		at = time.Now()
	}
	return d.b.tx(ctx, func(q querier) error {
		return d.setStatus(ctx, q, id, to, reason, operator, micro(at))
	})
}

func (d *db) setStatus(ctx context.Context, q querier, id string, to LicenseStatus, reason, operator string, at time.Time) error {
	var from LicenseStatus
	var agency string
	err := q.queryRow(ctx, `SELECT status, agency_id FROM licenses WHERE id = ?`+d.b.forUpdate(), id).Scan(&from, &agency)
	if errors.Is(err, errNoRows) {
		return notFound("license", id)
	}
	if err != nil {
		return wrap("lock license", err)
	}
	if from == to || from.Final() {
		return fmt.Errorf("store: license %s: cannot change status from %s to %s: %w", id, from, to, ErrInvalidTransition)
	}
	if _, err := q.exec(ctx, `UPDATE licenses SET status = ? WHERE id = ?`, string(to), id); err != nil {
		return wrap("update license status", err)
	}
	if _, err := q.exec(ctx, `INSERT INTO license_status_history (license_id, from_status, to_status, reason, operator, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, string(from), string(to), reason, operator, d.b.ts(at)); err != nil {
		return wrap("record status history", err)
	}
	detail, _ := json.Marshal(map[string]string{"from": string(from), "to": string(to), "reason": reason})
	_, err = d.appendAudit(ctx, q, AuditEntry{At: at, Actor: operator, Action: "license.status", Object: id, Detail: detail, Agency: agency})
	return err
}

func (d *db) BindHolderKey(ctx context.Context, id string, deviceKey, payload []byte, audit AuditEntry) error {
	if len(deviceKey) == 0 || len(payload) == 0 {
		return fmt.Errorf("store: license %s: binding needs the device key and the re-signed license: %w", id, ErrInvalid)
	}
	return d.b.tx(ctx, func(q querier) error {
		var status LicenseStatus
		var agency string
		err := q.queryRow(ctx, `SELECT status, agency_id FROM licenses WHERE id = ?`+d.b.forUpdate(), id).Scan(&status, &agency)
		if errors.Is(err, errNoRows) {
			return notFound("license", id)
		}
		if err != nil {
			return wrap("lock license", err)
		}
		if err := licenseAudit(&audit, id, agency); err != nil {
			return err
		}
		if status.Final() {
			return fmt.Errorf("store: license %s is %s and cannot be bound to a device: %w", id, status, ErrInvalidTransition)
		}
		if _, err := q.exec(ctx, `UPDATE licenses SET holder_device_key = ?, payload = ? WHERE id = ?`, deviceKey, payload, id); err != nil {
			return wrap("bind holder key", err)
		}
		if audit.Object == "" {
			audit.Object = id
		}
		if audit.Action == "" {
			audit.Action = "license.bind"
		}
		_, err = d.appendAudit(ctx, q, audit)
		return err
	})
}

func (d *db) LicenseHistory(ctx context.Context, id string) ([]StatusEvent, error) {
	if _, err := d.GetLicense(ctx, id); err != nil {
		return nil, err
	}
	return list(ctx, d.b.reader(), func(r row) (StatusEvent, error) {
		var e StatusEvent
		err := r.Scan(&e.LicenseID, &e.From, &e.To, &e.Reason, &e.Operator, tcol{&e.At})
		return e, err
	}, "license history", `SELECT license_id, from_status, to_status, reason, operator, at FROM license_status_history WHERE license_id = ? ORDER BY id`, id)
}

func (d *db) SupersedeLicense(ctx context.Context, oldID string, next LicenseRecord, audit AuditEntry) (LicenseRecord, error) {
	next.Replaces = oldID
	if err := normalize(&next, time.Now()); err != nil {
		return next, err
	}
	err := d.b.tx(ctx, func(q querier) error {
		old, err := scanLicense(q.queryRow(ctx, `SELECT `+licCols+` FROM licenses WHERE id = ?`+d.b.forUpdate(), oldID))
		if errors.Is(err, errNoRows) {
			return notFound("license", oldID)
		}
		if err != nil {
			return wrap("get superseded license", err)
		}
		if old.AgencyID != next.AgencyID {
			return fmt.Errorf("store: license %s belongs to agency %s, not %s: %w", oldID, old.AgencyID, next.AgencyID, ErrInvalid)
		}
		next.Version = old.Version + 1
		var existed bool
		next, existed, err = d.issue(ctx, q, next, audit)
		if err != nil {
			return err
		}
		if existed {
			return fmt.Errorf("store: license %s: idempotency key %q already used by %s: %w", oldID, next.IdempotencyKey, next.ID, ErrExists)
		}
		return d.setStatus(ctx, q, oldID, StatusCancelled, "superseded by "+next.ID, audit.Actor, next.IssuedAt)
	})
	return next, err
}

func (d *db) StatusSnapshot(ctx context.Context, agencyID string) iter.Seq2[StatusEntry, error] {
	return func(yield func(StatusEntry, error) bool) {
		rs, err := d.b.reader().query(ctx, `SELECT status_list_id, status_index, status FROM licenses WHERE agency_id = ? ORDER BY status_index`, agencyID)
		if err != nil {
			yield(StatusEntry{}, wrap("status snapshot", err))
			return
		}
		defer rs.Close()
		for rs.Next() {
			var e StatusEntry
			if err := rs.Scan(&e.ListID, &e.Index, &e.Status); err != nil {
				yield(StatusEntry{}, wrap("status snapshot", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rs.Err(); err != nil {
			yield(StatusEntry{}, wrap("status snapshot", err))
		}
	}
}

// ---- seals ----

const sealCols = `id, agency_id, name, type, der, valid_from, valid_to, created_at`

func scanSeal(r row) (Seal, error) {
	var s Seal
	err := r.Scan(&s.ID, &s.AgencyID, &s.Name, &s.Type, &s.DER, tcol{&s.ValidFrom}, tcol{&s.ValidTo}, tcol{&s.CreatedAt})
	return s, err
}

func (d *db) PutSeal(ctx context.Context, s Seal) error {
	if s.ID == "" || s.AgencyID == "" || len(s.DER) == 0 {
		return fmt.Errorf("store: seal needs an id, an agency and the seal bytes: %w", ErrInvalid)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now()
	}
	_, err := d.b.writer().exec(ctx, `INSERT INTO seals (`+sealCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.AgencyID, s.Name, s.Type, s.DER, d.b.ts(micro(s.ValidFrom)), d.b.ts(micro(s.ValidTo)), d.b.ts(micro(s.CreatedAt)))
	if d.b.isUnique(err) {
		return fmt.Errorf("store: seal %s: %w", s.ID, ErrExists)
	}
	return wrap("put seal", err)
}

func (d *db) GetSeal(ctx context.Context, id string) (Seal, error) {
	s, err := scanSeal(d.b.reader().queryRow(ctx, `SELECT `+sealCols+` FROM seals WHERE id = ?`, id))
	if errors.Is(err, errNoRows) {
		return s, notFound("seal", id)
	}
	return s, wrap("get seal", err)
}

func (d *db) ListSeals(ctx context.Context, agencyID string) ([]Seal, error) {
	if agencyID == "" {
		return list(ctx, d.b.reader(), scanSeal, "list seals", `SELECT `+sealCols+` FROM seals ORDER BY id`)
	}
	return list(ctx, d.b.reader(), scanSeal, "list seals", `SELECT `+sealCols+` FROM seals WHERE agency_id = ? ORDER BY id`, agencyID)
}

func (d *db) DeleteSeal(ctx context.Context, id string) error {
	n, err := d.b.writer().exec(ctx, `DELETE FROM seals WHERE id = ?`, id)
	if err != nil {
		return wrap("delete seal", err)
	}
	if n == 0 {
		return notFound("seal", id)
	}
	return nil
}

// ---- audit ----

const auditCols = `seq, at, actor, action, object, detail, agency, prev_hash, hash`

func scanAudit(r row) (AuditEntry, error) {
	var e AuditEntry
	var detail string
	err := r.Scan(&e.Seq, tcol{&e.At}, &e.Actor, &e.Action, &e.Object, &detail, &e.Agency, &e.PrevHash, &e.Hash)
	e.Detail = []byte(detail)
	return e, err
}

func (d *db) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	err := d.b.tx(ctx, func(q querier) error {
		var err error
		e, err = d.appendAudit(ctx, q, e)
		return err
	})
	return e, err
}

// appendAudit appends e inside the caller's transaction. An empty Action is
// refused by the database's CHECK constraint, not here, so the caller's
// whole transaction rolls back exactly as for any other database failure.
func (d *db) appendAudit(ctx context.Context, q querier, e AuditEntry) (AuditEntry, error) {
	if len(e.Detail) == 0 {
		e.Detail = []byte("{}")
	} else if !json.Valid(e.Detail) {
		return e, fmt.Errorf("store: audit detail is not valid JSON: %w", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = micro(e.At)
	if e.Agency == "" {
		// What VerifyAuditChain expects of an entry without an agency.
		e.Agency = AuditAgency(e)
	}
	if err := d.b.lockAudit(ctx, q); err != nil {
		return e, wrap("lock audit log", err)
	}
	var last int64
	prev := zeroHash
	err := q.queryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, errNoRows) {
		return e, wrap("read audit head", err)
	}
	e.Seq, e.PrevHash = last+1, prev
	e.Hash = AuditHash(prev, e)
	_, err = q.exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, d.b.ts(e.At), e.Actor, e.Action, e.Object, string(e.Detail), e.Agency, e.PrevHash, e.Hash)
	return e, wrap("append audit entry", err)
}

func (d *db) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where := []string{"seq > ?"}
	args := []any{f.AfterSeq}
	if f.Object != "" {
		where, args = append(where, "object = ?"), append(args, f.Object)
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Agency != "" {
		where, args = append(where, "agency = ?"), append(args, f.Agency)
	}
	return list(ctx, d.b.reader(), scanAudit, "list audit",
		`SELECT `+auditCols+` FROM audit_log`+whereClause(where)+fmt.Sprintf(` ORDER BY seq LIMIT %d`, limit(f.Limit)), args...)
}

func (d *db) VerifyAuditChain(ctx context.Context) (AuditCheck, error) {
	rs, err := d.b.reader().query(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return AuditCheck{}, wrap("verify audit chain", err)
	}
	defer rs.Close()
	c := AuditCheck{Head: zeroHash}
	for rs.Next() {
		e, err := scanAudit(rs)
		if err != nil {
			return AuditCheck{}, wrap("verify audit chain", err)
		}
		if why := checkLink(e, c.Entries+1, c.Head); why != "" {
			c.FirstBroken, c.Reason = c.Entries+1, why
			return c, nil
		}
		c.Entries++
		c.Head = e.Hash
	}
	if err := rs.Err(); err != nil {
		return AuditCheck{}, wrap("verify audit chain", err)
	}
	c.OK = true
	return c, nil
}

// ---- usage records ----

const usageCols = `id, at, license_id, holder_id_number, counter_id, service_item, operator, verdict, reason, disclosed`

func scanUsage(r row) (UsageRecord, error) {
	var u UsageRecord
	var disclosed string
	if err := r.Scan(&u.ID, tcol{&u.At}, &u.LicenseID, &u.HolderIDNumber, &u.CounterID, &u.ServiceItem, &u.Operator, &u.Verdict, &u.Reason, &disclosed); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(disclosed), &u.Disclosed); err != nil {
		return u, fmt.Errorf("disclosed fields of usage record %d: %w", u.ID, err)
	}
	return u, nil
}

func (d *db) AppendUsage(ctx context.Context, u UsageRecord) (int64, error) {
	if u.LicenseID == "" {
		return 0, fmt.Errorf("store: usage record has no license id: %w", ErrInvalid)
	}
	if u.At.IsZero() {
		u.At = time.Now()
	}
	if u.Disclosed == nil {
		u.Disclosed = []string{}
	}
	disclosed, _ := json.Marshal(u.Disclosed)
	var id int64
	err := d.b.writer().queryRow(ctx, `INSERT INTO usage_records (at, license_id, holder_id_number, counter_id, service_item, operator, verdict, reason, disclosed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.b.ts(micro(u.At)), u.LicenseID, u.HolderIDNumber, u.CounterID, u.ServiceItem, u.Operator, u.Verdict, u.Reason, string(disclosed)).Scan(&id)
	return id, wrap("append usage record", err)
}

func (d *db) ListUsage(ctx context.Context, f UsageFilter) ([]UsageRecord, error) {
	var where []string
	var args []any
	add := func(cond string, a any) { where, args = append(where, cond), append(args, a) }
	if f.LicenseID != "" {
		add("license_id = ?", f.LicenseID)
	}
	if f.HolderIDNumber != "" {
		add("holder_id_number = ?", f.HolderIDNumber)
	}
	if f.CounterID != "" {
		add("counter_id = ?", f.CounterID)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	return list(ctx, d.b.reader(), scanUsage, "list usage records",
		`SELECT `+usageCols+` FROM usage_records`+whereClause(where)+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit(f.Limit)), args...)
}

// ---- tokens and users ----

var roles = map[Role]bool{RoleAdmin: true, RoleIssuer: true, RoleCounter: true, RoleHolder: true}

const tokenCols = `id, name, role, agency_id, holder_id, hash, created_at, revoked`

func scanToken(r row) (Token, error) {
	var t Token
	err := r.Scan(&t.ID, &t.Name, &t.Role, &t.AgencyID, &t.HolderID, &t.Hash, tcol{&t.CreatedAt}, &t.Revoked)
	return t, err
}

func (d *db) CreateToken(ctx context.Context, t Token) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("store: token has no id: %w", ErrInvalid)
	case len(t.Hash) != 32:
		return fmt.Errorf("store: token %s: hash must be 32 bytes (SM3 or SHA-256 of the token), got %d: %w", t.ID, len(t.Hash), ErrInvalid)
	case !roles[t.Role]:
		return fmt.Errorf("store: token %s: unknown role %q: %w", t.ID, t.Role, ErrInvalid)
	case t.HolderID != "" && t.Role != RoleHolder:
		return fmt.Errorf("store: token %s: only holder tokens have a holder id, not role %s: %w", t.ID, t.Role, ErrInvalid)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	_, err := d.b.writer().exec(ctx, `INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Role), t.AgencyID, t.HolderID, t.Hash, d.b.ts(micro(t.CreatedAt)), t.Revoked)
	if d.b.isUnique(err) {
		return fmt.Errorf("store: token %s (or its hash): %w", t.ID, ErrExists)
	}
	return wrap("create token", err)
}

func (d *db) TokenByHash(ctx context.Context, hash []byte) (Token, error) {
	t, err := scanToken(d.b.reader().queryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, errNoRows) {
		// Never echo the hash: it identifies a credential.
		return t, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	if err != nil {
		return t, wrap("token by hash", err)
	}
	if t.Revoked {
		return t, fmt.Errorf("store: token %s: %w", t.ID, ErrRevoked)
	}
	return t, nil
}

func (d *db) ListTokens(ctx context.Context) ([]Token, error) {
	return list(ctx, d.b.reader(), scanToken, "list tokens", `SELECT `+tokenCols+` FROM api_tokens ORDER BY id`)
}

func (d *db) RevokeToken(ctx context.Context, id string) error {
	n, err := d.b.writer().exec(ctx, `UPDATE api_tokens SET revoked = ? WHERE id = ?`, true, id)
	if err != nil {
		return wrap("revoke token", err)
	}
	if n == 0 {
		return notFound("token", id)
	}
	return nil
}

const userCols = `username, password_hash, role, agency_id, created_at`

func scanUser(r row) (User, error) {
	var u User
	err := r.Scan(&u.Username, &u.PasswordHash, &u.Role, &u.AgencyID, tcol{&u.CreatedAt})
	return u, err
}

func (d *db) PutUser(ctx context.Context, u User) error {
	if u.Username == "" || u.PasswordHash == "" {
		return fmt.Errorf("store: user needs a username and a password hash: %w", ErrInvalid)
	}
	if !roles[u.Role] {
		return fmt.Errorf("store: user %s: unknown role %q: %w", u.Username, u.Role, ErrInvalid)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	_, err := d.b.writer().exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, agency_id = excluded.agency_id`,
		u.Username, u.PasswordHash, string(u.Role), u.AgencyID, d.b.ts(micro(u.CreatedAt)))
	return wrap("put user", err)
}

func (d *db) GetUser(ctx context.Context, username string) (User, error) {
	u, err := scanUser(d.b.reader().queryRow(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if errors.Is(err, errNoRows) {
		return u, notFound("user", username)
	}
	return u, wrap("get user", err)
}

func (d *db) ListUsers(ctx context.Context) ([]User, error) {
	return list(ctx, d.b.reader(), scanUser, "list users", `SELECT `+userCols+` FROM users ORDER BY username`)
}

func (d *db) DeleteUser(ctx context.Context, username string) error {
	n, err := d.b.writer().exec(ctx, `DELETE FROM users WHERE username = ?`, username)
	if err != nil {
		return wrap("delete user", err)
	}
	if n == 0 {
		return notFound("user", username)
	}
	return nil
}

// ---- claim codes ----

func (d *db) CreateClaimCode(ctx context.Context, c ClaimCode) error {
	if len(c.Hash) < 16 || c.LicenseID == "" || c.Expires.IsZero() {
		return fmt.Errorf("store: claim code needs a hash (at least 16 bytes), a license id and an expiry: %w", ErrInvalid)
	}
	_, err := d.b.writer().exec(ctx, `INSERT INTO claim_codes (code_hash, license_id, expires, used_at) VALUES (?, ?, ?, NULL)`,
		c.Hash, c.LicenseID, d.b.ts(micro(c.Expires)))
	if d.b.isUnique(err) {
		return fmt.Errorf("store: claim code: %w", ErrExists)
	}
	return wrap("create claim code", err)
}

func (d *db) RedeemClaimCode(ctx context.Context, hash []byte, at time.Time) (string, error) {
	at = micro(at)
	var id string
	err := d.b.writer().queryRow(ctx, `UPDATE claim_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires > ? RETURNING license_id`,
		d.b.ts(at), hash, d.b.ts(at)).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, errNoRows) {
		return "", wrap("redeem claim code", err)
	}
	var used, expires time.Time
	err = d.b.reader().queryRow(ctx, `SELECT used_at, expires FROM claim_codes WHERE code_hash = ?`, hash).Scan(tcol{&used}, tcol{&expires})
	switch {
	case errors.Is(err, errNoRows):
		return "", fmt.Errorf("store: claim code: %w", ErrNotFound)
	case err != nil:
		return "", wrap("redeem claim code", err)
	case !used.IsZero():
		return "", fmt.Errorf("store: claim code: %w", ErrClaimUsed)
	default:
		return "", fmt.Errorf("store: claim code expired at %s: %w", expires.Format(time.RFC3339), ErrClaimExpired)
	}
}

// ---- nonces ----

func (d *db) SeenNonce(ctx context.Context, nonce []byte, expires, now time.Time) (bool, error) {
	if len(nonce) == 0 || len(nonce) > 256 {
		return false, fmt.Errorf("store: nonce must be 1 to 256 bytes, got %d: %w", len(nonce), ErrInvalid)
	}
	if _, err := d.PurgeNonces(ctx, now); err != nil {
		return false, err
	}
	n, err := d.b.writer().exec(ctx, `INSERT INTO nonces (nonce, expires) VALUES (?, ?) ON CONFLICT DO NOTHING`, nonce, d.b.ts(micro(expires)))
	if err != nil {
		return false, wrap("record nonce", err)
	}
	return n == 0, nil
}

func (d *db) PurgeNonces(ctx context.Context, now time.Time) (int64, error) {
	n, err := d.b.writer().exec(ctx, `DELETE FROM nonces WHERE expires <= ?`, d.b.ts(micro(now)))
	return n, wrap("purge nonces", err)
}
