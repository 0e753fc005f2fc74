package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/store/storetest"
)

var ctx = context.Background()

func TestSQLiteFileAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // created by Open
	s, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != "sqlite" {
		t.Errorf("backend %s", s.Backend())
	}
	must(t, s.CreateAgency(ctx, store.Agency{ID: "A1", Name: "n", CreditCode: "91350100M000100Y43", CreatedAt: storetest.T0}))
	path := filepath.Join(dir, "zhengxin.db")
	for _, p := range []string{path, path + "-wal", path + "-shm"} { // while open: WAL files exist
		fi, err := os.Stat(p)
		must(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	must(t, s.Close())
	s, err = store.Open(ctx, "", dir) // migrations already applied: a no-op
	must(t, err)
	defer s.Close()
	if _, err := s.GetAgency(ctx, "A1"); err != nil {
		t.Errorf("data lost on reopen: %v", err)
	}
	raw, err := sql.Open("sqlite", path)
	must(t, err)
	defer raw.Close()
	var mode string
	var n, v int
	must(t, raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	must(t, raw.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v))
	if mode != "wal" || n != store.SchemaVersion("sqlite") || v != store.SchemaVersion("sqlite") {
		t.Errorf("journal mode %q, %d migrations recorded up to %d", mode, n, v)
	}
	// A database from a newer build is refused, not silently used.
	must(t, s.Close())
	_, err = raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 'x')`)
	must(t, err)
	if _, err := store.Open(ctx, "", dir); err == nil || !strings.Contains(err.Error(), "upgrade zhengxin") {
		t.Errorf("newer schema: %v", err)
	}
}

func TestOpenWithoutDataDir(t *testing.T) {
	_, err := store.Open(ctx, "", "")
	if err == nil || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("Open without data dir: %v", err)
	}
}

func TestPostgresUnreachable(t *testing.T) {
	// Port 1 on loopback: nothing listens, the dial is refused at once.
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// sslmode defaults to prefer: two attempts, which pgconn reports on two lines.
	_, err := store.Open(c, "postgres://zx:Secret-Pa55@127.0.0.1:1/zhengxin?connect_timeout=5", "")
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "store: cannot reach PostgreSQL at 127.0.0.1:1: ") || !strings.HasSuffix(msg, "; is it running?") {
		t.Errorf("error line: %q", msg)
	}
	if strings.Contains(msg, "Secret-Pa55") || strings.Contains(msg, "\n") {
		t.Errorf("error leaks the password or spans lines: %q", msg)
	}
	_, err = store.Open(ctx, "postgres://zx:Secret-Pa55@host:notaport/db", "")
	if err == nil || strings.Contains(err.Error(), "Secret-Pa55") {
		t.Errorf("malformed URL: %v", err)
	}
}

func TestPostgresReopenAndConcurrentOpen(t *testing.T) {
	url, conn := pgSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	stores := make([]store.Store, 3)
	for i := range 3 { // replicas starting together
		wg.Go(func() { stores[i], errs[i] = store.Open(ctx, url, "") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		stores[i].Close()
	}
	var n int
	must(t, conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n))
	if n != store.SchemaVersion("postgres") {
		t.Errorf("%d migrations recorded", n)
	}
}

func TestPostgresSurvivesTerminatedBackends(t *testing.T) {
	url, conn := pgSchema(t)
	app := "zx_reconnect_" + strings.TrimPrefix(url[strings.LastIndex(url, "=")+1:], "zx_test_")
	s, err := store.Open(ctx, url+"&application_name="+app, "")
	must(t, err)
	defer s.Close()
	must(t, s.CreateAgency(ctx, store.Agency{ID: "A1", Name: "n", CreditCode: "91350100M000100Y43", CreatedAt: storetest.T0}))
	// Warm several pooled connections.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { s.GetAgency(ctx, "A1") })
	}
	wg.Wait()
	// What a server restart does to every client connection.
	var killed int
	must(t, conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) k`, app).Scan(&killed))
	if killed == 0 {
		t.Fatal("no backend of the store found to terminate")
	}
	if _, err := s.GetAgency(ctx, "A1"); err != nil {
		t.Errorf("first read after pg_terminate_backend: %v", err)
	}
	if _, err := s.AppendAudit(ctx, store.AuditEntry{At: storetest.T0, Action: "after.restart"}); err != nil {
		t.Errorf("first write after pg_terminate_backend: %v", err)
	}
	must(t, s.Ping(ctx))
}

func TestErrorsAreMatchable(t *testing.T) {
	s, _ := openSQLite(t)
	_, err := s.GetLicense(ctx, "x")
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `store: license "x": not found` {
		t.Errorf("GetLicense error %q", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The CLI and a running server open the same SQLite file: two Store
// values (two writer connections) must still serialize correctly.
func TestSQLiteTwoOpenersShareOneFile(t *testing.T) {
	dir := t.TempDir()
	a, err := store.Open(ctx, "", dir)
	must(t, err)
	defer a.Close()
	b, err := store.Open(ctx, "", dir)
	must(t, err)
	defer b.Close()
	must(t, a.CreateAgency(ctx, store.Agency{ID: "A1", Name: "n", CreditCode: "91350100M000100Y43", CreatedAt: storetest.T0}))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			for i := range 10 {
				l := store.LicenseRecord{ID: fmt.Sprintf("L%d-%d", w, i), AgencyID: "A1", TypeCode: "0101", Payload: []byte{1}, IssuedAt: storetest.T0}
				if _, _, err := s.IssueLicense(ctx, l, store.AuditEntry{At: storetest.T0, Action: "license.issue"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := int64(0)
	for e, err := range b.StatusSnapshot(ctx, "A1") {
		must(t, err)
		if e.Index != n {
			t.Fatalf("index %d at position %d", e.Index, n)
		}
		n++
	}
	c, err := a.VerifyAuditChain(ctx)
	must(t, err)
	if n != 40 || !c.OK || c.Entries != 40 {
		t.Errorf("%d licenses, audit %+v", n, c)
	}
}
