package server

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Server is the HTTP service. Make one with New, then either use Handler
// (tests, embedding) or Run / Serve.
type Server struct {
	deps       Deps
	cfg        Config
	store      Store
	log        *slog.Logger
	now        func() time.Time
	sessionKey []byte
	limit      *limiter
	loginLimit *limiter
	metrics    *metrics
	router     chi.Router
	batcher    *issueBatcher // nil when the Store cannot write batches
}

// New checks deps, applies config defaults and builds the router.
func New(deps Deps, cfg Config) (*Server, error) {
	if deps.Store == nil {
		return nil, errors.New("server: Deps.Store is nil: wire the store (store.Open) before starting the server")
	}
	if deps.Verify == nil {
		return nil, errors.New("server: Deps.Verify is nil: wire the verifier (verify.Verify with its options)")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.VerifyRate <= 0 {
		cfg.VerifyRate = 20
	}
	if cfg.VerifyBurst <= 0 {
		cfg.VerifyBurst = 40
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 0.2
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	s := &Server{deps: deps, cfg: cfg, store: deps.Store, log: deps.Logger, now: deps.Now, sessionKey: deps.SessionKey}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(s.sessionKey) == 0 {
		s.sessionKey = make([]byte, 32)
		if _, err := rand.Read(s.sessionKey); err != nil {
			return nil, err
		}
	} else if len(s.sessionKey) < 32 {
		return nil, errors.New("server: Deps.SessionKey is shorter than 32 bytes: use 32 random bytes")
	}
	s.limit = newLimiter(cfg.VerifyRate, cfg.VerifyBurst, s.now)
	s.loginLimit = newLimiter(cfg.LoginRate, cfg.LoginBurst, s.now)
	if bs, ok := deps.Store.(BatchLicenseStore); ok {
		s.batcher = &issueBatcher{s: s, bs: bs, max: maxIssueBatch}
	}
	s.metrics = newMetrics()
	s.router = s.routes()
	return s, nil
}

// Handler returns the whole service as one http.Handler.
func (s *Server) Handler() http.Handler { return s.router }

// Router exposes the chi router, for tests that walk the route tree.
func (s *Server) Router() chi.Routes { return s.router }

// Run listens on Config.Addr and serves until ctx ends, then shuts down
// gracefully (see Serve).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. Then it stops accepting connections,
// lets in-flight requests finish (up to Config.ShutdownTimeout) and returns
// nil; an error means the listener failed or the shutdown timed out.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a 50 MB PDF over a slow counter link
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	// GetHead answers HEAD like GET (curl -I on the trust list, CDN probes).
	r.Use(s.observe, s.securityHeaders, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, probNotFound, "", "") })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, probMethod, "", "") })

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.metrics.handler())

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authMiddleware)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, probNotFound, "", "") })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, probMethod, "", "") })
		json := limitBody(MaxJSONBytes)

		r.Get("/openapi.json", s.openapi)

		// Open to everyone; the ones that cost CPU or guard secrets are rate-limited per IP.
		r.With(s.rateLimited, limitBody(MaxPDFBytes)).Post("/verify", s.verify)
		r.Get("/trust-list", s.trustList)
		r.Get("/status-lists/{id}", s.statusList)
		r.Get("/license-types", s.licenseTypes)
		r.With(s.loginLimited, json).Post("/session", s.login)
		r.Get("/session", s.whoami)
		r.With(json).Delete("/session", s.logout)
		r.With(s.rateLimited, json).Post("/holder/claim", s.claim)

		r.With(require(RoleIssuer), json).Post("/licenses", s.issue)
		r.With(require(RoleIssuer)).Get("/licenses", s.listLicenses)
		r.With(require(RoleIssuer, RoleHolder)).Get("/licenses/{id}", s.getLicense)
		r.With(require(RoleIssuer, RoleHolder)).Get("/licenses/{id}/qr", s.licenseQR)
		r.With(require(RoleIssuer, RoleHolder)).Get("/licenses/{id}/pdf", s.licensePDF)
		r.With(require(RoleIssuer), json).Post("/licenses/{id}/status", s.setStatus)
		r.With(require(RoleIssuer), json).Post("/licenses/{id}/claim-code", s.claimCode)
		r.With(require(RoleIssuer, RoleHolder)).Get("/licenses/{id}/usage", s.licenseUsage)
		r.With(require(RoleCounter), json).Post("/usage", s.addUsage)

		r.With(requireOnly(RoleHolder)).Get("/holder/licenses", s.holderLicenses)
		r.With(requireOnly(RoleHolder)).Get("/holder/usage", s.holderUsage)

		r.With(require(RoleIssuer)).Get("/seals", s.listSeals)
		r.With(require(RoleIssuer), limitBody(MaxImageBytes)).Post("/seals", s.makeSeal)
		r.With(require(RoleIssuer)).Get("/seals/{id}", s.getSeal)
		r.With(require(RoleIssuer)).Get("/seals/{id}/picture", s.getSealPicture)
		r.With(require(RoleIssuer), limitBody(MaxPDFBytes)).Post("/pdf/sign", s.signPDF)

		r.With(require(RoleIssuer, RoleHolder)).Get("/audit", s.listAudit)
		r.With(require(RoleAdmin)).Get("/audit/verify", s.verifyAudit)

		r.With(require(RoleAdmin)).Get("/agencies", s.listAgencies)
		r.With(require(RoleAdmin), json).Post("/agencies", s.createAgency)
		r.With(require(RoleAdmin)).Get("/tokens", s.listTokens)
		r.With(require(RoleAdmin), json).Post("/tokens", s.createToken)
		r.With(require(RoleAdmin), json).Delete("/tokens/{id}", s.revokeToken)
		r.With(require(RoleAdmin), json).Post("/users", s.createUser)
	})

	if s.deps.Pages != nil {
		// Everything else goes to the pages, behind the same session and
		// CSRF checks so page handlers see the Principal.
		r.With(s.authMiddleware).Handle("/*", s.deps.Pages)
	}
	return r
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when the database answers a ping within 2 seconds.
// A PostgreSQL restart shows here as 503 until pgxpool reconnects, which it
// does by itself on the next acquire.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readyz: database unreachable", "err", err.Error())
		writeProblem(w, r, probUnavailable, "数据库不可达。", "The database is unreachable.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ready\n"))
}

func notConfigured(w http.ResponseWriter, r *http.Request, what string) {
	writeProblem(w, r, probNotConfigured, "服务器未配置"+what+"。", "This server has no "+what+" configured.")
}
