package main

import (
	"context"
	"fmt"
	"time"

	"github.com/zhengxin/zhengxin/datadir"
)

const benchHelp = `Usage: zhengxin bench --dir D [--pdf-mb N]

Measure, in this process, what the speed goals are stated for, each beside
its baseline measured in the same run: verifying a license QR offline and
online, signing a license, a holder presentation (against raw SM2 verify
and sign), and signing and verifying an N MB PDF (against one SM3 pass over
it). Nothing is written to the data directory. BENCHMARKS.md records runs.
性能测量（与 SM2/SM3 基线同次运行对比）。

Examples:
  zhengxin bench --dir ./zhengxin-data
  zhengxin bench --dir ./zhengxin-data --pdf-mb 20

Exit codes: 0 measured; 1 failure.
`

func init() { commands["bench"] = cmdBench }

func cmdBench(args []string, c *cli) error {
	fs := newFlags(c, "bench", benchHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory")
	pdfMB := fs.Int("pdf-mb", 20, "size of the PDF to sign and verify (0: skip)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := c.openDir(ctx, *dir, "", true)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := d.Benchmark(ctx, *pdfMB<<20)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	fmt.Fprintf(c.stdout, "%s, %s\n", datadir.BenchMachine(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(c.stdout, "%-28s %12s  %-12s %6s  %s\n", "operation", "per op", "baseline", "ratio", "")
	for _, r := range res {
		mark := ""
		switch {
		case r.Goal > 0 && r.Ratio <= r.Goal:
			mark = "  达标 met"
		case r.Goal > 0:
			mark = "  未达标 NOT MET"
		}
		fmt.Fprintf(c.stdout, "%-28s %12s  %-12s %6.2f  %s%s\n", r.Name, r.PerOp.Round(100*time.Nanosecond), r.Baseline, r.Ratio, r.Note, mark)
	}
	return nil
}
