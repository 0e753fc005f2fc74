package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/license/qrpng"
	"github.com/zhengxin/zhengxin/store"
)

const licenseHelp = `Usage: zhengxin license <subcommand> --dir D [flags] [ID]

E-licenses (电子证照) of the data directory.

Subcommands:
  issue --type T --field key=value ... | --json FILE | --csv FILE [--rejects F]
                     issue one license, or many from CSV (resumable, idempotent per row)
  types              list the license types and their fields
  list [--json] [--type T] [--holder ID] [--status S] [--q TEXT]
                     list licenses
  show ID            print a license
  qr ID (--out F.png | --text)
                     its static QR code (PNG), or the QR payload text
  pdf ID --out F.pdf its sealed, signed PDF
  status ID --set S --reason R
                     set status: valid, suspended (暂扣), revoked (吊销), cancelled (注销)
  history ID         its status history
  status-list [--agency C] --out F
                     export the agency's signed status list for offline verifiers

A JSON file for --json is {"type": "business_license", "fields": {...},
"idempotency_key": "..."}; a CSV file has a header row naming field keys, a
"type" column (or --type for all rows), and optionally "key" (the row's
idempotency key; default: an SM3 digest of the row's type and fields, so the
same row imported twice is one license). Rejected rows
go to the --rejects file (default FILE.rejects.csv) with their reason.
A single issue without --key (or "idempotency_key") is keyed by its content
the same way: the same command run twice issues one license.

Examples:
  zhengxin license types
  zhengxin license issue --dir ./zhengxin-data --type business_license \
      --field holder_name=福州示例科技有限公司 --field holder_id=91350100M000100Y43 ...
  zhengxin license issue --dir ./zhengxin-data --csv licenses.csv
  zhengxin license qr --dir ./zhengxin-data 1.2.156.3005.2.... --out qr.png
  zhengxin license status --dir ./zhengxin-data 1.2.156.3005.2.... --set suspended --reason "责令停业整顿"

Exit codes: 0 success; 1 failure.
`

func init() { commands["license"] = cmdLicense }

type fieldFlags map[string]string

func (f fieldFlags) String() string { return "" }
func (f fieldFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("--field wants key=value, got %q", s)
	}
	f[k] = v
	return nil
}

func storeAll() store.LicenseFilter { return store.LicenseFilter{Limit: 1000} }

func cmdLicense(args []string, c *cli) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if _, err := parseFlags(newFlags(c, "license", licenseHelp), args); err != nil {
			return err
		}
		return usageError("license", "missing subcommand")
	}
	sub, args := args[0], args[1:]
	fs := newFlags(c, "license", licenseHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	agency := fs.String("agency", "", "agency credit code (default: the default agency)")
	typ := fs.String("type", "", "license type key, e.g. business_license")
	fields := fieldFlags{}
	fs.Var(fields, "field", "a field as key=value (repeatable)")
	jsonFile := fs.String("json", "", "issue from a JSON file")
	csvFile := fs.String("csv", "", "issue in bulk from a CSV file")
	rejects := fs.String("rejects", "", "where rejected CSV rows go (default CSV.rejects.csv)")
	batch := fs.Int("batch", 0, "rows per transaction for --csv (default 10000)")
	holderKey := fs.String("holder-key", "", "bind to the holder's device public key (PEM file)")
	idem := fs.String("key", "", "idempotency key for a single issue")
	asJSON := fs.Bool("json-out", false, "issue: print the issued license as JSON (list and show take --json)")
	listJSON := fs.Bool("json-list", false, "")
	out := fs.String("out", "", "output file")
	text := fs.Bool("text", false, "print the QR payload text")
	set := fs.String("set", "", "new status")
	reason := fs.String("reason", "", "reason for the status change")
	holder := fs.String("holder", "", "filter: holder ID number")
	status := fs.String("status", "", "filter: status")
	q := fs.String("q", "", "filter: text in holder name or number")
	// "list --json" is the contract's spelling; --json is taken by issue.
	if sub == "list" || sub == "show" {
		for i, a := range args {
			if a == "--json" || a == "-json" {
				args[i] = "--json-list"
			}
		}
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	*asJSON = *asJSON || *listJSON
	ctx := context.Background()
	if sub == "types" {
		return printTypes(c)
	}
	id := ""
	needID := map[string]bool{"show": true, "qr": true, "pdf": true, "status": true, "history": true}
	if needID[sub] {
		if len(pos) != 1 {
			return usageError("license", "license %s needs one license identifier", sub)
		}
		id = strings.TrimSpace(pos[0])
	} else if len(pos) > 0 {
		return usageError("license", "unexpected argument %q", pos[0])
	}
	signs := map[string]bool{"issue": true, "pdf": true, "status-list": true}
	if !signs[sub] && !needID[sub] && sub != "list" {
		return usageError("license", "unknown subcommand %q", sub)
	}
	d, err := c.openDir(ctx, *dir, *db, signs[sub])
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "issue":
		if *csvFile != "" {
			return c.issueCSV(ctx, d, *csvFile, *rejects, *typ, *agency, *batch)
		}
		req := datadir.IssueRequest{Agency: *agency, IdempotencyKey: *idem, Operator: "cli"}
		req.Type, req.Fields = *typ, map[string]string(fields)
		if *jsonFile != "" {
			var in struct {
				Type           string            `json:"type"`
				Fields         map[string]string `json:"fields"`
				IdempotencyKey string            `json:"idempotency_key"`
				Agency         string            `json:"agency"`
			}
			b, err := os.ReadFile(*jsonFile)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &in); err != nil {
				return fmt.Errorf("%s: not a license request: %s", *jsonFile, jsonProblem(err))
			}
			req.Type, req.Fields = in.Type, in.Fields
			if in.IdempotencyKey != "" {
				req.IdempotencyKey = in.IdempotencyKey
			}
			if in.Agency != "" {
				req.Agency = in.Agency
			}
		}
		if req.Type == "" {
			return usageError("license", "签发需要 --type、--json 或 --csv / license issue needs --type (see \"zhengxin license types\"), --json or --csv")
		}
		if *holderKey != "" {
			b, err := os.ReadFile(*holderKey)
			if err != nil {
				return err
			}
			if req.HolderKey, err = license.ParseHolderPublicKey(b); err != nil {
				return err
			}
		}
		// Without a key, the content is the key (as for a CSV row): the
		// same command run twice by mistake issues one license.
		byContent := req.IdempotencyKey == ""
		if byContent {
			req.IdempotencyKey = datadir.ContentKey(req.Request)
		}
		res, err := d.IssueLicense(ctx, req)
		if err != nil {
			return fmt.Errorf("license issue: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(c.stdout).Encode(licenseJSON(res.Record))
		}
		if res.Existed && byContent {
			fmt.Fprintf(c.stdout, "已存在（内容相同）Exists already (same content): %s\n", res.Record.ID)
			fmt.Fprintln(c.stderr, "zhengxin: hint: to issue another license with the same content, give it its own --key")
			return nil
		}
		if res.Existed {
			fmt.Fprintf(c.stdout, "已存在（幂等键相同）Exists already (same idempotency key): %s\n", res.Record.ID)
			return nil
		}
		fmt.Fprintf(c.stdout, "已签发 Issued %s\n", res.Record.ID)
		return nil
	case "list":
		if *status != "" && !store.LicenseStatus(*status).Known() {
			return usageError("license", "未知状态 %q / unknown status %q: use valid, suspended, revoked or cancelled", *status, *status)
		}
		if *typ != "" {
			t, err := license.LookupType(*typ) // key, Chinese name or number
			if err != nil {
				return err
			}
			*typ = t.Key
		}
		f := store.LicenseFilter{AgencyID: *agency, TypeCode: *typ, HolderIDNumber: *holder, Status: store.LicenseStatus(*status), Query: *q, Limit: 1000}
		var all []map[string]any
		for {
			page, err := d.Store.ListLicenses(ctx, f)
			if err != nil {
				return err
			}
			for _, r := range page.Items {
				if *asJSON {
					all = append(all, licenseJSON(r))
				} else {
					fmt.Fprintf(c.stdout, "%s  %-10s %-22s %s\n", r.ID, r.Status, r.TypeCode, r.HolderName)
				}
			}
			if page.Next == "" {
				break
			}
			f.After = page.Next
		}
		if *asJSON {
			if all == nil {
				all = []map[string]any{}
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(all)
		}
		return nil
	case "show":
		rec, l, err := d.LoadLicense(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			m := licenseJSON(rec)
			m["fields"] = l.Map()
			return json.NewEncoder(c.stdout).Encode(m)
		}
		if err := l.Show(c.stdout); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "状态 status: %s\n", rec.Status)
		return nil
	case "qr":
		_, l, err := d.LoadLicense(ctx, id)
		if err != nil {
			return err
		}
		t, err := l.QRText()
		if err != nil {
			return err
		}
		if *text || *out == "" {
			fmt.Fprintln(c.stdout, t)
			if *out == "" {
				return nil
			}
		}
		png, err := qrpng.Encode(t, 0)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, png, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "二维码已写入 QR written to %s\n", *out)
		return nil
	case "pdf":
		if *out == "" {
			return usageError("license", "license pdf needs --out FILE.pdf")
		}
		b, err := d.LicensePDF(ctx, id)
		if err != nil {
			return fmt.Errorf("license pdf: %w", err)
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		detail, _ := json.Marshal(map[string]string{"out_sha256": hex.EncodeToString(sum[:])})
		if _, err := d.Store.AppendAudit(ctx, store.AuditEntry{At: d.Now().UTC(), Actor: "cli", Action: "license.pdf", Object: id, Detail: detail}); err != nil {
			return fmt.Errorf("license pdf: %s is written, but the audit entry is not: %w", *out, err)
		}
		fmt.Fprintf(c.stdout, "已生成 Wrote %s (%d bytes, signed with the agency's seal)\n", *out, len(b))
		return nil
	case "status":
		if *set == "" {
			rec, _, err := d.LoadLicense(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, rec.Status)
			return nil
		}
		if err := d.SetStatus(ctx, id, store.LicenseStatus(*set), *reason, "cli"); err != nil {
			return fmt.Errorf("license status: %w", err)
		}
		fmt.Fprintf(c.stdout, "状态已变更 Status of %s set to %s\n", id, *set)
		return nil
	case "history":
		h, err := d.Store.LicenseHistory(ctx, id)
		if err != nil {
			return err
		}
		for _, e := range h {
			fmt.Fprintf(c.stdout, "%s  %s -> %s  %s  (%s)\n", e.At.Format("2006-01-02 15:04:05"), e.From, e.To, e.Reason, e.Operator)
		}
		return nil
	case "status-list":
		if *out == "" {
			return usageError("license", "status-list needs --out FILE")
		}
		b, err := d.StatusList(ctx, *agency)
		if err != nil {
			return fmt.Errorf("status-list: %w", err)
		}
		return os.WriteFile(*out, b, 0o644)
	}
	return nil
}

// jsonProblem says what is wrong with a request file in the user's terms
// (encoding/json's type errors name Go types).
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	where := "the file"
	if te.Field != "" {
		where = "\"" + te.Field + "\""
	}
	want := "an object {\"type\": ..., \"fields\": {...}}"
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string"
		if te.Field == "fields" {
			where = "a value in \"fields\""
		}
	case reflect.Map:
		want = "an object of strings"
	}
	return fmt.Sprintf("%s is a JSON %s, want %s", where, te.Value, want)
}

func licenseJSON(r store.LicenseRecord) map[string]any {
	m := map[string]any{
		"id": r.ID, "type": r.TypeCode, "holder": r.HolderName, "holder_id": r.HolderIDNumber,
		"status": r.Status, "agency": r.AgencyID, "version": r.Version, "number": r.Number,
		"issued_at": r.IssuedAt, "valid_from": r.ValidFrom.Format("2006-01-02"),
	}
	if !r.ValidTo.IsZero() {
		m["valid_to"] = r.ValidTo.Format("2006-01-02")
	}
	return m
}

func printTypes(c *cli) error {
	for _, t := range license.Types() {
		fmt.Fprintf(c.stdout, "%s  %s / %s\n", t.Key, t.ZH, t.EN)
		for _, f := range t.Fields {
			req := " "
			if f.Required {
				req = "*"
			}
			fmt.Fprintf(c.stdout, "   %s %-20s %s / %s\n", req, f.Key, f.ZH, f.EN)
		}
		// Disclosure profiles, for "holder present --profile".
		for _, p := range t.Profiles {
			fmt.Fprintf(c.stdout, "   profile %s: %s / %s (%s)\n", p.Key, p.ZH, p.EN, strings.Join(p.Fields, ","))
		}
	}
	fmt.Fprintln(c.stdout, "(* required 必填)")
	return nil
}
