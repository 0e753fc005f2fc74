package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/store/storetest"
)

func openSQLite(t *testing.T) (store.Store, func(string) error) {
	dir := t.TempDir()
	s, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	raw, err := sql.Open("sqlite", filepath.Join(dir, "zhengxin.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, func(q string) error { _, err := raw.Exec(q); return err }
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openSQLite)
}

// pgURL returns the test server URL or skips.
func pgURL(t testing.TB) string {
	u := os.Getenv("ZHENGXIN_TEST_POSTGRES")
	if u == "" {
		t.Skip("PostgreSQL tests skipped: set ZHENGXIN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	return u
}

// pgSchema creates a fresh schema for one test and returns the URL that
// selects it (search_path), so parallel packages and reruns never meet.
func pgSchema(t testing.TB) (url string, conn *pgx.Conn) {
	base := pgURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to ZHENGXIN_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "zx_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, conn
}

func openPostgres(t *testing.T) (store.Store, func(string) error) {
	url, conn := pgSchema(t)
	s, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, func(q string) error { _, err := conn.Exec(context.Background(), q); return err }
}

func TestPostgres(t *testing.T) {
	pgURL(t)
	t.Parallel()
	storetest.Run(t, openPostgres)
}
