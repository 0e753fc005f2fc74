package store_test

import (
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/store/storetest"
)

// Bulk issuance: one b.N iteration is one batch of benchBatch licenses
// with a 600-byte payload, the size of a signed license. The 1,000,000-row
// measurement of the report is
//
//	go test -run '^$' -bench 'BulkIssue' -benchtime 200x ./store/
//
// (200 batches of 5,000). Baselines in the same file: SM3 over the same
// payload and one SM2 signature, per row, so the storage cost can be read
// as a ratio of the signing cost.

const benchBatch = 5000

func benchRows(agency string, batch, n int) []store.LicenseRecord {
	payload := make([]byte, 600)
	rand.Read(payload)
	rows := make([]store.LicenseRecord, n)
	for i := range rows {
		k := batch*n + i
		rows[i] = store.LicenseRecord{
			ID:             fmt.Sprintf("1100000000000000000000%s%012d", agency, k),
			AgencyID:       agency,
			TypeCode:       "0101",
			Number:         fmt.Sprintf("NO%010d", k),
			HolderName:     fmt.Sprintf("某某科技有限公司%d", k),
			HolderIDType:   "049",
			HolderIDNumber: fmt.Sprintf("91350100M%09d", k),
			ValidFrom:      storetest.T0,
			ValidTo:        storetest.T0.AddDate(10, 0, 0),
			IssuedAt:       storetest.T0,
			Payload:        payload,
			Fields:         []byte(fmt.Sprintf(`{"名称":"某某科技有限公司%d","类型":"有限责任公司","法定代表人":"张三","注册资本":"100万元"}`, k)),
			IdempotencyKey: fmt.Sprintf("csv:%d", k),
		}
	}
	return rows
}

func benchBulk(b *testing.B, s store.Store) {
	must(b, s.CreateAgency(ctx, store.Agency{ID: "A1", Name: "bench", CreditCode: "11350100MB0001234X", CreatedAt: storetest.T0}))
	var peak uint64
	var ms runtime.MemStats
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		rows := benchRows("A1", i, benchBatch)
		b.StartTimer()
		res, err := s.IssueLicenses(ctx, rows, &store.AuditEntry{At: storetest.T0, Actor: "bench", Action: "license.issue.batch"})
		if err != nil {
			b.Fatal(err)
		}
		if res[0].Existed {
			b.Fatal("fresh row reported as existing")
		}
		if i%20 == 0 {
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
}

func BenchmarkBulkIssueSQLite(b *testing.B) {
	s, err := store.Open(ctx, "", b.TempDir())
	must(b, err)
	defer s.Close()
	benchBulk(b, s)
}

func BenchmarkBulkIssuePostgres(b *testing.B) {
	url, _ := pgSchema(b)
	s, err := store.Open(ctx, url, "")
	must(b, err)
	defer s.Close()
	benchBulk(b, s)
}

func benchSingle(b *testing.B, s store.Store) {
	must(b, s.CreateAgency(ctx, store.Agency{ID: "A1", Name: "bench", CreditCode: "11350100MB0001234X", CreatedAt: storetest.T0}))
	rows := benchRows("A1", 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.IssueLicense(ctx, rows[i], store.AuditEntry{At: storetest.T0, Actor: "bench", Action: "license.issue"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueLicenseSQLite(b *testing.B) {
	s, err := store.Open(ctx, "", b.TempDir())
	must(b, err)
	defer s.Close()
	benchSingle(b, s)
}

func BenchmarkIssueLicensePostgres(b *testing.B) {
	url, _ := pgSchema(b)
	s, err := store.Open(ctx, url, "")
	must(b, err)
	defer s.Close()
	benchSingle(b, s)
}

// Baselines: the per-row crypto the issuer does before storing.

func BenchmarkBaselineSM3Payload600(b *testing.B) {
	p := make([]byte, 600)
	b.SetBytes(600)
	for b.Loop() {
		sm3.Sum(p)
	}
}

func BenchmarkBaselineSM2Sign600(b *testing.B) {
	k, err := sm2.GenerateKey(rand.Reader)
	must(b, err)
	p := make([]byte, 600)
	for b.Loop() {
		if _, err := k.Sign(rand.Reader, p, sm2.DefaultSM2SignerOpts); err != nil {
			b.Fatal(err)
		}
	}
}
