package server

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the OpenAPI 3.1 description of /api/v1. A test walks the
// router and fails if a route is missing here or a documented path is not
// routed, so the two cannot drift.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the OpenAPI 3.1 document served at /api/v1/openapi.json.
func OpenAPI() []byte { return openapiJSON }

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openapiJSON)
}
