package main

// The --tsa path of `pdf sign` and the data directory's "tsa" setting,
// against the test TSA (pdf/tsatest) on an httptest server. This is a Go
// test rather than a testscript: the TSA has to run somewhere while the
// commands do, and the scripts have no server of their own.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/pdf/tsatest"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &cli{stdin: strings.NewReader(""), stdout: &o, stderr: &e, getenv: func(string) string { return "" }})
	return code, o.String(), e.String()
}

// verifyTimestamped reads the PDF at path and returns its one signature,
// which must carry a timestamp that holds.
func verifyTimestamped(t *testing.T, path string, tsa *tsatest.TSA) pdf.Signature {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pdf.Verify(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	s := res.Signatures[0]
	if s.SignatureErr != nil || s.Timestamp == nil || s.Timestamp.Err != nil || !s.Timestamp.TSA.Equal(tsa.Cert) || !s.Timestamp.GenTime.Equal(tsa.Time) {
		t.Fatalf("%s: signature %v, timestamp %+v", path, s.SignatureErr, s.Timestamp)
	}
	return s
}

func TestPDFSignTSA(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	old := testNow
	testNow = now
	defer func() { testNow = old }()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "d")
	if code, _, e := runCLI(t, "init", "--dir", dir, "--demo"); code != 0 {
		t.Fatalf("init: %s", e)
	}
	tsa, _, err := tsatest.New(now.Add(time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tsa)
	defer srv.Close()
	in := filepath.Join("..", "..", "pdf", "testdata", "unsigned.pdf")

	out := filepath.Join(tmp, "a.pdf")
	code, o, e := runCLI(t, "pdf", "sign", "--dir", dir, "--in", in, "--out", out, "--tsa", srv.URL)
	if code != 0 {
		t.Fatalf("pdf sign --tsa: %d %s", code, e)
	}
	if !strings.Contains(o, "Sealed") {
		t.Errorf("stdout %q", o)
	}
	verifyTimestamped(t, out, tsa)
	// zhengxin verify: the test TSA is not in the directory's trust, so
	// its timestamp is set aside and the seal passes on its own.
	code, o, _ = runCLI(t, "verify", "--dir", dir, out)
	if code != 0 || !strings.Contains(o, "timestamp") {
		t.Errorf("verify: %d\n%s", code, o)
	}

	// SM3 imprint.
	out = filepath.Join(tmp, "sm3.pdf")
	if code, _, e := runCLI(t, "pdf", "sign", "--dir", dir, "--in", in, "--out", out, "--tsa", srv.URL, "--tsa-hash", "SM3"); code != 0 {
		t.Fatalf("--tsa-hash SM3: %s", e)
	}
	if s := verifyTimestamped(t, out, tsa); s.Timestamp.HashAlgorithm != "SM3" {
		t.Errorf("imprint %s", s.Timestamp.HashAlgorithm)
	}

	// Refusals: nothing is written.
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tsa", deadURL}, "无法连接时间戳服务"},
		{[]string{"--tsa", srv.URL, "--ses"}, "SES_Signature"},
		{[]string{"--tsa", "tsa.example.cn"}, "http:// or https://"},
		{[]string{"--tsa", srv.URL, "--tsa-hash", "MD5"}, "--tsa-hash"},
	} {
		out := filepath.Join(tmp, "refused.pdf")
		code, _, e := runCLI(t, append([]string{"pdf", "sign", "--dir", dir, "--in", in, "--out", out}, c.args...)...)
		if code == 0 || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, e, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: the output was written", c.args)
		}
	}

	// The data directory's "tsa": pdf sign and license pdf use it.
	cfgPath := filepath.Join(dir, datadir.ConfigFile)
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["tsa"] = srv.URL
	raw, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(tmp, "cfg.pdf")
	if code, _, e := runCLI(t, "pdf", "sign", "--dir", dir, "--in", in, "--out", out); code != 0 {
		t.Fatalf("pdf sign with the config's TSA: %s", e)
	}
	verifyTimestamped(t, out, tsa)
	code, o, e = runCLI(t, "license", "list", "--dir", dir)
	if code != 0 {
		t.Fatalf("license list: %s", e)
	}
	id := strings.Fields(o)[0]
	out = filepath.Join(tmp, "license.pdf")
	if code, _, e := runCLI(t, "license", "pdf", "--dir", dir, id, "--out", out); code != 0 {
		t.Fatalf("license pdf with the config's TSA: %s", e)
	}
	verifyTimestamped(t, out, tsa)
	// pdf timestamp: a document timestamp over the sealed, timestamped
	// license PDF, from --tsa and from the config's TSA; the seal's
	// signature stays valid.
	for i, args := range [][]string{{"--tsa", srv.URL}, {"--dir", dir}, {"--tsa", srv.URL, "--tsa-hash", "SM3"}} {
		archived := filepath.Join(tmp, fmt.Sprintf("archived-%d.pdf", i))
		code, o, e := runCLI(t, append([]string{"pdf", "timestamp", "--in", out, "--out", archived}, args...)...)
		if code != 0 || !strings.Contains(o, "Timestamped") {
			t.Fatalf("pdf timestamp %v: %d %s", args, code, e)
		}
		b, err := os.ReadFile(archived)
		if err != nil {
			t.Fatal(err)
		}
		res, err := pdf.Verify(bytes.NewReader(b), int64(len(b)))
		if err != nil || len(res.Signatures) != 2 {
			t.Fatalf("pdf timestamp %v: %v, %d signatures", args, err, len(res.Signatures))
		}
		seal, ts := res.Signatures[0], res.Signatures[1]
		if seal.SignatureErr != nil || seal.DigestErr != nil || seal.ModifiedErr != nil {
			t.Errorf("pdf timestamp %v: the seal's signature: %v %v %v", args, seal.SignatureErr, seal.DigestErr, seal.ModifiedErr)
		}
		if ts.Format != pdf.DocTimestamp || ts.SignatureErr != nil || ts.DigestErr != nil || ts.Timestamp == nil || !ts.Timestamp.TSA.Equal(tsa.Cert) {
			t.Errorf("pdf timestamp %v: document timestamp %v %v %v", args, ts.Format, ts.SignatureErr, ts.DigestErr)
		}
	}
	if code, _, e := runCLI(t, "pdf", "timestamp", "--in", out, "--out", filepath.Join(tmp, "x.pdf"), "--tsa", deadURL); code == 0 || !strings.Contains(e, "无法连接时间戳服务") {
		t.Errorf("pdf timestamp with a dead TSA: %d %q", code, e)
	}
	if code, _, e := runCLI(t, "pdf", "timestamp", "--in", out, "--out", filepath.Join(tmp, "x.pdf")); code == 0 || !strings.Contains(e, "--tsa") {
		t.Errorf("pdf timestamp without a TSA: %d %q", code, e)
	}
	if _, err := os.Stat(filepath.Join(tmp, "x.pdf")); err == nil {
		t.Error("a refused pdf timestamp wrote its output")
	}

	// --ses with a TSA in the config: the SES signature has no timestamp,
	// and that is not an error.
	out = filepath.Join(tmp, "ses.pdf")
	if code, _, e := runCLI(t, "pdf", "sign", "--dir", dir, "--in", in, "--out", out, "--ses"); code != 0 {
		t.Fatalf("--ses with the config's TSA: %s", e)
	}
}
