package store

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are SQL files named NNNN_what.sql, one directory per dialect,
// embedded in the binary. Each is applied once, in its own transaction
// together with its schema_migrations row, so a failed migration leaves
// nothing behind and opening again retries it.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("store: migration file %s is not named NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// SchemaVersion is the newest migration version this build knows, per
// dialect ("sqlite", "postgres").
func SchemaVersion(dialect string) int {
	ms, err := migrations(dialect)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

func migrate(ctx context.Context, d *db, dialect string) error {
	ms, err := migrations(dialect)
	if err != nil {
		return fmt.Errorf("store: read migrations: %w", err)
	}
	// Everything happens under the migration lock: replicas starting
	// together queue here, the first migrates, the others find the
	// versions applied. (Concurrent CREATE TABLE IF NOT EXISTS is not safe
	// on PostgreSQL without it.)
	err = d.b.tx(ctx, func(q querier) error {
		if err := d.b.migrationLock(ctx, q); err != nil {
			return err
		}
		_, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		return wrap("create schema_migrations", err)
	}
	for _, m := range ms {
		err := d.b.tx(ctx, func(q querier) error {
			if err := d.b.migrationLock(ctx, q); err != nil {
				return err
			}
			var n int
			if err := q.queryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := q.exec(ctx, m.sql); err != nil {
				return err
			}
			if step := goSteps[m.name]; step != nil {
				if err := step(ctx, d, q); err != nil {
					return err
				}
			}
			_, err := q.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: apply migration %s (%s): %w", m.name, dialect, err)
		}
	}
	// A database written by a newer build may have changed under us.
	var newest int
	if err := d.b.reader().queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return wrap("read schema version", err)
	}
	if known := ms[len(ms)-1].version; newest > known {
		return fmt.Errorf("store: the database has schema version %d but this build knows only up to %d; upgrade zhengxin", newest, known)
	}
	return nil
}

// goSteps are data changes that run right after the SQL of the migration
// they are named after, in its transaction, when the change must be made
// by the same Go code the program uses later.
var goSteps = map[string]func(ctx context.Context, d *db, q querier) error{
	"0002_audit_agency": backfillAuditAgency,
}

// backfillAuditAgency fills the new agency column of the existing audit
// entries with [AuditAgency]. Their hashes do not cover the agency, so the
// chain check re-derives it with the same function and the two must agree
// byte for byte; SQL's JSON functions differ between SQLite and PostgreSQL
// (duplicate keys, escapes), Go's is one. The append-only trigger is lifted
// for the update and restored, inside the migration's transaction.
func backfillAuditAgency(ctx context.Context, d *db, q querier) error {
	sqlite := d.b.name() == "sqlite"
	var off, on, update string
	if sqlite {
		off = `DROP TRIGGER IF EXISTS audit_log_no_update`
		on = `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`
		update = `UPDATE audit_log SET agency = ? WHERE seq IN (SELECT value FROM json_each(?))`
	} else {
		off = `ALTER TABLE audit_log DISABLE TRIGGER USER`
		on = `ALTER TABLE audit_log ENABLE TRIGGER USER`
		update = `UPDATE audit_log SET agency = ? WHERE seq = ANY(?)`
	}
	if _, err := q.exec(ctx, off); err != nil {
		return fmt.Errorf("lift the audit log's append-only trigger: %w", err)
	}
	// Page by seq so that memory stays flat on a long log.
	const page = 5000
	var after int64
	for {
		bySeq := map[string][]int64{}
		n := 0
		rs, err := q.query(ctx, fmt.Sprintf(`SELECT seq, object, detail FROM audit_log WHERE seq > ? ORDER BY seq LIMIT %d`, page), after)
		if err != nil {
			return fmt.Errorf("read audit entries: %w", err)
		}
		for rs.Next() {
			var e AuditEntry
			var detail string
			if err := rs.Scan(&e.Seq, &e.Object, &detail); err != nil {
				rs.Close()
				return fmt.Errorf("read audit entries: %w", err)
			}
			e.Detail = []byte(detail)
			if a := AuditAgency(e); a != "" {
				bySeq[a] = append(bySeq[a], e.Seq)
			}
			after = e.Seq
			n++
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return fmt.Errorf("read audit entries: %w", err)
		}
		for agency, seqs := range bySeq {
			var arg any = seqs
			if sqlite {
				b, _ := json.Marshal(seqs)
				arg = string(b)
			}
			if _, err := q.exec(ctx, update, agency, arg); err != nil {
				return fmt.Errorf("fill the agency of audit entries: %w", err)
			}
		}
		if n < page {
			break
		}
	}
	if _, err := q.exec(ctx, on); err != nil {
		return fmt.Errorf("restore the audit log's append-only trigger: %w", err)
	}
	return nil
}
