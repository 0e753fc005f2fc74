package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/store"
)

const serveHelp = `Usage: zhengxin serve --dir D [--addr A] [--db URL]

Run the HTTP service: the API under /api/v1 (OpenAPI at
/api/v1/openapi.json), the pages /console (issuer), /counter (service
counter) and /wallet (holder, phone-sized), /healthz, /readyz and /metrics.
启动服务：接口与三个页面（发证控制台、窗口核验、持证人钱包）。

The key passphrase comes from ZHENGXIN_PASSPHRASE or the terminal (a demo
directory uses its DEMO passphrase). On the first start, with no page user
yet, an "admin" user is made and its password printed once. Requests are
logged as JSON on stderr, without secrets or full ID numbers. SIGINT or
SIGTERM stops the server after the requests in flight.

Examples:
  zhengxin serve --dir ./zhengxin-data
  ZHENGXIN_PASSPHRASE=... zhengxin serve --dir /srv/zhengxin --addr 0.0.0.0:8080 \
      --db postgres://zhengxin@db.internal/zhengxin

Exit codes: 0 stopped cleanly; 1 failure.
`

func init() { commands["serve"] = cmdServe }

func cmdServe(args []string, c *cli) error {
	fs := newFlags(c, "serve", serveHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	addr := fs.String("addr", "", "listen address (default: the config's, 127.0.0.1:8080)")
	db := fs.String("db", "", "PostgreSQL URL (or ZHENGXIN_DB)")
	tls := fs.Bool("behind-tls", false, "the service is reached over HTTPS (a TLS proxy): cookies get Secure")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("serve", "unexpected argument %q", pos[0])
	}
	return c.serve(*dir, *addr, *db, *tls, false)
}

func (c *cli) serve(dir, addr, db string, behindTLS, demo bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := c.openDir(ctx, dir, db, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if addr == "" {
		addr = d.Config.Addr
	}
	// Open the default agency's signing key now: a wrong passphrase is
	// said at start, not as a 500 on the first issuance.
	if _, err := d.Signer(""); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	deps, err := server.ForDataDir(ctx, d)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	deps.Logger = slog.New(slog.NewJSONHandler(c.stderr, nil))
	logins, err := bootstrapUsers(ctx, d, demo)
	if err != nil {
		return fmt.Errorf("serve: creating the first users: %w", err)
	}
	srv, err := server.New(deps, server.Config{Addr: addr, TLS: behindTLS})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return withHint(fmt.Errorf("serve: cannot listen on %s: %w", addr, err), "another program uses the port: pass --addr 127.0.0.1:8081")
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(c.stdout, "证信 Zhengxin serving %s (%s database)\n", absDir(dir), d.Store.Backend())
	fmt.Fprintf(c.stdout, "  发证控制台 Issuer console:  %s/console\n", base)
	fmt.Fprintf(c.stdout, "  窗口核验   Service counter: %s/counter\n", base)
	fmt.Fprintf(c.stdout, "  持证人钱包 Holder wallet:   %s/wallet\n", base)
	fmt.Fprintf(c.stdout, "  API:                        %s/api/v1/openapi.json\n", base)
	for _, l := range logins {
		fmt.Fprintf(c.stdout, "  登录 login: %-8s %-10s password %s\n", l.role, l.name, l.password)
	}
	fmt.Fprintln(c.stdout, "Ctrl-C to stop.")
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(c.stdout, "stopped")
	return nil
}

type login struct{ role, name, password string }

// bootstrapUsers makes the first page users when there are none: an
// admin with a random password (printed once), and in a demo directory
// also an issuer and a counter clerk of the demo agency, with DEMO
// passwords.
func bootstrapUsers(ctx context.Context, d *datadir.Dir, demo bool) ([]login, error) {
	users, err := d.Store.ListUsers(ctx)
	if err != nil || len(users) > 0 {
		return nil, err
	}
	a, err := d.Agency("")
	if err != nil {
		return nil, err
	}
	type seed struct {
		name   string
		role   store.Role
		agency string
	}
	want := []seed{{"admin", store.RoleAdmin, ""}}
	if demo || d.Config.Demo {
		want = append(want, seed{"issuer", store.RoleIssuer, a.CreditCode}, seed{"counter", store.RoleCounter, a.CreditCode})
	}
	var out []login
	for _, u := range want {
		pw := randomPassword()
		if d.Config.Demo {
			pw = "DEMO-" + u.name
		}
		err := d.Store.PutUser(ctx, store.User{Username: u.name, PasswordHash: server.HashPassword(pw), Role: u.role, AgencyID: u.agency, CreatedAt: time.Now().UTC()})
		if err != nil {
			return nil, err
		}
		out = append(out, login{string(u.role), u.name, pw})
	}
	return out, nil
}

func randomPassword() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
