package datadir_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/fxamacker/cbor/v2"
	"github.com/jackc/pgx/v5"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/datadir/internal/csvgen"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
)

// testNow is after every date csvgen writes (issue dates end in 2026-05).
var testNow = time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)

// newDir makes a data directory in t.TempDir(): SQLite, or PostgreSQL in
// a fresh schema when pg is set.
func newDir(t testing.TB, pg bool) *datadir.Dir {
	t.Helper()
	o := datadir.InitOptions{Passphrase: []byte("import-test-passphrase"), Now: testNow}
	if pg {
		o.DB = pgSchemaURL(t)
	}
	d, err := datadir.Init(context.Background(), filepath.Join(t.TempDir(), "zx"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// pgSchemaURL creates a fresh schema on ZHENGXIN_TEST_POSTGRES (dropped at
// cleanup) and returns the URL that selects it, or skips.
func pgSchemaURL(t testing.TB) string {
	base := os.Getenv("ZHENGXIN_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set ZHENGXIN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to ZHENGXIN_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "zx_import_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
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
	return base + sep + "search_path=" + schema
}

// genCSV is n generated business-licence rows with a type column.
func genCSV(t testing.TB, n int64, seed uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := csvgen.Write(&b, csvgen.Options{Rows: n, Seed: seed, TypeColumn: true}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// allLicenses reads every license of the store.
func allLicenses(t testing.TB, s store.Store) []store.LicenseRecord {
	t.Helper()
	var out []store.LicenseRecord
	f := store.LicenseFilter{Limit: 1000}
	for {
		p, err := s.ListLicenses(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		f.After = p.Next
	}
}

// checkExactlyOnce asserts that the store holds exactly one license per
// holder_id in want, no other, with unique ids and status indexes.
func checkExactlyOnce(t *testing.T, d *datadir.Dir, want map[string]bool) []store.LicenseRecord {
	t.Helper()
	recs := allLicenses(t, d.Store)
	ids, idx, holders := map[string]bool{}, map[int64]bool{}, map[string]int{}
	for _, r := range recs {
		if ids[r.ID] {
			t.Errorf("license id %s stored twice", r.ID)
		}
		ids[r.ID] = true
		if idx[r.StatusIndex] {
			t.Errorf("status index %d used twice", r.StatusIndex)
		}
		idx[r.StatusIndex] = true
		holders[r.HolderIDNumber]++
	}
	for h := range want {
		if holders[h] != 1 {
			t.Errorf("holder %s has %d licenses, want 1", h, holders[h])
		}
	}
	for h, n := range holders {
		if !want[h] {
			t.Errorf("holder %s has %d licenses, want none (not a valid row)", h, n)
		}
	}
	if len(recs) != len(want) {
		t.Errorf("%d licenses stored, want %d", len(recs), len(want))
	}
	return recs
}

// validHolders is the holder_id of every row of a generated CSV.
func validHolders(t testing.TB, data []byte) map[string]bool {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, r := range recs[1:] {
		m[r[1]] = true // column 0 is type
	}
	return m
}

// TestCreditCodeGenerator checks csvgen's GB 32100 / GB 11714 check
// characters against published credit codes (not made by this code) and
// the license package's validator.
func TestCreditCodeGenerator(t *testing.T) {
	for _, code := range []string{
		"91350100M000100Y43", // the worked example of GB 32100-2015
		"91440300708461136T", // 华为技术有限公司, as printed on its licence
	} {
		if got := csvgen.USCCCheck(code[:17]); got != code[17] {
			t.Errorf("USCCCheck(%s) = %c, want %c", code[:17], got, code[17])
		}
		if got := csvgen.OrgCheck(code[8:16]); got != code[16] {
			t.Errorf("OrgCheck(%s) = %c, want %c", code[8:16], got, code[16])
		}
	}
	seen := map[string]bool{}
	for i := int64(0); i < 20000; i += 7 {
		c := csvgen.CreditCode(3, i)
		if _, err := license.CheckUSCC(c); err != nil {
			t.Fatalf("row %d: generated %s: %v", i, c, err)
		}
		if seen[c] {
			t.Fatalf("row %d: credit code %s repeats", i, c)
		}
		seen[c] = true
	}
}

// TestImportCSV: valid rows are issued, signed (checked without the
// license package's verifier) and carry the status index the store
// recorded; each bad row is rejected with its reason; a second run issues
// nothing.
func TestImportCSV(t *testing.T) {
	d := newDir(t, false)
	ctx := context.Background()
	const n = 60
	good := genCSV(t, n, 7)
	lines := strings.SplitAfter(strings.TrimSuffix(string(good), "\n"), "\n")
	header, rows := lines[0], lines[1:]
	// Bad rows, each a copy of a good row with one thing wrong.
	badCheck := []rune(csvgen.CreditCode(99, 1))
	if badCheck[17] == '0' {
		badCheck[17] = '1'
	} else {
		badCheck[17] = '0'
	}
	mk := func(f func(r []string) []string) string {
		r := csvgen.Row(99, 5)
		r = append([]string{"business_license"}, r...)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(f(r))
		w.Flush()
		return b.String()
	}
	bad := []struct{ line, reason string }{
		{mk(func(r []string) []string { r[1] = string(badCheck); return r }), "check character at position 18"},
		{mk(func(r []string) []string { r[4] = ""; return r }), `field "legal_rep": required`},
		{mk(func(r []string) []string { return r[:len(r)-1] }), "row has 12 columns, the header 13"},
		{mk(func(r []string) []string { r[0] = "no_such_type"; return r }), `unknown license type "no_such_type"`},
	}
	// Interleave: bad row k goes after good row 10k+3.
	var in strings.Builder
	in.WriteString(header)
	wantRow := map[int]string{}
	row := 1
	for i, r := range rows {
		in.WriteString(r)
		row++
		if i%10 == 3 && i/10 < len(bad) {
			in.WriteString(bad[i/10].line)
			row++
			wantRow[row] = bad[i/10].reason
		}
	}
	var rej bytes.Buffer
	var progress []datadir.ImportStats
	st, err := d.ImportCSV(ctx, strings.NewReader(in.String()), datadir.ImportOptions{BatchSize: 16, Rejects: &rej,
		Progress: func(s datadir.ImportStats) { progress = append(progress, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != n+4 || st.Issued != n || st.Rejected != 4 || st.Existed != 0 {
		t.Errorf("stats %+v, want rows %d issued %d rejected 4", st, n+4, n)
	}
	if len(progress) != int(st.Batches) || st.Batches != (n+4+15)/16 {
		t.Errorf("%d progress calls, %d batches; want %d", len(progress), st.Batches, (n+4+15)/16)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Rows <= progress[i-1].Rows || progress[i].Issued < progress[i-1].Issued {
			t.Errorf("progress not monotonic: %+v then %+v", progress[i-1], progress[i])
		}
	}

	// The rejects file: header, then each bad row with its row number and reason.
	rcr := csv.NewReader(bytes.NewReader(rej.Bytes()))
	rcr.FieldsPerRecord = -1 // the wrong-column-count row keeps its columns
	rr, err := rcr.ReadAll()
	if err != nil {
		t.Fatalf("rejects file: %v", err)
	}
	if len(rr) != 5 || strings.Join(rr[0][:3], ",") != "row,reason,type" {
		t.Fatalf("rejects file has %d rows, header %q", len(rr), rr[0])
	}
	for _, r := range rr[1:] {
		var num int
		fmt.Sscan(r[0], &num)
		want, ok := wantRow[num]
		if !ok {
			t.Errorf("row %d rejected (%s), but it is a good row", num, r[1])
			continue
		}
		if !strings.Contains(r[1], want) {
			t.Errorf("row %d rejected for %q, want a reason containing %q", num, r[1], want)
		}
		delete(wantRow, num)
	}
	if len(wantRow) != 0 {
		t.Errorf("bad rows not rejected: %v", wantRow)
	}

	recs := checkExactlyOnce(t, d, validHolders(t, good))
	cert, err := d.AgencyCert("", datadir.RoleLicenseSigner)
	if err != nil {
		t.Fatal(err)
	}
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	agency := d.Config.DefaultAgency
	for _, r := range recs {
		checkSignedPayload(t, r, pub, agency)
		l, err := license.ParseLicense(r.Payload)
		if err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		if err := l.VerifySignature(pub); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if l.ID() != r.ID || l.StatusIndex != uint64(r.StatusIndex) || l.StatusList != agency {
			t.Errorf("%s: license says id %s, list %s #%d; store says #%d", r.ID, l.ID(), l.StatusList, l.StatusIndex, r.StatusIndex)
		}
		if v, _ := l.Value("holder_id"); v != r.HolderIDNumber {
			t.Errorf("%s: holder_id %s, store %s", r.ID, v, r.HolderIDNumber)
		}
	}

	// A second run of the same file: nothing new, same rejects.
	rej.Reset()
	st2, err := d.ImportCSV(ctx, strings.NewReader(in.String()), datadir.ImportOptions{BatchSize: 16, Rejects: &rej})
	if err != nil {
		t.Fatal(err)
	}
	if st2.Issued != 0 || st2.Existed != n || st2.Rejected != 4 {
		t.Errorf("re-run stats %+v, want issued 0, existed %d, rejected 4", st2, n)
	}
	checkExactlyOnce(t, d, validHolders(t, good))
}

// checkSignedPayload verifies a stored holder copy without the license
// package: CBOR [COSE_Sign1, master salt, values]; Sig_structure per RFC
// 9052 §4.4; SM2 with the default user ID over it (the signature is r||s);
// and the signed claims 9 and 10 name the agency's list and the index the
// store recorded.
func checkSignedPayload(t *testing.T, r store.LicenseRecord, pub *ecdsa.PublicKey, agency string) {
	t.Helper()
	var holder []cbor.RawMessage
	if err := cbor.Unmarshal(r.Payload, &holder); err != nil || len(holder) != 3 {
		t.Fatalf("%s: holder copy is not a 3-element CBOR array: %v", r.ID, err)
	}
	var tag cbor.RawTag
	if err := cbor.Unmarshal(holder[0], &tag); err != nil || tag.Number != 18 {
		t.Fatalf("%s: not a tagged COSE_Sign1: %v", r.ID, err)
	}
	var sign1 struct {
		_           struct{} `cbor:",toarray"`
		Protected   []byte
		Unprotected cbor.RawMessage
		Payload     []byte
		Signature   []byte
	}
	if err := cbor.Unmarshal(tag.Content, &sign1); err != nil {
		t.Fatalf("%s: COSE_Sign1: %v", r.ID, err)
	}
	tbs, err := cbor.Marshal([]any{"Signature1", sign1.Protected, []byte{}, sign1.Payload})
	if err != nil {
		t.Fatal(err)
	}
	if len(sign1.Signature) != 64 {
		t.Fatalf("%s: signature is %d bytes, want r||s (64)", r.ID, len(sign1.Signature))
	}
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sign1.Signature[:32]), new(big.Int).SetBytes(sign1.Signature[32:])})
	if !sm2.VerifyASN1WithSM2(pub, nil, tbs, der) {
		t.Errorf("%s: SM2 signature does not verify with the signer certificate's key", r.ID)
	}
	var claims map[int]cbor.RawMessage
	if err := cbor.Unmarshal(sign1.Payload, &claims); err != nil {
		t.Fatalf("%s: claims: %v", r.ID, err)
	}
	var list string
	var idx int64
	if err := cbor.Unmarshal(claims[9], &list); err != nil || list != agency {
		t.Errorf("%s: signed status list %q (%v), want %s", r.ID, list, err, agency)
	}
	if err := cbor.Unmarshal(claims[10], &idx); err != nil || idx != r.StatusIndex {
		t.Errorf("%s: signed status index %d (%v), store recorded %d", r.ID, idx, err, r.StatusIndex)
	}
}

// TestImportCSVResumeAfterCancel: Ctrl-C after a few batches, then the
// same command again: every row issued exactly once, none skipped.
func TestImportCSVResumeAfterCancel(t *testing.T) {
	testResumeAfterCancel(t, false)
}

func TestImportCSVResumeAfterCancelPostgres(t *testing.T) {
	testResumeAfterCancel(t, true)
}

func testResumeAfterCancel(t *testing.T, pg bool) {
	d := newDir(t, pg)
	data := genCSV(t, 200, 11)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := d.ImportCSV(ctx, bytes.NewReader(data), datadir.ImportOptions{BatchSize: 20,
		Progress: func(s datadir.ImportStats) {
			if s.Batches == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import returned %v, want context.Canceled", err)
	}
	if st.Issued < 60 || st.Issued >= 200 {
		t.Fatalf("cancelled after 3 batches of 20 but %d issued", st.Issued)
	}
	if n := len(allLicenses(t, d.Store)); int64(n) != st.Issued {
		t.Fatalf("stats say %d issued, the store holds %d", st.Issued, n)
	}
	st2, err := d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{BatchSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.Issued+st2.Issued != 200 || st2.Existed != st.Issued {
		t.Errorf("first run issued %d, second issued %d and skipped %d; want %d in all", st.Issued, st2.Issued, st2.Existed, 200)
	}
	checkExactlyOnce(t, d, validHolders(t, data))
}

// failingStore fails the k-th IssueLicenses call: before the transaction
// (a crash before commit) or after it (a crash after the database
// committed but before the importer heard).
type failingStore struct {
	store.Store
	k          int64
	afterWrite bool
	calls      atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (s *failingStore) IssueLicenses(ctx context.Context, b []store.LicenseRecord, a *store.AuditEntry) ([]store.IssueResult, error) {
	if s.calls.Add(1) != s.k {
		return s.Store.IssueLicenses(ctx, b, a)
	}
	if s.afterWrite {
		if _, err := s.Store.IssueLicenses(ctx, b, a); err != nil {
			return nil, err
		}
	}
	return nil, errCrash
}

func TestImportCSVResumeAfterStoreFailure(t *testing.T) {
	for _, after := range []bool{false, true} {
		t.Run(fmt.Sprintf("committed=%v", after), func(t *testing.T) {
			d := newDir(t, false)
			data := genCSV(t, 150, 13)
			real := d.Store
			d.Store = &failingStore{Store: real, k: 3, afterWrite: after}
			st, err := d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{BatchSize: 25})
			if !errors.Is(err, errCrash) {
				t.Fatalf("import returned %v, want the simulated crash", err)
			}
			if st.Issued != 50 {
				t.Errorf("%d issued before the failing batch, want 50", st.Issued)
			}
			d.Store = real
			st2, err := d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{BatchSize: 25})
			if err != nil {
				t.Fatal(err)
			}
			wantExisted := int64(50)
			if after {
				wantExisted = 75 // the failed call had committed its batch
			}
			if st2.Existed != wantExisted || st2.Issued != 150-wantExisted {
				t.Errorf("re-run issued %d, skipped %d; want %d, %d", st2.Issued, st2.Existed, 150-wantExisted, wantExisted)
			}
			checkExactlyOnce(t, d, validHolders(t, data))
		})
	}
}

// TestImportCSVSyntaxError: a broken quote stops the import with the row
// number; rows before it are issued and a fixed file completes the rest.
func TestImportCSVSyntaxError(t *testing.T) {
	d := newDir(t, false)
	data := genCSV(t, 30, 17)
	lines := strings.SplitAfter(string(data), "\n")
	broken := strings.Join(lines[:21], "") + "business_license,\"unterminated\"x,\n" + strings.Join(lines[21:], "")
	st, err := d.ImportCSV(context.Background(), strings.NewReader(broken), datadir.ImportOptions{BatchSize: 10})
	if err == nil || !strings.Contains(err.Error(), "CSV row 22") {
		t.Fatalf("import of a broken file returned %v, want an error naming CSV row 22", err)
	}
	if st.Issued != 20 {
		t.Errorf("%d issued before the broken row, want 20", st.Issued)
	}
	if _, err := d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{BatchSize: 10}); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, d, validHolders(t, data))
}

// FuzzImportCSV: whatever the file, the import returns (rows issued,
// rejected, or an error naming the row) and never panics.
func FuzzImportCSV(f *testing.F) {
	d := newDir(f, false)
	good := genCSV(f, 3, 23)
	f.Add(good)
	f.Add([]byte("type,holder_id\nbusiness_license,91350100M000100Y43\n"))
	f.Add([]byte("\ufefftype,key,type\n"))
	f.Add([]byte("type,holder_name\nbusiness_license,\"a\nb\"\n,,,\nno_such,x\n"))
	f.Add([]byte("holder_id\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return
		}
		var rej bytes.Buffer
		st, err := d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{Type: "business_license", BatchSize: 4, Rejects: &rej})
		if err == nil && st.Issued+st.Existed+st.Rejected != st.Rows {
			t.Fatalf("rows %d but issued %d + existed %d + rejected %d", st.Rows, st.Issued, st.Existed, st.Rejected)
		}
	})
}

// TestImportCSVOldRowsLater: the second half of a file was imported
// before, the first half not. The importer stops looking up row keys after
// a batch with no issued rows; the store's own check must still count the
// old rows as issued and issue nothing twice.
func TestImportCSVOldRowsLater(t *testing.T) {
	d := newDir(t, false)
	data := genCSV(t, 200, 29)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	secondHalf := lines[0] + strings.Join(lines[101:], "")
	st, err := d.ImportCSV(context.Background(), strings.NewReader(secondHalf), datadir.ImportOptions{BatchSize: 20})
	if err != nil || st.Issued != 100 {
		t.Fatalf("first import: %+v, %v", st, err)
	}
	st, err = d.ImportCSV(context.Background(), bytes.NewReader(data), datadir.ImportOptions{BatchSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.Issued != 100 || st.Existed != 100 {
		t.Errorf("whole file: issued %d, existed %d; want 100 and 100", st.Issued, st.Existed)
	}
	checkExactlyOnce(t, d, validHolders(t, data))
}

// orderStore records, at each IssueLicenses call, how many reservations
// had been made.
type orderStore struct {
	store.Store
	reserves atomic.Int64
	atCommit []int64
}

func (s *orderStore) ReserveStatusIndexes(ctx context.Context, agency string, n int) (int64, error) {
	s.reserves.Add(1)
	return s.Store.ReserveStatusIndexes(ctx, agency, n)
}

func (s *orderStore) IssueLicenses(ctx context.Context, b []store.LicenseRecord, a *store.AuditEntry) ([]store.IssueResult, error) {
	s.atCommit = append(s.atCommit, s.reserves.Load())
	return s.Store.IssueLicenses(ctx, b, a)
}

// TestImportCSVPipelines: batch N+1's status indexes are reserved before
// batch N's commit starts. That is what lets batch N+1 be signed while N
// commits: a reservation takes the lock a commit holds, so one made after
// the commit started would wait for its end.
func TestImportCSVPipelines(t *testing.T) {
	d := newDir(t, false)
	ord := &orderStore{Store: d.Store}
	d.Store = ord
	const batches = 5
	if _, err := d.ImportCSV(context.Background(), bytes.NewReader(genCSV(t, 20*batches, 31)), datadir.ImportOptions{BatchSize: 20}); err != nil {
		t.Fatal(err)
	}
	if len(ord.atCommit) != batches {
		t.Fatalf("%d commits, want %d", len(ord.atCommit), batches)
	}
	for i, n := range ord.atCommit {
		if want := int64(min(i+2, batches)); n < want {
			t.Errorf("commit of batch %d started after %d reservations, want %d (the next batch's made before)", i+1, n, want)
		}
	}
}
