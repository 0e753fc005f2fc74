package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite runs in WAL mode with one writer connection and a small pool of
// read-only connections: writers never wait for readers, and BEGIN
// IMMEDIATE (the _txlock below) takes the write lock up front, so a
// transaction never fails half-way with SQLITE_BUSY on lock upgrade. The
// busy timeout covers another process (the CLI next to a running server).
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_txlock=immediate"

type sqliteBackend struct {
	w, r *sql.DB
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	// Create the file 0600 before SQLite does (it would use the umask);
	// SQLite gives the -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create SQLite database %s: %w", path, err)
	}
	f.Close()
	w, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// Create the file (and switch it to WAL) before readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: restrict permissions of %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+sqliteParams+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	b := &sqliteBackend{w: w, r: r}
	d := &db{b: b}
	if err := migrate(ctx, d, "sqlite"); err != nil {
		b.close()
		return nil, err
	}
	return d, nil
}

func (b *sqliteBackend) name() string      { return "sqlite" }
func (b *sqliteBackend) reader() querier   { return sqlQ{b.r} }
func (b *sqliteBackend) writer() querier   { return sqlQ{b.w} }
func (b *sqliteBackend) forUpdate() string { return "" }
func (b *sqliteBackend) likeOp() string    { return "LIKE" }

// The single writer connection with BEGIN IMMEDIATE already serializes
// every write transaction, the audit append included.
func (b *sqliteBackend) lockAudit(context.Context, querier) error { return nil }

func (b *sqliteBackend) migrationLock(context.Context, querier) error { return nil }

func (b *sqliteBackend) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func (b *sqliteBackend) ping(ctx context.Context) error {
	return wrap("ping SQLite", b.r.PingContext(ctx))
}

func (b *sqliteBackend) close() error {
	return errors.Join(b.r.Close(), b.w.Close())
}

func (b *sqliteBackend) tx(ctx context.Context, fn func(querier) error) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("begin transaction", err)
	}
	if err := fn(sqlQ{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return wrap("commit", tx.Commit())
}

func (b *sqliteBackend) isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

func (b *sqliteBackend) existingKeys(ctx context.Context, q querier, agency string, keys []string) (map[string]IssueResult, error) {
	// One query for the whole batch: the keys travel as one JSON array.
	arr, _ := json.Marshal(keys)
	rs, err := q.query(ctx, `SELECT idem_key, id, status_index FROM licenses WHERE agency_id = ? AND idem_key IN (SELECT value FROM json_each(?)) AND idem_key <> ''`, agency, string(arr))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	m := map[string]IssueResult{}
	for rs.Next() {
		var k string
		var r IssueResult
		if err := rs.Scan(&k, &r.ID, &r.StatusIndex); err != nil {
			return nil, err
		}
		m[k] = r
	}
	return m, rs.Err()
}

// bulkInsert uses one prepared statement in the caller's transaction: no
// per-row parsing, one commit (one fsync) per batch.
func (b *sqliteBackend) bulkInsert(ctx context.Context, q querier, recs []LicenseRecord) error {
	tx := q.(sqlQ).c.(*sql.Tx)
	st, err := tx.PrepareContext(ctx, licInsert)
	if err != nil {
		return err
	}
	defer st.Close()
	d := db{b: b}
	for i := range recs {
		if _, err := st.ExecContext(ctx, d.licArgs(&recs[i])...); err != nil {
			return err
		}
	}
	return nil
}

// sqlQ adapts database/sql (a *sql.DB or a *sql.Tx) to querier.
type sqlQ struct {
	c interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
}

func (q sqlQ) exec(ctx context.Context, s string, args ...any) (int64, error) {
	r, err := q.c.ExecContext(ctx, s, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (q sqlQ) query(ctx context.Context, s string, args ...any) (rows, error) {
	r, err := q.c.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (q sqlQ) queryRow(ctx context.Context, s string, args ...any) row {
	return sqlRow{q.c.QueryRowContext(ctx, s, args...)}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}
