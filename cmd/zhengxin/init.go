package main

import (
	"context"
	"fmt"

	"github.com/zhengxin/zhengxin/datadir"
)

const initHelp = `Usage: zhengxin init --dir D [--demo] [--agency-name N --agency-code C] [--db URL]

Create a data directory: config, database, a root CA, one agency CA, and
the agency's license-signer, seal and seal-maker keys and certificates.
Private keys are PKCS#8 encrypted with SM4 under a passphrase taken from
ZHENGXIN_PASSPHRASE, or asked for on the terminal.

创建数据目录：根 CA、机构 CA、签发密钥、印章密钥与制章密钥（SM4 加密保存）。

With --demo, the passphrase is ZHENGXIN_PASSPHRASE if set, else a fixed
DEMO passphrase (printed), and a default seal and a sample license of every
shipped type are added. Demo keys protect nothing.

Examples:
  zhengxin init --dir ./zhengxin-data --demo
  ZHENGXIN_PASSPHRASE=... zhengxin init --dir /srv/zhengxin \
      --agency-name "某市市场监督管理局" --agency-code 11350100MB0000019U
  zhengxin init --dir /srv/zhengxin --db postgres://zhengxin@db/zhengxin

Exit codes: 0 created; 1 failure (nothing is left half-written).
`

// minPassphrase is the shortest passphrase init accepts for real keys.
const minPassphrase = 8

func init() { commands["init"] = cmdInit }

func cmdInit(args []string, c *cli) error {
	fs := newFlags(c, "init", initHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory to create")
	demo := fs.Bool("demo", false, "demo keys (DEMO passphrase), default seal and sample licenses")
	name := fs.String("agency-name", "", "name of the first issuing agency")
	code := fs.String("agency-code", "", "its 18-character unified social credit code")
	region := fs.String("agency-region", "", "its administrative division code (GB/T 2260)")
	db := fs.String("db", "", "PostgreSQL URL (default: SQLite in the directory; or ZHENGXIN_DB)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("init", "unexpected argument %q", pos[0])
	}
	if (*name == "") != (*code == "") {
		return usageError("init", "--agency-name and --agency-code go together")
	}
	if !*demo && *name == "" {
		// Without them the first agency would be the DEMO agency, under
		// a real passphrase: a directory that looks real and is not.
		return usageError("init", "给出首个发证机构 / name the first issuing agency: --agency-name N --agency-code C (or --demo for a demonstration directory)")
	}
	if *db == "" {
		*db = c.getenv("ZHENGXIN_DB")
	}
	o := datadir.InitOptions{Demo: *demo, DB: *db, Now: testNow,
		Agency: datadir.AgencyConfig{Name: *name, CreditCode: *code, RegionCode: *region}}
	if *demo && c.getenv("ZHENGXIN_PASSPHRASE") == "" {
		o.Passphrase = []byte(datadir.DemoPassphrase)
		fmt.Fprintf(c.stderr, "zhengxin: DEMO keys: passphrase %q (演示密钥，口令公开，勿用于生产 / demo keys, public passphrase, not for production)\n", datadir.DemoPassphrase)
	} else {
		if o.Passphrase, err = c.passphrase(true); err != nil {
			return err
		}
		if !*demo && len([]rune(string(o.Passphrase))) < minPassphrase {
			// PBKDF2 slows guessing down, it does not make "1" safe.
			return usageError("init", "口令至少 %d 个字符 / the passphrase must have at least %d characters: it protects the agency's signing keys", minPassphrase, minPassphrase)
		}
	}
	d, err := datadir.Init(context.Background(), *dir, o)
	if err != nil {
		return fmt.Errorf("init %s: %w", *dir, err)
	}
	defer d.Close()
	a, _ := d.Agency("")
	fmt.Fprintf(c.stdout, "已创建数据目录 Created data directory %s\n", absDir(*dir))
	fmt.Fprintf(c.stdout, "  发证机构 agency: %s (%s)\n", a.Name, a.CreditCode)
	if root, err := d.RootCert(); err == nil {
		fmt.Fprintf(c.stdout, "  根CA root CA:   %s\n", root.Subject.CommonName)
	}
	if *demo {
		page, _ := d.Store.ListLicenses(context.Background(), storeAll())
		fmt.Fprintf(c.stdout, "  演示内容 demo: default seal %s, %d sample licenses\n", a.DefaultSeal, len(page.Items))
	}
	fmt.Fprintf(c.stdout, "Next: zhengxin serve --dir %s\n", *dir)
	return nil
}
