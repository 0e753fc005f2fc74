package datadir_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/datadir/internal/csvgen"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
)

// Every audit entry the data directory writes belongs to the agency it
// concerns, so each agency's trail is complete and holds nothing of the
// other; the chain verifies.
func TestAuditEntriesCarryTheirAgency(t *testing.T)         { testAuditAgencies(t, false) }
func TestAuditEntriesCarryTheirAgencyPostgres(t *testing.T) { testAuditAgencies(t, true) }

func testAuditAgencies(t *testing.T, pg bool) {
	ctx := context.Background()
	d := newDir(t, pg)
	a1, err := d.Agency("")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := d.AddAgency(ctx, datadir.AgencyConfig{Name: "第二测试局", CreditCode: csvgen.CreditCode(5, 1), RegionCode: "330100"})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(agency string, i int) string {
		req := license.SampleRequests()[0]
		req.Serial = ""
		req.Fields["issuer_name"] = "测试"
		is, err := d.IssueLicense(ctx, datadir.IssueRequest{Agency: agency, Request: req, IdempotencyKey: agency + string(rune('a'+i)), Operator: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		return is.Record.ID
	}
	l1, l2 := issue(a1.CreditCode, 0), issue(a2.CreditCode, 0)
	if err := d.SetStatus(ctx, l1, store.StatusSuspended, "整改", "tester"); err != nil {
		t.Fatal(err)
	}
	dev, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.BindHolder(ctx, l2, &dev.PublicKey, "wallet"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ImportCSV(ctx, bytes.NewReader(genCSV(t, 5, 3)), datadir.ImportOptions{Agency: a2.CreditCode, Operator: "import"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.MakeSeal(ctx, datadir.SealRequest{Agency: a2.CreditCode}); err != nil {
		t.Fatal(err)
	}
	c, err := d.IssueCert(ctx, a1.CreditCode, "seal", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeCert(ctx, hex.EncodeToString(c.SerialNumber.Bytes()), "superseded"); err != nil {
		t.Fatal(err)
	}

	all, err := d.Store.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The agency each entry concerns, found from what it is about.
	want := func(e store.AuditEntry) string {
		if l, err := d.Store.GetLicense(ctx, e.Object); err == nil {
			return l.AgencyID
		}
		var det map[string]string
		json.Unmarshal(e.Detail, &det)
		switch e.Action {
		case "agency.create", "license.import":
			return e.Object
		case "seal.make", "cert.issue", "cert.revoke":
			return det["agency"]
		}
		t.Errorf("entry %d: unexpected action %s", e.Seq, e.Action)
		return ""
	}
	actions := map[string]int{}
	byAgency := map[string]int{}
	for _, e := range all {
		actions[e.Action]++
		if w := want(e); e.Agency != w || w == "" {
			t.Errorf("entry %d %s %s: agency %q, want %q", e.Seq, e.Action, e.Object, e.Agency, w)
		}
		byAgency[e.Agency]++
	}
	for _, a := range []string{"agency.create", "license.issue", "license.status", "license.bind", "license.import", "seal.make", "cert.issue", "cert.revoke"} {
		if actions[a] == 0 {
			t.Errorf("no %s entry: %v", a, actions)
		}
	}
	for _, a := range []string{a1.CreditCode, a2.CreditCode} {
		es, err := d.Store.ListAudit(ctx, store.AuditFilter{Agency: a, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != byAgency[a] || len(es) == 0 {
			t.Errorf("agency %s: %d entries listed, %d written", a, len(es), byAgency[a])
		}
	}
	chk, err := d.Store.VerifyAuditChain(ctx)
	if err != nil || !chk.OK || chk.Entries != int64(len(all)) {
		t.Errorf("chain: %+v %v", chk, err)
	}
}
