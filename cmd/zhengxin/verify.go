package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify"
	"github.com/zhengxin/zhengxin/verify/report"
)

const verifyHelp = `Usage: zhengxin verify [--dir D | --trust FILE ... [--status FILE ...]] [--json] INPUT

Verify what a citizen or another authority presents: a license QR payload,
a holder's presentation QR, a picture of either, a signed PDF, or a
GB/T 38540 seal file. The kind is detected. 核验证照二维码、出示码、图片、PDF 或印章。

INPUT is a file, "-" for standard input, a payload ("ZX1:..." or
"ZXP1:..."), or --qr TEXT; without one, standard input is read when it is
not a terminal (a scan gun or a pipe).

Trust:
  --dir D        online: trust anchors from the data directory, license
                 status from its database, replay protection
  --trust FILE   offline: a PEM bundle of trusted root or agency CA
                 certificates, optionally followed by a signed trust list
                 ("zhengxin ca trust-list" writes one); repeat it to accept
                 licenses of several deployments (one file each)
  --status FILE  offline: a signed status list ("zhengxin license
                 status-list" writes one); without it the status of a
                 license cannot be known and the verdict is INDETERMINATE

Examples:
  zhengxin verify --dir ./zhengxin-data "ZX1:..."
  zhengxin license qr --dir ./zhengxin-data ID --text | zhengxin verify --dir ./zhengxin-data -
  zhengxin verify --trust trust.pem --status status.zxs photo-of-qr.jpg
  zhengxin verify --dir ./zhengxin-data --json contract-signed.pdf

Exit codes: 0 PASSED, 1 FAILED, 2 INDETERMINATE, 3 could not run
(usage, unreadable input).
`

func init() { commands["verify"] = cmdVerify }

// testNow fixes the clock of every command (issuing, signing, verifying)
// in the CLI tests; it is set only in TestMain, from ZHENGXIN_TEST_NOW.
var testNow time.Time

type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func cmdVerify(args []string, c *cli) error {
	fail := func(err error) error { return &exitError{code: 3, err: err} }
	fs := newFlags(c, "verify", verifyHelp)
	dir := fs.String("dir", "", "data directory (online verification)")
	db := fs.String("db", "", "PostgreSQL URL (with --dir)")
	var trustFiles stringsFlag
	fs.Var(&trustFiles, "trust", "PEM bundle of trusted CAs, or a signed trust list (offline; repeatable: one per deployment)")
	var statusFiles stringsFlag
	fs.Var(&statusFiles, "status", "signed status list file (offline; repeatable)")
	qr := fs.String("qr", "", "the QR payload text")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	audience := fs.String("audience", "", "this counter's identifier, for presentations made for a counter")
	pos, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return err
		}
		return fail(err)
	}
	var input []byte
	switch {
	case *qr != "" && len(pos) == 0:
		input = []byte(*qr)
	case *qr == "" && len(pos) == 1:
		if pos[0] == "-" {
			input, err = io.ReadAll(io.LimitReader(c.stdin, verify.MaxInput+1))
		} else if isQRPayload(pos[0]) {
			// "zhengxin verify ZX1:..." is what people type first:
			// take a payload given in place of a file name.
			input = []byte(pos[0])
		} else {
			input, err = readBounded(pos[0], verify.MaxInput)
		}
		if err != nil {
			return fail(err)
		}
	case *qr == "" && len(pos) == 0:
		// A scan gun or a pipe feeds stdin (CONTRACT: "--qr TEXT or
		// stdin"); at a terminal, say what to give instead of waiting.
		nothing := usageError("verify", "nothing to verify: give a file, \"-\" for stdin, or --qr TEXT")
		if f, ok := c.stdin.(*os.File); !ok || term.IsTerminal(int(f.Fd())) {
			return fail(nothing)
		}
		if input, err = io.ReadAll(io.LimitReader(c.stdin, verify.MaxInput+1)); err != nil {
			return fail(err)
		}
		if len(strings.TrimSpace(string(input))) == 0 {
			return fail(nothing)
		}
	default:
		return fail(usageError("verify", "give one input: a file, \"-\", or --qr TEXT"))
	}
	if len(strings.TrimSpace(string(input))) == 0 {
		return fail(errors.New("输入为空 / the input is empty"))
	}
	if *dir != "" && len(trustFiles) > 0 {
		return fail(usageError("verify", "--dir and --trust exclude each other"))
	}
	ctx := context.Background()
	now := clock()
	var opts verify.Options
	switch {
	case *dir != "":
		d, err := c.openDir(ctx, *dir, *db, false)
		if err != nil {
			return fail(err)
		}
		defer d.Close()
		d.Now = now
		if opts, err = d.VerifyOptions(ctx); err != nil {
			return fail(err)
		}
	case len(trustFiles) > 0:
		var pools certs.Pools
		for _, f := range trustFiles {
			b, err := readBounded(f, 16<<20)
			if err != nil {
				return fail(err)
			}
			pool, err := certs.LoadTrust(b, now())
			if err != nil {
				return fail(fmt.Errorf("trust file %s: %w", f, err))
			}
			pools = append(pools, pool)
		}
		var pool verify.Trust = pools[0]
		if len(pools) > 1 {
			// Licenses of several deployments (one root and trust
			// list each): every chain stays within its own file.
			pool = pools
		}
		opts = verify.Options{Trust: pool, Now: now}
		if len(statusFiles) > 0 {
			lists := license.NewStatusLists(pool, verify.LicenseSigningEKU)
			var unusable error
			for _, f := range statusFiles {
				b, err := readBounded(f, 64<<20)
				if err != nil {
					return fail(err)
				}
				if _, err := lists.Add(b); err != nil {
					err = fmt.Errorf("status list %s: %w", f, err)
					if r := report.ReasonOf(err); r == "" || r == report.FormatFailure {
						return fail(err) // not a status list: a usage error
					}
					// A genuine list that cannot be trusted now (an
					// expired trust list, an unknown signer) is outdated
					// information: the verdict says so, INDETERMINATE.
					fmt.Fprintf(c.stderr, "zhengxin: warning: %s\n", oneLine(err.Error()))
					if unusable == nil {
						unusable = err
					}
				}
			}
			opts.Status = lists
			if unusable != nil {
				opts.Status = degradedStatus{lists, unusable}
			}
		}
	default:
		return fail(usageError("verify", "请指定信任来源 / say what to trust: --dir D (online) or --trust FILE (offline)"))
	}
	opts.Audience = *audience
	rep := verify.Verify(ctx, input, opts)
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		printReport(c.stdout, rep)
	}
	switch rep.Verdict {
	case report.Passed:
		return nil
	case report.Failed:
		return &exitError{code: 1}
	}
	return &exitError{code: 2}
}

// degradedStatus answers from the status lists that could be used; where
// they cannot answer, the reason is why a list given could not be used.
type degradedStatus struct {
	verify.StatusSource
	err error
}

func (s degradedStatus) LicenseStatus(ctx context.Context, id, listID string, index uint64) (string, time.Time, error) {
	st, asOf, err := s.StatusSource.LicenseStatus(ctx, id, listID, index)
	if err != nil {
		// What the list given lacks is information about the license,
		// not a fault of the license: a damaged or unverifiable list
		// (bad signature, unknown signer) is STATUS_UNAVAILABLE; an
		// out-of-date trust list keeps its own reason.
		if report.ReasonOf(s.err) == report.TrustListExpired {
			return "", time.Time{}, s.err
		}
		return "", time.Time{}, &report.Error{Reason: report.StatusUnavailable, Err: s.err}
	}
	return st, asOf, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// isQRPayload reports whether arg is a QR payload rather than a file name:
// it starts with one of our prefixes and names no file.
func isQRPayload(arg string) bool {
	t := strings.ToUpper(strings.TrimSpace(arg)) // a scan gun with Caps Lock on
	if !strings.HasPrefix(t, license.PrefixLicense) && !strings.HasPrefix(t, license.PrefixPresentation) {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

var verdictZH = map[report.Verdict]string{report.Passed: "通过", report.Failed: "未通过", report.Indeterminate: "无法确定"}

func printReport(w io.Writer, r *report.Report) {
	fmt.Fprintf(w, "%s %s", verdictZH[r.Verdict], r.Verdict)
	if r.Reason != "" {
		fmt.Fprintf(w, "  %s", r.Reason)
	}
	fmt.Fprintf(w, "\n%s\n%s\n", r.Message.ZH, r.Message.EN)
	fmt.Fprintf(w, "kind: %s\n", r.Kind)
	switch subj := r.Subject.(type) {
	case *license.Subject:
		printLicenseSubject(w, subj)
	case map[string]any:
		printSubjectMap(w, subj)
	}
	for i, s := range r.Signatures {
		fmt.Fprintf(w, "signature %d:", i+1)
		if s.Signer != "" {
			fmt.Fprintf(w, " %s", s.Signer)
		}
		if s.SignedAt != nil {
			fmt.Fprintf(w, " at %s", s.SignedAt.Format(time.RFC3339))
		}
		fmt.Fprintln(w)
		for _, ch := range s.Checks {
			fmt.Fprintf(w, "  %-13s %-22s %s\n", ch.Result, ch.Name, ch.Detail)
		}
	}
}

// printLicenseSubject prints a license's fields in type order, then what
// identifies it.
func printLicenseSubject(w io.Writer, s *license.Subject) {
	for _, f := range s.Fields {
		fmt.Fprintf(w, "  %s: %s\n", f.Label, f.Display)
	}
	fmt.Fprintf(w, "  证照类型 / type: %s (%s)\n", s.TypeName, s.Type)
	fmt.Fprintf(w, "  电子证照标识 / identifier: %s\n", s.ID)
	fmt.Fprintf(w, "  发证机构代码 / issuer code: %s\n", s.IssuerCode)
	if s.StatusList != "" {
		fmt.Fprintf(w, "  状态列表 / status list: %s #%d\n", s.StatusList, s.StatusIndex)
	}
	if s.HolderBound {
		fmt.Fprintln(w, "  绑定持证人设备 / bound to the holder's device")
	} else {
		fmt.Fprintln(w, "  未绑定持证人设备 / not bound to a holder device")
	}
}

// subjectLabels names the facts of a seal's or PDF's subject for people
// (the JSON keeps the keys).
var subjectLabels = map[string]string{
	"es_id": "印章编码 / seal ID", "name": "印章名称 / seal name", "type": "印章类型 / seal type",
	"type_name": "类型名称 / type name", "version": "版本 / version", "format": "格式 / format",
	"vid": "厂商标识 / vendor ID", "valid_start": "有效期起 / valid from", "valid_end": "有效期止 / valid to",
	"create_date": "制作日期 / made on", "maker": "制章人 / maker", "picture": "印章图片 / picture",
	"signers": "签章人证书数 / signer certificates", "signer": "签章人 / signer", "signed_at": "签章时间 / signed at",
	"property_info": "原文属性 / document", "data_hash": "原文杂凑 / document hash", "timestamp": "时间戳 / timestamp",
	"pages": "页数 / pages", "revisions": "修订版本数 / revisions", "signatures": "签章数 / signatures",
	"license_id": "电子证照标识 / license identifier",
}

// printSubjectMap prints a seal's or PDF's subject: its facts by key,
// labelled in Chinese and English.
func printSubjectMap(w io.Writer, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if _, isMap := v.(map[string]any); !isMap {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		label := subjectLabels[k]
		if label == "" {
			label = k
		}
		fmt.Fprintf(w, "  %s: %v\n", label, m[k])
	}
}
