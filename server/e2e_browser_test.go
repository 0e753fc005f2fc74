package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/skip2/go-qrcode"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

// offsetClock is the server's clock: real time plus an offset the test
// moves, so presentations the wallet signs with the browser's clock are
// fresh until the test jumps the server ahead.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *offsetClock) Reset()                  { c.off.Store(0) }

// e2eWorld is a small deployment: an SM2 root, an agency CA and a license
// signer (package certs), the license format (package license), the real
// verifier (package verify), and the server with the pages.
type e2eWorld struct {
	clock  *offsetClock
	store  server.Store // the real store: SQLite in t.TempDir(), through server.FromStore
	signer *license.Signer
	agency string
}

const e2eAgencyCode = "11350100MB0000019U" // passes GB 32100

func newE2EWorld(t *testing.T, bindAtClaim bool) (*e2eWorld, *httptest.Server) {
	t.Helper()
	w := &e2eWorld{clock: &offsetClock{}, agency: "demo"}
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "zhengxin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.store = server.FromStore(db, server.LicenseQRText)
	now := time.Now().Add(-time.Hour)
	year := 365 * 24 * time.Hour
	rootKey, _ := certs.GenerateKey()
	root, err := certs.NewRootCA(rootKey, certs.Name{CommonName: "测试根CA"}, now, 10*year)
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := certs.GenerateKey()
	ca, err := certs.CA{Cert: root, Key: rootKey}.NewAgencyCA(&caKey.PublicKey,
		certs.Name{CommonName: "演示市市场监督管理局 CA", Organization: "演示市市场监督管理局", CreditCode: e2eAgencyCode}, now, 5*year)
	if err != nil {
		t.Fatal(err)
	}
	sKey, _ := certs.GenerateKey()
	sCert, err := certs.CA{Cert: ca, Key: caKey}.Issue(certs.LicenseSigner, &sKey.PublicKey, certs.Name{CommonName: "电子证照签发"}, now, 2*year)
	if err != nil {
		t.Fatal(err)
	}
	if w.signer, err = license.NewSigner(sKey, sCert, e2eAgencyCode); err != nil {
		t.Fatal(err)
	}
	w.signer.Now = w.clock.Now
	pool := certs.NewPool()
	pool.AddAnchor(root)
	pool.AddIntermediate(ca)
	pool.AddCertificate(sCert)
	pool.SetClock(w.clock.Now)
	opts := verify.Options{Trust: pool, Status: server.StoreStatus{Store: w.store, Now: w.clock.Now},
		Nonces: store.Nonces{Store: db, Now: w.clock.Now}, Now: w.clock.Now}

	ctx := context.Background()
	if err := w.store.CreateAgency(ctx, &server.Agency{Code: w.agency, Name: "演示市市场监督管理局", CreditCode: e2eAgencyCode}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*server.User{
		{Name: "issuer", PasswordHash: server.HashPassword("issuer-pw"), Role: server.RoleIssuer, Agency: w.agency},
		{Name: "窗口3", PasswordHash: server.HashPassword("counter-pw"), Role: server.RoleCounter, Agency: w.agency},
		{Name: "auditor", PasswordHash: server.HashPassword("admin-pw"), Role: server.RoleAdmin},
	} {
		if err := w.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	deps := server.Deps{
		Store:  w.store,
		Issuer: &server.LicenseIssuer{Signer: func(string) (*license.Signer, error) { return w.signer, nil }},
		Now:    w.clock.Now,
		Verify: func(ctx context.Context, input []byte, hint string) *report.Report {
			return verify.Verify(ctx, input, opts)
		},
	}
	if bindAtClaim {
		// The server's claim handler binds through this, as datadir does
		// for `zhengxin serve`; without it, a claim with a device key is
		// refused and the wallet falls back to the static QR.
		deps.Binder = e2eBinder{w: w, db: db}
	}
	ts := startPagesServer(t, deps)
	return w, ts
}

// e2eBinder re-signs a claimed license for the wallet's device key and
// records the binding in the store: datadir.BindHolder over the test's
// own signer.
type e2eBinder struct {
	w  *e2eWorld
	db store.Store
}

func (b e2eBinder) BindHolder(ctx context.Context, id string, pemKey []byte) (*server.License, error) {
	dev, err := license.ParseHolderPublicKey(pemKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrInvalidKey, err)
	}
	lic, err := b.w.store.GetLicense(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := license.ParseLicense(lic.Signed)
	if err != nil {
		return nil, err
	}
	nl, err := b.w.signer.Issue(license.Request{Type: old.Type.Key, Fields: old.Map(), Serial: old.Serial, Version: old.Version,
		StatusList: old.StatusList, StatusIndex: old.StatusIndex, HolderKey: dev})
	if err != nil {
		return nil, err
	}
	if err := b.db.BindHolderKey(ctx, id, pemKey, nl.Marshal(), store.AuditEntry{At: b.w.clock.Now().UTC(), Actor: "wallet", Action: "license.bind"}); err != nil {
		return nil, err
	}
	return b.w.store.GetLicense(ctx, id)
}

// The whole journey in three browsers: the issuer issues in the console
// (after a field error is shown and fixed) and makes a claim code; the
// citizen enrols a phone-sized wallet, claims the license and shows the
// presentation QR; the counter types the QR text into the scan-gun input
// and gets PASSED with the disclosed fields, the material exempted and the
// use recorded; the same QR replayed after it expired fails; the issuer
// revokes and a fresh QR fails with LICENSE_REVOKED; the wallet's usage log
// shows the counter's uses.
func TestBrowserEndToEnd(t *testing.T) {
	b := newBrowser(t)
	w, ts := newE2EWorld(t, true)

	// ---- console: sign in, issue with a field error first ---------------
	con := b.newTab("console", 1280, 900, false)
	con.do("sign in", chromedp.Navigate(ts.URL+"/console"), chromedp.WaitVisible("#login-user"),
		chromedp.SendKeys("#login-user", "issuer"), chromedp.SendKeys("#login-pass", "issuer-pw"),
		chromedp.Click(`#login-form button[type="submit"]`), chromedp.WaitVisible("#issue-form"))
	con.waitJS("types loaded", `document.querySelectorAll("#issue-type option").length >= 5`)
	con.do("choose driving license", chromedp.SetValue("#issue-type", "driving_license"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("issue-type").dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible("#f-holder_name"))
	set := func(id, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue("#f-"+id, v) }
	con.do("fill with a wrong ID number", set("holder_name", "张三"), set("holder_id", "110105194912310021"),
		set("address", "演示市鼓楼区五四路 1 号"), set("first_issue", "2010-05-01"), set("vehicle_class", "6"),
		set("valid_from", "2020-05-01"), set("valid_to", "2030-05-01"), set("issuer_name", "演示市公安局交通警察支队"),
		set("issue_date", "2020-05-01"), chromedp.Click("#issue-submit"))
	con.waitJS("field error shown", `document.getElementById("f-holder_id-err").textContent.length > 0`)
	if msg := con.text("#f-holder_id-err .zh"); !strings.Contains(msg, "校验码") {
		t.Errorf("ID number error %q does not explain the check character", msg)
	}
	if inv := con.attr("#f-holder_id", "aria-invalid"); inv != "true" {
		t.Errorf("aria-invalid=%q on the bad field", inv)
	}
	con.screenshot("console-issue-field-error")
	con.do("fix and issue", chromedp.SetValue("#f-holder_id", "11010519491231002X"), chromedp.Click("#issue-submit"),
		chromedp.WaitVisible("#tab-license"))
	con.waitJS("license shown", `document.getElementById("license-id").textContent.length > 10 && document.getElementById("license-qr").hasAttribute("data-payload")`)
	licID := con.text("#license-id")
	if l, err := w.store.GetLicense(context.Background(), licID); err != nil || l.HolderName != "张三" || l.Type != "driving_license" {
		t.Fatalf("stored license %s: %+v, %v", licID, l, err)
	}
	con.do("make claim code", chromedp.Click("#claim-make"))
	con.waitJS("claim code", `document.getElementById("claim-code").textContent.length >= 16`)
	code := con.text("#claim-code")
	con.screenshot("console-license")
	con.noErrors()

	// ---- wallet: enrol, claim, show ---------------------------------------
	wal := b.newTab("wallet", 360, 640, true)
	wal.do("enrol", chromedp.Navigate(ts.URL+"/wallet"), chromedp.WaitVisible("#enrol-btn"), chromedp.Click("#enrol-btn"),
		chromedp.WaitVisible("#claim-open"), chromedp.Click("#claim-open"), chromedp.WaitVisible("#claim-input"),
		chromedp.SendKeys("#claim-input", code), chromedp.Click(`#claim-form button[type="submit"]`),
		chromedp.WaitVisible(`.wallet-list button.card`))
	wal.screenshot("wallet-list")
	wal.do("show", chromedp.Click(`.wallet-list button.card`), chromedp.WaitVisible("#show-qr"))
	wal.waitJS("presentation QR", `(document.getElementById("show-qr").getAttribute("data-payload") || "").startsWith("ZXP1:")`)
	p1 := wal.attr("#show-qr", "data-payload")
	if s := wal.text("#show-seconds"); s != "60" && s != "59" && s != "58" {
		t.Errorf("countdown shows %q right after the QR was made", s)
	}
	wal.screenshot("wallet-show")
	if wd := wal.eval(`String(document.documentElement.scrollWidth)`); wd != "360" {
		t.Errorf("wallet is %s px wide on a 360 px screen", wd)
	}

	// ---- counter: sign in, pick the item, scan ------------------------------
	ctr := b.newTab("counter", 1280, 900, false)
	ctr.do("open counter", chromedp.Navigate(ts.URL+"/counter"), chromedp.WaitVisible("#scan-input"))
	ctr.waitJS("items", `document.querySelectorAll("#item-select option").length > 3 && document.getElementById("counter-who").textContent.length > 0`)
	ctr.do("sign in",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("counter-login").open = true`),
		chromedp.SendKeys("#cl-user", "窗口3"), chromedp.SendKeys("#cl-pass", "counter-pw"),
		chromedp.Click(`#counter-login-form button[type="submit"]`))
	ctr.waitJS("signed in", `document.getElementById("counter-who").textContent.indexOf("窗口3") >= 0`)
	ctr.waitJS("items", `document.querySelectorAll("#item-select option").length > 3`)
	ctr.do("pick driving renewal", chromedp.SetValue("#item-select", "driving_renewal"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("item-select").dispatchEvent(new Event("change"))`))
	typed := true // the first scan is typed key by key, the rest pasted
	scan := func(payload, what string) (verdict, reason string) {
		t.Helper()
		ctr.waitJS("scan input focused", `document.getElementById("verdict").hidden && document.activeElement.id === "scan-input"`)
		if typed {
			// Like a scan gun: one key event per character, then Enter.
			ctr.do("scan "+what, chromedp.SendKeys("#scan-input", payload+"\r"))
		} else {
			// Like a paste (typing 800 characters takes ~4 s): then Enter.
			ctr.do("paste "+what, chromedp.SetValue("#scan-input", payload), chromedp.KeyEvent("\r"))
		}
		typed = false
		ctr.waitJS("verdict for "+what, `!document.getElementById("verdict").hidden`)
		return ctr.attr("#verdict", "data-verdict"), ctr.attr("#verdict", "data-reason")
	}
	closeVerdict := func() { ctr.do("close verdict", chromedp.KeyEvent("\r")) }

	if v, r := scan(p1, "the presentation"); v != "PASSED" || r != "" {
		t.Fatalf("presentation: %s %s, want PASSED", v, r)
	}
	if got := ctr.text(`#verdict-fields dd[data-field="holder_name"]`); got != "张三" {
		t.Errorf("disclosed holder name %q", got)
	}
	if got := ctr.text(`#verdict-fields dd[data-field="id"]`); got != licID {
		t.Errorf("license ID on the verdict %q, want %q", got, licID)
	}
	ctr.waitJS("use recorded", `document.getElementById("verdict-recorded").getAttribute("data-recorded") === "1"`)
	ctr.screenshot("counter-verdict-passed")
	closeVerdict()
	if cls := ctr.attr(`#materials li[data-license-type="driving_license"]`, "class"); cls != "exempt" {
		t.Errorf("driving license material class %q, want exempt (两个免于提交)", cls)
	}
	if got := ctr.text("#recent li.PASSED"); !strings.Contains(got, "张三") {
		t.Errorf("recent verifications %q do not list the holder", got)
	}
	ctr.screenshot("counter-exempt")

	// ---- the same QR after it expired -----------------------------------------
	w.clock.Advance(2 * time.Minute)
	v, r := scan(p1, "the expired presentation")
	if v != "FAILED" || (r != string(report.PresentationExpired) && r != string(report.Replay)) {
		t.Errorf("replayed expired presentation: %s %s, want FAILED PRESENTATION_EXPIRED or REPLAY", v, r)
	}
	ctr.screenshot("counter-verdict-expired")
	closeVerdict()
	w.clock.Reset()

	// ---- selective disclosure: the car-rental purpose hides the ID number ---------
	wal.do("choose car rental", chromedp.SetValue("#show-purpose", "car_rental"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("show-purpose").dispatchEvent(new Event("change"))`))
	wal.waitJS("QR for car rental", `document.getElementById("show-qr").getAttribute("data-payload") !== `+jsString(p1)+
		` && !document.getElementById("d-holder_id").checked`)
	wal.screenshot("wallet-disclose")
	if v, r := scan(wal.attr("#show-qr", "data-payload"), "the car-rental presentation"); v != "PASSED" {
		t.Fatalf("car-rental presentation: %s %s, want PASSED", v, r)
	}
	if n := ctr.eval(`String(document.querySelectorAll('#verdict-fields dd[data-field="holder_id"]').length)`); n != "0" {
		t.Errorf("the ID number was disclosed for car rental")
	}
	if got := ctr.text(`#verdict-fields dd[data-field="vehicle_class"]`); got != "C1" {
		t.Errorf("vehicle class %q for car rental, want C1", got)
	}
	closeVerdict()

	// ---- a second phone with a non-extractable WebCrypto P-256 key ----------------
	con.do("second claim code", chromedp.Click("#claim-make"))
	con.waitJS("new claim code", `document.getElementById("claim-code").textContent !== `+jsString(code))
	code2 := con.text("#claim-code")
	if q := con.attr("#claim-qr", "data-payload"); q != ts.URL+"/wallet#claim="+code2 {
		t.Errorf("claim QR %q, want the wallet URL with the code", q)
	}
	// The phone opens the claim QR's URL: after enrolling, the wallet offers
	// the claim with the code filled in.
	wp := b.newTab("wallet-p256", 360, 640, true)
	wp.do("enrol P-256", chromedp.Navigate(ts.URL+"/wallet#claim="+code2), chromedp.WaitVisible("#enrol-p256"), chromedp.Click("#enrol-p256"),
		chromedp.WaitVisible("#claim-input"))
	if v := wp.eval(`document.getElementById("claim-input").value`); v != code2 {
		t.Errorf("claim code from the URL: %q, want %q", v, code2)
	}
	key := wp.eval(`new Promise(r => { const q = indexedDB.open("zhengxin-wallet"); q.onsuccess = () => {
		const g = q.result.transaction("kv").objectStore("kv").get("device");
		g.onsuccess = () => { const k = g.result.keyPair.privateKey; r(String(k.extractable) + "/" + k.algorithm.namedCurve + "/" + typeof g.result.priv); }; }; })`)
	if key != "false/P-256/undefined" {
		t.Errorf("stored P-256 device key: %s, want a non-extractable CryptoKey and no raw key bytes", key)
	}
	wp.do("claim", chromedp.Click(`#claim-form button[type="submit"]`), chromedp.WaitVisible(`.wallet-list button.card`))
	if info := wp.text("#device-info .zh"); !strings.Contains(info, "P-256") {
		t.Errorf("device info %q", info)
	}
	wp.do("show", chromedp.Click(`.wallet-list button.card`))
	wp.waitJS("P-256 presentation", `(document.getElementById("show-qr").getAttribute("data-payload") || "").startsWith("ZXP1:")`)
	if v, r := scan(wp.attr("#show-qr", "data-payload"), "the P-256 presentation"); v != "PASSED" {
		t.Fatalf("P-256 presentation: %s %s, want PASSED", v, r)
	}
	closeVerdict()
	wp.noErrors()

	// ---- a picture of the static license QR, chosen as a file --------------------
	stored, err := w.store.GetLicense(context.Background(), licID)
	if err != nil {
		t.Fatal(err)
	}
	png, err := qrcode.Encode(stored.QR, qrcode.Low, 900)
	if err != nil {
		t.Fatal(err)
	}
	pic := filepath.Join(t.TempDir(), "license-qr.png")
	if err := os.WriteFile(pic, png, 0o644); err != nil {
		t.Fatal(err)
	}
	ctr.do("upload the QR picture", chromedp.SetUploadFiles("#file-input", []string{pic}))
	ctr.waitJS("verdict for the picture", `!document.getElementById("verdict").hidden`)
	if v, k := ctr.attr("#verdict", "data-verdict"), ctr.text("#verdict-kind"); v != "PASSED" || k != report.KindLicenseQR {
		t.Errorf("static QR picture: %s %s, want PASSED %s", v, k, report.KindLicenseQR)
	}
	if txt := ctr.text("#verdict-fields"); !strings.Contains(txt, "未绑定持证人设备") {
		t.Errorf("the verdict of a static QR does not say it is not bound to the holder's device: %q", txt)
	}
	ctr.screenshot("counter-verdict-static-qr")
	closeVerdict()

	// ---- bulk issuance from CSV: one bad row, and a re-upload issues nothing twice
	csv := "holder_name,holder_id,address,first_issue,vehicle_class,valid_from,issuer_name,issue_date\n" +
		"李四,11010519491231002X,演示市台江区 2 号,2012-01-01,6,2022-01-01,演示市公安局交通警察支队,2022-01-01\n" +
		"王五,110105194912310021,演示市台江区 3 号,2012-01-01,6,2022-01-01,演示市公安局交通警察支队,2022-01-01\n" +
		"\"赵六, 小\",11010519491231002X,\"演示市\"\"晋安区\"\" 4 号\",2012-01-01,6,2022-01-01,演示市公安局交通警察支队,2022-01-01\n"
	csvPath := filepath.Join(t.TempDir(), "bulk.csv")
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	countLicenses := func() int {
		page, _, err := w.store.ListLicenses(context.Background(), server.LicenseFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(page)
	}
	before := countLicenses()
	for i := 0; i < 2; i++ {
		con.do("bulk upload", chromedp.Click(`[data-tab="bulk"]`), chromedp.WaitVisible("#bulk-file"),
			chromedp.SetValue("#bulk-type", "driving_license"), chromedp.SetUploadFiles("#bulk-file", []string{csvPath}),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("bulk-progress").removeAttribute("data-finished")`),
			chromedp.Click(`#bulk-form button[type="submit"]`))
		con.waitJS("bulk finished", `document.getElementById("bulk-progress").getAttribute("data-finished") === "1"`)
		if got := con.text("#bulk-counts .zh"); !strings.Contains(got, "3 / 3") || !strings.Contains(got, "签发 2，未通过 1") {
			t.Errorf("bulk run %d: %q", i+1, got)
		}
		if after := countLicenses(); after != before+2 {
			t.Errorf("bulk run %d: %d licenses stored, want %d (idempotent per row)", i+1, after, before+2)
		}
	}
	if href := con.attr("#bulk-rejects", "href"); !strings.HasPrefix(href, "blob:") {
		t.Errorf("reject file link %q", href)
	}
	rejects := con.eval(`window.ZXConsole.lastRejects`)
	if !strings.Contains(rejects, "王五") || strings.Contains(rejects, "李四") || !strings.Contains(rejects, "error") {
		t.Errorf("reject file:\n%s", rejects)
	}
	con.screenshot("console-bulk")
	// Find the license again by the holder's name and open it.
	con.do("search", chromedp.Click(`[data-tab="search"]`), chromedp.WaitVisible("#search-q"),
		chromedp.SendKeys("#search-q", "张三"), chromedp.Click(`#search-form button[type="submit"]`))
	con.waitJS("one result", `document.querySelectorAll("#search-results tbody tr").length === 1`)
	con.screenshot("console-search")
	con.do("open it", chromedp.Click(`#search-results tbody tr`), chromedp.WaitVisible("#status-form"))
	if got := con.text("#license-id"); got != licID {
		t.Errorf("opened %q from the search, want %q", got, licID)
	}

	// ---- revoke, then a fresh QR fails ------------------------------------------
	con.do("revoke", chromedp.SetValue("#status-set", "revoked"), chromedp.SendKeys("#status-reason", "以欺骗手段取得"),
		chromedp.Click("#status-submit"))
	con.waitJS("history shows the revocation", `[...document.querySelectorAll("#license-history [data-status]")].some(e => e.getAttribute("data-status") === "revoked")`)
	con.screenshot("console-revoked")
	// Choosing the purpose again makes a fresh presentation at once.
	wal.do("refresh QR", chromedp.Evaluate[chromedp.Void](`document.getElementById("show-purpose").dispatchEvent(new Event("change"))`))
	wal.waitJS("new QR", `document.getElementById("show-qr").getAttribute("data-payload") !== `+jsString(p1))
	p2 := wal.attr("#show-qr", "data-payload")
	if v, r := scan(p2, "a fresh presentation of the revoked license"); v != "FAILED" || r != string(report.LicenseRevoked) {
		t.Errorf("revoked: %s %s, want FAILED LICENSE_REVOKED", v, r)
	}
	ctr.screenshot("counter-verdict-revoked")
	closeVerdict()
	ctr.noErrors()

	// ---- the holder sees the uses -------------------------------------------------
	wal.do("usage log", chromedp.Click(`#w-show [data-back]`), chromedp.WaitVisible("#log-open"), chromedp.Click("#log-open"))
	wal.waitJS("usage entries", `document.querySelectorAll("#log-list li").length >= 2`)
	if txt := wal.text("#log-list"); !strings.Contains(txt, "窗口3") || !strings.Contains(txt, "机动车驾驶证期满换证") {
		t.Errorf("usage log %q does not name the counter and the service item", txt)
	}
	wal.screenshot("wallet-usage-log")

	// ---- the wallet remakes the QR at 50 s --------------------------------------
	// The page's clock jumps 50 s ahead: the next tick must make a fresh
	// presentation and restart the countdown (no sleeping in the test).
	wal.do("show again", chromedp.Click(`#w-log [data-back]`), chromedp.WaitVisible(`.wallet-list button.card`),
		chromedp.Click(`.wallet-list button.card`))
	wal.waitJS("presentation QR", `(document.getElementById("show-qr").getAttribute("data-payload") || "").startsWith("ZXP1:")`)
	p3 := wal.attr("#show-qr", "data-payload")
	wal.do("jump the page clock", chromedp.Evaluate[chromedp.Void](`(() => { const real = Date.now; Date.now = () => real() + 50500; })()`))
	wal.waitJS("QR remade", `document.getElementById("show-qr").getAttribute("data-payload") !== `+jsString(p3))
	if s := wal.text("#show-seconds"); s != "60" && s != "59" {
		t.Errorf("countdown after the refresh shows %q", s)
	}
	// ---- an admin reads the audit log and checks its hash chain ----------------
	adm := b.newTab("admin", 1280, 900, false)
	adm.do("admin sign in", chromedp.Navigate(ts.URL+"/console"), chromedp.WaitVisible("#login-user"),
		chromedp.SendKeys("#login-user", "auditor"), chromedp.SendKeys("#login-pass", "admin-pw"),
		chromedp.Click(`#login-form button[type="submit"]`), chromedp.WaitVisible("#issue-form"),
		chromedp.Click(`[data-tab="audit"]`))
	adm.waitJS("audit rows", `document.querySelectorAll("#audit-table tbody tr[data-seq]").length >= 5`)
	if txt := adm.text("#audit-table"); !strings.Contains(txt, "license.status") || !strings.Contains(txt, "usage.record") {
		t.Errorf("audit log lacks the status change or the usage records")
	}
	adm.do("check the chain", chromedp.Click("#audit-verify"))
	adm.waitJS("chain result", `!document.getElementById("audit-chain").hidden && document.getElementById("audit-chain").textContent.length > 0`)
	if cls := adm.attr("#audit-chain", "class"); cls != "badge ok" {
		t.Errorf("audit chain badge %q: %s", cls, adm.text("#audit-chain"))
	}
	adm.screenshot("console-audit")
	adm.noErrors()
	// ---- the issuer reads its agency's audit trail (not the chain check) -----
	con.do("issuer opens the audit log", chromedp.Click(`[data-tab="audit"]`))
	con.waitJS("issuer audit rows", `document.querySelectorAll("#audit-table tbody tr[data-seq]").length >= 5`)
	if txt := con.text("#audit-table"); !strings.Contains(txt, "license.status") || !strings.Contains(txt, "usage.record") {
		t.Errorf("the issuer's audit log lacks the status change or the usage records")
	}
	if n := con.eval(`String([...document.querySelectorAll("#audit-table tbody tr[data-seq] td:nth-child(6)")].filter(td => td.textContent !== ` + jsString(w.agency) + `).length)`); n != "0" {
		t.Errorf("%s rows of the issuer's audit log are not of agency %s", n, w.agency)
	}
	if con.eval(`String(document.getElementById("audit-verify").hidden)`) != "true" {
		t.Error("the chain check button is shown to an issuer")
	}
	con.noErrors()

	// How long the SM2 presentation takes in WebAssembly (logged, not asserted).
	ms := wal.eval(`new Promise(r => { const q = indexedDB.open("zhengxin-wallet"); q.onsuccess = () => {
		const x = q.result.transaction(["kv", "licenses"]);
		const d = x.objectStore("kv").get("device"), l = x.objectStore("licenses").getAll();
		x.oncomplete = () => { const n = 20, t0 = performance.now();
			for (let i = 0; i < n; i++) zxWallet.present(d.result.priv, l.result[0].signed, null, "traffic", Date.now());
			r(((performance.now() - t0) / n).toFixed(1)); }; }; })`)
	t.Logf("SM2 presentation in WebAssembly (headless Chromium): %s ms each", ms)
	wal.noErrors()
	con.noErrors()
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Against a server whose claim does not bind device keys (it refuses the
// device_key field), the wallet claims without it and shows the license's
// static QR, saying that it is not bound to the device. The claim is made
// by scanning the claim QR with the phone's (fake) camera.
func TestBrowserWalletUnboundFallback(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("browser tests skipped: no chromium binary found (apt-get install -y --no-install-recommends chromium fonts-wqy-microhei)")
	}
	_, ts := newE2EWorld(t, false)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	call := func(method, path, csrf string, body any) map[string]any {
		t.Helper()
		bb, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, ts.URL+"/api/v1"+path, bytes.NewReader(bb))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
		}
		return out
	}
	sess := call("POST", "/session", "", map[string]string{"name": "issuer", "password": "issuer-pw"})
	csrf, _ := sess["csrf_token"].(string)
	lic := call("POST", "/licenses", csrf, map[string]any{"type": "marriage_certificate", "holder_name": "李四", "holder_id": "11010519491231002X",
		"fields": map[string]string{"number": "J350100-2020-000123", "spouse_name": "王五", "spouse_id": "11010519491231002X",
			"issuer_name": "演示市民政局", "issue_date": "2020-05-20"}})
	id, _ := lic["id"].(string)
	code, _ := call("POST", "/licenses/"+url.PathEscape(id)+"/claim-code", csrf, map[string]any{})["code"].(string)

	// The phone's camera sees the claim QR the console shows (the wallet URL
	// with the code); the wallet reads it and claims.
	b := newBrowser(t,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", writeY4M(t, ts.URL+"/wallet#claim="+code)))
	wal := b.newTab("wallet-unbound", 360, 640, true)
	wal.do("enrol and scan the claim QR", chromedp.Navigate(ts.URL+"/wallet"), chromedp.WaitVisible("#enrol-btn"), chromedp.Click("#enrol-btn"),
		chromedp.WaitVisible("#claim-open"), chromedp.Click("#claim-open"), chromedp.WaitVisible("#claim-scan"),
		chromedp.Click("#claim-scan"), chromedp.WaitVisible(`.wallet-list button.card`), chromedp.Click(`.wallet-list button.card`))
	wal.waitJS("static QR", `document.getElementById("show-qr").getAttribute("data-static") === "1"`)
	if p := wal.attr("#show-qr", "data-payload"); !strings.HasPrefix(p, "ZX1:") {
		t.Errorf("fallback shows %.20q, want the static license QR", p)
	}
	if msg := wal.text("#show-error .zh"); !strings.Contains(msg, "未绑定") {
		t.Errorf("no explanation for the static QR: %q", msg)
	}
	wal.screenshot("wallet-unbound-static")
	wal.noErrors()
}
