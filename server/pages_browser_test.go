package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/skip2/go-qrcode"

	"github.com/zhengxin/zhengxin/seal/sealtest"
	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/verify/report"
)

// startPagesServer runs the real server (router, security headers, CSP,
// sessions) with the pages mounted, on 127.0.0.1 — a secure context, so
// the wallet may use IndexedDB, WebCrypto and WebAssembly.
func startPagesServer(t *testing.T, deps server.Deps, wrap ...func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	deps.Pages = server.PagesHandler(server.PagesConfig{})
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := server.New(deps, server.Config{VerifyRate: 1000, VerifyBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, f := range wrap {
		h = f(h)
	}
	ts := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// The three pages load under the real CSP without errors, speak Chinese
// first, switch to English and remember it, and the counter shows a
// full-screen verdict for what the scan gun typed. The verifier here is a
// stand-in that fails everything: the end-to-end test uses the real one.
func TestBrowserPagesLoad(t *testing.T) {
	b := newBrowser(t)
	var seenMu sync.Mutex
	var seenV string
	seen := func() string { seenMu.Lock(); defer seenMu.Unlock(); return seenV }
	ts := startPagesServer(t, server.Deps{
		Store: server.NewMemStore(),
		Verify: func(ctx context.Context, input []byte, hint string) *report.Report {
			seenMu.Lock()
			seenV = string(input)
			seenMu.Unlock()
			r := &report.Report{Kind: "license-qr", CheckedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			r.Signatures = []report.Signature{{}}
			if strings.Contains(string(input), "STALE") {
				r.Signatures[0].Add("license-status", report.Errorf(report.StatusUnavailable, "status list too old"), "")
			} else {
				r.Signatures[0].Add("decode", report.Errorf(report.FormatFailure, "not a Zhengxin QR"), "")
			}
			r.Finish()
			return r
		},
	})

	con := b.newTab("console", 1280, 860, false)
	con.do("open console", chromedp.Navigate(ts.URL+"/console"), chromedp.WaitVisible("#login-form"))
	if got := con.text("h1"); !strings.Contains(got, "登录") {
		t.Errorf("console heading %q, want 登录 first", got)
	}
	con.screenshot("console-login")
	// English, remembered across a reload (cookie + localStorage).
	con.do("switch language", chromedp.Click("#lang-toggle"), chromedp.Reload(), chromedp.WaitVisible("#login-form"))
	if lang := con.attr("html", "data-lang"); lang != "en" {
		t.Errorf("after the toggle and a reload, data-lang=%q, want en", lang)
	}
	con.do("back to Chinese", chromedp.Click("#lang-toggle"))
	con.noErrors()

	ctr := b.newTab("counter", 1280, 860, false)
	ctr.do("open counter", chromedp.Navigate(ts.URL+"/counter"), chromedp.WaitVisible("#scan-input"))
	ctr.waitJS("scan input focused", `document.activeElement && document.activeElement.id === "scan-input"`)
	ctr.waitJS("service items loaded", `document.querySelectorAll("#item-select option").length > 3`)
	ctr.do("pick an item", chromedp.SetValue("#item-select", "food_permit_new"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("item-select").dispatchEvent(new Event("change"))`))
	ctr.waitJS("materials listed", `document.querySelectorAll("#materials li").length === 5`)
	ctr.screenshot("counter")
	// A scan gun types and presses Enter into whatever has focus.
	ctr.do("scan", chromedp.KeyEvent("ZX1:NOT-A-REAL-QR\r"))
	ctr.waitJS("verdict shown", `!document.getElementById("verdict").hidden`)
	if v := ctr.attr("#verdict", "data-verdict"); v != "FAILED" {
		t.Errorf("verdict %q, want FAILED", v)
	}
	if r := ctr.attr("#verdict", "data-reason"); r != "FORMAT_FAILURE" {
		t.Errorf("reason %q, want FORMAT_FAILURE", r)
	}
	if got := seen(); got != "ZX1:NOT-A-REAL-QR" {
		t.Errorf("server got %q from the scan input", got)
	}
	if zh := ctr.text("#verdict-msg-zh"); zh != report.MessageFor(report.FormatFailure).ZH {
		t.Errorf("Chinese message %q", zh)
	}
	ctr.screenshot("counter-verdict-failed")
	ctr.do("close verdict with Enter", chromedp.KeyEvent("\r"))
	ctr.waitJS("focus back on the scan input", `document.getElementById("verdict").hidden && document.activeElement.id === "scan-input"`)
	// Missing information is amber, with dark text for contrast.
	ctr.waitJS("ready for the next scan", `document.getElementById("verdict").hidden && document.activeElement.id === "scan-input"`)
	ctr.do("scan a stale one", chromedp.KeyEvent("ZX1:STALE\r"))
	ctr.waitJS("verdict", `!document.getElementById("verdict").hidden`)
	if v := ctr.attr("#verdict", "data-verdict"); v != "INDETERMINATE" {
		t.Errorf("verdict %q, want INDETERMINATE", v)
	}
	if c := ctr.eval(`getComputedStyle(document.getElementById("verdict")).color`); c != "rgb(28, 28, 28)" {
		t.Errorf("INDETERMINATE text colour %s, want dark on amber", c)
	}
	ctr.screenshot("counter-verdict-indeterminate")
	ctr.do("close", chromedp.KeyEvent("\r"))
	ctr.waitJS("closed", `document.getElementById("verdict").hidden`)

	// A PDF dropped on the page goes to the verifier as it is.
	ctr.do("drop a PDF", chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(["%PDF-1.7\n% dropped\n"], "dropped.pdf", {type: "application/pdf"}));
		document.getElementById("drop-zone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`))
	ctr.waitJS("verdict for the drop", `!document.getElementById("verdict").hidden`)
	if got := seen(); !strings.HasPrefix(got, "%PDF-1.7") {
		t.Errorf("dropped PDF reached the verifier as %q", got)
	}
	ctr.do("close", chromedp.KeyEvent("\r"))
	ctr.waitJS("closed", `document.getElementById("verdict").hidden`)
	ctr.do("English", chromedp.Click("#lang-toggle"))
	ctr.waitJS("English labels", `getComputedStyle(document.querySelector("label[for=scan-input] .en")).display !== "none" && getComputedStyle(document.querySelector("label[for=scan-input] .zh")).display === "none"`)
	ctr.screenshot("counter-en")
	ctr.do("Chinese again", chromedp.Click("#lang-toggle"))
	ctr.noErrors()

	wal := b.newTab("wallet", 360, 640, true)
	wal.do("open wallet", chromedp.Navigate(ts.URL+"/wallet"), chromedp.WaitVisible("#enrol-btn"))
	wal.screenshot("wallet-enrol")
	wal.do("enrol", chromedp.Click("#enrol-btn"), chromedp.WaitVisible("#claim-open"))
	if th := wal.text("#device-info"); !strings.Contains(th, "SM2") || len(th) < 40 {
		t.Errorf("device info %q does not show the SM2 key's thumbprint", th)
	}
	// The key survives a reload (IndexedDB) and is the same key.
	before := wal.text("#device-info")
	wal.do("reload", chromedp.Reload(), chromedp.WaitVisible("#claim-open"))
	if after := wal.text("#device-info"); after != before {
		t.Errorf("device key changed across a reload: %q -> %q", before, after)
	}
	wal.screenshot("wallet-home-empty")
	// Nothing may be wider than the 360 px screen.
	if w := wal.eval(`String(document.documentElement.scrollWidth)`); w != "360" {
		t.Errorf("wallet page is %s px wide on a 360 px screen", w)
	}
	wal.noErrors()

	// The CSP the pages run under is the server's, not a relaxed one.
	res, err := http.Get(ts.URL + "/wallet")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("wallet CSP %q", csp)
	}
}

// writeY4M writes a one-frame YUV4MPEG2 video of a QR code for text, which
// Chromium's fake camera (--use-file-for-fake-video-capture) plays in a loop.
func writeY4M(t *testing.T, text string) string {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	img := q.Image(360)
	const w, h = 640, 480
	frame := make([]byte, w*h+2*(w/2)*(h/2))
	for i := range frame[:w*h] {
		frame[i] = 200 // light grey background, like paper under a counter lamp
	}
	for i := w * h; i < len(frame); i++ {
		frame[i] = 128 // no colour
	}
	b := img.Bounds()
	ox, oy := (w-b.Dx())/2, (h-b.Dy())/2
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			frame[(oy+y)*w+ox+x] = byte(r >> 8)
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for i := 0; i < 3; i++ {
		buf.WriteString("FRAME\n")
		buf.Write(frame)
	}
	path := filepath.Join(t.TempDir(), "qr.y4m")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Camera scanning at the counter: Chromium's fake camera shows a QR code;
// the page decodes it (BarcodeDetector where the browser has one, else the
// vendored jsQR) and sends the text to the verifier.
func TestBrowserCounterCamera(t *testing.T) {
	const text = "ZX1:CAMERA-TEST-0123456789"
	video := writeY4M(t, text)
	b := newBrowser(t,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video))
	got := make(chan string, 4)
	ts := startPagesServer(t, server.Deps{
		Store: server.NewMemStore(),
		Verify: func(ctx context.Context, input []byte, hint string) *report.Report {
			select {
			case got <- string(input):
			default:
			}
			r := &report.Report{Kind: report.KindLicenseQR}
			r.Signatures = []report.Signature{{}}
			r.Signatures[0].Add("decode", report.Errorf(report.FormatFailure, "test"), "")
			r.Finish()
			return r
		},
	})
	ctr := b.newTab("counter-camera", 1280, 860, false)
	ctr.do("open counter", chromedp.Navigate(ts.URL+"/counter"), chromedp.WaitVisible("#camera-btn"),
		chromedp.Click("#camera-btn"))
	ctr.waitJS("verdict from the camera", `!document.getElementById("verdict").hidden`)
	select {
	case s := <-got:
		if s != text {
			t.Errorf("camera scan sent %q, want %q", s, text)
		}
	default:
		t.Fatal("the verifier was not called")
	}
	if on := ctr.eval(`String(!document.getElementById("camera-box").hidden)`); on != "false" {
		t.Error("camera still shown after a code was found")
	}
	ctr.noErrors()
}

// fakeSeals and fakePDF stand in for the seal and PDF packages (tested
// there): this test is about what the console sends and shows.
type fakeSeals struct {
	mu    sync.Mutex
	seals []*fakeSeal
	last  server.SealRequest
}

// fakeSeal is a seal the fake made: real seal files are made on request
// (sealtest) with the picture the page uploaded.
type fakeSeal struct {
	server.SealInfo
	picture []byte
}

func (f *fakeSeals) ListSeals(ctx context.Context, agency string) ([]*server.SealInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*server.SealInfo, len(f.seals))
	for i, s := range f.seals {
		out[i] = &s.SealInfo
	}
	return out, nil
}

func (f *fakeSeals) GetSeal(ctx context.Context, id string) (*server.SealInfo, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.seals {
		if s.ID == id {
			der, err := sealtest.Make(id, s.Name, s.picture, "")
			return &s.SealInfo, der, err
		}
	}
	return nil, nil, server.ErrNotFound
}

func (f *fakeSeals) MakeSeal(ctx context.Context, agency string, req *server.SealRequest) (*server.SealInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = *req
	s := &fakeSeal{SealInfo: server.SealInfo{ID: fmt.Sprintf("SEAL%03d", len(f.seals)+1), Agency: agency, Name: req.Name, Type: req.Type,
		ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, req.ValidDays)},
		picture: req.Picture}
	f.seals = append(f.seals, s)
	return &s.SealInfo, nil
}

type fakePDF struct {
	mu   sync.Mutex
	last server.SignPDFRequest
}

func (f *fakePDF) SignPDF(ctx context.Context, agency string, req *server.SignPDFRequest) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = *req
	return append(append([]byte{}, req.PDF...), "\n% signed\n"...), nil
}

// The console's seal and PDF tabs: making a seal sends the name, type,
// validity and the PNG picture (base64 in JSON); the list shows it; signing
// a PDF sends the file raw with the seal, page and the position converted
// from millimetres to points, and offers the signed file.
func TestBrowserConsoleSealsAndPDF(t *testing.T) {
	b := newBrowser(t)
	st := server.NewMemStore()
	ctx := context.Background()
	if err := st.CreateAgency(ctx, &server.Agency{Code: "demo", Name: "演示局"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &server.User{Name: "issuer", PasswordHash: server.HashPassword("pw"), Role: server.RoleIssuer, Agency: "demo"}); err != nil {
		t.Fatal(err)
	}
	seals, signer := &fakeSeals{}, &fakePDF{}
	ts := startPagesServer(t, server.Deps{Store: st, Seals: seals, PDFSigner: signer,
		Verify: func(ctx context.Context, input []byte, hint string) *report.Report {
			return &report.Report{Verdict: report.Indeterminate}
		}})

	dir := t.TempDir()
	png := filepath.Join(dir, "stamp.png")
	pngBytes := sealtest.Picture() // a real PNG: the card shows it
	pdfPath := filepath.Join(dir, "合同.pdf")
	if err := os.WriteFile(png, pngBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pdfPath, []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	con := b.newTab("console-seals", 1280, 900, false)
	con.do("sign in", chromedp.Navigate(ts.URL+"/console"), chromedp.WaitVisible("#login-user"),
		chromedp.SendKeys("#login-user", "issuer"), chromedp.SendKeys("#login-pass", "pw"),
		chromedp.Click(`#login-form button[type="submit"]`), chromedp.WaitVisible("#issue-form"))
	con.do("make a seal", chromedp.Click(`[data-tab="seals"]`), chromedp.WaitVisible("#seal-name"),
		chromedp.SendKeys("#seal-name", "演示市市场监督管理局行政审批专用章"), chromedp.SetValue("#seal-type", "special"),
		chromedp.SetValue("#seal-days", "365"), chromedp.SetUploadFiles("#seal-picture", []string{png}),
		chromedp.Click(`#seal-form button[type="submit"]`))
	con.waitJS("seal listed", `document.querySelectorAll("#seal-list .seal-card").length === 1`)
	// The card shows the stamp picture from the seal file: the PNG the
	// page uploaded, decoded by the browser.
	con.waitJS("seal picture shown", `(function () { var i = document.querySelector("#seal-list img[data-seal-picture]"); return !!i && i.complete && i.naturalWidth > 0; })()`)
	seals.mu.Lock()
	last := seals.last
	seals.mu.Unlock()
	if last.Name != "演示市市场监督管理局行政审批专用章" || last.Type != "special" || last.ValidDays != 365 || !bytes.Equal(last.Picture, pngBytes) {
		t.Errorf("seal request %+v", last)
	}
	if got := con.text("#seal-list"); !strings.Contains(got, "行政审批专用章") || !strings.Contains(got, "SEAL001") {
		t.Errorf("seal card %q", got)
	}
	con.screenshot("console-seals")

	con.do("sign a PDF", chromedp.Click(`[data-tab="pdfsign"]`), chromedp.WaitVisible("#pdf-file"),
		chromedp.SetUploadFiles("#pdf-file", []string{pdfPath}), chromedp.SetValue("#pdf-seal", "SEAL001"),
		chromedp.SetValue("#pdf-x", "140"), chromedp.SetValue("#pdf-y", "40"), chromedp.Click(`#pdf-form button[type="submit"]`))
	con.waitJS("signed PDF offered", `!document.getElementById("pdf-result").hidden`)
	signer.mu.Lock()
	req := signer.last
	signer.mu.Unlock()
	if req.SealID != "SEAL001" || req.Page != 1 || math.Abs(req.X-396.9) > 0.1 || math.Abs(req.Y-113.4) > 0.1 || !bytes.HasPrefix(req.PDF, []byte("%PDF-1.7")) {
		t.Errorf("sign request: seal %q page %d at (%.1f, %.1f) pt, %d bytes", req.SealID, req.Page, req.X, req.Y, len(req.PDF))
	}
	if name := con.attr("#pdf-result", "download"); name != "合同-signed.pdf" {
		t.Errorf("download name %q", name)
	}
	con.noErrors()
}
