package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// walkRoutes lists "METHOD /pattern" for every API route of the router
// (the pages catch-all "/*" excluded).
func walkRoutes(t *testing.T, s *Server) []string {
	var out []string
	err := chi.Walk(s.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == "/*" {
			return nil
		}
		out = append(out, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIMatchesRouter: every route is documented and every documented
// operation is routed, so the document cannot drift from the code.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m, raw := range ops {
			var op struct {
				Responses map[string]any `json:"responses"`
				Roles     []string       `json:"x-roles"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || len(op.Responses) == 0 || len(op.Roles) == 0 {
				t.Errorf("%s %s: operation lacks responses or x-roles", m, p)
			}
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(documented)
	routed := walkRoutes(t, e.srv)
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %s, which is not routed", d)
		}
	}
	res := e.do(rNone, "GET", "/api/v1/openapi.json", nil)
	if res.Code != 200 || !json.Valid(res.Body.Bytes()) {
		t.Fatalf("GET openapi.json: %d", res.Code)
	}
}

// TestAccessMatrix calls every route as every role and checks the outcome
// against this table, written independently of the router's middleware.
// "ok" means the role got past access control (any status but 401/403,
// and not the 404 that hides another agency's objects).
func TestAccessMatrix(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { testAccessMatrix(t, newEnvOn(t, b)) })
	}
}

func testAccessMatrix(t *testing.T, e *env) {
	// A clerk for the login route and a throwaway token for the revoke route.
	if err := e.store.CreateUser(t.Context(), &User{Name: "clerk", PasswordHash: HashPassword("correct horse battery"), Role: RoleCounter, Agency: "C"}); err != nil {
		t.Fatal(err)
	}
	e.addToken("throwaway", RoleCounter, "C", "")
	all := allRoles
	issuers := []string{rIssuerA, rIssuerB, rAdmin}
	// scoped: objects of agency A (license A, seal A); issuer-B must get 404.
	type row struct {
		allow  []string
		scoped bool
		path   string // concrete path when the pattern has parameters
		body   any
	}
	la := "/api/v1/licenses/" + e.licA
	matrix := map[string]row{
		"GET /healthz":                          {allow: all},
		"GET /readyz":                           {allow: all},
		"GET /metrics":                          {allow: all},
		"GET /api/v1/openapi.json":              {allow: all},
		"POST /api/v1/verify":                   {allow: all, body: map[string]string{"qr": "x"}},
		"GET /api/v1/trust-list":                {allow: all},
		"GET /api/v1/status-lists/{id}":         {allow: all, path: "/api/v1/status-lists/A-1"},
		"GET /api/v1/license-types":             {allow: all},
		"POST /api/v1/session":                  {allow: all, body: map[string]string{"name": "clerk", "password": "correct horse battery"}},
		"GET /api/v1/session":                   {allow: []string{rHolder, rCounter, rIssuerA, rIssuerB, rAdmin}},
		"DELETE /api/v1/session":                {allow: all},
		"POST /api/v1/holder/claim":             {allow: []string{rNone, rHolder}, body: map[string]string{"code": "AAAA-AAAA-AAAA-AAAA"}},
		"POST /api/v1/licenses":                 {allow: issuers},
		"GET /api/v1/licenses":                  {allow: issuers},
		"GET /api/v1/licenses/{id}":             {allow: []string{rHolder, rIssuerA, rIssuerB, rAdmin}, scoped: true, path: la},
		"GET /api/v1/licenses/{id}/qr":          {allow: []string{rHolder, rIssuerA, rIssuerB, rAdmin}, scoped: true, path: la + "/qr"},
		"GET /api/v1/licenses/{id}/pdf":         {allow: []string{rHolder, rIssuerA, rIssuerB, rAdmin}, scoped: true, path: la + "/pdf"},
		"GET /api/v1/licenses/{id}/usage":       {allow: []string{rHolder, rIssuerA, rIssuerB, rAdmin}, scoped: true, path: la + "/usage"},
		"POST /api/v1/licenses/{id}/status":     {allow: issuers, scoped: true, path: la + "/status"},
		"POST /api/v1/licenses/{id}/claim-code": {allow: issuers, scoped: true, path: la + "/claim-code"},
		"POST /api/v1/usage":                    {allow: []string{rCounter, rAdmin}},
		"GET /api/v1/holder/licenses":           {allow: []string{rHolder}},
		"GET /api/v1/holder/usage":              {allow: []string{rHolder}},
		"GET /api/v1/seals":                     {allow: issuers},
		"POST /api/v1/seals":                    {allow: issuers},
		"GET /api/v1/seals/{id}":                {allow: issuers, scoped: true, path: "/api/v1/seals/seal-A"},
		"GET /api/v1/seals/{id}/picture":        {allow: issuers, scoped: true, path: "/api/v1/seals/seal-A/picture"},
		"POST /api/v1/pdf/sign":                 {allow: issuers},
		"GET /api/v1/audit":                     {allow: []string{rIssuerA, rIssuerB, rHolder, rAdmin}, scoped: true, path: "/api/v1/audit?object=" + e.licA},
		"GET /api/v1/audit/verify":              {allow: []string{rAdmin}},
		"GET /api/v1/agencies":                  {allow: []string{rAdmin}},
		"POST /api/v1/agencies":                 {allow: []string{rAdmin}},
		"GET /api/v1/tokens":                    {allow: []string{rAdmin}},
		"POST /api/v1/tokens":                   {allow: []string{rAdmin}},
		"DELETE /api/v1/tokens/{id}":            {allow: []string{rAdmin}, path: "/api/v1/tokens/id-throwaway"},
		"POST /api/v1/users":                    {allow: []string{rAdmin}},
	}
	routes := walkRoutes(t, e.srv)
	for _, rt := range routes {
		if _, ok := matrix[rt]; !ok {
			t.Errorf("route %s has no row in the access matrix", rt)
		}
	}
	for key, rw := range matrix {
		if !slices.Contains(routes, key) {
			t.Errorf("matrix row %s is not routed", key)
			continue
		}
		method, pattern, _ := strings.Cut(key, " ")
		path := rw.path
		if path == "" {
			path = pattern
		}
		for _, role := range allRoles {
			body := rw.body
			if body == nil && method != "GET" {
				body = map[string]any{}
			}
			res := e.do(role, method, path, body)
			want := "ok"
			switch {
			case slices.Contains(rw.allow, role) && rw.scoped && role == rIssuerB:
				want = "404"
			case slices.Contains(rw.allow, role):
			case role == rNone:
				want = "401"
			default:
				want = "403"
			}
			got := "ok"
			switch {
			case res.Code == 401 || res.Code == 403:
				got = map[int]string{401: "401", 403: "403"}[res.Code]
			case res.Code == 404 && rw.scoped:
				got = "404"
			case res.Code >= 500:
				got = "5xx"
			}
			if got != want {
				t.Errorf("%s as %s: status %d (%s), want %s; body %.200s", key, role, res.Code, got, want, res.Body)
			}
			if got == "401" || got == "403" || got == "404" {
				problemCode(t, res)
			}
		}
	}
}

// TestProblemCodesDocumented: every problem code the server can answer is
// in docs/api.md's table, so clients can switch on all of them.
func TestProblemCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Skipf("docs/api.md not readable: %v", err)
	}
	for _, k := range allProblemKinds {
		row := fmt.Sprintf("| `%s` | %d |", k.code, k.status)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/api.md lacks the row %q", row)
		}
	}
}
