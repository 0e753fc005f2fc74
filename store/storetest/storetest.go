// Package storetest is the conformance suite every store.Store
// implementation must pass. Both the SQLite and the PostgreSQL backends run
// it (store_test.go); a third backend would run it too.
package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/store"
)

// Opener returns a fresh, empty, migrated store for one test, and a
// function that runs raw SQL on the same database (used to tamper with
// rows behind the store's back). Cleanup is the opener's job (t.Cleanup).
type Opener func(t *testing.T) (s store.Store, raw func(sql string) error)

// T0 is the fixed clock of the suite.
var T0 = time.Date(2026, 11, 23, 8, 30, 0, 123456000, time.UTC)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, func(string) error)
	}{
		{"Agencies", testAgencies},
		{"Certificates", testCertificates},
		{"IssueRoundTrip", testIssueRoundTrip},
		{"IssueIdempotent", testIssueIdempotent},
		{"IssueRollsBackOnAuditFailure", testIssueRollback},
		{"IssueErrors", testIssueErrors},
		{"Bulk", testBulk},
		{"BulkRollsBack", testBulkRollback},
		{"StatusIndexUniqueUnderConcurrency", testIndexConcurrency},
		{"ReservedIndexesAndKeyLookup", testReserved},
		{"ListLicensesPaginationAndFilters", testListLicenses},
		{"StatusChanges", testStatus},
		{"BindHolderKey", testBindHolder},
		{"Supersede", testSupersede},
		{"StatusSnapshot", testSnapshot},
		{"Seals", testSeals},
		{"AuditChain", testAuditChain},
		{"AuditTamper", testAuditTamper},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"AuditAgencies", testAuditAgencies},
		{"AuditAgencyChain", testAuditAgencyChain},
		{"Usage", testUsage},
		{"TokensAndUsers", testTokensUsers},
		{"ClaimCodes", testClaimCodes},
		{"Nonces", testNonces},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, raw := open(t)
			tc.fn(t, s, raw)
		})
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
	if !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("error %q lacks the store: prefix", err)
	}
}

func agency(t *testing.T, s store.Store, id string) store.Agency {
	t.Helper()
	// Credit codes only need to be 18 characters here; checksum validation
	// is the license package's job.
	a := store.Agency{ID: id, Name: "测试市市场监督管理局 " + id, CreditCode: fmt.Sprintf("11%016d", len(id)*7919+int(id[len(id)-1])), RegionCode: "110000", CreatedAt: T0}
	must(t, s.CreateAgency(ctx, a))
	return a
}

func lic(agency string, n int) store.LicenseRecord {
	return store.LicenseRecord{
		ID:             fmt.Sprintf("%s.L%06d", agency, n),
		AgencyID:       agency,
		TypeCode:       "0101",
		Number:         fmt.Sprintf("NO-%06d", n),
		HolderName:     fmt.Sprintf("张三%d", n),
		HolderIDType:   "111",
		HolderIDNumber: fmt.Sprintf("11010519491231%04d", n%10000),
		ValidFrom:      T0.AddDate(0, 0, -1),
		ValidTo:        T0.AddDate(5, 0, 0),
		IssuedAt:       T0,
		Payload:        bytes.Repeat([]byte{byte(n)}, 64),
		Fields:         []byte(fmt.Sprintf(`{"名称":"张三%d"}`, n)),
		IdempotencyKey: fmt.Sprintf("row-%d", n),
	}
}

func auditFor(id string) store.AuditEntry {
	return store.AuditEntry{At: T0, Actor: "issuer-1", Action: "license.issue", Object: id, Detail: []byte(`{"via":"test"}`)}
}

func testAgencies(t *testing.T, s store.Store, _ func(string) error) {
	a := agency(t, s, "A1")
	agency(t, s, "A0")
	got, err := s.GetAgency(ctx, "A1")
	must(t, err)
	if got != a {
		t.Errorf("GetAgency = %+v, want %+v", got, a)
	}
	wantErr(t, s.CreateAgency(ctx, a), store.ErrExists)
	wantErr(t, s.CreateAgency(ctx, store.Agency{ID: "X", Name: "x", CreditCode: "123"}), store.ErrInvalid)
	_, err = s.GetAgency(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	all, err := s.ListAgencies(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != "A0" || all[1].ID != "A1" {
		t.Errorf("ListAgencies = %+v", all)
	}
}

func testCertificates(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	kid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	root := store.Certificate{Serial: "01", Role: store.RoleRoot, Subject: "CN=Root", NotBefore: T0, NotAfter: T0.AddDate(20, 0, 0), DER: []byte{0x30, 1}, KID: []byte("rootkid!")}
	c1 := store.Certificate{Serial: "0a", AgencyID: "A1", Role: store.RoleLicenseSigner, Subject: "CN=Signer", NotBefore: T0, NotAfter: T0.AddDate(2, 0, 0), DER: []byte{0x30, 2}, KID: kid}
	c2 := c1
	c2.Serial, c2.NotBefore, c2.DER = "0b", T0.AddDate(1, 0, 0), []byte{0x30, 3}
	for _, c := range []store.Certificate{root, c1, c2} {
		must(t, s.PutCertificate(ctx, c))
	}
	wantErr(t, s.PutCertificate(ctx, c1), store.ErrExists)
	bad := c1
	bad.Serial, bad.KID = "0c", []byte{1}
	wantErr(t, s.PutCertificate(ctx, bad), store.ErrInvalid)
	got, err := s.GetCertificate(ctx, "0a")
	must(t, err)
	if !got.NotBefore.Equal(c1.NotBefore) || !bytes.Equal(got.DER, c1.DER) || !bytes.Equal(got.KID, kid) || got.Role != c1.Role || !got.RevokedAt.IsZero() {
		t.Errorf("GetCertificate = %+v", got)
	}
	byKID, err := s.CertificatesByKID(ctx, kid)
	must(t, err)
	if len(byKID) != 2 || byKID[0].Serial != "0b" {
		t.Errorf("CertificatesByKID: newest first expected, got %+v", byKID)
	}
	signers, err := s.ListCertificates(ctx, store.CertFilter{AgencyID: "A1", Role: store.RoleLicenseSigner})
	must(t, err)
	all, err := s.ListCertificates(ctx, store.CertFilter{})
	must(t, err)
	if len(signers) != 2 || len(all) != 3 {
		t.Errorf("ListCertificates: %d signers, %d in all", len(signers), len(all))
	}
	at := T0.Add(time.Hour)
	must(t, s.RevokeCertificate(ctx, "0a", at, "keyCompromise"))
	wantErr(t, s.RevokeCertificate(ctx, "0a", at, "again"), store.ErrExists)
	wantErr(t, s.RevokeCertificate(ctx, "ff", at, "x"), store.ErrNotFound)
	got, err = s.GetCertificate(ctx, "0a")
	must(t, err)
	if !got.RevokedAt.Equal(at) || got.RevocationReason != "keyCompromise" {
		t.Errorf("after revoke: %v %q", got.RevokedAt, got.RevocationReason)
	}
}

func testIssueRoundTrip(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	in := lic("A1", 1)
	in.HolderDeviceKey = []byte{4, 9, 9}
	in.ValidTo = time.Time{} // 长期: no end
	out, existed, err := s.IssueLicense(ctx, in, auditFor(in.ID))
	must(t, err)
	if existed || out.StatusIndex != 0 || out.Status != store.StatusValid || out.Version != 1 || out.StatusListID != "A1" {
		t.Errorf("IssueLicense = existed %v, %+v", existed, out)
	}
	got, err := s.GetLicense(ctx, in.ID)
	must(t, err)
	want := in
	want.Status, want.Version, want.StatusListID = store.StatusValid, 1, "A1"
	if !sameLicense(got, want) {
		t.Errorf("GetLicense =\n%+v\nwant\n%+v", got, want)
	}
	second := lic("A1", 2)
	out2, _, err := s.IssueLicense(ctx, second, auditFor(second.ID))
	must(t, err)
	if out2.StatusIndex != 1 {
		t.Errorf("second license got status index %d, want 1", out2.StatusIndex)
	}
	got2, err := s.GetLicense(ctx, second.ID)
	must(t, err)
	if got2.HolderDeviceKey != nil || !got2.ValidTo.Equal(second.ValidTo) {
		t.Errorf("absent device key should read back as nil, got %x; valid_to %v", got2.HolderDeviceKey, got2.ValidTo)
	}
	entries, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	if len(entries) != 2 || entries[0].Object != in.ID || entries[0].Action != "license.issue" || !entries[0].At.Equal(T0) {
		t.Errorf("audit entries after two issuances: %+v", entries)
	}
}

func sameLicense(a, b store.LicenseRecord) bool {
	return a.ID == b.ID && a.AgencyID == b.AgencyID && a.TypeCode == b.TypeCode && a.Number == b.Number &&
		a.HolderName == b.HolderName && a.HolderIDType == b.HolderIDType && a.HolderIDNumber == b.HolderIDNumber &&
		a.Status == b.Status && a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo) && a.IssuedAt.Equal(b.IssuedAt) &&
		a.Version == b.Version && a.Replaces == b.Replaces && a.StatusListID == b.StatusListID &&
		bytes.Equal(a.Payload, b.Payload) && bytes.Equal(a.Fields, b.Fields) && a.IdempotencyKey == b.IdempotencyKey &&
		bytes.Equal(a.HolderDeviceKey, b.HolderDeviceKey)
}

func testIssueIdempotent(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	agency(t, s, "A2")
	first := lic("A1", 1)
	_, _, err := s.IssueLicense(ctx, first, auditFor(first.ID))
	must(t, err)
	// The same CSV row again, re-signed under a new id: the first wins.
	again := lic("A1", 1)
	again.ID, again.Payload = "A1.other", []byte("different signature")
	got, existed, err := s.IssueLicense(ctx, again, auditFor(again.ID))
	must(t, err)
	if !existed || got.ID != first.ID || !bytes.Equal(got.Payload, first.Payload) {
		t.Errorf("replay: existed %v, got id %s", existed, got.ID)
	}
	if _, err := s.GetLicense(ctx, "A1.other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replayed issuance wrote a second license: %v", err)
	}
	// The key is per agency: another agency may use it.
	other := lic("A2", 1)
	_, existed, err = s.IssueLicense(ctx, other, auditFor(other.ID))
	must(t, err)
	if existed {
		t.Error("idempotency key leaked across agencies")
	}
	// No key: never deduplicated.
	a, b := lic("A1", 7), lic("A1", 8)
	a.IdempotencyKey, b.IdempotencyKey = "", ""
	_, e1, err1 := s.IssueLicense(ctx, a, auditFor(a.ID))
	_, e2, err2 := s.IssueLicense(ctx, b, auditFor(b.ID))
	must(t, errors.Join(err1, err2))
	if e1 || e2 {
		t.Error("licenses without idempotency key reported as existing")
	}
	entries, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	if len(entries) != 4 {
		t.Errorf("want 4 audit entries (the replay writes none), got %d", len(entries))
	}
}

func testIssueRollback(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	l := lic("A1", 1)
	bad := auditFor(l.ID)
	bad.Action = "" // refused by the audit table's CHECK constraint, after the license row was inserted
	if _, _, err := s.IssueLicense(ctx, l, bad); err == nil {
		t.Fatal("IssueLicense with a failing audit append succeeded")
	}
	if _, err := s.GetLicense(ctx, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("license survived the rolled-back transaction: %v", err)
	}
	out, existed, err := s.IssueLicense(ctx, l, auditFor(l.ID))
	must(t, err)
	if existed || out.StatusIndex != 0 {
		t.Errorf("after rollback: existed %v, status index %d (want 0: the reservation must roll back too)", existed, out.StatusIndex)
	}
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != 1 {
		t.Errorf("audit chain after rollback: %+v", c)
	}
}

func testIssueErrors(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	l := lic("A9", 1)
	_, _, err := s.IssueLicense(ctx, l, auditFor(l.ID))
	wantErr(t, err, store.ErrNotFound)
	l = lic("A1", 1)
	l.Payload = nil
	_, _, err = s.IssueLicense(ctx, l, auditFor(l.ID))
	wantErr(t, err, store.ErrInvalid)
	l = lic("A1", 1)
	l.Fields = []byte("{not json")
	_, _, err = s.IssueLicense(ctx, l, auditFor(l.ID))
	wantErr(t, err, store.ErrInvalid)
	l = lic("A1", 1)
	_, _, err = s.IssueLicense(ctx, l, auditFor(l.ID))
	must(t, err)
	dup := lic("A1", 2)
	dup.ID = l.ID // same identifier, another row key
	_, _, err = s.IssueLicense(ctx, dup, auditFor(dup.ID))
	wantErr(t, err, store.ErrConflict)
	_, err = s.GetLicense(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)
}

func testBulk(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	agency(t, s, "A2")
	pre := lic("A1", 5)
	_, _, err := s.IssueLicense(ctx, pre, auditFor(pre.ID))
	must(t, err)
	var batch []store.LicenseRecord
	for i := range 300 {
		batch = append(batch, lic("A1", i))
	}
	batch = append(batch, lic("A2", 1), lic("A2", 2))
	dup := lic("A1", 7) // the same row key twice in one batch
	dup.ID = "A1.dup"
	batch = append(batch, dup)
	noKey := lic("A1", 1000)
	noKey.IdempotencyKey = ""
	batch = append(batch, noKey)
	res, err := s.IssueLicenses(ctx, batch, &store.AuditEntry{At: T0, Actor: "import", Action: "license.issue.batch", Detail: []byte(`{"rows":304}`)})
	must(t, err)
	if len(res) != len(batch) {
		t.Fatalf("got %d results for %d rows", len(res), len(batch))
	}
	idx := map[string]map[int64]string{"A1": {}, "A2": {}}
	for i, r := range res {
		b := batch[i]
		switch {
		case b.ID == pre.ID:
			if !r.Existed || r.StatusIndex != 0 {
				t.Errorf("row %d (issued before): %+v", i, r)
			}
			continue
		case b.ID == "A1.dup":
			if !r.Existed || r.ID != lic("A1", 7).ID {
				t.Errorf("in-batch duplicate: %+v", r)
			}
			continue
		}
		if r.Existed || r.ID != b.ID {
			t.Errorf("row %d: %+v", i, r)
		}
		if prev, ok := idx[b.AgencyID][r.StatusIndex]; ok {
			t.Errorf("status index %d of %s given to %s and %s", r.StatusIndex, b.AgencyID, prev, b.ID)
		}
		idx[b.AgencyID][r.StatusIndex] = b.ID
	}
	// A1: index 0 was taken by pre, the 300 new rows + noKey take 1..300.
	for i := int64(1); i <= 300; i++ {
		if _, ok := idx["A1"][i]; !ok {
			t.Errorf("A1 status index %d not assigned", i)
		}
	}
	if len(idx["A2"]) != 2 || idx["A2"][0] == "" || idx["A2"][1] == "" {
		t.Errorf("A2 indexes: %v", idx["A2"])
	}
	got, err := s.GetLicense(ctx, batch[42].ID)
	must(t, err)
	want := batch[42]
	want.Status, want.Version, want.StatusListID = store.StatusValid, 1, "A1"
	if !sameLicense(got, want) || got.StatusIndex != res[42].StatusIndex {
		t.Errorf("bulk row read back as %+v", got)
	}
	// Resume: the batch again writes nothing. (The row without a key
	// cannot be recognised and collides on its id.)
	_, err = s.IssueLicenses(ctx, batch, nil)
	wantErr(t, err, store.ErrConflict)
	batch = batch[:len(batch)-1]
	res2, err := s.IssueLicenses(ctx, batch, nil)
	must(t, err)
	for i, r := range res2 {
		if batch[i].IdempotencyKey != "" && (!r.Existed || r.StatusIndex != res[i].StatusIndex) {
			t.Errorf("rerun row %d: %+v, first run %+v", i, r, res[i])
		}
	}
	entries, err := s.ListAudit(ctx, store.AuditFilter{Actor: "import"})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != "license.issue.batch" {
		t.Errorf("batch audit entries: %+v", entries)
	}
}

func testBulkRollback(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	batch := []store.LicenseRecord{lic("A1", 1), lic("A1", 2)}
	if _, err := s.IssueLicenses(ctx, batch, &store.AuditEntry{Action: ""}); err == nil {
		t.Fatal("batch with failing audit append succeeded")
	}
	for _, b := range batch {
		if _, err := s.GetLicense(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s survived the rollback: %v", b.ID, err)
		}
	}
	// An id collision fails the whole batch, nothing half-written.
	first := lic("A1", 9)
	_, _, err := s.IssueLicense(ctx, first, auditFor(first.ID))
	must(t, err)
	clash := lic("A1", 10)
	clash.ID = first.ID
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{lic("A1", 3), clash}, nil)
	wantErr(t, err, store.ErrConflict)
	if _, err := s.GetLicense(ctx, lic("A1", 3).ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row of a failed batch was kept: %v", err)
	}
	res, err := s.IssueLicenses(ctx, batch, nil)
	must(t, err)
	if res[0].StatusIndex != 1 || res[1].StatusIndex != 2 {
		t.Errorf("indexes after rolled-back batches: %+v (want 1, 2)", res)
	}
}

func testIndexConcurrency(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+workers)
	for w := range workers {
		wg.Go(func() {
			if w%2 == 0 {
				for i := range each {
					l := lic("A1", w*1000+i)
					if _, _, err := s.IssueLicense(ctx, l, auditFor(l.ID)); err != nil {
						errs <- err
					}
				}
				return
			}
			var batch []store.LicenseRecord
			for i := range each {
				batch = append(batch, lic("A1", w*1000+i))
			}
			if _, err := s.IssueLicenses(ctx, batch, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var got []int64
	for e, err := range s.StatusSnapshot(ctx, "A1") {
		must(t, err)
		got = append(got, e.Index)
	}
	if len(got) != workers*each {
		t.Fatalf("%d licenses, want %d", len(got), workers*each)
	}
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("status indexes not 0..%d without gaps or repeats: position %d has %d", workers*each-1, i, v)
		}
	}
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != workers/2*each {
		t.Errorf("audit after concurrent issuance: %+v", c)
	}
}

func testListLicenses(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	agency(t, s, "A2")
	var batch []store.LicenseRecord
	for i := range 25 {
		l := lic("A1", i)
		if i%5 == 0 {
			l.TypeCode = "0202"
		}
		batch = append(batch, l)
	}
	special := lic("A2", 1)
	special.HolderName, special.Number = "李四_100%有限公司", "SPECIAL-1"
	batch = append(batch, special)
	_, err := s.IssueLicenses(ctx, batch, nil)
	must(t, err)
	must(t, s.SetLicenseStatus(ctx, lic("A1", 3).ID, store.StatusSuspended, "r", "op", T0))

	var ids []string
	f := store.LicenseFilter{AgencyID: "A1", Limit: 10}
	pages := 0
	for {
		p, err := s.ListLicenses(ctx, f)
		must(t, err)
		pages++
		for _, l := range p.Items {
			ids = append(ids, l.ID)
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	if pages != 3 || len(ids) != 25 || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 25 {
		t.Errorf("pagination: %d pages, %d ids", pages, len(ids))
	}
	count := func(f store.LicenseFilter) int {
		t.Helper()
		p, err := s.ListLicenses(ctx, f)
		must(t, err)
		return len(p.Items)
	}
	checks := []struct {
		f    store.LicenseFilter
		want int
	}{
		{store.LicenseFilter{}, 26},
		{store.LicenseFilter{TypeCode: "0202"}, 5},
		{store.LicenseFilter{AgencyID: "A1", TypeCode: "0101"}, 20},
		{store.LicenseFilter{HolderIDNumber: lic("A1", 4).HolderIDNumber}, 1},
		{store.LicenseFilter{Status: store.StatusSuspended}, 1},
		{store.LicenseFilter{Status: store.StatusValid}, 25},
		{store.LicenseFilter{Query: "张三1"}, 11},     // 1, 10..19
		{store.LicenseFilter{Query: "no-00002"}, 5}, // case-insensitive on number: 20..24
		{store.LicenseFilter{Query: "100%"}, 1},     // % is literal
		{store.LicenseFilter{Query: "_1"}, 1},       // _ is literal
		{store.LicenseFilter{Query: "%"}, 1},
	}
	for _, c := range checks {
		if got := count(c.f); got != c.want {
			t.Errorf("ListLicenses(%+v): %d items, want %d", c.f, got, c.want)
		}
	}
}

func testStatus(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	l := lic("A1", 1)
	_, _, err := s.IssueLicense(ctx, l, auditFor(l.ID))
	must(t, err)
	steps := []struct {
		to     store.LicenseStatus
		reason string
	}{{store.StatusSuspended, "暂扣: 检查中"}, {store.StatusValid, "恢复"}, {store.StatusRevoked, "吊销: 违法经营"}}
	for i, st := range steps {
		must(t, s.SetLicenseStatus(ctx, l.ID, st.to, st.reason, "officer-7", T0.Add(time.Duration(i+1)*time.Hour)))
	}
	wantErr(t, s.SetLicenseStatus(ctx, l.ID, store.StatusValid, "undo", "officer-7", T0), store.ErrInvalidTransition)
	wantErr(t, s.SetLicenseStatus(ctx, "nope", store.StatusValid, "", "", T0), store.ErrNotFound)
	wantErr(t, s.SetLicenseStatus(ctx, l.ID, "lost", "", "", T0), store.ErrInvalid)
	l2 := lic("A1", 2)
	_, _, err = s.IssueLicense(ctx, l2, auditFor(l2.ID))
	must(t, err)
	wantErr(t, s.SetLicenseStatus(ctx, l2.ID, store.StatusValid, "", "", T0), store.ErrInvalidTransition)

	got, err := s.GetLicense(ctx, l.ID)
	must(t, err)
	if got.Status != store.StatusRevoked {
		t.Errorf("status %s, want revoked", got.Status)
	}
	h, err := s.LicenseHistory(ctx, l.ID)
	must(t, err)
	want := []store.StatusEvent{
		{LicenseID: l.ID, From: "valid", To: "suspended", Reason: "暂扣: 检查中", Operator: "officer-7", At: T0.Add(time.Hour)},
		{LicenseID: l.ID, From: "suspended", To: "valid", Reason: "恢复", Operator: "officer-7", At: T0.Add(2 * time.Hour)},
		{LicenseID: l.ID, From: "valid", To: "revoked", Reason: "吊销: 违法经营", Operator: "officer-7", At: T0.Add(3 * time.Hour)},
	}
	if len(h) != len(want) {
		t.Fatalf("history %+v", h)
	}
	for i := range want {
		if h[i].From != want[i].From || h[i].To != want[i].To || h[i].Reason != want[i].Reason || h[i].Operator != want[i].Operator || !h[i].At.Equal(want[i].At) {
			t.Errorf("history[%d] = %+v, want %+v", i, h[i], want[i])
		}
	}
	_, err = s.LicenseHistory(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	entries, err := s.ListAudit(ctx, store.AuditFilter{Object: l.ID})
	must(t, err)
	if len(entries) != 4 || entries[3].Action != "license.status" || entries[3].Actor != "officer-7" {
		t.Fatalf("audit for %s: %+v", l.ID, entries)
	}
	var d map[string]string
	must(t, json.Unmarshal(entries[3].Detail, &d))
	if d["from"] != "valid" || d["to"] != "revoked" || d["reason"] != "吊销: 违法经营" {
		t.Errorf("audit detail %s", entries[3].Detail)
	}
}

func testSupersede(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	old := lic("A1", 1)
	_, _, err := s.IssueLicense(ctx, old, auditFor(old.ID))
	must(t, err)
	next := lic("A1", 2)
	next.IssuedAt = T0.Add(24 * time.Hour)
	got, err := s.SupersedeLicense(ctx, old.ID, next, store.AuditEntry{At: next.IssuedAt, Actor: "officer", Action: "license.supersede"})
	must(t, err)
	if got.Replaces != old.ID || got.Version != 2 || got.StatusIndex != 1 {
		t.Errorf("new version %+v", got)
	}
	o, err := s.GetLicense(ctx, old.ID)
	must(t, err)
	if o.Status != store.StatusCancelled {
		t.Errorf("old license status %s, want cancelled", o.Status)
	}
	h, err := s.LicenseHistory(ctx, old.ID)
	must(t, err)
	if len(h) != 1 || h[0].Reason != "superseded by "+next.ID || !h[0].At.Equal(next.IssuedAt) {
		t.Errorf("old history %+v", h)
	}
	third := lic("A1", 3)
	_, err = s.SupersedeLicense(ctx, old.ID, third, store.AuditEntry{Action: "license.supersede"})
	wantErr(t, err, store.ErrInvalidTransition)
	if _, err := s.GetLicense(ctx, third.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failed supersede left the new license behind: %v", err)
	}
	_, err = s.SupersedeLicense(ctx, "nope", lic("A1", 4), store.AuditEntry{Action: "x"})
	wantErr(t, err, store.ErrNotFound)
}

func testSnapshot(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	agency(t, s, "A2")
	var batch []store.LicenseRecord
	for i := range 50 {
		batch = append(batch, lic("A1", i))
	}
	batch = append(batch, lic("A2", 0))
	_, err := s.IssueLicenses(ctx, batch, nil)
	must(t, err)
	must(t, s.SetLicenseStatus(ctx, lic("A1", 10).ID, store.StatusRevoked, "", "", T0))
	must(t, s.SetLicenseStatus(ctx, lic("A1", 20).ID, store.StatusSuspended, "", "", T0))
	n := 0
	for e, err := range s.StatusSnapshot(ctx, "A1") {
		must(t, err)
		want := store.StatusValid
		switch e.Index {
		case 10:
			want = store.StatusRevoked
		case 20:
			want = store.StatusSuspended
		}
		if e.Index != int64(n) || e.Status != want || e.ListID != "A1" {
			t.Errorf("entry %d = %+v", n, e)
		}
		n++
	}
	if n != 50 {
		t.Errorf("snapshot had %d entries, want 50", n)
	}
	n = 0
	for range s.StatusSnapshot(ctx, "A1") {
		n++
		if n == 3 {
			break
		}
	}
	for _, err := range s.StatusSnapshot(ctx, "none") {
		t.Errorf("entry for unknown agency (err %v)", err)
	}
}

func testSeals(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	se := store.Seal{ID: "es-1", AgencyID: "A1", Name: "测试局公章", Type: "01", DER: []byte{0x30, 0x03, 1, 2, 3}, ValidFrom: T0, ValidTo: T0.AddDate(3, 0, 0), CreatedAt: T0}
	must(t, s.PutSeal(ctx, se))
	wantErr(t, s.PutSeal(ctx, se), store.ErrExists)
	se2 := se
	se2.ID = "es-2"
	must(t, s.PutSeal(ctx, se2))
	got, err := s.GetSeal(ctx, "es-1")
	must(t, err)
	if got.Name != se.Name || !bytes.Equal(got.DER, se.DER) || !got.ValidTo.Equal(se.ValidTo) || !got.CreatedAt.Equal(T0) {
		t.Errorf("GetSeal = %+v", got)
	}
	l, err := s.ListSeals(ctx, "A1")
	must(t, err)
	if len(l) != 2 {
		t.Errorf("ListSeals: %d", len(l))
	}
	must(t, s.DeleteSeal(ctx, "es-1"))
	wantErr(t, s.DeleteSeal(ctx, "es-1"), store.ErrNotFound)
	_, err = s.GetSeal(ctx, "es-1")
	wantErr(t, err, store.ErrNotFound)
}

// refHash recomputes an entry hash from the documented encoding with SM3
// directly, independently of store.AuditHash.
func refHash(prev []byte, seq int64, at time.Time, fields ...string) []byte {
	msg := append([]byte{}, prev...)
	msg = append(msg, "zhengxin-audit-v1"...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(seq))
	msg = binary.BigEndian.AppendUint64(msg, uint64(at.UnixMicro()))
	for _, f := range fields {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	h := sm3.Sum(msg)
	return h[:]
}

func appendN(t *testing.T, s store.Store, n int) []store.AuditEntry {
	var out []store.AuditEntry
	for i := range n {
		e, err := s.AppendAudit(ctx, store.AuditEntry{At: T0.Add(time.Duration(i) * time.Second), Actor: "admin", Action: "token.create", Object: fmt.Sprintf("tok-%d", i), Detail: []byte(fmt.Sprintf(`{"i":%d}`, i))})
		must(t, err)
		out = append(out, e)
	}
	return out
}

func testAuditChain(t *testing.T, s store.Store, _ func(string) error) {
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != 0 || !bytes.Equal(c.Head, make([]byte, 32)) {
		t.Errorf("empty chain: %+v", c)
	}
	es := appendN(t, s, 5)
	prev := make([]byte, 32)
	for i, e := range es {
		want := refHash(prev, int64(i+1), e.At, e.Actor, e.Action, e.Object, string(e.Detail))
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, want) {
			t.Fatalf("entry %d: seq %d, hash %x, want %x", i, e.Seq, e.Hash, want)
		}
		prev = e.Hash
	}
	// No detail means {}.
	e, err := s.AppendAudit(ctx, store.AuditEntry{At: T0, Action: "x"})
	must(t, err)
	if string(e.Detail) != "{}" {
		t.Errorf("empty detail stored as %q", e.Detail)
	}
	_, err = s.AppendAudit(ctx, store.AuditEntry{At: T0, Action: "x", Detail: []byte("{")})
	wantErr(t, err, store.ErrInvalid)
	c, err = s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != 6 || !bytes.Equal(c.Head, e.Hash) {
		t.Errorf("chain of 6: %+v", c)
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{AfterSeq: 2, Limit: 2})
	must(t, err)
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 || !bytes.Equal(page[0].Hash, es[2].Hash) || string(page[0].Detail) != `{"i":2}` {
		t.Errorf("ListAudit page: %+v", page)
	}
}

func testAuditTamper(t *testing.T, s store.Store, raw func(string) error) {
	appendN(t, s, 6)
	// The table refuses changes through SQL while its guard is on.
	if err := raw(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`); err == nil {
		t.Fatal("audit_log accepted an UPDATE")
	}
	if err := raw(`DELETE FROM audit_log WHERE seq = 3`); err == nil {
		t.Fatal("audit_log accepted a DELETE")
	}
	// Someone with database access removes the guard and edits a row.
	if s.Backend() == "postgres" {
		must(t, raw(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`))
	} else {
		must(t, raw(`DROP TRIGGER audit_log_no_update`))
		must(t, raw(`DROP TRIGGER audit_log_no_delete`))
	}
	check := func(want int64, reason string) {
		t.Helper()
		c, err := s.VerifyAuditChain(ctx)
		must(t, err)
		if c.OK || c.FirstBroken != want || !strings.Contains(c.Reason, reason) {
			t.Errorf("after tampering: %+v, want first broken %d (%s)", c, want, reason)
		}
	}
	must(t, raw(`UPDATE audit_log SET detail = '{"i":99}' WHERE seq = 4`))
	check(4, "modified")
	must(t, raw(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`))
	check(2, "modified")
	// Recomputing the edited row's own hash does not help: the next link breaks.
	must(t, raw(`UPDATE audit_log SET actor = 'admin' WHERE seq = 2`))
	must(t, raw(`UPDATE audit_log SET detail = '{"i":3}' WHERE seq = 4`))
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK {
		t.Fatalf("restored rows should verify again: %+v", c)
	}
	must(t, raw(`UPDATE audit_log SET hash = prev_hash WHERE seq = 5`))
	check(5, "modified")
	must(t, raw(`DELETE FROM audit_log WHERE seq >= 5`))
	must(t, raw(`DELETE FROM audit_log WHERE seq = 2`))
	check(2, "sequence gap")
}

func testAuditConcurrent(t *testing.T, s store.Store, _ func(string) error) {
	const workers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.AppendAudit(ctx, store.AuditEntry{At: T0, Actor: fmt.Sprintf("w%d", w), Action: "test", Object: fmt.Sprint(i)}); err != nil {
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
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != workers*each {
		t.Errorf("after concurrent appends: %+v", c)
	}
}

func testUsage(t *testing.T, s store.Store, _ func(string) error) {
	var ids []int64
	for i := range 7 {
		u := store.UsageRecord{At: T0.Add(time.Duration(i) * time.Minute), LicenseID: fmt.Sprintf("L%d", i%2), HolderIDNumber: fmt.Sprintf("H%d", i%3),
			CounterID: "counter-1", ServiceItem: "企业开办", Operator: "clerk", Verdict: "PASSED", Disclosed: []string{"名称", "统一社会信用代码"}}
		if i == 6 {
			u.CounterID, u.Verdict, u.Reason, u.Disclosed = "counter-2", "FAILED", "LICENSE_REVOKED", nil
		}
		id, err := s.AppendUsage(ctx, u)
		must(t, err)
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) || ids[0] == ids[1] {
		t.Errorf("usage ids %v", ids)
	}
	_, err := s.AppendUsage(ctx, store.UsageRecord{})
	wantErr(t, err, store.ErrInvalid)
	byLic, err := s.ListUsage(ctx, store.UsageFilter{LicenseID: "L0"})
	must(t, err)
	if len(byLic) != 4 || byLic[0].ID != ids[6] || byLic[0].Reason != "LICENSE_REVOKED" || len(byLic[0].Disclosed) != 0 {
		t.Errorf("by license: %+v", byLic)
	}
	last := byLic[len(byLic)-1]
	if !last.At.Equal(T0) || last.ServiceItem != "企业开办" || !slices.Equal(last.Disclosed, []string{"名称", "统一社会信用代码"}) {
		t.Errorf("usage record read back as %+v", last)
	}
	byHolder, err := s.ListUsage(ctx, store.UsageFilter{HolderIDNumber: "H0"})
	must(t, err)
	byCounter, err := s.ListUsage(ctx, store.UsageFilter{CounterID: "counter-2"})
	must(t, err)
	if len(byHolder) != 3 || len(byCounter) != 1 {
		t.Errorf("by holder %d, by counter %d", len(byHolder), len(byCounter))
	}
	page1, err := s.ListUsage(ctx, store.UsageFilter{Limit: 4})
	must(t, err)
	page2, err := s.ListUsage(ctx, store.UsageFilter{Limit: 4, BeforeID: page1[3].ID})
	must(t, err)
	if len(page1) != 4 || len(page2) != 3 || page2[2].ID != ids[0] {
		t.Errorf("usage pages %d + %d", len(page1), len(page2))
	}
}

func testTokensUsers(t *testing.T, s store.Store, _ func(string) error) {
	h := sm3.Sum([]byte("zx_secret_token"))
	tok := store.Token{ID: "t1", Name: "counter 1", Role: store.RoleCounter, AgencyID: "A1", Hash: h[:], CreatedAt: T0}
	must(t, s.CreateToken(ctx, tok))
	wantErr(t, s.CreateToken(ctx, tok), store.ErrExists)
	wantErr(t, s.CreateToken(ctx, store.Token{ID: "t2", Role: store.RoleAdmin, Hash: []byte("short")}), store.ErrInvalid)
	wantErr(t, s.CreateToken(ctx, store.Token{ID: "t3", Role: "root", Hash: h[:]}), store.ErrInvalid)
	got, err := s.TokenByHash(ctx, h[:])
	must(t, err)
	if got.ID != "t1" || got.Role != store.RoleCounter || got.Revoked || !got.CreatedAt.Equal(T0) {
		t.Errorf("TokenByHash = %+v", got)
	}
	other := sm3.Sum([]byte("other"))
	_, err = s.TokenByHash(ctx, other[:])
	wantErr(t, err, store.ErrNotFound)
	must(t, s.RevokeToken(ctx, "t1"))
	_, err = s.TokenByHash(ctx, h[:])
	wantErr(t, err, store.ErrRevoked)
	wantErr(t, s.RevokeToken(ctx, "nope"), store.ErrNotFound)
	// A holder token carries the holder's ID number in its own field;
	// no other role has one.
	hh := sm3.Sum([]byte("zx_holder_token"))
	must(t, s.CreateToken(ctx, store.Token{ID: "h1", Name: "wallet", Role: store.RoleHolder, HolderID: "11010519491231002X", Hash: hh[:], CreatedAt: T0}))
	gh, err := s.TokenByHash(ctx, hh[:])
	must(t, err)
	if gh.ID != "h1" || gh.Role != store.RoleHolder || gh.HolderID != "11010519491231002X" || gh.AgencyID != "" {
		t.Errorf("holder token = %+v", gh)
	}
	wantErr(t, s.CreateToken(ctx, store.Token{ID: "t4", Role: store.RoleIssuer, AgencyID: "A1", HolderID: "11010519491231002X", Hash: other[:]}), store.ErrInvalid)
	all, err := s.ListTokens(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != "h1" || all[0].HolderID != "11010519491231002X" || all[1].ID != "t1" || !all[1].Revoked || all[1].HolderID != "" {
		t.Errorf("ListTokens = %+v", all)
	}

	u := store.User{Username: "clerk", PasswordHash: "$argon2id$v=19$opaque", Role: store.RoleCounter, AgencyID: "A1", CreatedAt: T0}
	must(t, s.PutUser(ctx, u))
	u.PasswordHash, u.Role = "$argon2id$new", store.RoleIssuer
	must(t, s.PutUser(ctx, u))
	must(t, s.PutUser(ctx, store.User{Username: "admin", PasswordHash: "x", Role: store.RoleAdmin, CreatedAt: T0}))
	wantErr(t, s.PutUser(ctx, store.User{Username: "bad", PasswordHash: "x", Role: "boss"}), store.ErrInvalid)
	gu, err := s.GetUser(ctx, "clerk")
	must(t, err)
	if gu.PasswordHash != "$argon2id$new" || gu.Role != store.RoleIssuer || !gu.CreatedAt.Equal(T0) {
		t.Errorf("GetUser = %+v", gu)
	}
	us, err := s.ListUsers(ctx)
	must(t, err)
	if len(us) != 2 || us[0].Username != "admin" {
		t.Errorf("ListUsers = %+v", us)
	}
	must(t, s.DeleteUser(ctx, "clerk"))
	_, err = s.GetUser(ctx, "clerk")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, "clerk"), store.ErrNotFound)
}

func testClaimCodes(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	l := lic("A1", 1)
	_, _, err := s.IssueLicense(ctx, l, auditFor(l.ID))
	must(t, err)
	code := func(s string) []byte { h := sm3.Sum([]byte(s)); return h[:] }
	must(t, s.CreateClaimCode(ctx, store.ClaimCode{Hash: code("A"), LicenseID: l.ID, Expires: T0.Add(10 * time.Minute)}))
	must(t, s.CreateClaimCode(ctx, store.ClaimCode{Hash: code("B"), LicenseID: l.ID, Expires: T0.Add(10 * time.Minute)}))
	must(t, s.CreateClaimCode(ctx, store.ClaimCode{Hash: code("C"), LicenseID: l.ID, Expires: T0.Add(10 * time.Minute)}))
	wantErr(t, s.CreateClaimCode(ctx, store.ClaimCode{Hash: code("A"), LicenseID: l.ID, Expires: T0}), store.ErrExists)
	id, err := s.RedeemClaimCode(ctx, code("A"), T0.Add(time.Minute))
	must(t, err)
	if id != l.ID {
		t.Errorf("redeemed license %q", id)
	}
	_, err = s.RedeemClaimCode(ctx, code("A"), T0.Add(2*time.Minute))
	wantErr(t, err, store.ErrClaimUsed)
	_, err = s.RedeemClaimCode(ctx, code("B"), T0.Add(10*time.Minute)) // expiry is exclusive
	wantErr(t, err, store.ErrClaimExpired)
	_, err = s.RedeemClaimCode(ctx, code("Z"), T0)
	wantErr(t, err, store.ErrNotFound)
	// Concurrent redemptions of one code: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := s.RedeemClaimCode(ctx, code("C"), T0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrClaimUsed):
				used++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || used != 7 {
		t.Errorf("concurrent redemption: %d wins, %d used", wins, used)
	}
}

func testNonces(t *testing.T, s store.Store, _ func(string) error) {
	n1 := []byte("nonce-1")
	seen, err := s.SeenNonce(ctx, n1, T0.Add(time.Minute), T0)
	must(t, err)
	if seen {
		t.Error("fresh nonce reported as replay")
	}
	seen, err = s.SeenNonce(ctx, n1, T0.Add(time.Minute), T0.Add(30*time.Second))
	must(t, err)
	if !seen {
		t.Error("replayed nonce not detected")
	}
	// After expiry the nonce is purged and may be recorded again (the
	// presentation it belonged to has expired by then anyway).
	seen, err = s.SeenNonce(ctx, n1, T0.Add(3*time.Minute), T0.Add(2*time.Minute))
	must(t, err)
	if seen {
		t.Error("expired nonce still reported as seen")
	}
	_, err = s.SeenNonce(ctx, nil, T0, T0)
	wantErr(t, err, store.ErrInvalid)
	for i := range 5 {
		_, err := s.SeenNonce(ctx, []byte{byte(i)}, T0.Add(time.Duration(i)*time.Second), T0)
		must(t, err)
	}
	n, err := s.PurgeNonces(ctx, T0.Add(3*time.Second))
	must(t, err)
	// Expiries T0+1s..T0+4s remain (T0+0 was purged by the next call);
	// three of them are at or before T0+3s.
	if n != 3 {
		t.Errorf("purged %d, want 3", n)
	}
	// Concurrent presentations of one nonce: exactly one is fresh.
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 10 {
		wg.Go(func() {
			seen, err := s.SeenNonce(ctx, []byte("race"), T0.Add(time.Hour), T0)
			if err != nil {
				t.Error(err)
				return
			}
			if !seen {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d of 10 concurrent uses of one nonce accepted, want 1", fresh)
	}
	ad := store.Nonces{Store: s, Now: func() time.Time { return T0 }}
	r1, err1 := ad.Seen(ctx, []byte("adapter"), T0.Add(time.Minute))
	r2, err2 := ad.Seen(ctx, []byte("adapter"), T0.Add(time.Minute))
	must(t, errors.Join(err1, err2))
	if r1 || !r2 {
		t.Errorf("Nonces adapter: %v %v", r1, r2)
	}
}

func testPing(t *testing.T, s store.Store, _ func(string) error) {
	must(t, s.Ping(ctx))
	if b := s.Backend(); b != "sqlite" && b != "postgres" {
		t.Errorf("Backend() = %q", b)
	}
}

func testReserved(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	first, err := s.ReserveStatusIndexes(ctx, "A1", 3)
	must(t, err)
	if first != 0 {
		t.Fatalf("first reservation starts at %d", first)
	}
	r := lic("A1", 1)
	r.StatusIndex, r.IndexReserved = 1, true
	got, _, err := s.IssueLicense(ctx, r, auditFor(r.ID))
	must(t, err)
	if got.StatusIndex != 1 {
		t.Errorf("reserved index 1 stored as %d", got.StatusIndex)
	}
	plain := lic("A1", 2)
	got, _, err = s.IssueLicense(ctx, plain, auditFor(plain.ID))
	must(t, err)
	if got.StatusIndex != 3 {
		t.Errorf("assigned index %d after reserving 0..2, want 3", got.StatusIndex)
	}
	again := lic("A1", 3)
	again.StatusIndex, again.IndexReserved = 1, true
	_, _, err = s.IssueLicense(ctx, again, auditFor(again.ID))
	wantErr(t, err, store.ErrConflict)
	never := lic("A1", 4)
	never.StatusIndex, never.IndexReserved = 99, true
	_, _, err = s.IssueLicense(ctx, never, auditFor(never.ID))
	wantErr(t, err, store.ErrInvalid)
	_, err = s.ReserveStatusIndexes(ctx, "nope", 1)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ReserveStatusIndexes(ctx, "A1", 0)
	wantErr(t, err, store.ErrInvalid)

	first, err = s.ReserveStatusIndexes(ctx, "A1", 2) // 4, 5
	must(t, err)
	a, b, c := lic("A1", 10), lic("A1", 11), lic("A1", 12)
	a.StatusIndex, a.IndexReserved = first+1, true
	c.StatusIndex, c.IndexReserved = first, true
	res, err := s.IssueLicenses(ctx, []store.LicenseRecord{a, b, c}, nil)
	must(t, err)
	if first != 4 || res[0].StatusIndex != 5 || res[1].StatusIndex != 6 || res[2].StatusIndex != 4 {
		t.Errorf("reserved from %d; batch got %+v", first, res)
	}
	// A "reserved" index the counter has not reached yet would collide with
	// the indexes assigned in the same batch: refused.
	d, e := lic("A1", 13), lic("A1", 14)
	e.StatusIndex, e.IndexReserved = 7, true
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{d, e}, nil)
	wantErr(t, err, store.ErrInvalid)
	found, err := s.LookupIdempotencyKeys(ctx, "A1", []string{r.IdempotencyKey, b.IdempotencyKey, "row-unknown"})
	must(t, err)
	if len(found) != 2 || found[b.IdempotencyKey].ID != b.ID || found[b.IdempotencyKey].StatusIndex != 6 || !found[r.IdempotencyKey].Existed {
		t.Errorf("LookupIdempotencyKeys = %+v", found)
	}
}

func testBindHolder(t *testing.T, s store.Store, _ func(string) error) {
	agency(t, s, "A1")
	l := lic("A1", 1)
	_, _, err := s.IssueLicense(ctx, l, auditFor(l.ID))
	must(t, err)
	before, err := s.VerifyAuditChain(ctx)
	must(t, err)
	key, payload := []byte("device-public-key"), []byte("re-signed license")
	must(t, s.BindHolderKey(ctx, l.ID, key, payload, store.AuditEntry{At: T0, Actor: "wallet", Action: "license.bind"}))
	got, err := s.GetLicense(ctx, l.ID)
	must(t, err)
	if string(got.HolderDeviceKey) != string(key) || string(got.Payload) != string(payload) {
		t.Errorf("after bind: key %q payload %q", got.HolderDeviceKey, got.Payload)
	}
	after, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !after.OK || after.Entries != before.Entries+1 {
		t.Errorf("bind should append one audit entry: %d -> %d (ok %v)", before.Entries, after.Entries, after.OK)
	}
	wantErr(t, s.BindHolderKey(ctx, "nope", key, payload, store.AuditEntry{Action: "license.bind"}), store.ErrNotFound)
	wantErr(t, s.BindHolderKey(ctx, l.ID, nil, payload, store.AuditEntry{Action: "license.bind"}), store.ErrInvalid)
	must(t, s.SetLicenseStatus(ctx, l.ID, store.StatusRevoked, "吊销", "officer", T0.Add(time.Hour)))
	wantErr(t, s.BindHolderKey(ctx, l.ID, key, payload, store.AuditEntry{Action: "license.bind"}), store.ErrInvalidTransition)
}

// refHashAgency is refHash for an entry with an agency: the documented
// encoding followed by "zhengxin-audit-agency" and the length-prefixed
// agency; an empty agency adds nothing.
func refHashAgency(prev []byte, seq int64, at time.Time, agency string, fields ...string) []byte {
	if agency == "" {
		return refHash(prev, seq, at, fields...)
	}
	msg := append([]byte{}, prev...)
	msg = append(msg, "zhengxin-audit-v1"...)
	msg = binary.BigEndian.AppendUint64(msg, uint64(seq))
	msg = binary.BigEndian.AppendUint64(msg, uint64(at.UnixMicro()))
	for _, f := range append(fields, "zhengxin-audit-agency") {
		if f == "zhengxin-audit-agency" {
			msg = append(msg, f...)
			f = agency
		}
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	h := sm3.Sum(msg)
	return h[:]
}

// Two agencies with unified social credit codes as their ids, as
// deployments have them; e-license identifiers carry the issuer's code.
const (
	uscA = "11350100MB0000019U"
	uscB = "12330000MB1234567X"
)

// licID makes a GB/T 36904-shaped identifier of agency's license n. The
// check character is not computed: the store only reads the issuer part.
func licID(agency string, n int) string {
	return fmt.Sprintf("1.2.156.3005.2.11100000000013127D001.%s.%08d.001.X", agency, n)
}

func agencyLic(agency string, n int) store.LicenseRecord {
	l := lic(agency, n)
	l.ID = licID(agency, n)
	return l
}

func createAgency(t *testing.T, s store.Store, id string) {
	t.Helper()
	must(t, s.CreateAgency(ctx, store.Agency{ID: id, Name: "机构 " + id, CreditCode: id, CreatedAt: T0}))
}

func testAuditAgencies(t *testing.T, s store.Store, _ func(string) error) {
	createAgency(t, s, uscA)
	createAgency(t, s, uscB)
	la, lb := agencyLic(uscA, 1), agencyLic(uscB, 1)
	// The agency of a license operation is the license's, whether the
	// caller says so or not.
	_, _, err := s.IssueLicense(ctx, la, auditFor(la.ID))
	must(t, err)
	ab := auditFor(lb.ID)
	ab.Agency = uscB
	_, _, err = s.IssueLicense(ctx, lb, ab)
	must(t, err)
	// An entry naming another agency than the license's is refused, and
	// nothing is written.
	bad := agencyLic(uscA, 2)
	wrong := auditFor(bad.ID)
	wrong.Agency = uscB
	_, _, err = s.IssueLicense(ctx, bad, wrong)
	wantErr(t, err, store.ErrInvalid)
	if _, err := s.GetLicense(ctx, bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("license with a wrong-agency audit entry was stored: %v", err)
	}
	must(t, s.SetLicenseStatus(ctx, la.ID, store.StatusSuspended, "整改", "officer", T0.Add(time.Minute)))
	must(t, s.BindHolderKey(ctx, lb.ID, []byte("device"), []byte("re-signed"), store.AuditEntry{At: T0, Actor: "wallet", Action: "license.bind"}))
	wantErr(t, s.BindHolderKey(ctx, lb.ID, []byte("device"), []byte("re-signed"), store.AuditEntry{At: T0, Action: "license.bind", Agency: uscA}), store.ErrInvalid)
	next := agencyLic(uscA, 3)
	_, err = s.SupersedeLicense(ctx, la.ID, next, store.AuditEntry{At: T0, Actor: "officer", Action: "license.supersede"})
	must(t, err)
	// Batches: one agency's batch is that agency's; a mixed batch's entry
	// has no agency, and may not claim one.
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{agencyLic(uscA, 10), agencyLic(uscA, 11)}, &store.AuditEntry{At: T0, Actor: "import", Action: "license.import", Detail: []byte(`{"rows":"2"}`)})
	must(t, err)
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{agencyLic(uscA, 20), agencyLic(uscB, 20)}, &store.AuditEntry{At: T0, Actor: "import", Action: "license.import", Agency: uscA})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{agencyLic(uscA, 21), agencyLic(uscB, 21)}, &store.AuditEntry{At: T0, Actor: "import", Action: "license.import", Detail: []byte(`{"agency":"` + uscB + `"}`)})
	wantErr(t, err, store.ErrInvalid)
	_, err = s.IssueLicenses(ctx, []store.LicenseRecord{agencyLic(uscA, 22), agencyLic(uscB, 22)}, &store.AuditEntry{At: T0, Actor: "import", Action: "license.import"})
	must(t, err)
	// Entries outside license operations: explicit, named in the detail,
	// or deployment-wide.
	for _, e := range []store.AuditEntry{
		{At: T0, Actor: "cli", Action: "root.create", Object: "root"},
		{At: T0, Actor: "cli", Action: "seal.make", Object: "35010000000001", Detail: []byte(`{"agency":"` + uscB + `","name":"公章"}`)},
		{At: T0, Actor: "cli", Action: "cert.issue", Object: "0a1b", Agency: uscA},
		{At: T0, Actor: "admin", Action: "token.create", Object: "token:x", Detail: []byte(`{"\u0061gency":"` + uscA + `"}`)},
		{At: T0, Actor: "admin", Action: "user.create", Object: "user:root", Detail: []byte(`{"Agency":"` + uscA + `","agency":""}`)},
	} {
		_, err := s.AppendAudit(ctx, e)
		must(t, err)
	}

	all, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	must(t, err)
	type row struct{ action, object, agency string }
	want := []row{
		{"license.issue", la.ID, uscA},
		{"license.issue", lb.ID, uscB},
		{"license.status", la.ID, uscA},
		{"license.bind", lb.ID, uscB},
		{"license.supersede", next.ID, uscA},
		{"license.status", la.ID, uscA},
		{"license.import", "", uscA},
		{"license.import", "", ""},
		{"root.create", "root", ""},
		{"seal.make", "35010000000001", uscB},
		{"cert.issue", "0a1b", uscA},
		{"token.create", "token:x", uscA},
		{"user.create", "user:root", ""},
	}
	if len(all) != len(want) {
		t.Fatalf("%d audit entries, want %d: %+v", len(all), len(want), all)
	}
	prev := make([]byte, 32)
	for i, e := range all {
		if w := want[i]; e.Action != w.action || e.Object != w.object || e.Agency != w.agency {
			t.Errorf("entry %d: %s %s agency %q, want %s %s agency %q", e.Seq, e.Action, e.Object, e.Agency, w.action, w.object, w.agency)
		}
		// The agency is in the hash, by the documented encoding.
		if h := refHashAgency(prev, e.Seq, e.At, e.Agency, e.Actor, e.Action, e.Object, string(e.Detail)); !bytes.Equal(e.Hash, h) {
			t.Errorf("entry %d (agency %q): hash %x, want %x", e.Seq, e.Agency, e.Hash, h)
		}
		prev = e.Hash
	}
	// The filter returns exactly one agency's entries, oldest first, and
	// pages and combines with the object filter.
	for _, ag := range []string{uscA, uscB} {
		var wantSeqs []int64
		for _, e := range all {
			if e.Agency == ag {
				wantSeqs = append(wantSeqs, e.Seq)
			}
		}
		var got []int64
		for after := int64(0); ; {
			page, err := s.ListAudit(ctx, store.AuditFilter{Agency: ag, AfterSeq: after, Limit: 2})
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				if e.Agency != ag {
					t.Errorf("agency %s filter returned entry %d of %q", ag, e.Seq, e.Agency)
				}
				got = append(got, e.Seq)
			}
			after = page[len(page)-1].Seq
		}
		if !slices.Equal(got, wantSeqs) {
			t.Errorf("agency %s: entries %v, want %v", ag, got, wantSeqs)
		}
	}
	es, err := s.ListAudit(ctx, store.AuditFilter{Agency: uscA, Object: la.ID})
	must(t, err)
	if len(es) != 3 || es[0].Action != "license.issue" || es[1].Action != "license.status" || es[2].Action != "license.status" {
		t.Errorf("agency A, object %s: %+v", la.ID, es)
	}
	if es, err := s.ListAudit(ctx, store.AuditFilter{Agency: uscB, Object: la.ID}); err != nil || len(es) != 0 {
		t.Errorf("agency B sees agency A's license: %+v %v", es, err)
	}
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != int64(len(want)) {
		t.Errorf("chain: %+v", c)
	}
}

// sqlBytes and sqlTime spell values as SQL literals of the backend, for
// rows written behind the store's back.
func sqlBytes(backend string, b []byte) string {
	if backend == "postgres" {
		return fmt.Sprintf(`'\x%x'::bytea`, b)
	}
	return fmt.Sprintf(`X'%x'`, b)
}

func sqlTime(backend string, t time.Time) string {
	if backend == "postgres" {
		return "'" + t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") + "'::timestamptz"
	}
	return fmt.Sprint(t.UnixMicro())
}

// testAuditAgencyChain: entries from before agencies were hashed (written
// here as the migration leaves them: the old hash, the agency filled in
// from the entry's own fields) and new ones verify together, and changing
// or clearing the agency of any of them breaks the chain at that entry.
func testAuditAgencyChain(t *testing.T, s store.Store, raw func(string) error) {
	_, err := s.AppendAudit(ctx, store.AuditEntry{At: T0, Actor: "cli", Action: "root.create", Object: "root"})
	must(t, err)
	head, err := s.AppendAudit(ctx, store.AuditEntry{At: T0, Actor: "cli", Action: "cert.issue", Object: "0a1b", Agency: uscA})
	must(t, err)
	// Three entries as an older version wrote them, agencies as the
	// migration filled them.
	old := []struct{ object, detail, agency string }{
		{licID(uscA, 7), `{"from":"valid","to":"suspended","reason":"整改"}`, uscA},
		{"35010000000001", `{"agency":"` + uscB + `","name":"公章"}`, uscB},
		{"token:y", `{"role":"admin"}`, ""},
	}
	prev := head.Hash
	for i, o := range old {
		seq := int64(3 + i)
		at := T0.Add(time.Duration(i) * time.Second)
		h := refHash(prev, seq, at, "cli", "legacy", o.object, o.detail)
		must(t, raw(fmt.Sprintf(`INSERT INTO audit_log (seq, at, actor, action, object, detail, agency, prev_hash, hash) VALUES (%d, %s, 'cli', 'legacy', '%s', '%s', '%s', %s, %s)`,
			seq, sqlTime(s.Backend(), at), o.object, o.detail, o.agency, sqlBytes(s.Backend(), prev), sqlBytes(s.Backend(), h))))
		prev = h
	}
	// New entries continue the chain.
	e6, err := s.AppendAudit(ctx, store.AuditEntry{At: T0, Actor: "officer", Action: "license.status", Object: licID(uscB, 1)})
	must(t, err)
	if e6.Seq != 6 || e6.Agency != uscB || !bytes.Equal(e6.PrevHash, prev) {
		t.Fatalf("entry after the old ones: %+v", e6)
	}
	_, err = s.AppendAudit(ctx, store.AuditEntry{At: T0, Actor: "admin", Action: "user.create", Object: "user:x"})
	must(t, err)
	c, err := s.VerifyAuditChain(ctx)
	must(t, err)
	if !c.OK || c.Entries != 7 {
		t.Fatalf("mixed old and new entries: %+v", c)
	}
	es, err := s.ListAudit(ctx, store.AuditFilter{Agency: uscA})
	must(t, err)
	if len(es) != 2 || es[0].Seq != 2 || es[1].Seq != 3 {
		t.Errorf("agency A's entries, old and new: %+v", es)
	}

	if s.Backend() == "postgres" {
		must(t, raw(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`))
	} else {
		must(t, raw(`DROP TRIGGER audit_log_no_update`))
	}
	for _, tc := range []struct {
		seq          int64
		agency, orig string
		reason       string
	}{
		{2, uscB, uscA, "modified"},       // new entry: the agency is hashed
		{2, "", uscA, "modified"},         // ... and so is its presence
		{6, uscA, uscB, "modified"},       // new entry whose agency the store filled in
		{3, uscB, uscA, "agency changed"}, // old entry: not hashed, but named by its object
		{3, "", uscA, "agency removed"},
		{4, uscA, uscB, "agency changed"}, // old entry named by its detail
		{5, uscA, "", "agency changed"},   // old deployment-wide entry
		// A new deployment-wide entry hashes as an old one: its agency
		// must be the none its fields name.
		{1, uscA, "", "agency changed"},
		{7, uscB, "", "agency changed"},
	} {
		must(t, raw(fmt.Sprintf(`UPDATE audit_log SET agency = '%s' WHERE seq = %d`, tc.agency, tc.seq)))
		c, err := s.VerifyAuditChain(ctx)
		must(t, err)
		if c.OK || c.FirstBroken != tc.seq || !strings.Contains(c.Reason, tc.reason) {
			t.Errorf("agency of entry %d set to %q: %+v, want first broken %d (%s)", tc.seq, tc.agency, c, tc.seq, tc.reason)
		}
		must(t, raw(fmt.Sprintf(`UPDATE audit_log SET agency = '%s' WHERE seq = %d`, tc.orig, tc.seq)))
		if c, err := s.VerifyAuditChain(ctx); err != nil || !c.OK {
			t.Fatalf("restored entry %d: %+v %v", tc.seq, c, err)
		}
	}
}
