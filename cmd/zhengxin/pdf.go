package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/pdf/tsaclient"
	"github.com/zhengxin/zhengxin/store"
)

const pdfHelp = `Usage: zhengxin pdf sign --dir D [--seal ESID] --in A.pdf --out B.pdf [--page N --x X --y Y] [--ses] [--tsa URL]
       zhengxin pdf timestamp (--tsa URL | --dir D) --in A.pdf --out B.pdf [--tsa-hash H]

Seal any PDF with SM2: an incremental update (the original bytes stay as
they are, earlier signatures stay valid) adding a signature whose visible
appearance is the seal's picture. /Contents holds a CMS SignedData with SM3
and SM2 (SubFilter adbe.pkcs7.detached); --ses puts a GB/T 38540
SES_Signature there instead, as Chinese seal software does.
PDF 电子签章（增量更新，可见印章）。

--tsa URL asks that RFC 3161 time-stamping authority to timestamp the CMS
signature (HTTP POST, application/timestamp-query), proving when it was
made; without --tsa, the "tsa" URL of zhengxin.json is used, if any.
--tsa-hash picks the imprint's hash (SHA256 by default; SM3 if the TSA
takes it). If the TSA is unreachable or refuses, nothing is written.
签章时可请求时间戳服务（RFC 3161）加盖时间戳。

pdf timestamp adds a document timestamp (PAdES-LTA, SubFilter
ETSI.RFC3161) over the whole file as it is, e.g. for archiving: an
incremental update with an invisible field; earlier signatures stay valid.
It needs no keys: the TSA signs. --tsa, or the "tsa" of the data directory
given with --dir. 文档时间戳（归档）。

Without --seal, the agency's default seal is used (init --demo makes one).
--page is 1-based (default: the last page); --x/--y place the seal's
lower-left corner in points from the page's lower-left (default: lower right).

Examples:
  zhengxin pdf sign --dir ./zhengxin-data --in contract.pdf --out contract-sealed.pdf
  zhengxin pdf sign --dir ./zhengxin-data --seal 35010000000002 --in a.pdf --out b.pdf --page 1 --x 380 --y 120
  zhengxin pdf sign --dir ./zhengxin-data --in a.pdf --out b.pdf --tsa https://tsa.example.cn/tsa
  zhengxin pdf timestamp --tsa https://tsa.example.cn/tsa --in b.pdf --out b-archived.pdf
  zhengxin verify --dir ./zhengxin-data contract-sealed.pdf

Exit codes: 0 success; 1 failure (the output is not written).
`

func init() { commands["pdf"] = cmdPDF }

func dayDuration(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func cmdPDF(args []string, c *cli) error {
	if len(args) > 0 && args[0] == "timestamp" {
		return pdfTimestamp(args[1:], c)
	}
	if len(args) == 0 || args[0] != "sign" {
		if _, err := parseFlags(newFlags(c, "pdf", pdfHelp), args); err != nil {
			return err
		}
		return usageError("pdf", "the subcommand is \"sign\" or \"timestamp\"")
	}
	fs := newFlags(c, "pdf", pdfHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	sealID := fs.String("seal", "", "seal esID (default: the agency's default seal)")
	in := fs.String("in", "", "PDF to sign")
	out := fs.String("out", "", "signed PDF to write")
	page := fs.Int("page", 0, "page for the seal (1-based; default last)")
	x := fs.Float64("x", 0, "seal x in points")
	y := fs.Float64("y", 0, "seal y in points")
	reason := fs.String("reason", "", "reason recorded in the signature")
	ses := fs.Bool("ses", false, "GB/T 38540 SES_Signature instead of CMS")
	tsa := fs.String("tsa", "", "RFC 3161 time-stamping authority URL (default: the config's \"tsa\")")
	tsaHash := fs.String("tsa-hash", "", "hash of the timestamp imprint: SHA256 (default), SM3, SHA384, SHA512")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("pdf", "unexpected argument %q", pos[0])
	}
	if *in == "" || *out == "" {
		return usageError("pdf", "pdf sign needs --in and --out")
	}
	if *ses && *tsa != "" {
		return usageError("pdf", "--tsa timestamps CMS signatures only; an SES_Signature (--ses) carries its own time")
	}
	if err := checkTSAFlags(*tsa, *tsaHash); err != nil {
		return err
	}
	if filepath.Clean(*in) == filepath.Clean(*out) {
		return usageError("pdf", "--out must differ from --in: the original is kept")
	}
	ctx := context.Background()
	d, err := c.openDir(ctx, *dir, *db, true)
	if err != nil {
		return err
	}
	defer d.Close()
	err = rewritePDF(*in, *out, func(f *os.File, size int64, w io.Writer) error {
		return d.SignPDF(ctx, f, size, w, datadir.PDFSignRequest{Seal: *sealID, Page: *page, X: *x, Y: *y, Reason: *reason, SES: *ses, TSA: *tsa, TSAHash: *tsaHash})
	})
	if err != nil {
		return fmt.Errorf("pdf sign %s: %w", *in, err)
	}
	if err := auditPDFSign(ctx, d, *sealID, *in, *out); err != nil {
		return fmt.Errorf("pdf sign: %s is written, but the audit entry is not: %w", *out, err)
	}
	fmt.Fprintf(c.stdout, "已签章 Sealed %s -> %s\n", *in, *out)
	return nil
}

// auditPDFSign records a sealing in the audit log as the server does
// (action pdf.sign, object seal:<esID>, the agency, SHA-256 of the
// document before and after): who sealed which bytes with which seal.
func auditPDFSign(ctx context.Context, d *datadir.Dir, sealID, in, out string) error {
	s, err := d.Seal(ctx, sealID)
	if err != nil {
		return err
	}
	rec, err := d.Store.GetSeal(ctx, s.ESID)
	if err != nil {
		return err
	}
	inSum, err := fileSHA256(in)
	if err != nil {
		return err
	}
	outSum, err := fileSHA256(out)
	if err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]string{"agency": rec.AgencyID, "in_sha256": inSum, "out_sha256": outSum})
	_, err = d.Store.AppendAudit(ctx, store.AuditEntry{At: d.Now().UTC(), Actor: "cli", Action: "pdf.sign", Object: "seal:" + s.ESID, Agency: rec.AgencyID, Detail: detail})
	return err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pdfTimestamp is `pdf timestamp`: a document timestamp over the whole
// file from an RFC 3161 TSA.
func pdfTimestamp(args []string, c *cli) error {
	fs := newFlags(c, "pdf", pdfHelp)
	dir := fs.String("dir", "", "data directory whose \"tsa\" to use (instead of --tsa)")
	in := fs.String("in", "", "PDF to timestamp")
	out := fs.String("out", "", "timestamped PDF to write")
	tsa := fs.String("tsa", "", "RFC 3161 time-stamping authority URL")
	tsaHash := fs.String("tsa-hash", "", "hash of the byte range sent to the TSA: SHA256 (default), SM3, SHA384, SHA512")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("pdf", "unexpected argument %q", pos[0])
	}
	if *in == "" || *out == "" {
		return usageError("pdf", "pdf timestamp needs --in and --out")
	}
	if filepath.Clean(*in) == filepath.Clean(*out) {
		return usageError("pdf", "--out must differ from --in: the original is kept")
	}
	ctx := context.Background()
	client := &tsaclient.Client{URL: *tsa, Hash: *tsaHash}
	if *tsa == "" && *dir != "" {
		d, err := c.openDir(ctx, *dir, "", false)
		if err != nil {
			return err
		}
		client = d.TSAClient("", *tsaHash)
		d.Close()
		if client == nil {
			return usageError("pdf", "the data directory %s names no TSA (\"tsa\" in %s): give --tsa URL", *dir, datadir.ConfigFile)
		}
	}
	if client.URL == "" {
		return usageError("pdf", "pdf timestamp needs --tsa URL (or --dir D with a \"tsa\" in its config)")
	}
	if err := checkTSAFlags(client.URL, client.Hash); err != nil {
		return err
	}
	err = rewritePDF(*in, *out, func(f *os.File, size int64, w io.Writer) error {
		return pdf.AddDocTimestamp(f, size, w, pdf.DocTimestampOptions{Hash: client.Hash, Stamp: client.DocTimestamp(ctx)})
	})
	if err != nil {
		return fmt.Errorf("pdf timestamp %s: %w", *in, err)
	}
	fmt.Fprintf(c.stdout, "已加盖文档时间戳 Timestamped %s -> %s\n", *in, *out)
	return nil
}

// rewritePDF writes out from in through update (an incremental update
// appended to a copy): into a temporary file beside out, renamed over out
// only when update succeeded, so that a failure leaves no output.
func rewritePDF(in, out string, update func(f *os.File, size int64, w io.Writer) error) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zhengxin-pdf-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = update(f, info.Size(), tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// checkTSAFlags checks --tsa (empty: none given) and --tsa-hash (empty:
// the default) before anything is read or written.
func checkTSAFlags(url, hash string) error {
	if url != "" && !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return usageError("pdf", "--tsa %q: give the time-stamping authority's http:// or https:// URL", url)
	}
	if hash != "" {
		if _, _, err := pdf.HashOID(hash); err != nil {
			return usageError("pdf", "--tsa-hash %q: use SHA256, SM3, SHA384 or SHA512", hash)
		}
	}
	return nil
}
