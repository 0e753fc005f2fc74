package store

import (
	"context"
	"embed"
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
