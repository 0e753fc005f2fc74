package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/zhengxin/zhengxin/datadir"
)

// issueCSV runs a bulk import with a progress line on stderr. Ctrl-C stops
// after the batch in flight; running the same command again resumes.
func (c *cli) issueCSV(ctx context.Context, d *datadir.Dir, file, rejectsFile, typ, agency string, batch int) error {
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if rejectsFile == "" {
		rejectsFile = strings.TrimSuffix(file, ".csv") + ".rejects.csv"
	}
	if filepath.Clean(rejectsFile) == filepath.Clean(file) {
		return usageError("license", "--rejects must differ from --csv: the input would be overwritten")
	}
	rej, err := os.Create(rejectsFile)
	if err != nil {
		return err
	}
	defer rej.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	counter := &countingReader{r: in}
	tty := false
	if f, ok := c.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	last := time.Time{}
	progress := func(st datadir.ImportStats) {
		if !tty && time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		pct := float64(counter.n) * 100 / float64(max(info.Size(), 1))
		const width = 30
		bar := strings.Repeat("█", int(pct/100*width)) + strings.Repeat("░", width-int(pct/100*width))
		rate := float64(st.Issued+st.Existed) / max(st.Elapsed.Seconds(), 0.001)
		line := fmt.Sprintf("%s %5.1f%%  rows %d  issued %d  already %d  rejected %d  %.0f/s", bar, pct, st.Rows, st.Issued, st.Existed, st.Rejected, rate)
		if tty {
			fmt.Fprintf(c.stderr, "\r%s", line)
		} else {
			fmt.Fprintln(c.stderr, line)
		}
	}
	st, err := d.ImportCSV(ctx, counter, datadir.ImportOptions{Agency: agency, Type: typ, BatchSize: batch, Rejects: rej, Progress: progress, Operator: "cli"})
	if tty {
		fmt.Fprintln(c.stderr)
	}
	if st.Rejected == 0 {
		// No rejects file is better than an empty one, after an error too.
		rej.Close()
		os.Remove(rejectsFile)
	}
	summary := fmt.Sprintf("rows %d, issued %d, already issued %d, rejected %d, %.1fs", st.Rows, st.Issued, st.Existed, st.Rejected, st.Elapsed.Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return withHint(fmt.Errorf("import interrupted (%s)", summary), "run the same command again: issued rows are skipped, nothing is issued twice")
		}
		return fmt.Errorf("import %s: %w (%s)", file, err, summary)
	}
	fmt.Fprintf(c.stdout, "导入完成 Import done: %s\n", summary)
	if st.Rejected > 0 {
		fmt.Fprintf(c.stdout, "被拒绝的行及原因 Rejected rows and reasons: %s\n", rejectsFile)
	}
	return nil
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
