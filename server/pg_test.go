package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zhengxin/zhengxin/store"
)

// TestPostgresReconnects kills every database connection of the server's
// pool (what a PostgreSQL restart looks like to the pool) and checks that
// /readyz and the API recover by themselves within a few requests. It only
// kills connections carrying this test's own application_name, so other
// users of the shared database are not touched.
// pgTestSchema makes a fresh schema on ZHENGXIN_TEST_POSTGRES (dropped at
// the end of the test) and returns a URL that selects it and names the
// connections after it (application_name = the schema). It skips when the
// variable is not set.
func pgTestSchema(t testing.TB) string {
	base := os.Getenv("ZHENGXIN_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL test skipped: set ZHENGXIN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to ZHENGXIN_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "zx_srv_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema + "&application_name=" + schema
}

func TestPostgresReconnects(t *testing.T) {
	base := os.Getenv("ZHENGXIN_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL test skipped: set ZHENGXIN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	ctx := context.Background()
	url := pgTestSchema(t)
	schema := url[strings.LastIndex(url, "=")+1:]
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to ZHENGXIN_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	st, err := store.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	e := newEnvWithStore(t, FromStore(st, func(p []byte) (string, error) { return string(p), nil }))
	if res := e.do(rNone, "GET", "/readyz", nil); res.Code != 200 {
		t.Fatalf("readyz before: %d %s", res.Code, res.Body)
	}
	// Warm several pool connections so that more than one dies.
	for i := 0; i < 4; i++ {
		e.do(rIssuerA, "GET", "/api/v1/licenses/"+e.licA, nil)
	}
	var killed int
	if err := admin.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", schema).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no pool connection found to terminate (application_name not applied?)")
	}
	// Each failed use discards one dead connection; the pool dials fresh
	// ones. Bounded by the pool size, not by time.
	ok, tries := false, 0
	for ; tries < 20 && !ok; tries++ {
		ok = e.do(rNone, "GET", "/readyz", nil).Code == 200 && e.do(rIssuerA, "GET", "/api/v1/licenses/"+e.licA, nil).Code == 200
	}
	t.Logf("%d connections killed; recovered after %d tries", killed, tries)
	if !ok {
		t.Fatalf("server did not recover after %d connections were killed", killed)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/status", map[string]string{"status": "suspended", "reason": "after reconnect"}); res.Code != 200 {
		t.Fatalf("write after reconnect: %d %s", res.Code, res.Body)
	}
}
