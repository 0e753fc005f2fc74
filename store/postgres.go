package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

type pgBackend struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error can quote the URL; say only what is wrong.
		return nil, errors.New("store: the PostgreSQL URL is malformed; expected postgres://user[:password]@host:port/database[?sslmode=disable]")
	}
	// Check every connection before handing it out. A server restart or
	// pg_terminate_backend leaves dead connections in the pool; the ping
	// finds them, the pool drops them and dials again, so the caller never
	// sees the broken connection. One round trip per acquisition is cheap
	// next to the transaction it guards.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	where := pgAddr(cfg.ConnConfig.Config)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, reachError(where, cfg.ConnConfig.Password, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, reachError(where, cfg.ConnConfig.Password, err)
	}
	d := &db{b: &pgBackend{pool: pool}}
	if err := migrate(ctx, d, "postgres"); err != nil {
		pool.Close()
		return nil, err
	}
	return d, nil
}

func pgAddr(c pgconn.Config) string {
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// reachError is the one line an operator sees when the database is down.
// pgconn's messages name user and database but not the password; it is
// scrubbed anyway in case a future version quotes the URL.
func reachError(where, password string, err error) error {
	msg := err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "********")
	}
	// pgconn lists one attempt per line (e.g. TLS, then plain); keep one line.
	msg = strings.Join(strings.Fields(msg), " ")
	return fmt.Errorf("store: cannot reach PostgreSQL at %s: %s; is it running?", where, msg)
}

func (b *pgBackend) name() string      { return "postgres" }
func (b *pgBackend) reader() querier   { return pgQ{b.pool} }
func (b *pgBackend) writer() querier   { return pgQ{b.pool} }
func (b *pgBackend) forUpdate() string { return " FOR UPDATE" }
func (b *pgBackend) likeOp() string    { return "ILIKE" }

// lockAudit takes a table lock that conflicts with itself but not with
// readers: appenders queue, VerifyAuditChain and ListAudit do not wait.
// Held to the end of the transaction, so seq and prev_hash cannot race.
func (b *pgBackend) lockAudit(ctx context.Context, q querier) error {
	_, err := q.exec(ctx, `LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

// migrationLock is a transaction-scoped advisory lock keyed by the schema,
// so test schemas (and tenants) side by side do not wait for each other.
func (b *pgBackend) migrationLock(ctx context.Context, q querier) error {
	_, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(7355608, hashtext(coalesce(current_schema(), '')))`)
	return err
}

func (b *pgBackend) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (b *pgBackend) ping(ctx context.Context) error {
	if err := b.pool.Ping(ctx); err != nil {
		return reachError(pgAddr(b.pool.Config().ConnConfig.Config), b.pool.Config().ConnConfig.Password, err)
	}
	return nil
}

func (b *pgBackend) close() error { b.pool.Close(); return nil }

func (b *pgBackend) tx(ctx context.Context, fn func(querier) error) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return wrap("begin transaction", err)
	}
	if err := fn(pgQ{tx}); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return wrap("commit", tx.Commit(ctx))
}

func (b *pgBackend) isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (b *pgBackend) existingKeys(ctx context.Context, q querier, agency string, keys []string) (map[string]IssueResult, error) {
	rs, err := q.query(ctx, `SELECT idem_key, id, status_index FROM licenses WHERE agency_id = ? AND idem_key = ANY(?) AND idem_key <> ''`, agency, keys)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	m := map[string]IssueResult{}
	for rs.Next() {
		var k string
		var r IssueResult
		if err := rs.Scan(&k, &r.ID, &r.StatusIndex); err != nil {
			return nil, err
		}
		m[k] = r
	}
	return m, rs.Err()
}

var licColList = strings.Split(strings.ReplaceAll(licCols, " ", ""), ",")

// bulkInsert streams the batch with COPY, the fastest path into
// PostgreSQL. Existing idempotency keys were filtered out under the
// agency's counter lock, so a unique violation here is a real conflict
// and fails the batch.
func (b *pgBackend) bulkInsert(ctx context.Context, q querier, recs []LicenseRecord) error {
	tx := q.(pgQ).c.(pgx.Tx)
	d := db{b: b}
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"licenses"}, licColList, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		i++
		return d.licArgs(&recs[i-1]), nil
	}))
	return err
}

// pgQ adapts a pool or a transaction to querier, rewriting ? to $n.
type pgQ struct {
	c interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (q pgQ) exec(ctx context.Context, s string, args ...any) (int64, error) {
	tag, err := q.c.Exec(ctx, dollar(s), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQ) query(ctx context.Context, s string, args ...any) (rows, error) {
	r, err := q.c.Query(ctx, dollar(s), args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (q pgQ) queryRow(ctx context.Context, s string, args ...any) row {
	return pgRow{q.c.QueryRow(ctx, dollar(s), args...)}
}

type pgRow struct{ r pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}

var dollarCache sync.Map

// dollar rewrites the ? placeholders of the shared SQL to PostgreSQL's $n.
// The shared SQL has no ? inside literals.
func dollar(s string) string {
	if v, ok := dollarCache.Load(s); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	dollarCache.Store(s, b.String())
	return b.String()
}
