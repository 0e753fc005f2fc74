package server

// The three pages — /console (issuing agency), /counter (service counter)
// and /wallet (holder, phone-sized) — are Go html/template files plus small
// hand-written JavaScript, all embedded in the binary: there is no front-end
// build step. The pages talk to the JSON API under /api/v1 like any other
// client; the handlers here only render the shells and serve static files.
//
// The CSP forbids inline scripts, so every script is a file under
// web/static and data a page needs at load time travels in
// <script type="application/json"> blocks (data, not code) or data-*
// attributes. The wallet's WebAssembly needs 'wasm-unsafe-eval' in
// script-src; see docs/pages.md.

//go:generate go run ../cmd/zhengxin-wallet-wasm/gen -out web/static

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/zhengxin/zhengxin/license"
)

//go:embed web/templates/*.html
var pagesTemplateFS embed.FS

//go:embed web/static
var pagesStaticFS embed.FS

// PagesConfig configures the page handler. The zero value is what a
// deployment wants: the catalogue of package license embedded in the pages,
// the API under /api/v1.
type PagesConfig struct {
	// LicenseTypes, if set, returns the license type definitions written
	// into every page (the console builds its issue form from them, the
	// counter and wallet label fields with them). Nil means the catalogue
	// of package license with each code field's options, which is what
	// the pages expect: {"types": [{key, zh, en, fields: [{key, zh, en,
	// kind, check, required, max, options: [{code, zh, en}]}], profiles}]}.
	LicenseTypes func() any
	// APIBase is the prefix of the JSON API, "/api/v1" when empty.
	APIBase string
	// Logger receives template errors; slog.Default() when nil.
	Logger *slog.Logger
}

// PagesHandler serves GET /console, /counter, /wallet, / (an index linking
// to the three) and /static/... (CSS, JS, vendored libraries, the wallet's
// WebAssembly). Mount it on the router for those paths; every other path
// gets 404.
func PagesHandler(cfg PagesConfig) http.Handler {
	if cfg.APIBase == "" {
		cfg.APIBase = "/api/v1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LicenseTypes == nil {
		cfg.LicenseTypes = pagesLicenseTypes
	}
	p := &pages{cfg: cfg, tmpl: map[string]*template.Template{}}
	for _, name := range []string{"index", "console", "counter", "wallet"} {
		p.tmpl[name] = template.Must(template.New("layout.html").Funcs(template.FuncMap{
			"json": pagesJSON,
		}).ParseFS(pagesTemplateFS, "web/templates/layout.html", "web/templates/"+name+".html"))
	}
	static, err := fs.Sub(pagesStaticFS, "web/static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	p.static = http.StripPrefix("/static/", http.FileServerFS(static))
	return p
}

type pages struct {
	cfg    PagesConfig
	tmpl   map[string]*template.Template
	static http.Handler

	// The wallet's WebAssembly is 5-6 MB and compresses to under a third;
	// it is gzipped once, on first request, and kept.
	wasmOnce sync.Once
	wasmGz   []byte
}

func (p *pages) serveWasmGzip(w http.ResponseWriter, r *http.Request) {
	p.wasmOnce.Do(func() {
		raw, err := fs.ReadFile(pagesStaticFS, "web/static/wallet.wasm")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw)
		if zw.Close() == nil {
			p.wasmGz = buf.Bytes()
		}
	})
	if p.wasmGz == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(p.wasmGz)))
	if r.Method != http.MethodHead {
		w.Write(p.wasmGz)
	}
}

// pageData is what every template receives.
type pageData struct {
	Page    string // "console", "counter", "wallet", "index"
	Lang    string // "zh" or "en": the remembered choice, so the first paint is right
	APIBase string
	Types   any    // license type definitions, or nil
	CSRF    string // the session's CSRF token when signed in by cookie
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// The files are embedded: they change only with the binary, so a
		// short cache is safe and keeps counters fast on slow links.
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if path.Ext(r.URL.Path) == ".wasm" {
			w.Header().Set("Content-Type", "application/wasm")
			if r.URL.Path == "/static/wallet.wasm" && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				p.serveWasmGzip(w, r)
				return
			}
		}
		p.static.ServeHTTP(w, r)
		return
	}
	var name string
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "":
		name = "index"
	case "/console":
		name = "console"
	case "/counter":
		name = "counter"
	case "/wallet":
		name = "wallet"
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	d := pageData{Page: name, Lang: pagesLang(r), APIBase: p.cfg.APIBase, CSRF: CSRFToken(r)}
	if name != "index" {
		d.Types = p.cfg.LicenseTypes()
	}
	var buf bytes.Buffer
	if err := p.tmpl[name].Execute(&buf, d); err != nil {
		p.cfg.Logger.Error("server: rendering page", "page", name, "err", err)
		http.Error(w, "页面生成失败 / page rendering failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Cookie")
	w.Write(buf.Bytes())
}

// pagesLang returns the language remembered in the "zx_lang" cookie
// (written by the toggle in common.js); Chinese unless it says English.
func pagesLang(r *http.Request) string {
	if c, err := r.Cookie("zx_lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

// pagesJSON encodes v for a <script type="application/json"> block.
// json.Marshal escapes <, > and & so the data cannot end the block, and
// template.JS tells html/template it is already safe there.
func pagesJSON(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return template.JS(b), nil
}

// pagesTypeView is a license type as the pages read it: the catalogue's
// JSON plus, for code fields, the options to choose from (license.Field
// keeps its code list out of JSON).
type pagesTypeView struct {
	*license.Type
	Fields []pagesFieldView `json:"fields"`
}

type pagesFieldView struct {
	*license.Field
	Options []license.Code `json:"options,omitempty"`
}

var (
	pagesTypesOnce sync.Once
	pagesTypes     any
)

func pagesLicenseTypes() any {
	pagesTypesOnce.Do(func() {
		var views []pagesTypeView
		for _, t := range license.Types() {
			v := pagesTypeView{Type: t}
			for _, f := range t.Fields {
				v.Fields = append(v.Fields, pagesFieldView{Field: f, Options: f.Codes})
			}
			views = append(views, v)
		}
		pagesTypes = map[string]any{"types": views}
	})
	return pagesTypes
}
