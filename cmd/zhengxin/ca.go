package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/store"
)

const caHelp = `Usage: zhengxin ca <subcommand> --dir D [flags]

Certificates of the data directory's PKI: root CA -> agency CA ->
license signer, seal and seal maker. 证书管理。

Subcommands:
  chain                     print the PEM chain: license signer, agency CA, root (leaf first)
  agency add --name N --code C [--region R]
                            add an issuing agency (its CA and signer keys)
  agency list               list agencies
  cert list                 list certificates with serials and status
  cert issue --role R [--agency C] [--cn NAME] [--days N]
                            new key and certificate for role license-signer, seal or seal-maker
  cert revoke --serial S --reason R
                            revoke a certificate and publish a new CRL
  crl [--agency C] [--out F]
                            write a fresh CRL of the agency CA (PEM)
  trust-list [--out F]      export the root certificate and the signed trust list
                            for offline verifiers ("verify --trust F")

Examples:
  zhengxin ca chain --dir ./zhengxin-data > chain.pem
  zhengxin ca agency add --dir ./zhengxin-data --name "某市卫生健康委员会" --code 11350100MB0000027N
  zhengxin ca cert revoke --dir ./zhengxin-data --serial 3f9a... --reason keyCompromise
  zhengxin ca trust-list --dir ./zhengxin-data --out trust.pem
  zhengxin verify --trust trust.pem --qr "ZX1:..."

Exit codes: 0 success; 1 failure.
`

func init() { commands["ca"] = cmdCA }

func cmdCA(args []string, c *cli) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		_, err := parseFlags(newFlags(c, "ca", caHelp), args)
		if err != nil {
			return err
		}
		return usageError("ca", "missing subcommand")
	}
	sub, args := args[0], args[1:]
	if (sub == "agency" || sub == "cert") && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = sub+" "+args[0], args[1:]
	}
	fs := newFlags(c, "ca", caHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	agency := fs.String("agency", "", "agency credit code (default: the default agency)")
	name := fs.String("name", "", "agency name")
	code := fs.String("code", "", "agency credit code (统一社会信用代码)")
	region := fs.String("region", "", "agency region code")
	role := fs.String("role", "", "certificate role: "+strings.Join(datadir.RoleNames(), ", "))
	cn := fs.String("cn", "", "certificate common name")
	days := fs.Int("days", 0, "certificate validity in days")
	serial := fs.String("serial", "", "certificate serial (hex)")
	reason := fs.String("reason", "", "revocation reason: keyCompromise, superseded, cessationOfOperation, affiliationChanged, privilegeWithdrawn, unspecified")
	out := fs.String("out", "", "output file (default: stdout)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("ca", "unexpected argument %q", pos[0])
	}
	ctx := context.Background()
	signs := map[string]bool{"agency add": true, "cert issue": true, "cert revoke": true, "crl": true, "trust-list": true}
	known := signs[sub] || sub == "chain" || sub == "agency list" || sub == "cert list"
	if !known {
		return usageError("ca", "unknown subcommand %q", sub)
	}
	d, err := c.openDir(ctx, *dir, *db, signs[sub])
	if err != nil {
		return err
	}
	defer d.Close()
	write := func(b []byte) error {
		if *out == "" {
			_, err := c.stdout.Write(b)
			return err
		}
		return os.WriteFile(*out, b, 0o644)
	}
	switch sub {
	case "chain":
		chain, err := d.Chain(*agency)
		if err != nil {
			return err
		}
		var b []byte
		for _, x := range chain {
			b = append(b, certs.EncodeCertificatePEM(x)...)
		}
		return write(b)
	case "agency add":
		if *name == "" || *code == "" {
			return usageError("ca", "agency add needs --name and --code")
		}
		a, err := d.AddAgency(ctx, datadir.AgencyConfig{Name: *name, CreditCode: strings.ToUpper(*code), RegionCode: *region})
		if err != nil {
			return fmt.Errorf("agency add: %w", err)
		}
		fmt.Fprintf(c.stdout, "已添加机构 Added agency %s (%s)\n", a.Name, a.CreditCode)
		return nil
	case "agency list":
		for _, a := range d.Config.Agencies {
			def := ""
			if a.CreditCode == d.Config.DefaultAgency {
				def = "  (default)"
			}
			fmt.Fprintf(c.stdout, "%s  %s%s\n", a.CreditCode, a.Name, def)
		}
		return nil
	case "cert list":
		list, err := d.Store.ListCertificates(ctx, store.CertFilter{AgencyID: *agency})
		if err != nil {
			return err
		}
		for _, x := range list {
			st := "valid"
			if !x.RevokedAt.IsZero() {
				st = "revoked " + x.RevokedAt.Format("2006-01-02") + " (" + x.RevocationReason + ")"
			} else if clock()().After(x.NotAfter) {
				st = "expired"
			}
			fmt.Fprintf(c.stdout, "%-34s %-15s %s .. %s  %-8s %s\n", x.Serial, x.Role, x.NotBefore.Format("2006-01-02"), x.NotAfter.Format("2006-01-02"), st, x.Subject)
		}
		return nil
	case "cert issue":
		if *role == "" {
			return usageError("ca", "cert issue needs --role (%s)", strings.Join(datadir.RoleNames(), ", "))
		}
		x, err := d.IssueCert(ctx, *agency, *role, *cn, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return fmt.Errorf("cert issue: %w", err)
		}
		fmt.Fprintf(c.stdout, "已签发 Issued %s: %s\n", *role, certs.CertificateSummary(x))
		return nil
	case "cert revoke":
		if *serial == "" || *reason == "" {
			return usageError("ca", "cert revoke needs --serial and --reason")
		}
		if err := d.RevokeCert(ctx, *serial, *reason); err != nil {
			return fmt.Errorf("cert revoke: %w", err)
		}
		fmt.Fprintf(c.stdout, "已吊销 Revoked certificate %s (%s); a new CRL is published\n", *serial, *reason)
		return nil
	case "crl":
		b, err := d.WriteCRL(ctx, *agency)
		if err != nil {
			return fmt.Errorf("crl: %w", err)
		}
		return write(b)
	case "trust-list":
		b, err := d.TrustListFile(ctx)
		if err != nil {
			return fmt.Errorf("trust-list: %w", err)
		}
		return write(b)
	}
	return nil
}
