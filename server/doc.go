// Package server is Zhengxin's HTTP service: the JSON API under /api/v1
// (licenses, verification, trust and status lists, seals, PDF signing,
// audit log, usage records, agencies and tokens, holder wallet calls), the
// operational endpoints /healthz, /readyz and /metrics, and the mount point
// for the console, counter and wallet pages.
//
// # Wiring
//
// The server owns no keys and no SQL. Everything comes in through [Deps]:
//
//	st, _ := store.Open(ctx, dsn, dir)                    // SQLite or PostgreSQL
//	api := server.FromStore(st, server.LicenseQRText)
//	srv, err := server.New(server.Deps{
//		Store:  api,
//		Verify: server.VerifierFor(verify.Options{Trust: pool, Status: server.StoreStatus{Store: api},
//			Nonces: store.Nonces{Store: st}}),
//		Issuer: &server.LicenseIssuer{Signer: signerOf, Reserve: server.ReserveFrom(st), Render: renderPDF},
//		Published: &server.Publisher{Store: st, Signer: signerOf, TrustListFile: readTrustList},
//		Seals:     seals, PDFSigner: pdfSigner, // lead's adapters over seal/ and pdf/
//		Pages:     server.PagesHandler(server.PagesConfig{}),
//		SessionKey: key32,                       // shared by all replicas
//	}, server.Config{Addr: "127.0.0.1:8080"})
//	err = srv.Run(ctx) // returns after a graceful shutdown when ctx ends
//
// Tests and the load generator use [NewMemStore] instead of a database.
//
// # Access
//
// API callers send "Authorization: Bearer zx_..." tokens; each token has one
// [Role] (admin, issuer, counter, holder) and issuer and counter tokens
// belong to one agency. Only the SHA-256 of a token is stored; the secret is
// shown once when made. An issuer asking for another agency's license, seal
// or license history gets 404, not 403, so identifiers cannot be probed.
// Page users log in with a password (argon2id, m=19 MiB, t=2, p=1, PHC
// string) and get an HttpOnly, SameSite=Strict session cookie; every
// state-changing request made with that cookie must also carry the
// session's CSRF token (header X-CSRF-Token) and, when the browser sends
// one, a same-origin Origin. Verification, trust and status lists are open;
// verify, login and claim are rate-limited per client IP (token bucket,
// 429 with Retry-After).
//
// # Errors
//
// Every error is an RFC 9457 problem (application/problem+json) whose type
// is "urn:zhengxin:problem:<code>" with a stable code, a "中文 / English"
// title and detail, and the same text split in "message": {"zh", "en"}.
// docs/api.md lists the codes.
//
// # Operations
//
// /healthz answers while the process runs; /readyz pings the database
// (pgxpool replaces broken connections by itself, so readiness comes back
// after a PostgreSQL restart without restarting Zhengxin); /metrics is
// Prometheus text with request counts and latencies by route pattern,
// verifications by verdict, reason and kind, and issuance counts. Request
// logs are JSON lines (log/slog) without query strings, headers, tokens or
// full ID numbers (see [MaskID]).
package server
