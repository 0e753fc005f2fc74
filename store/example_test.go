package store_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/zhengxin/zhengxin/store"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "zhengxin-example")
	defer os.RemoveAll(dir)

	// "" selects SQLite in dir; a postgres:// URL selects PostgreSQL.
	s, err := store.Open(ctx, "", dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s.CreateAgency(ctx, store.Agency{ID: "350100", Name: "福州市市场监督管理局", CreditCode: "11350100MB0001234X", CreatedAt: at})
	rec := store.LicenseRecord{
		ID: "350100-0101-000001", AgencyID: "350100", TypeCode: "0101", Number: "000001",
		HolderName: "某某科技有限公司", HolderIDType: "049", HolderIDNumber: "91350100M000100Y43",
		IssuedAt: at, Payload: []byte("signed bytes"), IdempotencyKey: "csv:licenses.csv:2",
	}
	audit := store.AuditEntry{At: at, Actor: "issuer-1", Action: "license.issue"}
	got, existed, _ := s.IssueLicense(ctx, rec, audit)
	fmt.Println(got.ID, got.Status, got.StatusIndex, existed)

	// The same CSV row again: nothing new is written.
	_, existed, _ = s.IssueLicense(ctx, rec, audit)
	fmt.Println("replayed:", existed)

	s.SetLicenseStatus(ctx, rec.ID, store.StatusSuspended, "检查中", "officer-7", at.Add(time.Hour))
	check, _ := s.VerifyAuditChain(ctx)
	fmt.Println("audit entries:", check.Entries, "intact:", check.OK)
	// Output:
	// 350100-0101-000001 valid 0 false
	// replayed: true
	// audit entries: 2 intact: true
}
