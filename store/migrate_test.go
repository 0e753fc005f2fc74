package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/store/storetest"
)

// A database made by the first schema version (0001 only), with audit
// entries and holder tokens as the code of that version wrote them, is
// upgraded by Open: the agencies of the old entries are filled in from
// their own fields, the chain still verifies and still catches a changed
// agency, the append-only trigger is back, and holder tokens keep their
// holder in the new column.

const (
	oldA = "11350100MB0000019U"
	oldB = "12330000MB1234567X"
)

// oldEntry is one audit entry of the old schema and the agency the upgrade
// must give it.
type oldEntry struct {
	object, detail, agency string
}

func oldEntries() []oldEntry {
	es := []oldEntry{
		{oldA, `{"name":"演示市市场监督管理局"}`, ""}, // agency.create: the object is a credit code, not a license
		{"1.2.156.3005.2.11100000000013127D001." + oldA + ".00000001.001.X", `{"type":"business_license","holder":"1101**********002X"}`, oldA},
		{"35010000000001", `{"agency":"` + oldB + `","name":"公章"}`, oldB},
		{"batch", `{"count":"2","ids":"a,b"}`, ""},
		{"token:t1", `{"\u0061gency":"` + oldB + `","role":"issuer"}`, oldB}, // an escaped key is still the key
		{"token:t2", `{"Agency":"` + oldA + `"}`, ""},                        // the key is exact
		{"token:t3", `{"agency":5}`, ""},
		{"1.2.156.3005.2.X." + oldA + ".1.001", `{}`, ""},   // four parts: not an identifier
		{"1.2.156.3005.2.T." + oldB + ".1.001.x", `{}`, ""}, // lower case: not an identifier
	}
	// More than one page of the upgrade's scan.
	for i := range 5003 {
		ag := []string{oldA, oldB}[i%2]
		es = append(es, oldEntry{fmt.Sprintf("1.2.156.3005.2.T.%s.%08d.001.X", ag, i), `{"from":"valid","to":"suspended"}`, ag})
	}
	return es
}

// oldDB is the raw access to a database of the old schema.
type oldDB struct {
	backend string
	exec    func(q string, args ...any) error
	ts      func(time.Time) any
}

// fill creates the version-1 schema and writes the old rows.
func (o oldDB) fill(t *testing.T) []oldEntry {
	t.Helper()
	ddl, err := os.ReadFile(filepath.Join("migrations", o.backend, "0001_init.sql"))
	must(t, err)
	must(t, o.exec(string(ddl)))
	must(t, o.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`))
	must(t, o.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, '0001_init', '2026-01-01T00:00:00Z')`))
	es := oldEntries()
	must(t, o.exec("BEGIN"))
	prev := make([]byte, 32)
	for i, e := range es {
		// The old encoding is AuditHash of an entry without agency
		// (checked against the documented bytes in storetest).
		ae := store.AuditEntry{Seq: int64(i + 1), At: storetest.T0.Add(time.Duration(i) * time.Millisecond), Actor: "cli", Action: "old", Object: e.object, Detail: []byte(e.detail)}
		h := store.AuditHash(prev, ae)
		must(t, o.exec(`INSERT INTO audit_log (seq, at, actor, action, object, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ae.Seq, o.ts(ae.At), ae.Actor, ae.Action, ae.Object, e.detail, prev, h))
		prev = h
	}
	must(t, o.exec("COMMIT"))
	for _, tk := range []struct {
		id, role, agency string
	}{
		{"holder-1", "holder", "holder:11010519491231002X"},
		{"counter-1", "counter", "C1"},
		{"odd-1", "counter", "holder:X"}, // not a holder token: left as it was
	} {
		h := sm3.Sum([]byte(tk.id))
		must(t, o.exec(`INSERT INTO api_tokens (id, name, role, agency_id, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			tk.id, tk.id, tk.role, tk.agency, h[:], o.ts(storetest.T0)))
	}
	return es
}

func testUpgrade(t *testing.T, o oldDB, open func() (store.Store, error)) {
	es := o.fill(t)
	s, err := open()
	must(t, err)
	defer s.Close()

	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != int64(len(es)) {
		t.Fatalf("chain after the upgrade: %+v", c)
	}
	want := map[string][]int64{}
	for i, e := range es {
		want[e.agency] = append(want[e.agency], int64(i+1))
	}
	var all []store.AuditEntry
	for after := int64(0); ; {
		page, err := s.ListAudit(ctx, store.AuditFilter{AfterSeq: after, Limit: 1000})
		must(t, err)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	for i, e := range all {
		if e.Agency != es[i].agency {
			t.Errorf("entry %d (%s %s): agency %q, want %q", e.Seq, e.Object, e.Detail, e.Agency, es[i].agency)
		}
	}
	for _, ag := range []string{oldA, oldB} {
		n := 0
		for after := int64(0); ; {
			page, err := s.ListAudit(ctx, store.AuditFilter{Agency: ag, AfterSeq: after, Limit: 1000})
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				if n >= len(want[ag]) || e.Seq != want[ag][n] {
					t.Fatalf("agency %s: entry %d at position %d", ag, e.Seq, n)
				}
				n++
			}
			after = page[len(page)-1].Seq
		}
		if n != len(want[ag]) {
			t.Errorf("agency %s: %d entries, want %d", ag, n, len(want[ag]))
		}
	}

	// New entries go on from the old head.
	e, err := s.AppendAudit(ctx, store.AuditEntry{At: storetest.T0, Actor: "admin", Action: "cert.issue", Object: "0a", Agency: oldA})
	must(t, err)
	if e.Seq != int64(len(es)+1) {
		t.Errorf("first new entry has seq %d", e.Seq)
	}
	c, err = s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != int64(len(es)+1) {
		t.Fatalf("chain with a new entry: %+v", c)
	}

	// Holder tokens: the holder moved to its own column, nothing else changed.
	for _, tk := range []struct {
		id, agency, holder string
	}{{"holder-1", "", "11010519491231002X"}, {"counter-1", "C1", ""}, {"odd-1", "holder:X", ""}} {
		h := sm3.Sum([]byte(tk.id))
		got, err := s.TokenByHash(ctx, h[:])
		must(t, err)
		if got.ID != tk.id || got.AgencyID != tk.agency || got.HolderID != tk.holder {
			t.Errorf("token %s after the upgrade: agency %q holder %q, want %q %q", tk.id, got.AgencyID, got.HolderID, tk.agency, tk.holder)
		}
	}

	// The upgrade lifted the append-only trigger only for itself.
	if err := o.exec(`UPDATE audit_log SET agency = ? WHERE seq = 2`, oldB); err == nil {
		t.Fatal("audit_log accepts UPDATE after the upgrade")
	}
	if o.backend == "postgres" {
		must(t, o.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`))
	} else {
		must(t, o.exec(`DROP TRIGGER audit_log_no_update`))
	}
	must(t, o.exec(`UPDATE audit_log SET agency = ? WHERE seq = 2`, oldB))
	c, err = s.VerifyAuditChain(ctx)
	must(t, err)
	if c.OK || c.FirstBroken != 2 || !strings.Contains(c.Reason, "agency changed") {
		t.Errorf("old entry moved to another agency: %+v", c)
	}
}

func TestUpgradeSQLite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zhengxin.db")
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	must(t, err)
	raw.SetMaxOpenConns(1) // BEGIN and COMMIT on one connection
	defer raw.Close()
	o := oldDB{backend: "sqlite",
		exec: func(q string, args ...any) error { _, err := raw.Exec(q, args...); return err },
		ts:   func(t time.Time) any { return t.UnixMicro() }}
	testUpgrade(t, o, func() (store.Store, error) { return store.Open(context.Background(), "", dir) })
	// Opening again finds nothing to do.
	s, err := store.Open(ctx, "", dir)
	must(t, err)
	s.Close()
}

func TestUpgradePostgres(t *testing.T) {
	url, conn := pgSchema(t)
	o := oldDB{backend: "postgres",
		exec: func(q string, args ...any) error {
			n := 0
			var b strings.Builder
			for _, r := range q {
				if r == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
					continue
				}
				b.WriteRune(r)
			}
			_, err := conn.Exec(ctx, b.String(), args...)
			return err
		},
		ts: func(t time.Time) any { return t }}
	testUpgrade(t, o, func() (store.Store, error) { return store.Open(context.Background(), url, "") })
}

// Every Go step of a migration names a migration of both dialects.
func TestMigrationStepsNamed(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		names, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
		must(t, err)
		var have []string
		for _, n := range names {
			have = append(have, strings.TrimSuffix(filepath.Base(n), ".sql"))
		}
		for _, step := range store.MigrationSteps() {
			found := false
			for _, h := range have {
				found = found || h == step
			}
			if !found {
				t.Errorf("migration step %s has no %s migration", step, dialect)
			}
		}
	}
	if len(store.MigrationSteps()) == 0 {
		t.Error("no migration steps")
	}
}
