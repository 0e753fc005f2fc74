package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/store"
)

func TestStoreSeals(t *testing.T) {
	ctx := context.Background()
	ss, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "z.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	st := FromStore(ss, nil)
	e := newEnvWithStore(t, st, func(d *Deps, c *Config) {
		d.Seals = StoreSeals{Store: ss, Make: func(ctx context.Context, agency string, req *SealRequest) (store.Seal, error) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			return store.Seal{ID: "ES-" + agency + "-1", AgencyID: agency, Name: req.Name, Type: "公章", DER: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, ValidFrom: t0, ValidTo: t0.AddDate(3, 0, 0), CreatedAt: t0}, nil
		}}
	})
	if res := e.do(rIssuerA, "POST", "/api/v1/seals", map[string]any{"name": "机构A公章"}); res.Code != 201 {
		t.Fatalf("make: %d %s", res.Code, res.Body)
	}
	res := e.do(rIssuerA, "GET", "/api/v1/seals/ES-A-1", nil)
	if res.Code != 200 || res.Body.String() != "\x30\x03\x02\x01\x01" {
		t.Fatalf("get: %d %x", res.Code, res.Body.Bytes())
	}
	if res := e.do(rIssuerB, "GET", "/api/v1/seals/ES-A-1", nil); res.Code != 404 {
		t.Fatalf("issuer B: %d", res.Code)
	}
	var pg pageOf[*SealInfo]
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/seals", nil).Body.Bytes(), &pg)
	if len(pg.Items) != 1 || pg.Items[0].Name != "机构A公章" || pg.Items[0].Agency != "A" {
		t.Fatalf("admin list: %+v", pg.Items)
	}
	mustJSON(t, e.do(rIssuerB, "GET", "/api/v1/seals", nil).Body.Bytes(), &pg)
	if len(pg.Items) != 0 {
		t.Fatalf("issuer B sees %d seals", len(pg.Items))
	}
}
