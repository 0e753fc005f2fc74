// Command loadtest measures the HTTP API on this machine: POST
// /api/v1/verify with a real license QR (beside the in-process
// verify.VerifyLicenseQR rate of the same run), and POST /api/v1/licenses
// on PostgreSQL. The server runs in a child process (this binary with
// -serve), the load comes from this one, both on 127.0.0.1 only. Every run
// is bounded by -duration and -n.
//
//	go run ./server/loadtest -mode verify -duration 10s -c 32
//	go run ./server/loadtest -mode issue -pg postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// The per-IP rate limit is lifted in the child: all load comes from one
// address. Request logs are written (JSON, to io.Discard) as in production.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/jackc/pgx/v5"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/server"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

const issuerCode = "11330106MA0001018C"

var (
	mode     = flag.String("mode", "verify", "verify, issue or both")
	duration = flag.Duration("duration", 10*time.Second, "how long each phase sends load (at most 60s)")
	maxN     = flag.Int("n", 2_000_000, "at most this many requests per phase")
	conc     = flag.Int("c", 32, "concurrent connections")
	pgURL    = flag.String("pg", os.Getenv("ZHENGXIN_TEST_POSTGRES"), "PostgreSQL URL for -mode issue (a fresh schema is made and dropped)")
	serve    = flag.Bool("serve", false, "internal: run the server child")
	inproc   = flag.Duration("inproc", 3*time.Second, "how long the child measures in-process verification first")
	client   = flag.String("client", "raw", "raw (minimal keep-alive HTTP/1.1 client) or net (net/http client)")
	// As `zhengxin serve` runs: the status index reserved before signing
	// (it is in the signed license) and the QR made at issuance.
	reserveIdx = flag.Bool("reserve", true, "issue: reserve the status index before signing, as zhengxin serve does")
	lazyQR     = flag.Bool("lazyqr", false, "issue: skip making the QR text at issuance (zhengxin serve makes it)")
)

func main() {
	flag.Parse()
	if *duration > time.Minute {
		*duration = time.Minute
	}
	var err error
	if *serve {
		err = child()
	} else {
		err = parent()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// hello is what the child tells the parent on its first stdout line.
type hello struct {
	Addr        string  `json:"addr"`
	QR          string  `json:"qr"`
	IssuerToken string  `json:"issuer_token"`
	InprocRate  float64 `json:"inproc_per_s"`
	InprocP99   float64 `json:"inproc_p99_ms"`
	InprocN     int     `json:"inproc_n"`
	Backend     string  `json:"backend"`
}

func pki() (*license.Signer, *certs.Pool, error) {
	now := time.Now()
	keys := make([]*sm2.PrivateKey, 3)
	for i := range keys {
		k, err := certs.GenerateKey()
		if err != nil {
			return nil, nil, err
		}
		keys[i] = k
	}
	t0 := now.Add(-24 * time.Hour)
	root, err := certs.NewRootCA(keys[0], certs.Name{CommonName: "loadtest root", Organization: "证信压测"}, t0, 365*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	agency, err := certs.CA{Cert: root, Key: keys[0]}.NewAgencyCA(&keys[1].PublicKey, certs.Name{CommonName: "压测机构CA", Organization: "压测机构", CreditCode: issuerCode}, t0, 300*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	sc, err := certs.CA{Cert: agency, Key: keys[1]}.Issue(certs.LicenseSigner, &keys[2].PublicKey, certs.Name{CommonName: "压测证照签名", CreditCode: issuerCode}, t0, 200*24*time.Hour)
	if err != nil {
		return nil, nil, err
	}
	pool := certs.NewPool()
	pool.AddAnchor(root)
	pool.AddIntermediate(agency)
	pool.AddCertificate(sc)
	s, err := license.NewSigner(keys[2], sc, issuerCode)
	return s, pool, err
}

func issueBody() []byte {
	sample := license.SampleRequests()[0]
	fields := map[string]string{}
	for k, v := range sample.Fields {
		if k != "holder_name" && k != "holder_id" {
			fields[k] = v
		}
	}
	b, _ := json.Marshal(map[string]any{"type": sample.Type, "holder_name": sample.Fields["holder_name"], "holder_id": sample.Fields["holder_id"], "fields": fields})
	return b
}

func child() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	signer, pool, err := pki()
	if err != nil {
		return err
	}
	var st server.Store
	var reserve func(context.Context, string) (string, uint64, error)
	backend := "memory"
	if *mode == "issue" {
		if *pgURL == "" {
			return errors.New("-mode issue needs -pg or ZHENGXIN_TEST_POSTGRES")
		}
		url, drop, err := freshSchema(*pgURL)
		if err != nil {
			return err
		}
		defer drop()
		ss, err := store.Open(ctx, url, "")
		if err != nil {
			return err
		}
		defer ss.Close()
		st, backend = server.FromStore(ss, server.LicenseQRText), "postgres"
		if *reserveIdx {
			reserve = server.ReserveFrom(ss)
		}
	} else {
		st = server.NewMemStore()
	}
	bg := context.Background()
	if err := st.CreateAgency(bg, &server.Agency{Code: "A", Name: "压测机构", CreditCode: issuerCode}); err != nil {
		return err
	}
	secret, hash := server.NewTokenSecret()
	if err := st.CreateToken(bg, &server.Token{ID: "loadtest", Hash: hash, Name: "loadtest", Role: server.RoleIssuer, Agency: "A", CreatedAt: time.Now()}); err != nil {
		return err
	}
	opts := verify.Options{Trust: pool, Status: server.StoreStatus{Store: st}}
	iss := &server.LicenseIssuer{Signer: func(string) (*license.Signer, error) { return signer, nil }, LazyQR: backend == "postgres" && *lazyQR, Reserve: reserve}
	srv, err := server.New(server.Deps{
		Store: st, Verify: server.VerifierFor(opts), Issuer: iss,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}, server.Config{VerifyRate: 1e9, VerifyBurst: 1 << 30})
	if err != nil {
		return err
	}
	// One license to verify, issued through the handler like any other.
	var req server.IssueRequest
	json.Unmarshal(issueBody(), &req)
	l, err := iss.Issue(bg, "A", &req)
	if err != nil {
		return err
	}
	if _, _, err := st.CreateLicense(bg, l, "", nil); err != nil {
		return err
	}
	h := hello{QR: l.QR, IssuerToken: secret, Backend: backend}
	if *mode != "issue" {
		if r := verify.VerifyLicenseQR(bg, l.QR, opts); r.Verdict != report.Passed {
			return fmt.Errorf("the test license does not verify: %s %s", r.Verdict, r.Reason)
		}
		h.InprocRate, h.InprocP99, h.InprocN = measureInproc(func() { verify.VerifyLicenseQR(bg, l.QR, opts) }, *inproc)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	h.Addr = ln.Addr().String()
	b, _ := json.Marshal(h)
	fmt.Println(string(b))
	return srv.Serve(ctx, ln)
}

// measureInproc runs f on GOMAXPROCS goroutines for d and returns the
// rate, the p99 latency (ms) and the count.
func measureInproc(f func(), d time.Duration) (float64, float64, int) {
	procs := runtime.GOMAXPROCS(0)
	lat := make([][]time.Duration, procs)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t := time.Now()
				f()
				lat[i] = append(lat[i], time.Since(t))
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lat...)
	el := time.Since(start)
	return float64(len(all)) / el.Seconds(), ms(pct(all, 0.99)), len(all)
}

func freshSchema(base string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "zx_load_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	drop := func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	}
	return base + sep + "search_path=" + schema, drop, nil
}

func startChild(m string) (*hello, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "-serve", "-mode", m, "-pg", *pgURL, "-inproc", inproc.String(),
		fmt.Sprintf("-reserve=%v", *reserveIdx), fmt.Sprintf("-lazyqr=%v", *lazyQR))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("child did not start: %w", err)
	}
	var h hello
	if err := json.Unmarshal([]byte(line), &h); err != nil {
		stop()
		return nil, nil, err
	}
	if host, _, _ := net.SplitHostPort(h.Addr); host != "127.0.0.1" {
		stop()
		return nil, nil, fmt.Errorf("child listens on %s, not loopback", h.Addr)
	}
	go io.Copy(io.Discard, out)
	return &h, stop, nil
}

// rawLoad is a minimal HTTP/1.1 keep-alive client (like wrk): each of c
// connections writes the prepared request bytes and reads one response
// (status line, headers, Content-Length body) at a time. It costs the
// generator a few microseconds per request where net/http's client costs
// tens, which matters when generator and server share two cores.
func rawLoad(c int, addr string, reqBytes []byte, want int) result {
	var sent, errs atomic.Int64
	lat := make([][]time.Duration, c)
	var sample atomic.Value
	start := time.Now()
	deadline := start.Add(*duration)
	wantLine := []byte(fmt.Sprintf("HTTP/1.1 %d ", want))
	var wg sync.WaitGroup
	for i := range c {
		lat[i] = make([]time.Duration, 0, 1<<16)
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				errs.Add(1)
				return
			}
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 64<<10)
			body := make([]byte, 0, 64<<10)
			for time.Now().Before(deadline) && sent.Add(1) <= int64(*maxN) {
				t := time.Now()
				if _, err := conn.Write(reqBytes); err != nil {
					errs.Add(1)
					return
				}
				status, err := br.ReadSlice('\n')
				if err != nil {
					errs.Add(1)
					return
				}
				ok := bytes.HasPrefix(status, wantLine)
				n := -1
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						errs.Add(1)
						return
					}
					if len(line) <= 2 {
						break
					}
					if k, v, found := bytes.Cut(line, []byte(":")); found && bytes.EqualFold(k, []byte("Content-Length")) {
						fmt.Sscan(string(bytes.TrimSpace(v)), &n)
					}
				}
				if n < 0 {
					errs.Add(1) // chunked: not expected from this server
					return
				}
				body = body[:0]
				for len(body) < n {
					m := min(n-len(body), cap(body)-len(body))
					if m == 0 {
						body = append(body, make([]byte, n-len(body))...)[:len(body)]
						continue
					}
					k, err := io.ReadFull(br, body[len(body):len(body)+m])
					body = body[:len(body)+k]
					if err != nil {
						errs.Add(1)
						return
					}
				}
				lat[i] = append(lat[i], time.Since(t))
				if !ok {
					errs.Add(1)
				}
				if sample.Load() == nil {
					sample.Store(string(body))
				}
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start), lat: slices.Concat(lat...), errs: int(errs.Load())}
	r.n = len(r.lat)
	if s, ok := sample.Load().(string); ok {
		r.sample = s
	}
	return r
}

// rawRequest is the request as bytes on the wire.
func rawRequest(addr, path, token string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, addr, len(body))
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

type result struct {
	n, errs int
	elapsed time.Duration
	lat     []time.Duration
	sample  string
}

// load sends requests made by mk from c workers until the duration or the
// count runs out.
func load(c int, mk func() *http.Request, want int) result {
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var sent, errs atomic.Int64
	lat := make([][]time.Duration, c)
	var sample atomic.Value
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for i := range c {
		lat[i] = make([]time.Duration, 0, 1<<16)
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for time.Now().Before(deadline) && sent.Add(1) <= int64(*maxN) {
				t := time.Now()
				res, err := client.Do(mk())
				if err != nil {
					errs.Add(1)
					continue
				}
				n, _ := io.ReadFull(res.Body, buf)
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[i] = append(lat[i], time.Since(t))
				if res.StatusCode != want {
					errs.Add(1)
				}
				if sample.Load() == nil {
					sample.Store(string(buf[:n]))
				}
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start), lat: slices.Concat(lat...), errs: int(errs.Load())}
	r.n = len(r.lat)
	if s, ok := sample.Load().(string); ok {
		r.sample = s
	}
	return r
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r result) print(name string) {
	fmt.Printf("%-28s %8d req in %5.2fs = %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   errors %d\n",
		name, r.n, r.elapsed.Seconds(), float64(r.n)/r.elapsed.Seconds(), ms(pct(r.lat, 0.5)), ms(pct(r.lat, 0.99)), r.errs)
}

func parent() error {
	fmt.Printf("loadtest: %s, GOMAXPROCS %d, %s client, %d connections, up to %s / %d requests per phase\n", runtime.Version(), runtime.GOMAXPROCS(0), *client, *conc, *duration, *maxN)
	if *mode == "verify" || *mode == "both" {
		h, stop, err := startChild("verify")
		if err != nil {
			return err
		}
		body := []byte(`{"qr":` + strconvQuote(h.QR) + `}`)
		url := "http://" + h.Addr + "/api/v1/verify"
		var r result
		if *client == "raw" {
			r = rawLoad(*conc, h.Addr, rawRequest(h.Addr, "/api/v1/verify", "", body), 200)
		} else {
			r = load(*conc, func() *http.Request {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				return req
			}, 200)
		}
		stop()
		fmt.Printf("%-28s %8d ops in %5.2fs = %8.0f ops/s                  p99 %6.2f ms   (child, before serving, %d goroutines)\n",
			"in-process VerifyLicenseQR", h.InprocN, inproc.Seconds(), h.InprocRate, h.InprocP99, runtime.GOMAXPROCS(0))
		r.print("HTTP POST /api/v1/verify")
		if !strings.Contains(r.sample, `"verdict":"PASSED"`) {
			return fmt.Errorf("verify answers are not PASSED: %.300s", r.sample)
		}
		fmt.Printf("  HTTP / in-process throughput: %.2f\n", float64(r.n)/r.elapsed.Seconds()/h.InprocRate)
	}
	if *mode == "issue" || *mode == "both" {
		h, stop, err := startChild("issue")
		if err != nil {
			return err
		}
		body := issueBody()
		url := "http://" + h.Addr + "/api/v1/licenses"
		var r result
		if *client == "raw" {
			r = rawLoad(*conc, h.Addr, rawRequest(h.Addr, "/api/v1/licenses", h.IssuerToken, body), 201)
		} else {
			r = load(*conc, func() *http.Request {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+h.IssuerToken)
				return req
			}, 201)
		}
		stop()
		r.print("HTTP POST /api/v1/licenses")
		fmt.Printf("  (store: %s)\n", h.Backend)
		if !strings.Contains(r.sample, `"status":"valid"`) {
			return fmt.Errorf("issue answers are not licenses: %.300s", r.sample)
		}
	}
	return nil
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
