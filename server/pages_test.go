package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/zhengxin/zhengxin/license"
)

func getPage(t *testing.T, h http.Handler, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPagesRender(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	for _, tc := range []struct{ path, want string }{
		{"/", "窗口核验"},
		{"/console", "发证机构控制台"},
		{"/counter", "扫码枪"},
		{"/wallet", "领取证照"},
	} {
		rec := getPage(t, h, tc.path)
		if rec.Code != 200 {
			t.Fatalf("GET %s: status %d", tc.path, rec.Code)
		}
		body := rec.Body.String()
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", tc.path, ct)
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: page lacks %q", tc.path, tc.want)
		}
		if !strings.Contains(body, `data-lang="zh"`) || !strings.Contains(body, `lang="zh-CN"`) {
			t.Errorf("GET %s: not Chinese by default", tc.path)
		}
		checkNoInlineCode(t, tc.path, body)
	}
}

// The CSP forbids inline script and style: every <script> must load a file
// or be a JSON data block, and no element may carry a style attribute or
// an inline event handler.
func checkNoInlineCode(t *testing.T, name, body string) {
	t.Helper()
	scripts := regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	if len(scripts) == 0 {
		t.Errorf("%s: no scripts at all", name)
	}
	for _, m := range scripts {
		attrs, content := m[1], m[2]
		switch {
		case strings.Contains(attrs, `src="/static/`) && strings.TrimSpace(content) == "":
		case strings.Contains(attrs, `type="application/json"`):
			var v any
			if err := json.Unmarshal([]byte(content), &v); err != nil {
				t.Errorf("%s: JSON data block does not parse: %v", name, err)
			}
		default:
			t.Errorf("%s: inline script <script%s>%.60s", name, attrs, content)
		}
	}
	if regexp.MustCompile(`(?i)\s(style|on[a-z]+)="`).MatchString(body) {
		t.Errorf("%s: inline style or event handler attribute", name)
	}
	if strings.Contains(body, "<style") {
		t.Errorf("%s: inline <style> element", name)
	}
}

func TestPagesLanguageCookie(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	rec := getPage(t, h, "/counter", &http.Cookie{Name: "zx_lang", Value: "en"})
	if !strings.Contains(rec.Body.String(), `data-lang="en"`) || !strings.Contains(rec.Body.String(), `<html lang="en"`) {
		t.Errorf("zx_lang=en did not select English")
	}
	rec = getPage(t, h, "/counter", &http.Cookie{Name: "zx_lang", Value: "<script>"})
	if !strings.Contains(rec.Body.String(), `data-lang="zh"`) {
		t.Errorf("an unknown zx_lang value did not fall back to Chinese")
	}
}

func TestPagesNotFoundAndMethods(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	for _, p := range []string{"/nope", "/static/nope.js", "/console/x", "/static/../pages.go"} {
		if rec := getPage(t, h, p); rec.Code != http.StatusNotFound && rec.Code != http.StatusMovedPermanently {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/console", strings.NewReader("x"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console: status %d, want 405", rec.Code)
	}
}

func TestPagesStatic(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	for path, ctype := range map[string]string{
		"/static/zhengxin.css":                     "text/css; charset=utf-8",
		"/static/common.js":                        "text/javascript; charset=utf-8",
		"/static/vendor/jsQR-1.4.0.js":             "text/javascript; charset=utf-8",
		"/static/vendor/qrcode-generator-2.0.4.js": "text/javascript; charset=utf-8",
		"/static/items.json":                       "application/json",
		"/static/wallet.wasm":                      "application/wasm",
		"/static/wasm_exec.js":                     "text/javascript; charset=utf-8",
	} {
		rec := getPage(t, h, path)
		if rec.Code != 200 {
			t.Errorf("GET %s: status %d", path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, ctype)
		}
	}
}

// Every script a template loads exists, and every id the page scripts look
// up with $("...") exists in the page that loads them, so a renamed element
// cannot silently break a page.
func TestPagesScriptsMatchTemplates(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	idRe := regexp.MustCompile(`\$\("([a-zA-Z0-9_-]+)"\)`)
	for page, script := range map[string]string{"/console": "console.js", "/counter": "counter.js", "/wallet": "wallet.js"} {
		body := getPage(t, h, page).Body.String()
		for _, m := range regexp.MustCompile(`<script src="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1) {
			if rec := getPage(t, h, m[1]); rec.Code != 200 {
				t.Errorf("%s loads %s: status %d", page, m[1], rec.Code)
			}
		}
		js := getPage(t, h, "/static/"+script).Body.String() + getPage(t, h, "/static/common.js").Body.String()
		for _, m := range idRe.FindAllStringSubmatch(js, -1) {
			if m[1] == "toast" || m[1] == "lang-toggle" {
				continue
			}
			if page != "/console" && strings.HasPrefix(m[1], "license-types") {
				continue
			}
			if !strings.Contains(body, `id="`+m[1]+`"`) {
				t.Errorf("%s: %s looks up #%s, which the page does not have", page, script, m[1])
			}
		}
	}
}

// The license type catalogue is embedded in the pages with each code
// field's options, so the console can offer a choice list.
func TestPagesLicenseTypesBlock(t *testing.T) {
	body := getPage(t, PagesHandler(PagesConfig{}), "/console").Body.String()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="license-types">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no license-types block")
	}
	var got struct {
		Types []struct {
			Key    string `json:"key"`
			ZH     string `json:"zh"`
			Fields []struct {
				Key     string `json:"key"`
				Kind    string `json:"kind"`
				Options []struct {
					Code int64  `json:"code"`
					ZH   string `json:"zh"`
				} `json:"options"`
			} `json:"fields"`
		} `json:"types"`
	}
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Types) != len(license.Types()) {
		t.Fatalf("%d types in the page, %d in the catalogue", len(got.Types), len(license.Types()))
	}
	for _, ty := range got.Types {
		want, err := license.LookupType(ty.Key)
		if err != nil || want.ZH != ty.ZH {
			t.Errorf("type %q: %v", ty.Key, err)
			continue
		}
		for _, f := range ty.Fields {
			if f.Kind == "code" && len(f.Options) != len(want.Field(f.Key).Codes) {
				t.Errorf("%s.%s: %d options, want %d", ty.Key, f.Key, len(f.Options), len(want.Field(f.Key).Codes))
			}
		}
	}
}

// A hostile value in the types block cannot close the script element.
func TestPagesJSONBlockEscapes(t *testing.T) {
	h := PagesHandler(PagesConfig{LicenseTypes: func() any {
		return map[string]any{"types": []map[string]string{{"key": "x", "zh": "</script><script>alert(1)</script>"}}}
	}})
	body := getPage(t, h, "/console").Body.String()
	if strings.Contains(body, "<script>alert(1)") {
		t.Fatal("types block lets </script> through")
	}
	checkNoInlineCode(t, "console", body)
}

// Every material that names a license type names one the catalogue has,
// and every service item has at least one material a license can replace.
func TestPagesServiceItems(t *testing.T) {
	b, err := fs.ReadFile(pagesStaticFS, "web/static/items.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Items []struct {
			Key, ZH, EN string
			Materials   []struct {
				ZH, EN      string
				LicenseType string `json:"license_type"`
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Items) < 3 {
		t.Fatalf("only %d service items", len(d.Items))
	}
	seen := map[string]bool{}
	for _, it := range d.Items {
		if it.Key == "" || it.ZH == "" || it.EN == "" || seen[it.Key] {
			t.Errorf("item %+v: key, zh and en are required and keys unique", it)
		}
		seen[it.Key] = true
		n := 0
		for _, m := range it.Materials {
			if m.ZH == "" || m.EN == "" {
				t.Errorf("%s: material without zh/en", it.Key)
			}
			if m.LicenseType == "" {
				continue
			}
			n++
			if _, err := license.LookupType(m.LicenseType); err != nil || m.LicenseType != mustType(m.LicenseType).Key {
				t.Errorf("%s: material %s names license type %q not in the catalogue", it.Key, m.ZH, m.LicenseType)
			}
		}
		if n == 0 {
			t.Errorf("%s: no material can be replaced by an e-license", it.Key)
		}
	}
}

func mustType(k string) *license.Type {
	t, err := license.LookupType(k)
	if err != nil {
		return &license.Type{}
	}
	return t
}

// The vendored libraries are the pinned releases the README names.
func TestPagesVendoredFiles(t *testing.T) {
	readme, err := fs.ReadFile(pagesStaticFS, "web/static/vendor/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jsQR-1.4.0.js", "jsQR-1.4.0.LICENSE", "qrcode-generator-2.0.4.js"} {
		if !strings.Contains(string(readme), f) {
			t.Errorf("vendor/README.md does not list %s", f)
		}
		fh, err := pagesStaticFS.Open("web/static/vendor/" + f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		b, _ := io.ReadAll(fh)
		fh.Close()
		if len(b) < 1000 {
			t.Errorf("%s: only %d bytes", f, len(b))
		}
	}
}

// The wallet module goes out gzipped to clients that accept it, and the
// bytes inflate to exactly the embedded file.
func TestPagesWasmGzip(t *testing.T) {
	h := PagesHandler(PagesConfig{})
	req := httptest.NewRequest(http.MethodGet, "/static/wallet.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Content-Type") != "application/wasm" {
		t.Fatalf("status %d, encoding %q, type %q", rec.Code, rec.Header().Get("Content-Encoding"), rec.Header().Get("Content-Type"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := fs.ReadFile(pagesStaticFS, "web/static/wallet.wasm")
	if !bytes.Equal(got, want) {
		t.Fatal("gzipped wasm does not inflate to the embedded file")
	}
	if !bytes.HasPrefix(want, []byte("\x00asm")) {
		t.Fatal("embedded wallet.wasm is not WebAssembly")
	}
}
