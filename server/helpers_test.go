package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	_ "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/seal/sealtest"
	"github.com/zhengxin/zhengxin/store"
	"github.com/zhengxin/zhengxin/verify/report"
)

// testClock is a fixed clock that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gb11643Valid checks the check digit of an 18-character resident ID number
// (GB 11643-1999: weights 2^(17-i) mod 11, check digits "10X98765432").
func gb11643Valid(id string) bool {
	if len(id) != 18 {
		return false
	}
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
		sum += int(id[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11] == id[17]
}

// fakeIssuer signs a tiny test payload with a real SM2 key, so that the
// verify path checks a real signature. It is not the license format.
type fakeIssuer struct {
	key   *sm2.PrivateKey
	now   func() time.Time
	mu    sync.Mutex
	n     int
	delay chan struct{} // when non-nil, Issue waits on it (for shutdown tests)
}

func newFakeIssuer(t testing.TB, now func() time.Time) *fakeIssuer {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeIssuer{key: k, now: now}
}

func (f *fakeIssuer) Issue(ctx context.Context, agency string, req *IssueRequest) (*License, error) {
	var fe []FieldError
	if req.Type == "" {
		fe = append(fe, FieldError{"type", "须填写证照类型。", "required."})
	}
	if req.HolderName == "" {
		fe = append(fe, FieldError{"holder_name", "须填写持证人姓名。", "required."})
	}
	if !gb11643Valid(strings.ToUpper(req.HolderID)) {
		fe = append(fe, FieldError{"holder_id", "公民身份号码校验位错误。", "the check digit of the ID number is wrong."})
	}
	if fe != nil {
		return nil, &ValidationError{Fields: fe}
	}
	f.mu.Lock()
	f.n++
	id := fmt.Sprintf("T-%s-%06d", agency, f.n)
	f.mu.Unlock()
	sig, err := f.key.Sign(rand.Reader, []byte(id), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, err
	}
	now := f.now().UTC()
	var fields map[string]any
	for k, v := range req.Fields {
		if fields == nil {
			fields = map[string]any{}
		}
		fields[k] = v
	}
	return &License{ID: id, Type: req.Type, Agency: agency, HolderName: req.HolderName, HolderID: strings.ToUpper(req.HolderID),
		Status: StatusValid, IssuedAt: now, ValidFrom: now, Fields: fields,
		QR: "ZXT1:" + id + ":" + base64.RawURLEncoding.EncodeToString(sig), Signed: []byte("ZXT1:" + id + ":" + base64.RawURLEncoding.EncodeToString(sig))}, nil
}

func (f *fakeIssuer) PDF(ctx context.Context, l *License) ([]byte, error) {
	return []byte("%PDF-1.7\n% license " + l.ID + "\n%%EOF\n"), nil
}

func (f *fakeIssuer) Types() any {
	return []map[string]string{{"code": "business-license", "name": "营业执照"}}
}

// fakeVerifier checks the fake QR's SM2 signature and asks the store for
// the status, mapping it to the contract's reason codes.
type fakeVerifier struct {
	iss   *fakeIssuer
	store Store
	now   func() time.Time
	mu    sync.Mutex
	last  struct {
		input []byte
		hint  string
	}
}

func (v *fakeVerifier) Verify(ctx context.Context, input []byte, hint string) *report.Report {
	v.mu.Lock()
	v.last.input, v.last.hint = append([]byte(nil), input...), hint
	v.mu.Unlock()
	rep := &report.Report{Kind: report.KindLicenseQR, CheckedAt: v.now().UTC()}
	sig := report.Signature{Algorithm: "SM2-SM3"}
	defer func() { rep.Signatures = append(rep.Signatures, sig); rep.Finish() }()
	if hint == "pdf" {
		rep.Kind = report.KindPDF
		sig.Add("format", report.Errorf(report.FormatFailure, "test verifier does not read PDFs"), "")
		return rep
	}
	parts := strings.Split(string(input), ":")
	if len(parts) != 3 || parts[0] != "ZXT1" {
		sig.Add("format", report.Errorf(report.FormatFailure, "not a test QR"), "")
		return rep
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !sm2.VerifyASN1WithSM2(&v.iss.key.PublicKey, nil, []byte(parts[1]), raw) {
		sig.Add("signature", report.Errorf(report.SigCryptoFailure, "bad signature"), "")
		return rep
	}
	sig.Add("signature", nil, "")
	l, err := v.store.GetLicense(ctx, parts[1])
	switch {
	case err != nil:
		sig.Add("status", report.Errorf(report.StatusUnavailable, "unknown license"), "")
	case l.Status == StatusRevoked:
		sig.Add("status", report.Errorf(report.LicenseRevoked, "revoked"), "")
	case l.Status == StatusSuspended:
		sig.Add("status", report.Errorf(report.LicenseSuspended, "suspended"), "")
	case l.Status == StatusCancelled:
		sig.Add("status", report.Errorf(report.LicenseCancelled, "cancelled"), "")
	default:
		sig.Add("status", nil, "")
		rep.Subject = map[string]any{"id": l.ID, "holder_name": l.HolderName}
	}
	return rep
}

type fakeSeals struct {
	mu    sync.Mutex
	seals map[string]*SealInfo
	n     int
}

func (f *fakeSeals) ListSeals(ctx context.Context, agency string) ([]*SealInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*SealInfo
	for _, s := range f.seals {
		if agency == "" || s.Agency == agency {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeSeals) GetSeal(ctx context.Context, id string) (*SealInfo, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.seals[id]
	if !ok {
		return nil, nil, ErrNotFound
	}
	der, err := sealtest.Make(id, s.Name, nil, "")
	return s, der, err
}

func (f *fakeSeals) MakeSeal(ctx context.Context, agency string, req *SealRequest) (*SealInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	s := &SealInfo{ID: fmt.Sprintf("seal-%s-%d", agency, f.n), Agency: agency, Name: req.Name}
	f.seals[s.ID] = s
	return s, nil
}

type fakePDFSigner struct{}

func (fakePDFSigner) SignPDF(ctx context.Context, agency string, req *SignPDFRequest) ([]byte, error) {
	return append(append([]byte(nil), req.PDF...), "\n% signed by "+agency+" seal "+req.SealID+"\n%%EOF\n"...), nil
}

type fakePublished struct {
	mu    sync.Mutex
	trust []byte
}

func (f *fakePublished) TrustList(ctx context.Context) (*Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &Document{Body: f.trust, ContentType: "application/cose", MaxAge: time.Hour}, nil
}

func (f *fakePublished) StatusList(ctx context.Context, id string) (*Document, error) {
	if id != "A-1" {
		return nil, ErrNotFound
	}
	return &Document{Body: []byte("status list A-1"), ContentType: "application/cose"}, nil
}

// Role names used across tests.
const (
	rNone    = "none"
	rHolder  = "holder"
	rCounter = "counter"
	rIssuerA = "issuer-A"
	rIssuerB = "issuer-B"
	rAdmin   = "admin"
)

var allRoles = []string{rNone, rHolder, rCounter, rIssuerA, rIssuerB, rAdmin}

const (
	holderA = "11010519491231002X" // the GB 11643 standard's own example number
	holderB = "440524188001010014"
)

type env struct {
	t        testing.TB
	srv      *Server
	store    Store
	mem      *MemStore // nil on the SQLite backend
	clock    *testClock
	issuer   *fakeIssuer
	verifier *fakeVerifier
	seals    *fakeSeals
	pub      *fakePublished
	tokens   map[string]string
	logs     *syncBuffer
	licA     string // issued by agency A to holderA
	licB     string // issued by agency B to holderB
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type envOption func(*Deps, *Config)

func newEnv(t testing.TB, opts ...envOption) *env { return newEnvOn(t, "mem", opts...) }

// backends are the stores the API tests run on: MemStore, and store/'s
// SQLite and (when ZHENGXIN_TEST_POSTGRES is set) PostgreSQL through
// FromStore.
var backends = func() []string {
	if os.Getenv("ZHENGXIN_TEST_POSTGRES") != "" {
		return []string{"mem", "sqlite", "postgres"}
	}
	return []string{"mem", "sqlite"}
}()

func testTime() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

// newEnvWithStore runs the test environment on a Store the caller opened.
func newEnvWithStore(t testing.TB, st Store, opts ...envOption) *env {
	return newEnvFull(t, "given", st, opts...)
}

func newEnvOn(t testing.TB, backend string, opts ...envOption) *env {
	return newEnvFull(t, backend, nil, opts...)
}

func newEnvFull(t testing.TB, backend string, st Store, opts ...envOption) *env {
	t.Helper()
	clock := &testClock{t: testTime()}
	var mem *MemStore
	switch backend {
	case "given":
	case "mem":
		mem = NewMemStore()
		st = mem
	case "postgres":
		url := pgTestSchema(t)
		ps, err := store.Open(context.Background(), url, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ps.Close() })
		st = FromStore(ps, func(p []byte) (string, error) { return string(p), nil })
	case "sqlite":
		ss, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "zhengxin.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Close() })
		st = FromStore(ss, func(p []byte) (string, error) { return string(p), nil })
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	iss := newFakeIssuer(t, clock.Now)
	ver := &fakeVerifier{iss: iss, store: st, now: clock.Now}
	e := &env{t: t, store: st, mem: mem, clock: clock, issuer: iss, verifier: ver, logs: &syncBuffer{},
		seals: &fakeSeals{seals: map[string]*SealInfo{"seal-A": {ID: "seal-A", Agency: "A", Name: "A 专用章"}, "seal-B": {ID: "seal-B", Agency: "B", Name: "B 专用章"}}},
		pub:   &fakePublished{trust: []byte("trust list v1")}}
	deps := Deps{Store: st, Verify: ver.Verify, Issuer: iss, Published: e.pub, Seals: e.seals, PDFSigner: fakePDFSigner{},
		Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), SessionKey: bytes.Repeat([]byte{7}, 32)}
	cfg := Config{}
	for _, o := range opts {
		o(&deps, &cfg)
	}
	srv, err := New(deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	ctx := context.Background()
	for _, a := range []string{"A", "B"} {
		if err := st.CreateAgency(ctx, &Agency{Code: a, Name: "机构 " + a, CreditCode: "11100000TEST0000" + a + a}); err != nil {
			t.Fatal(err)
		}
	}
	e.tokens = map[string]string{}
	for _, tk := range []struct {
		name, agency, holder string
		role                 Role
	}{{rHolder, "", holderA, RoleHolder}, {rCounter, "C", "", RoleCounter}, {rIssuerA, "A", "", RoleIssuer}, {rIssuerB, "B", "", RoleIssuer}, {rAdmin, "", "", RoleAdmin}} {
		e.tokens[tk.name] = e.addToken(tk.name, tk.role, tk.agency, tk.holder)
	}
	if deps.Issuer == Issuer(iss) { // tests wiring the real issuer make their own licenses
		e.licA = e.issue(rIssuerA, holderA, "张三")
		e.licB = e.issue(rIssuerB, holderB, "李四")
	}
	return e
}

func (e *env) addToken(name string, role Role, agency, holder string) string {
	secret, hash := NewTokenSecret()
	if err := e.store.CreateToken(context.Background(), &Token{ID: "id-" + name, Hash: hash, Name: name, Role: role, Agency: agency, HolderID: holder, CreatedAt: e.clock.Now()}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func (e *env) issue(role, holderID, name string) string {
	e.t.Helper()
	res := e.do(role, "POST", "/api/v1/licenses", map[string]any{"type": "business-license", "holder_name": name, "holder_id": holderID})
	if res.Code != 201 {
		e.t.Fatalf("issue: %d %s", res.Code, res.Body)
	}
	var l License
	mustJSON(e.t, res.Body.Bytes(), &l)
	e.clock.Advance(time.Second)
	return l.ID
}

// do sends a request as role; body is JSON-encoded unless it is []byte or string.
func (e *env) do(role, method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if tok := e.tokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
}

// problemCode checks that rec is an RFC 9457 problem and returns its code.
func problemCode(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d: Content-Type %q, want application/problem+json; body %s", rec.Code, ct, rec.Body)
	}
	var p Problem
	mustJSON(t, rec.Body.Bytes(), &p)
	if p.Status != rec.Code || p.Type != ProblemTypePrefix+p.Code || p.Title == "" || !strings.Contains(p.Title, " / ") {
		t.Fatalf("malformed problem: %+v", p)
	}
	return p.Code
}
