package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/license/qrpng"
)

const holderHelp = `Usage: zhengxin holder <subcommand> [flags]

What a holder's wallet does, for tests and scripted holders: make a device
key, bind a license to it, and make the short-lived presentation QR shown at
a counter. 持证人设备密钥与出示码（用于测试与脚本）。

Subcommands:
  keygen --out device.key [--curve sm2|p256]
            make a device key (PKCS#8 PEM, 0600) and device.key.pub
  bind --dir D ID --key device.key.pub --out license.zxl
            re-sign license ID for that device (the issuer's side)
  export --dir D ID --out license.zxl
            the holder copy of a license as it is
  present --license license.zxl --key device.key [--disclose k1,k2 | --profile P]
          [--audience COUNTER] [--out qr.png]
            print a presentation QR payload valid for 60 seconds

The device key file is not encrypted: a wallet keeps its key in the
device's key store; this file form exists for tests and scripts.

Examples:
  zhengxin holder keygen --out device.key
  zhengxin holder bind --dir ./zhengxin-data 1.2.156.3005.2.... --key device.key.pub --out lic.zxl
  zhengxin holder present --license lic.zxl --key device.key --profile food_counter | \
      zhengxin verify --dir ./zhengxin-data -

Exit codes: 0 success; 1 failure.
`

func init() { commands["holder"] = cmdHolder }

func cmdHolder(args []string, c *cli) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if _, err := parseFlags(newFlags(c, "holder", holderHelp), args); err != nil {
			return err
		}
		return usageError("holder", "missing subcommand")
	}
	sub, args := args[0], args[1:]
	fs := newFlags(c, "holder", holderHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory (bind, export)")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	out := fs.String("out", "", "output file")
	curve := fs.String("curve", "sm2", "device key curve: sm2 or p256")
	keyFile := fs.String("key", "", "device key file (present: private; bind: public)")
	licFile := fs.String("license", "", "holder copy of the license")
	disclose := fs.String("disclose", "", "comma-separated field keys to reveal")
	profile := fs.String("profile", "", "disclosure profile of the license type")
	audience := fs.String("audience", "", "the counter the presentation is for")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch sub {
	case "keygen":
		if *out == "" {
			return usageError("holder", "keygen needs --out FILE")
		}
		k, err := license.GenerateHolderKey(rand.Reader, *curve)
		if err != nil {
			return err
		}
		priv, err := license.MarshalHolderKey(k)
		if err != nil {
			return err
		}
		pub, err := license.MarshalHolderPublicKey(k.Public())
		if err != nil {
			return err
		}
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("%s 已存在，不覆盖密钥 / %s exists: not overwriting a key", *out, *out)
		}
		if err := os.WriteFile(*out, priv, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(*out+".pub", pub, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "设备密钥 Device key: %s (public: %s.pub)\n", *out, *out)
		return nil
	case "bind", "export":
		if len(pos) != 1 || *out == "" {
			return usageError("holder", "%s needs a license ID and --out FILE", sub)
		}
		d, err := c.openDir(ctx, *dir, *db, sub == "bind")
		if err != nil {
			return err
		}
		defer d.Close()
		var l *license.License
		if sub == "bind" {
			if *keyFile == "" {
				return usageError("holder", "bind needs --key DEVICE.pub")
			}
			b, err := os.ReadFile(*keyFile)
			if err != nil {
				return err
			}
			pub, err := license.ParseHolderPublicKey(b)
			if err != nil {
				return err
			}
			if l, err = d.BindHolder(ctx, pos[0], pub, "cli"); err != nil {
				return fmt.Errorf("holder bind: %w", err)
			}
		} else if _, l, err = d.LoadLicense(ctx, pos[0]); err != nil {
			return err
		}
		if err := os.WriteFile(*out, l.Marshal(), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "持证人副本 Holder copy of %s: %s\n", l.ID(), *out)
		return nil
	case "present":
		if *licFile == "" || *keyFile == "" {
			return usageError("holder", "present needs --license FILE and --key DEVICE.key")
		}
		lb, err := readBounded(*licFile, 1<<20)
		if err != nil {
			return err
		}
		kb, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		k, err := license.ParseHolderKey(kb)
		if err != nil {
			return err
		}
		o := license.PresentOptions{Profile: *profile, Audience: *audience, Now: clock()()}
		if *disclose != "" {
			o.Disclose = strings.Split(*disclose, ",")
		}
		text, err := license.MakePresentationWith(lb, k, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, text)
		if *out != "" {
			png, err := qrpng.Encode(text, 0)
			if err != nil {
				return err
			}
			return os.WriteFile(*out, png, 0o644)
		}
		return nil
	}
	return usageError("holder", "unknown subcommand %q", sub)
}
