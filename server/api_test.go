package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/seal/sealtest"
	"github.com/zhengxin/zhengxin/verify/report"
)

func TestIssueValidationAndIdempotency(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testIssueValidationAndIdempotency(t, newEnvOn(t, b)) })
	}
}

func testIssueValidationAndIdempotency(t *testing.T, e *env) {
	res := e.do(rIssuerA, "POST", "/api/v1/licenses", map[string]any{"type": "business-license", "holder_name": "王五", "holder_id": "110105194912310021"})
	if res.Code != 422 || problemCode(t, res) != "validation_failed" {
		t.Fatalf("bad check digit: %d %s", res.Code, res.Body)
	}
	var p Problem
	mustJSON(t, res.Body.Bytes(), &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "holder_id" || p.Errors[0].ZH == "" || p.Errors[0].EN == "" {
		t.Fatalf("field errors = %+v", p.Errors)
	}
	body := map[string]any{"type": "business-license", "holder_name": "王五", "holder_id": "11010519491231002x"}
	first := e.do(rIssuerA, "POST", "/api/v1/licenses", body, "Idempotency-Key", "row-17")
	again := e.do(rIssuerA, "POST", "/api/v1/licenses", body, "Idempotency-Key", "row-17")
	if first.Code != 201 || again.Code != 200 {
		t.Fatalf("idempotent retry: %d then %d", first.Code, again.Code)
	}
	var l1, l2 License
	mustJSON(t, first.Body.Bytes(), &l1)
	mustJSON(t, again.Body.Bytes(), &l2)
	if l1.ID != l2.ID || first.Header().Get("Location") != "/api/v1/licenses/"+l1.ID {
		t.Fatalf("retry gave %s, first %s (Location %q)", l2.ID, l1.ID, first.Header().Get("Location"))
	}
	// Same key from another agency is a different request.
	other := e.do(rIssuerB, "POST", "/api/v1/licenses", body, "Idempotency-Key", "row-17")
	if other.Code != 201 {
		t.Fatalf("other agency, same key: %d", other.Code)
	}
	// Admins must name the agency.
	if res := e.do(rAdmin, "POST", "/api/v1/licenses", body); res.Code != 422 {
		t.Fatalf("admin without agency: %d", res.Code)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses", `{"type": "x", "bogus": 1}`, "Content-Type", "application/json"); res.Code != 400 || problemCode(t, res) != "invalid_json" {
		t.Fatalf("unknown field: %d %s", res.Code, res.Body)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses", `{"type": "x"}`, "Content-Type", "text/xml"); res.Code != 415 {
		t.Fatalf("wrong content type: %d", res.Code)
	}
}

func TestListSearchAndKeysetPagination(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testListSearchAndKeysetPagination(t, newEnvOn(t, b)) })
	}
}

func testListSearchAndKeysetPagination(t *testing.T, e *env) {
	var want []string
	for i := 0; i < 7; i++ {
		want = append([]string{e.issue(rIssuerA, holderB, fmt.Sprintf("企业%d", i))}, want...)
	}
	want = append(want, e.licA) // newest first; licA was issued before them
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		res := e.do(rIssuerA, "GET", "/api/v1/licenses?limit=3&cursor="+cursor, nil)
		if res.Code != 200 {
			t.Fatalf("list: %d %s", res.Code, res.Body)
		}
		var pg pageOf[*License]
		mustJSON(t, res.Body.Bytes(), &pg)
		for _, l := range pg.Items {
			if l.Agency != "A" {
				t.Fatalf("issuer A sees a license of agency %s", l.Agency)
			}
			got = append(got, l.ID)
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	// MemStore pages newest first; store/ by identifier. Either way every
	// license comes exactly once.
	if e.mem == nil {
		slices.Sort(got)
		slices.Sort(want)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages gave\n%v\nwant\n%v", got, want)
	}
	// Issuer A asking for agency B still gets only agency A.
	res := e.do(rIssuerA, "GET", "/api/v1/licenses?agency=B&holder_id="+holderB, nil)
	var pg pageOf[*License]
	mustJSON(t, res.Body.Bytes(), &pg)
	if len(pg.Items) != 7 {
		t.Fatalf("issuer A, holder B filter: %d items, want 7 (agency A's only)", len(pg.Items))
	}
	res = e.do(rIssuerA, "GET", "/api/v1/licenses?q=企业3", nil)
	mustJSON(t, res.Body.Bytes(), &pg)
	if len(pg.Items) != 1 || pg.Items[0].HolderName != "企业3" {
		t.Fatalf("q search: %+v", pg.Items)
	}
	for _, bad := range []string{"limit=0", "limit=501", "status=lost"} {
		if res := e.do(rIssuerA, "GET", "/api/v1/licenses?"+bad, nil); res.Code != 400 {
			t.Errorf("%s: %d, want 400", bad, res.Code)
		}
	}
}

func verifyQR(t *testing.T, e *env, qr string) *report.Report {
	t.Helper()
	res := e.do(rNone, "POST", "/api/v1/verify", map[string]string{"qr": qr})
	if res.Code != 200 {
		t.Fatalf("verify: %d %s", res.Code, res.Body)
	}
	var rep report.Report
	mustJSON(t, res.Body.Bytes(), &rep)
	return &rep
}

func getLicense(t *testing.T, e *env, role, id string) *License {
	t.Helper()
	res := e.do(role, "GET", "/api/v1/licenses/"+id, nil)
	if res.Code != 200 {
		t.Fatalf("get %s: %d", id, res.Code)
	}
	var l License
	mustJSON(t, res.Body.Bytes(), &l)
	return &l
}

func TestStatusChangesShowInVerifyAndAudit(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testStatusChangesShowInVerifyAndAudit(t, newEnvOn(t, b)) })
	}
}

func testStatusChangesShowInVerifyAndAudit(t *testing.T, e *env) {
	l := getLicense(t, e, rIssuerA, e.licA)
	if rep := verifyQR(t, e, l.QR); rep.Verdict != report.Passed {
		t.Fatalf("fresh license: %s %s", rep.Verdict, rep.Reason)
	}
	// A forged QR (signature of another ID) fails.
	forged := strings.Replace(l.QR, e.licA, e.licB, 1)
	if rep := verifyQR(t, e, forged); rep.Verdict != report.Failed || rep.Reason != report.SigCryptoFailure {
		t.Fatalf("forged: %s %s", rep.Verdict, rep.Reason)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/status", map[string]string{"status": "suspended"}); res.Code != 422 {
		t.Fatalf("no reason: %d", res.Code)
	}
	if res := e.do(rIssuerB, "POST", "/api/v1/licenses/"+e.licA+"/status", map[string]string{"status": "revoked", "reason": "x"}); res.Code != 404 {
		t.Fatalf("issuer B revoking A's license: %d, want 404", res.Code)
	}
	steps := []struct {
		status string
		code   int
		reason report.Reason
	}{
		{"suspended", 200, report.LicenseSuspended},
		{"valid", 200, ""},
		{"revoked", 200, report.LicenseRevoked},
		{"valid", 409, report.LicenseRevoked}, // revocation is final
	}
	for _, s := range steps {
		res := e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/status", map[string]string{"status": s.status, "reason": "依法处理 " + s.status})
		if res.Code != s.code {
			t.Fatalf("set %s: %d %s", s.status, res.Code, res.Body)
		}
		if rep := verifyQR(t, e, l.QR); rep.Reason != s.reason {
			t.Fatalf("after %s: reason %q, want %q", s.status, rep.Reason, s.reason)
		}
	}
	res := e.do(rIssuerA, "GET", "/api/v1/audit?object="+e.licA, nil)
	var pg pageOf[*AuditEntry]
	mustJSON(t, res.Body.Bytes(), &pg)
	var actions []string
	for _, a := range pg.Items {
		actions = append(actions, a.Action+":"+a.Actor)
	}
	want := "license.issue:token:id-issuer-A,license.status:token:id-issuer-A,license.status:token:id-issuer-A,license.status:token:id-issuer-A"
	if strings.Join(actions, ",") != want {
		t.Fatalf("audit = %v", actions)
	}
	if d := pg.Items[1].Detail; d["from"] != "valid" || d["to"] != "suspended" {
		t.Fatalf("status audit detail %v", d)
	}
	if d := pg.Items[0].Detail; d["holder"] != "1101********002X" {
		t.Fatalf("issue audit detail %v", d)
	}
	// Issuer B cannot read agency A's license history, nor A's trail.
	if res := e.do(rIssuerB, "GET", "/api/v1/audit?object="+e.licA, nil); res.Code != 404 {
		t.Fatalf("issuer B reading A's history: %d", res.Code)
	}
	if res := e.do(rIssuerB, "GET", "/api/v1/audit?agency=A", nil); res.Code != 403 {
		t.Fatalf("issuer B reading agency A's log: %d", res.Code)
	}
	// Admins page through the whole log, oldest first.
	var seqs []int64
	for cursor, n := "", 0; ; n++ {
		if n > 10 {
			t.Fatal("audit pagination does not end")
		}
		pg = pageOf[*AuditEntry]{}
		mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit?limit=2&cursor="+cursor, nil).Body.Bytes(), &pg)
		for _, a := range pg.Items {
			seqs = append(seqs, a.Seq)
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for i, q := range seqs {
		if i > 0 && q <= seqs[i-1] {
			t.Fatalf("audit pages out of order: %v", seqs)
		}
	}
	if len(seqs) < 5 {
		t.Fatalf("audit pages: %v, want at least the 5 license entries", seqs)
	}
	var chk auditCheck
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if !chk.OK || chk.Checked != len(seqs) {
		t.Fatalf("audit verify: %+v, %d entries listed", chk, len(seqs))
	}
	if e.mem == nil {
		return // tampering with SQLite rows is store/'s conformance suite's job
	}
	e.mem.MoveAudit(3, "B")
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if chk.OK || !strings.Contains(chk.Error, "entry 3") {
		t.Fatalf("audit verify after moving an entry to agency B: %+v", chk)
	}
	e.mem.MoveAudit(3, "A")
	e.mem.TamperAudit(2, "holder=someone else")
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if chk.OK || !strings.Contains(chk.Error, "entry 2") {
		t.Fatalf("tampered audit verify: %+v", chk)
	}
}

// auditPages reads every page of GET path as role (limit 2, to page).
func auditPages(t *testing.T, e *env, role, path string) []*AuditEntry {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var out []*AuditEntry
	for cursor, n := "", 0; ; n++ {
		if n > 200 {
			t.Fatal("audit pagination does not end")
		}
		res := e.do(role, "GET", path+sep+"limit=2&cursor="+cursor, nil)
		if res.Code != 200 {
			t.Fatalf("GET %s as %s: %d %s", path, role, res.Code, res.Body)
		}
		var pg pageOf[*AuditEntry]
		mustJSON(t, res.Body.Bytes(), &pg)
		out = append(out, pg.Items...)
		if cursor = pg.NextCursor; cursor == "" {
			return out
		}
	}
}

// TestAuditByAgency: an agency's issuers read their agency's whole audit
// trail (licenses, seals, claim codes, counters' uses of its licenses, the
// tokens and users made for it) and nothing of another agency's or of the
// deployment's; admins read all, or one agency's.
func TestAuditByAgency(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testAuditByAgency(t, newEnvOn(t, b)) })
	}
}

func testAuditByAgency(t *testing.T, e *env) {
	mustCode := func(res *httptest.ResponseRecorder, code int) []byte {
		t.Helper()
		if res.Code != code {
			t.Fatalf("%d %s, want %d", res.Code, res.Body, code)
		}
		return res.Body.Bytes()
	}
	// What each agency did, and what was done for it.
	mustCode(e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/status", map[string]string{"status": "suspended", "reason": "整改"}), 200)
	mustCode(e.do(rIssuerB, "POST", "/api/v1/licenses/"+e.licB+"/claim-code", nil), 201)
	mustCode(e.do(rCounter, "POST", "/api/v1/usage", map[string]string{"license_id": e.licA, "service_item": "开户", "verdict": "PASSED"}), 201)
	var seal SealInfo
	mustJSON(t, mustCode(e.do(rIssuerB, "POST", "/api/v1/seals", map[string]string{"name": "B 合同章"}), 201), &seal)
	var tokA, tokAdm tokenResponse
	mustJSON(t, mustCode(e.do(rAdmin, "POST", "/api/v1/tokens", map[string]string{"name": "A 窗口", "role": "issuer", "agency": "A"}), 201), &tokA)
	mustJSON(t, mustCode(e.do(rAdmin, "POST", "/api/v1/tokens", map[string]string{"name": "运维", "role": "admin"}), 201), &tokAdm)
	mustCode(e.do(rAdmin, "DELETE", "/api/v1/tokens/"+tokA.ID, nil), 204)
	mustCode(e.do(rAdmin, "POST", "/api/v1/users", map[string]string{"name": "clerk-b", "password": "correct horse battery", "role": "counter", "agency": "B"}), 201)
	mustCode(e.do(rAdmin, "POST", "/api/v1/agencies", map[string]string{"code": "Z", "name": "新机构", "credit_code": "11100000TEST0000ZZ"}), 201)

	// Whose each object is, from what the test did (not from the entries).
	owner := map[string]string{
		e.licA: "A", e.licB: "B", "seal:" + seal.ID: "B",
		"token:" + tokA.ID: "A", "token:" + tokAdm.ID: "", "user:clerk-b": "B", "agency:Z": "Z",
	}
	all := auditPages(t, e, rAdmin, "/api/v1/audit")
	count := map[string]int{}
	for _, a := range all {
		ag, ok := owner[a.Object]
		if !ok {
			t.Fatalf("entry %d: unexpected object %q", a.Seq, a.Object)
		}
		if a.Agency != ag {
			t.Errorf("entry %d %s %s: agency %q, want %q", a.Seq, a.Action, a.Object, a.Agency, ag)
		}
		count[ag]++
	}
	if count[""] != 1 || count["Z"] != 1 || count["A"] != 5 || count["B"] != 4 {
		t.Fatalf("entries per agency: %v", count)
	}
	for role, ag := range map[string]string{rIssuerA: "A", rIssuerB: "B"} {
		for _, path := range []string{"/api/v1/audit", "/api/v1/audit?agency=" + ag} {
			got := auditPages(t, e, role, path)
			if len(got) != count[ag] {
				t.Errorf("%s %s: %d entries, want %d", role, path, len(got), count[ag])
			}
			for i, a := range got {
				if owner[a.Object] != ag || (i > 0 && a.Seq <= got[i-1].Seq) {
					t.Errorf("%s %s: entry %d %s %s (of %q)", role, path, a.Seq, a.Action, a.Object, owner[a.Object])
				}
			}
		}
		adm := auditPages(t, e, rAdmin, "/api/v1/audit?agency="+ag)
		if len(adm) != count[ag] {
			t.Errorf("admin ?agency=%s: %d entries, want %d", ag, len(adm), count[ag])
		}
	}
	// The object filter stays inside the agency: A's seal-less objects and
	// B's seal are not A's to read.
	if got := auditPages(t, e, rIssuerA, "/api/v1/audit?object=token:"+tokA.ID); len(got) != 2 || got[0].Action != "token.create" || got[1].Action != "token.revoke" {
		t.Errorf("issuer A, its token's entries: %+v", got)
	}
	if got := auditPages(t, e, rIssuerA, "/api/v1/audit?object=seal:"+seal.ID); len(got) != 0 {
		t.Errorf("issuer A reads B's seal entries: %+v", got)
	}
	if got := auditPages(t, e, rIssuerA, "/api/v1/audit?object="+e.licA); len(got) != 3 {
		t.Errorf("issuer A, its license's history (issue, status, usage): %+v", got)
	}
	mustCode(e.do(rIssuerA, "GET", "/api/v1/audit?agency=B", nil), 403)
	mustCode(e.do(rIssuerA, "GET", "/api/v1/audit?object="+e.licB, nil), 404)
	// Holders keep what they had: one license of theirs at a time.
	mustCode(e.do(rHolder, "GET", "/api/v1/audit", nil), 403)
	if got := auditPages(t, e, rHolder, "/api/v1/audit?object="+e.licA+"&agency=B"); len(got) != 3 {
		t.Errorf("holder, own license's history: %+v", got)
	}
	mustCode(e.do(rHolder, "GET", "/api/v1/audit?object="+e.licB, nil), 404)
	mustCode(e.do(rCounter, "GET", "/api/v1/audit?object="+e.licA, nil), 403)
	var chk auditCheck
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if !chk.OK || chk.Checked != len(all) {
		t.Fatalf("audit verify: %+v", chk)
	}
}

// qrPNG renders text with go-qrcode; the server decodes it with gozxing, an
// independent implementation.
func qrPNG(t *testing.T, text string) []byte {
	b, err := qrcode.Encode(text, qrcode.Medium, 400)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyInputForms(t *testing.T) {
	e := newEnv(t)
	l := getLicense(t, e, rIssuerA, e.licA)
	check := func(name string, res *httptest.ResponseRecorder, wantHint string) {
		t.Helper()
		if res.Code != 200 {
			t.Fatalf("%s: %d %s", name, res.Code, res.Body)
		}
		var rep report.Report
		mustJSON(t, res.Body.Bytes(), &rep)
		e.verifier.mu.Lock()
		hint := e.verifier.last.hint
		e.verifier.mu.Unlock()
		if hint != wantHint {
			t.Fatalf("%s: verifier got hint %q, want %q", name, hint, wantHint)
		}
		if wantHint == "qr" && rep.Verdict != report.Passed {
			t.Fatalf("%s: %s %s", name, rep.Verdict, rep.Reason)
		}
	}
	check("text", e.do(rNone, "POST", "/api/v1/verify", l.QR+"\n", "Content-Type", "text/plain; charset=utf-8"), "qr")
	// The QR endpoint's PNG, uploaded back as a picture.
	pngRes := e.do(rIssuerA, "GET", "/api/v1/licenses/"+e.licA+"/qr?size=300", nil)
	if pngRes.Code != 200 || pngRes.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("qr png: %d", pngRes.Code)
	}
	check("png from /qr", e.do(rNone, "POST", "/api/v1/verify", pngRes.Body.Bytes(), "Content-Type", "image/png"), "qr")
	check("png octet-stream", e.do(rNone, "POST", "/api/v1/verify", qrPNG(t, l.QR), "Content-Type", "application/octet-stream"), "qr")

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="photo.png"`)
	h.Set("Content-Type", "image/png")
	pw, _ := mw.CreatePart(h)
	pw.Write(qrPNG(t, l.QR))
	mw.Close()
	check("multipart picture", e.do(rNone, "POST", "/api/v1/verify", mp.Bytes(), "Content-Type", mw.FormDataContentType()), "qr")

	check("pdf", e.do(rNone, "POST", "/api/v1/verify", "%PDF-1.7\n%%EOF\n", "Content-Type", "application/pdf"), "pdf")
	check("pdf sniffed", e.do(rNone, "POST", "/api/v1/verify", "%PDF-1.7\n%%EOF\n", "Content-Type", "application/octet-stream"), "pdf")

	// A picture without a QR code.
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(10, 10, color.Black)
	var blank bytes.Buffer
	png.Encode(&blank, img)
	if res := e.do(rNone, "POST", "/api/v1/verify", blank.Bytes(), "Content-Type", "image/png"); res.Code != 422 || problemCode(t, res) != "qr_not_found" {
		t.Fatalf("blank picture: %d %s", res.Code, res.Body)
	}
	// A PNG header claiming 100000 x 100000 pixels is refused before decoding.
	var huge bytes.Buffer
	png.Encode(&huge, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := huge.Bytes()
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0}) // IHDR width, height (CRC now wrong; DecodeConfig reads first)
	if res := e.do(rNone, "POST", "/api/v1/verify", b, "Content-Type", "image/png"); res.Code != 413 && res.Code != 422 {
		t.Fatalf("pixel bomb: %d", res.Code)
	}
	if res := e.do(rNone, "POST", "/api/v1/verify", "{}", "Content-Type", "application/json"); res.Code != 422 {
		t.Fatalf("empty qr: %d", res.Code)
	}
	if res := e.do(rNone, "POST", "/api/v1/verify", "x", "Content-Type", "application/x-foo"); res.Code != 415 {
		t.Fatalf("unknown type: %d", res.Code)
	}
	if res := e.do(rNone, "POST", "/api/v1/verify?kind=zip", l.QR, "Content-Type", "text/plain"); res.Code != 400 {
		t.Fatalf("bad kind: %d", res.Code)
	}
}

func TestSizeLimits(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte("a"), MaxJSONBytes+10)
	for _, c := range []struct{ name, path, ct string }{
		{"verify json", "/api/v1/verify", "application/json"},
		{"verify text", "/api/v1/verify", "text/plain"},
		{"issue", "/api/v1/licenses", "application/json"},
	} {
		res := e.do(rIssuerA, "POST", c.path, big, "Content-Type", c.ct)
		if res.Code != 413 || problemCode(t, res) != "payload_too_large" {
			t.Errorf("%s: %d", c.name, res.Code)
		}
	}
	// Chunked (no Content-Length): the limit still holds.
	// A JSON string that goes on past the limit, so the decoder must read it.
	long := append(append([]byte(`{"type": "`), big...), `"}`...)
	req := httptest.NewRequest("POST", "/api/v1/licenses", bytes.NewReader(long))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[rIssuerA])
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("chunked issue body: %d", rec.Code)
	}
	img := bytes.Repeat([]byte{0}, MaxImageBytes+1)
	if res := e.do(rNone, "POST", "/api/v1/verify", img, "Content-Type", "image/png"); res.Code != 413 {
		t.Fatalf("11 MB image: %d", res.Code)
	}
	req = httptest.NewRequest("POST", "/api/v1/pdf/sign", strings.NewReader("%PDF-"))
	req.ContentLength = MaxPDFBytes + 1
	req.Header.Set("Content-Type", "application/pdf")
	req.Header.Set("Authorization", "Bearer "+e.tokens[rIssuerA])
	rec = httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("50 MB + 1 PDF: %d", rec.Code)
	}
}

func TestClaimWalletAndUsage(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testClaimWalletAndUsage(t, newEnvOn(t, b)) })
	}
}

func testClaimWalletAndUsage(t *testing.T, e *env) {
	res := e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/claim-code", nil)
	if res.Code != 201 {
		t.Fatalf("claim code: %d %s", res.Code, res.Body)
	}
	var cc claimCodeResponse
	mustJSON(t, res.Body.Bytes(), &cc)
	if len(cc.Code) != 19 || !cc.ExpiresAt.Equal(e.clock.Now().Add(72*time.Hour)) {
		t.Fatalf("claim code %+v", cc)
	}
	// Typed in lower case without dashes, by a phone with no token yet.
	res = e.do(rNone, "POST", "/api/v1/holder/claim", map[string]string{"code": strings.ToLower(strings.ReplaceAll(cc.Code, "-", ""))})
	if res.Code != 200 {
		t.Fatalf("claim: %d %s", res.Code, res.Body)
	}
	var cr claimResponse
	mustJSON(t, res.Body.Bytes(), &cr)
	if cr.License.ID != e.licA || !strings.HasPrefix(cr.Token, TokenPrefix) {
		t.Fatalf("claim response %+v", cr)
	}
	if res := e.do(rNone, "POST", "/api/v1/holder/claim", map[string]string{"code": cc.Code}); res.Code != 404 {
		t.Fatalf("second use of a claim code: %d", res.Code)
	}
	e.tokens["wallet"] = cr.Token
	var pg pageOf[*License]
	mustJSON(t, e.do("wallet", "GET", "/api/v1/holder/licenses", nil).Body.Bytes(), &pg)
	if len(pg.Items) != 1 || pg.Items[0].ID != e.licA {
		t.Fatalf("wallet licenses: %+v", pg.Items)
	}
	if res := e.do("wallet", "GET", "/api/v1/licenses/"+e.licB, nil); res.Code != 404 {
		t.Fatalf("wallet reading another holder's license: %d", res.Code)
	}
	// An expired code.
	mustJSON(t, e.do(rIssuerA, "POST", "/api/v1/licenses/"+e.licA+"/claim-code", map[string]int{"valid_hours": 1}).Body.Bytes(), &cc)
	e.clock.Advance(time.Hour)
	if res := e.do(rNone, "POST", "/api/v1/holder/claim", map[string]string{"code": cc.Code}); res.Code != 404 {
		t.Fatalf("expired claim code: %d", res.Code)
	}

	// A counter records a use; the holder sees it, without their ID number.
	res = e.do(rCounter, "POST", "/api/v1/usage", map[string]string{"license_id": e.licA, "service_item": "食品经营许可", "verdict": "PASSED"})
	if res.Code != 201 || strings.Contains(res.Body.String(), holderA) {
		t.Fatalf("usage: %d %s", res.Code, res.Body)
	}
	if res := e.do(rCounter, "POST", "/api/v1/usage", map[string]string{"license_id": e.licA, "service_item": "", "verdict": "OK"}); res.Code != 422 {
		t.Fatalf("bad usage: %d", res.Code)
	}
	var up pageOf[*Usage]
	mustJSON(t, e.do("wallet", "GET", "/api/v1/holder/usage", nil).Body.Bytes(), &up)
	if len(up.Items) != 1 || up.Items[0].ServiceItem != "食品经营许可" || up.Items[0].Counter != "C" || up.Items[0].Operator != "counter" {
		t.Fatalf("holder usage: %+v", up.Items)
	}
	mustJSON(t, e.do(rIssuerA, "GET", "/api/v1/licenses/"+e.licA+"/usage", nil).Body.Bytes(), &up)
	if len(up.Items) != 1 {
		t.Fatalf("license usage: %+v", up.Items)
	}
	if res := e.do(rIssuerB, "GET", "/api/v1/licenses/"+e.licA+"/usage", nil); res.Code != 404 {
		t.Fatalf("issuer B reading A's usage: %d", res.Code)
	}
}

func TestAdminTokensAgenciesUsers(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testAdminTokensAgenciesUsers(t, newEnvOn(t, b)) })
	}
}

func testAdminTokensAgenciesUsers(t *testing.T, e *env) {
	if res := e.do(rAdmin, "POST", "/api/v1/agencies", map[string]string{"code": "A", "name": "重复", "credit_code": "11100000TEST0000AA"}); res.Code != 409 {
		t.Fatalf("duplicate agency: %d", res.Code)
	}
	if res := e.do(rAdmin, "POST", "/api/v1/agencies", map[string]string{"code": "SH-AMR", "name": "上海市市场监督管理局", "credit_code": "11310000TEST0000SH"}); res.Code != 201 {
		t.Fatalf("agency: %d %s", res.Code, res.Body)
	}
	if res := e.do(rAdmin, "POST", "/api/v1/tokens", map[string]string{"name": "x", "role": "issuer", "agency": "nowhere"}); res.Code != 422 {
		t.Fatalf("token for unknown agency: %d", res.Code)
	}
	res := e.do(rAdmin, "POST", "/api/v1/tokens", map[string]string{"name": "上海发证", "role": "issuer", "agency": "SH-AMR"})
	if res.Code != 201 {
		t.Fatalf("token: %d %s", res.Code, res.Body)
	}
	var tr struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	mustJSON(t, res.Body.Bytes(), &tr)
	e.tokens["sh"] = tr.Token
	if res := e.do("sh", "GET", "/api/v1/licenses", nil); res.Code != 200 {
		t.Fatalf("new token: %d", res.Code)
	}
	list := e.do(rAdmin, "GET", "/api/v1/tokens", nil).Body.String()
	if strings.Contains(list, tr.Token) || strings.Contains(list, "hash") {
		t.Fatal("token list leaks secrets")
	}
	if res := e.do(rAdmin, "DELETE", "/api/v1/tokens/"+tr.ID, nil); res.Code != 204 {
		t.Fatalf("revoke: %d", res.Code)
	}
	if res := e.do("sh", "GET", "/api/v1/licenses", nil); res.Code != 401 || problemCode(t, res) != "unauthorized" {
		t.Fatalf("revoked token: %d", res.Code)
	}
	e.tokens["junk"] = "zx_not-a-token"
	if res := e.do("junk", "GET", "/api/v1/trust-list", nil); res.Code != 401 {
		t.Fatalf("unknown token on an open route: %d", res.Code)
	}
	if res := e.do(rAdmin, "POST", "/api/v1/users", map[string]string{"name": "li", "password": "short", "role": "issuer", "agency": "A"}); res.Code != 422 {
		t.Fatalf("short password: %d", res.Code)
	}
}

func TestSealsAndPDFSigning(t *testing.T) {
	e := newEnv(t)
	var sp pageOf[*SealInfo]
	mustJSON(t, e.do(rIssuerB, "GET", "/api/v1/seals?agency=A", nil).Body.Bytes(), &sp)
	if len(sp.Items) != 1 || sp.Items[0].ID != "seal-B" {
		t.Fatalf("issuer B seals: %+v", sp.Items)
	}
	res := e.do(rIssuerA, "GET", "/api/v1/seals/seal-A", nil)
	if sl, err := seal.ParseSeal(res.Body.Bytes()); res.Code != 200 || err != nil || sl.ESID != "seal-A" || !strings.Contains(res.Header().Get("Content-Disposition"), "seal-A.esl") {
		t.Fatalf("get seal: %d %v %q", res.Code, err, res.Body)
	}
	// The stamp picture the seal carries, for the console's seal cards.
	pic := sealtest.Picture()
	res = e.do(rIssuerA, "GET", "/api/v1/seals/seal-A/picture", nil)
	if res.Code != 200 || res.Header().Get("Content-Type") != "image/png" || !bytes.Equal(res.Body.Bytes(), pic) {
		t.Fatalf("seal picture: %d %s", res.Code, res.Header().Get("Content-Type"))
	}
	if res := e.do(rIssuerB, "GET", "/api/v1/seals/seal-A/picture", nil); res.Code != 404 {
		t.Fatalf("another agency's seal picture: %d", res.Code)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/seals", map[string]any{"name": "合同专用章", "picture": []byte("GIF89a")}); res.Code != 422 {
		t.Fatalf("non-PNG picture: %d", res.Code)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/seals", map[string]any{"name": "合同专用章"}); res.Code != 201 {
		t.Fatalf("make seal: %d %s", res.Code, res.Body)
	}
	pdf := "%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
	res = e.do(rIssuerA, "POST", "/api/v1/pdf/sign?seal=seal-A&page=1&x=100&y=100", pdf, "Content-Type", "application/pdf")
	if res.Code != 200 || !strings.HasPrefix(res.Body.String(), pdf) || !strings.Contains(res.Body.String(), "signed by A seal seal-A") {
		t.Fatalf("sign: %d %q", res.Code, res.Body)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/pdf/sign?seal=seal-B", pdf, "Content-Type", "application/pdf"); res.Code != 404 {
		t.Fatalf("signing with another agency's seal: %d", res.Code)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/pdf/sign", "hello", "Content-Type", "application/pdf"); res.Code != 422 {
		t.Fatalf("not a PDF: %d", res.Code)
	}
	if res := e.do(rIssuerA, "POST", "/api/v1/pdf/sign?page=-1", pdf, "Content-Type", "application/pdf"); res.Code != 400 {
		t.Fatalf("bad page: %d", res.Code)
	}
}

// TestConcurrentIssuanceGroupCommit issues in parallel (the batcher groups
// writes into one transaction per batch): every request gets its own
// license, a duplicated Idempotency-Key gives one license, and every
// license is in the audit log, whose chain still verifies.
func TestConcurrentIssuanceGroupCommit(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testConcurrentIssuance(t, newEnvOn(t, b)) })
	}
}

// TestGroupCommitPerAgency: requests of two agencies arriving together are
// written as one batch per agency, each with an audit entry of its agency,
// so each agency's trail names all its licenses and none of the other's.
func TestGroupCommitPerAgency(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testGroupCommitPerAgency(t, newEnvOn(t, b)) })
	}
}

func testGroupCommitPerAgency(t *testing.T, e *env) {
	const n = 30
	ids := make([]string, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			role, body := rIssuerA, map[string]any{"type": "business-license", "holder_name": fmt.Sprintf("并发%d", i), "holder_id": holderB}
			if i%3 == 0 {
				role = rIssuerB
			} else if i%3 == 1 {
				role, body["agency"] = rAdmin, "B" // an admin issuing for B
			}
			res := e.do(role, "POST", "/api/v1/licenses", body)
			var l License
			if res.Code != 201 || json.Unmarshal(res.Body.Bytes(), &l) != nil {
				t.Errorf("request %d: %d %s", i, res.Code, res.Body)
				return
			}
			ids[i] = l.Agency + " " + l.ID
		})
	}
	wg.Wait()
	mine := map[string]map[string]bool{"A": {}, "B": {}}
	for _, x := range ids {
		ag, id, _ := strings.Cut(x, " ")
		mine[ag][id] = true
	}
	for role, ag := range map[string]string{rIssuerA: "A", rIssuerB: "B"} {
		seen := map[string]bool{}
		for _, a := range auditPages(t, e, role, "/api/v1/audit") {
			if a.Action != "license.issue" {
				continue
			}
			for _, id := range append(strings.Split(a.Detail["ids"], ","), a.Object) {
				if id != "" && id != "batch" {
					seen[id] = true
				}
			}
		}
		for id := range seen {
			if !mine[ag][id] && id != e.licA && id != e.licB {
				t.Errorf("agency %s's trail names license %s of another agency", ag, id)
			}
		}
		for id := range mine[ag] {
			if !seen[id] {
				t.Errorf("agency %s's trail lacks its license %s", ag, id)
			}
		}
	}
	var chk auditCheck
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if !chk.OK {
		t.Fatalf("audit chain: %+v", chk)
	}
}

func testConcurrentIssuance(t *testing.T, e *env) {
	const n = 40
	ids := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			hdr := []string{"Idempotency-Key", fmt.Sprintf("row-%d", i)}
			if i >= n-2 {
				hdr[1] = "same-key" // the last two race with one key
			}
			res := e.do(rIssuerA, "POST", "/api/v1/licenses", map[string]any{"type": "business-license", "holder_name": fmt.Sprintf("并发%d", i), "holder_id": holderB}, hdr...)
			codes[i] = res.Code
			var l License
			if json.Unmarshal(res.Body.Bytes(), &l) == nil {
				ids[i] = l.ID
			}
		})
	}
	wg.Wait()
	distinct := map[string]bool{}
	for i := range n {
		if codes[i] != 201 && !(i >= n-2 && codes[i] == 200) {
			t.Fatalf("request %d: %d", i, codes[i])
		}
		distinct[ids[i]] = true
	}
	if ids[n-1] != ids[n-2] || len(distinct) != n-1 {
		t.Fatalf("%d distinct licenses for %d requests (two sharing a key): %v", len(distinct), n, ids)
	}
	var audited strings.Builder
	for cursor, pages := "", 0; ; pages++ {
		if pages > 50 {
			t.Fatal("audit pagination does not end")
		}
		var pg pageOf[*AuditEntry]
		mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit?limit=500&cursor="+cursor, nil).Body.Bytes(), &pg)
		for _, a := range pg.Items {
			if a.Action == "license.issue" {
				audited.WriteString(a.Object + "," + a.Detail["ids"] + ",")
			}
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for id := range distinct {
		if !strings.Contains(audited.String(), id+",") {
			t.Errorf("license %s is not in the audit log", id)
		}
	}
	var chk auditCheck
	mustJSON(t, e.do(rAdmin, "GET", "/api/v1/audit/verify", nil).Body.Bytes(), &chk)
	if !chk.OK {
		t.Fatalf("audit chain: %+v", chk)
	}
}
