package datadir

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/store"
)

// ImportOptions configure ImportCSV.
type ImportOptions struct {
	Agency string // credit code; empty: the default agency
	// Type applies to rows without a "type" column.
	Type string
	// BatchSize is the number of rows per transaction (default 2000).
	BatchSize int
	// Rejects receives rejected rows as CSV: the input columns plus
	// "row" and "reason". May be nil.
	Rejects io.Writer
	// Progress is called after each committed batch.
	Progress func(ImportStats)
	Operator string
}

// ImportStats counts what an import did.
type ImportStats struct {
	Rows     int64 // data rows read
	Issued   int64 // newly issued
	Existed  int64 // already issued by an earlier run (same row key)
	Rejected int64
	Elapsed  time.Duration
}

// MaxCSVRow bounds one CSV row (fields, not the file: files of any size
// stream through).
const MaxCSVRow = 64 << 10

// ImportCSV issues a license for every row of a CSV file, streaming: rows
// are validated and signed in parallel and committed in batches, one
// transaction each. Every row has a key (the "key" column, else a digest
// of the row's content), and the store's idempotency on that key makes a
// re-run after a crash or Ctrl-C issue nothing twice and skip nothing.
// Rows that fail validation go to Rejects with the reason and do not stop
// the import. Cancelling ctx stops after the batch in flight.
func (d *Dir) ImportCSV(ctx context.Context, r io.Reader, o ImportOptions) (ImportStats, error) {
	start := time.Now()
	var st ImportStats
	a, err := d.Agency(o.Agency)
	if err != nil {
		return st, err
	}
	signer, err := d.Signer(a.CreditCode)
	if err != nil {
		return st, err
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // rows with the wrong column count are rejected, not fatal
	header, err := cr.Read()
	if err != nil {
		return st, fmt.Errorf("reading the CSV header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	typeCol, keyCol := -1, -1
	seen := map[string]bool{}
	for i, h := range header {
		if seen[h] {
			return st, fmt.Errorf("the CSV header names column %q twice", h)
		}
		seen[h] = true
		switch h {
		case "type":
			typeCol = i
		case "key":
			keyCol = i
		}
	}
	if typeCol < 0 {
		if o.Type == "" {
			return st, errors.New("the CSV has no \"type\" column: give the type of all rows with --type")
		}
		if _, err := license.LookupType(o.Type); err != nil {
			return st, err
		}
	}
	var rejects *csv.Writer
	if o.Rejects != nil {
		rejects = csv.NewWriter(o.Rejects)
		if err := rejects.Write(append([]string{"row", "reason"}, header...)); err != nil {
			return st, err
		}
	}
	reject := func(row int64, rec []string, reason string) error {
		st.Rejected++
		if rejects == nil {
			return nil
		}
		return rejects.Write(append([]string{fmt.Sprint(row), reason}, rec...))
	}

	type item struct {
		row int64
		rec []string
		req license.Request
		key string
		lic store.LicenseRecord
		err error
	}
	batch := make([]item, 0, o.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// Rows an earlier run issued are skipped before signing, so a
		// resumed import costs a lookup per batch, not a signature per row.
		keys := make([]string, len(batch))
		for i := range batch {
			keys[i] = batch[i].key
		}
		done, err := d.Store.LookupIdempotencyKeys(ctx, a.CreditCode, keys)
		if err != nil {
			return err
		}
		todo := make([]int, 0, len(batch))
		for i := range batch {
			if _, ok := done[batch[i].key]; ok {
				st.Existed++
				continue
			}
			todo = append(todo, i)
		}
		first, err := d.Store.ReserveStatusIndexes(ctx, a.CreditCode, max(len(todo), 1))
		if err != nil {
			return err
		}
		// Sign in parallel: SM2 signing is the CPU cost of an import.
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		next := make(chan int)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					it := &batch[todo[j]]
					it.req.StatusList = a.CreditCode
					it.req.StatusIndex = uint64(first) + uint64(j)
					l, err := signer.Issue(it.req)
					if err != nil {
						it.err = err
						continue
					}
					it.lic, it.err = recordOf(l, a.CreditCode, it.key, it.req.Fields)
				}
			}()
		}
		for j := range todo {
			next <- j
		}
		close(next)
		wg.Wait()
		recs := make([]store.LicenseRecord, 0, len(batch))
		for _, i := range todo {
			if batch[i].err != nil {
				if err := reject(batch[i].row, batch[i].rec, oneLine(batch[i].err)); err != nil {
					return err
				}
				continue
			}
			recs = append(recs, batch[i].lic)
		}
		if len(recs) > 0 {
			res, err := d.Store.IssueLicenses(ctx, recs, &store.AuditEntry{At: d.Now().UTC(), Actor: operatorOr(o.Operator),
				Action: "license.import", Object: a.CreditCode,
				Detail: mustJSON(map[string]string{"first_row": fmt.Sprint(batch[0].row), "rows": fmt.Sprint(len(batch))})})
			if err != nil {
				return err
			}
			for _, r := range res {
				if r.Existed {
					st.Existed++
				} else {
					st.Issued++
				}
			}
		}
		batch = batch[:0]
		if rejects != nil {
			rejects.Flush()
			if err := rejects.Error(); err != nil {
				return err
			}
		}
		st.Elapsed = time.Since(start)
		if o.Progress != nil {
			o.Progress(st)
		}
		return nil
	}

	row := int64(1) // the header is row 1
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if err != nil {
			// A broken quote can swallow the rest of the file: stop rather
			// than guess where rows begin again. Batches committed so far
			// stay, and a re-run skips them.
			if ferr := flush(); ferr != nil {
				return st, ferr
			}
			return st, fmt.Errorf("CSV row %d: %v: fix the file and run the import again (rows before it are issued and will be skipped)", row, err)
		}
		st.Rows++
		size := 0
		for _, f := range rec {
			size += len(f)
		}
		if len(rec) != len(header) {
			if err := reject(row, rec, fmt.Sprintf("该行有 %d 列，表头有 %d 列 / row has %d columns, the header %d", len(rec), len(header), len(rec), len(header))); err != nil {
				return st, err
			}
			continue
		}
		if size > MaxCSVRow {
			if err := reject(row, nil, fmt.Sprintf("row larger than %d bytes", MaxCSVRow)); err != nil {
				return st, err
			}
			continue
		}
		req := license.Request{Type: o.Type, Fields: map[string]string{}}
		for i, h := range header {
			v := strings.TrimSpace(rec[i])
			switch {
			case i == typeCol:
				if v != "" {
					req.Type = v
				}
			case i == keyCol:
			case v != "":
				req.Fields[h] = v
			}
		}
		key := ""
		if keyCol >= 0 {
			key = strings.TrimSpace(rec[keyCol])
		}
		if key == "" {
			key = rowKey(req)
		}
		batch = append(batch, item{row: row, rec: rec, req: req, key: key})
		if len(batch) == o.BatchSize {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// rowKey is the default idempotency key of a CSV row: a digest of its type
// and fields, so the same row imported twice is the same license.
func rowKey(r license.Request) string {
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sm3.New()
	io.WriteString(h, r.Type)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s\x00%s", k, r.Fields[k])
	}
	return "csv:" + hex.EncodeToString(h.Sum(nil)[:16])
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
