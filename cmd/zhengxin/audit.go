package main

import (
	"context"
	"fmt"

	"github.com/zhengxin/zhengxin/store"
)

const auditHelp = `Usage: zhengxin audit <check|list> --dir D [--limit N]

The audit log is append-only and hash-chained with SM3: every entry commits
to the one before it. "check" recomputes the chain and names the first
broken entry; "list" prints entries. 审计日志（SM3 哈希链）校验与查看。

Examples:
  zhengxin audit check --dir ./zhengxin-data
  zhengxin audit list --dir ./zhengxin-data --limit 20

Exit codes: 0 chain intact; 1 chain broken or failure.
`

func init() { commands["audit"] = cmdAudit }

func cmdAudit(args []string, c *cli) error {
	sub := ""
	if len(args) > 0 && (args[0] == "check" || args[0] == "list") {
		sub, args = args[0], args[1:]
	}
	fs := newFlags(c, "audit", auditHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	db := fs.String("db", "", "PostgreSQL URL (overrides the config)")
	limit := fs.Int("limit", 100, "entries to list")
	after := fs.Int64("after", 0, "list entries after this sequence number")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if sub == "" {
		return usageError("audit", "the subcommand is check or list")
	}
	ctx := context.Background()
	d, err := c.openDir(ctx, *dir, *db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if sub == "list" {
		list, err := d.Store.ListAudit(ctx, store.AuditFilter{AfterSeq: *after, Limit: *limit})
		if err != nil {
			return err
		}
		for _, e := range list {
			fmt.Fprintf(c.stdout, "%6d  %s  %-8s %-16s %s  %s\n", e.Seq, e.At.Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Object, e.Detail)
		}
		return nil
	}
	res, err := d.Store.VerifyAuditChain(ctx)
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("audit chain broken at entry %d: %s (%d entries checked)", res.FirstBroken, res.Reason, res.Entries)
	}
	fmt.Fprintf(c.stdout, "审计日志完整 Audit chain intact: %d entries, head %x\n", res.Entries, res.Head)
	return nil
}
