package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/zhengxin/zhengxin/datadir"
	"github.com/zhengxin/zhengxin/seal"
)

const sealHelp = `Usage: zhengxin seal <subcommand> [flags]

Electronic seals (电子印章, GB/T 38540-2020 SESeal version 4). A seal binds
the stamp picture to the certificates allowed to sign with it, signed by the
agency's seal maker (制章人).

Subcommands:
  make --dir D [--agency C] [--purpose 合同专用章] [--name N] [--shape round|oval|square]
       [--id ESID] [--picture stamp.png] [--days N]
            make a seal (the picture is drawn unless --picture is given) and
            store it as D/seals/ESID.esl
  show FILE.esl | --dir D --id ESID [--json] [--picture-out stamp.png]
            print a seal's contents (any GB/T 38540 or GM/T 0031 seal)
  list --dir D
            list the seals of the data directory

Examples:
  zhengxin seal make --dir ./zhengxin-data --purpose 合同专用章
  zhengxin seal show ./zhengxin-data/seals/35010000000001.esl
  zhengxin verify --dir ./zhengxin-data ./zhengxin-data/seals/35010000000001.esl

Exit codes: 0 success; 1 failure.
`

func init() { commands["seal"] = cmdSeal }

func cmdSeal(args []string, c *cli) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if _, err := parseFlags(newFlags(c, "seal", sealHelp), args); err != nil {
			return err
		}
		return usageError("seal", "missing subcommand")
	}
	sub, args := args[0], args[1:]
	fs := newFlags(c, "seal", sealHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	agency := fs.String("agency", "", "agency credit code")
	purpose := fs.String("purpose", "", "purpose text under the star, e.g. 合同专用章 (default 公章)")
	name := fs.String("name", "", "seal name (default: agency name + purpose)")
	shape := fs.String("shape", "round", "round, oval or square")
	id := fs.String("id", "", "seal identifier (esID)")
	picture := fs.String("picture", "", "use this PNG as the stamp picture")
	days := fs.Int("days", 0, "validity in days (default: until the seal certificate expires)")
	asJSON := fs.Bool("json", false, "print JSON")
	picOut := fs.String("picture-out", "", "write the seal's picture to this file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch sub {
	case "make":
		shapes := map[string]seal.Shape{"round": seal.Round, "oval": seal.Oval, "square": seal.Square}
		sh, ok := shapes[*shape]
		if !ok {
			return usageError("seal", "--shape %q: use round, oval or square", *shape)
		}
		d, err := c.openDir(ctx, *dir, *db, true)
		if err != nil {
			return err
		}
		defer d.Close()
		req := datadir.SealRequest{Agency: *agency, ESID: *id, Name: *name, Purpose: *purpose, Shape: sh}
		if *days > 0 {
			req.Validity = dayDuration(*days)
		}
		if *picture != "" {
			if req.Picture, err = readBounded(*picture, seal.MaxPictureSize); err != nil {
				return err
			}
		}
		s, path, err := d.MakeSeal(ctx, req)
		if err != nil {
			return fmt.Errorf("seal make: %w", err)
		}
		fmt.Fprintf(c.stdout, "已制作印章 Made seal %s「%s」: %s\n", s.ESID, s.Name, path)
		return nil
	case "show":
		var s *seal.Seal
		switch {
		case len(pos) == 1:
			b, err := readBounded(pos[0], seal.MaxSealSize)
			if err != nil {
				return err
			}
			if s, err = seal.ParseSeal(b); err != nil {
				return fmt.Errorf("%s: %w", pos[0], err)
			}
		case *id != "":
			d, err := c.openDir(ctx, *dir, *db, false)
			if err != nil {
				return err
			}
			defer d.Close()
			if s, err = d.Seal(ctx, *id); err != nil {
				return err
			}
		default:
			return usageError("seal", "seal show needs a FILE.esl or --dir D --id ESID")
		}
		if *picOut != "" {
			if err := os.WriteFile(*picOut, s.Picture.Data, 0o644); err != nil {
				return err
			}
		}
		if *asJSON {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(seal.Summarize(s))
		}
		fmt.Fprint(c.stdout, seal.Show(s))
		return nil
	case "list":
		d, err := c.openDir(ctx, *dir, *db, false)
		if err != nil {
			return err
		}
		defer d.Close()
		list, err := d.Store.ListSeals(ctx, *agency)
		if err != nil {
			return err
		}
		for _, s := range list {
			def := ""
			if a, err := d.Agency(s.AgencyID); err == nil && a.DefaultSeal == s.ID {
				def = "  (default)"
			}
			fmt.Fprintf(c.stdout, "%s  %s  %s .. %s%s\n", s.ID, s.Name, s.ValidFrom.Format("2006-01-02"), s.ValidTo.Format("2006-01-02"), def)
		}
		return nil
	}
	return usageError("seal", "unknown subcommand %q", sub)
}
