package datadir

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
	// BatchSize is the number of rows per transaction (default
	// DefaultImportBatch).
	BatchSize int
	// Rejects receives rejected rows as CSV: "row" and "reason", then the
	// input columns. May be nil.
	Rejects io.Writer
	// Progress is called after each committed batch, from one goroutine.
	Progress func(ImportStats)
	Operator string
}

// DefaultImportBatch is the default number of rows per transaction. The
// rows' random keys (license id, row key) land all over their indexes, and
// a transaction writes every index page it touched once: the larger the
// batch, the more rows share each page write. A batch of 10,000 rows
// holds about 30 MB; at most four are in memory.
const DefaultImportBatch = 10000

// ImportStats counts what an import did.
type ImportStats struct {
	Rows     int64 // data rows read (up to the last committed batch)
	Issued   int64 // newly issued
	Existed  int64 // already issued by an earlier run (same row key)
	Rejected int64
	// Batches is the number of batches committed so far.
	Batches int64
	Elapsed time.Duration
}

// MaxCSVRow bounds one CSV row (fields, not the file: files of any size
// stream through).
const MaxCSVRow = 64 << 10

// reservation asks the committer for n status indexes.
type reservation struct {
	n     int
	reply chan reserved
}

type reserved struct {
	first int64
	err   error
}

// importBatch is one batch of rows as it moves through the pipeline.
type importBatch struct {
	seq   int64
	items []importItem
	rows  int64 // data rows read up to the end of this batch
	err   error // a fatal read error after this batch's rows (CSV syntax)
	todo  []int // items to sign
	first int64 // the status index of todo[0]; the others follow
}

type importItem struct {
	row    int64
	rec    []string // the input columns, for the rejects file
	req    license.Request
	key    string
	reason string // rejected before signing
	lic    store.LicenseRecord
	err    error // rejected by the signer (validation)
	done   bool  // issued by an earlier run: nothing to sign
	signed bool
}

// ImportCSV issues a license for every row of a CSV file, streaming.
//
// Three stages run at once, each handing its batch to the next, so memory
// is bounded by four batches whatever the file size (one being read, one
// being signed, the signed one waiting for the committer, one committing):
// the reader parses rows into batches; the signer skips rows an earlier
// run issued, has status indexes reserved for the rest and signs them on
// every CPU; the committer stores each signed batch in one transaction.
// Batch N+1 is signed while batch N commits.
//
// Every row has a key (the "key" column, else a digest of the row's
// content), and the store's idempotency on that key makes a re-run after a
// crash or Ctrl-C issue nothing twice and skip nothing. Rows that fail
// validation go to Rejects with the reason, in row order, and do not stop
// the import. Cancelling ctx stops reading and signing; a batch already
// signed is still committed (a commit is one short transaction), and the
// error is ctx's.
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
		o.BatchSize = DefaultImportBatch
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
	// A rejects file (row, reason, then the original columns), corrected,
	// imports as it is: its own two columns are dropped from every row.
	var drop []int
	for i, h := range header {
		if h == "row" || h == "reason" {
			drop = append(drop, i)
		}
	}
	strip := func(rec []string) []string {
		if len(drop) == 0 {
			return rec
		}
		out := make([]string, 0, len(rec))
		for i, v := range rec {
			if !slices.Contains(drop, i) {
				out = append(out, v)
			}
		}
		return out
	}
	header = strip(header)
	typeCol, keyCol := -1, -1
	seen := map[string]bool{}
	for i, h := range header {
		if seen[h] {
			return st, fmt.Errorf("表头重复列“%s” / the CSV header names column %q twice", h, h)
		}
		seen[h] = true
		switch h {
		case "type":
			typeCol = i
		case "key":
			keyCol = i
		}
	}
	var fixed *license.Type
	if typeCol < 0 {
		if o.Type == "" {
			return st, errors.New("CSV 没有 type 列：用 --type 指定所有行的证照类型 / the CSV has no \"type\" column: give the type of all rows with --type")
		}
		if fixed, err = license.LookupType(o.Type); err != nil {
			return st, err
		}
	}
	if err := checkHeader(header, typeCol, keyCol, fixed); err != nil {
		return st, err
	}
	var rejects *csv.Writer
	if o.Rejects != nil {
		rejects = csv.NewWriter(o.Rejects)
		if err := rejects.Write(append([]string{"row", "reason"}, header...)); err != nil {
			return st, err
		}
		rejects.Flush()
	}

	// stop ends the reader and the signer: on ctx's end, or when the
	// committer fails.
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	// Unbuffered: a stage blocked handing over its batch is the one-deep
	// queue.
	toSign := make(chan *importBatch)
	toCommit := make(chan *importBatch)

	// Reader. eof and sent are read only after toSign is closed.
	var eof bool
	var sent int64
	go func() {
		defer close(toSign)
		row := int64(1) // the header is row 1
		var rows, seq int64
		b := &importBatch{items: make([]importItem, 0, o.BatchSize)}
		send := func() bool {
			b.rows, b.seq = rows, seq
			seq++
			sent = seq
			select {
			case toSign <- b:
			case <-pctx.Done():
				return false
			}
			b = &importBatch{items: make([]importItem, 0, o.BatchSize)}
			return true
		}
		for pctx.Err() == nil {
			rec, err := cr.Read()
			if err == nil {
				rec = strip(rec)
			}
			if errors.Is(err, io.EOF) {
				if len(b.items) > 0 && !send() {
					return
				}
				eof = true
				return
			}
			row++
			if err != nil {
				// A broken quote can swallow the rest of the file: stop
				// rather than guess where rows begin again. Batches before
				// it are issued, and a re-run skips them.
				b.err = fmt.Errorf("CSV row %d: %v: fix the file and run the import again (rows before it are issued and will be skipped)", row, err)
				send()
				return
			}
			rows++
			b.items = append(b.items, parseRow(row, rec, header, typeCol, keyCol, o.Type))
			if len(b.items) == o.BatchSize && !send() {
				return
			}
		}
	}()

	// Signer.
	reserve := make(chan reservation)
	var lookup atomic.Bool
	lookup.Store(true)
	signErr := make(chan error, 1)
	go func() {
		defer close(toCommit)
		err := func() error {
			// One batch ahead: batch N+1's indexes are reserved before
			// batch N is handed over. The committer serves the reservation
			// as soon as it has committed N-1, then takes N and commits it
			// while N+1 is signed. (Reserving after the hand-over would
			// wait for N's commit, and signing and committing would take
			// turns.)
			cur, ok := <-toSign
			if !ok {
				return nil
			}
			if err := d.prepareBatch(pctx, a.CreditCode, cur, &lookup, reserve); err != nil {
				return err
			}
			for {
				d.signBatch(signer, a.CreditCode, cur)
				next, more := <-toSign
				if more && pctx.Err() == nil {
					if err := d.prepareBatch(pctx, a.CreditCode, next, &lookup, reserve); err != nil {
						return err
					}
				}
				// Signed is as good as committed: the committer always
				// takes it (even after ctx ended), after at most one commit.
				toCommit <- cur
				if !more || pctx.Err() != nil {
					return nil
				}
				cur = next
			}
		}()
		if err != nil && pctx.Err() != nil {
			err = nil // stopped (ctx ended or the committer failed): not the signer's error
		}
		if err != nil {
			stop() // the reader
		}
		signErr <- err
	}()

	// Committer (this goroutine). A signed batch is committed even if ctx
	// has ended meanwhile: the work is done and the transaction is short.
	//
	// The committer also reserves the signer's status indexes. A
	// reservation takes the agency's counter lock (SQLite: the one writer
	// connection), which a commit holds to its end: asked from the signer
	// while a batch commits, it would wait for that commit, and signing
	// and committing would take turns instead of overlapping. Served here
	// between commits, before the next one, it never waits.
	commitCtx := context.WithoutCancel(ctx)
	var cerr error
	serve := func(r reservation) {
		if cerr != nil {
			r.reply <- reserved{err: cerr}
			return
		}
		first, err := d.Store.ReserveStatusIndexes(pctx, a.CreditCode, r.n)
		r.reply <- reserved{first: first, err: err}
	}
	for {
		select {
		case r := <-reserve:
			serve(r)
			continue
		default:
		}
		var b *importBatch
		select {
		case r := <-reserve:
			serve(r)
			continue
		case b = <-toCommit:
		}
		if b == nil {
			break // the signer is done
		}
		if cerr != nil {
			continue // drain, so the signer is not left blocked
		}
		existed := st.Existed
		if err := d.commitBatch(commitCtx, a.CreditCode, o.Operator, b, &st, rejects); err != nil {
			cerr = err
			stop()
			continue
		}
		if st.Existed > existed {
			lookup.Store(true)
		}
		st.Rows = b.rows
		st.Batches++
		st.Elapsed = time.Since(start)
		if b.err != nil {
			cerr = b.err
			stop()
			continue
		}
		if o.Progress != nil {
			o.Progress(st)
		}
	}
	// Drain the reader in case the signer stopped first.
	for range toSign {
	}
	st.Elapsed = time.Since(start)
	if cerr != nil {
		return st, cerr
	}
	if err := <-signErr; err != nil {
		return st, err
	}
	if eof && st.Batches == sent {
		return st, nil // complete, even if ctx ended at the last moment
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, errors.New("import stopped before the end of the file")
}

// parseRow turns one CSV record into a request, or a row rejected before
// signing.
// checkHeader refuses a column that names no field before any row is
// read: a typo in the header (legal_repp) would otherwise reject every row
// one by one. With one type for all rows (fixed), columns must be its
// fields; with a type column, a field of some type.
func checkHeader(header []string, typeCol, keyCol int, fixed *license.Type) error {
	for i, h := range header {
		if i == typeCol || i == keyCol || h == "" {
			continue
		}
		if fixed != nil {
			if fixed.Field(h) == nil {
				keys := make([]string, len(fixed.Fields))
				for j, f := range fixed.Fields {
					keys[j] = f.Key
				}
				return fmt.Errorf("表头第 %d 列“%s”不是%s的字段 / header column %d %q is not a field of %s (fields: %s)",
					i+1, h, fixed.ZH, i+1, h, fixed.Key, strings.Join(keys, ", "))
			}
			continue
		}
		known := false
		for _, t := range license.Types() {
			if t.Field(h) != nil {
				known = true
				break
			}
		}
		if !known {
			return fmt.Errorf("表头第 %d 列“%s”不是任何证照类型的字段 / header column %d %q is not a field of any license type (zhengxin license types lists them)", i+1, h, i+1, h)
		}
	}
	return nil
}

func parseRow(row int64, rec, header []string, typeCol, keyCol int, typ string) importItem {
	it := importItem{row: row, rec: rec}
	if len(rec) != len(header) {
		it.reason = fmt.Sprintf("该行有 %d 列，表头有 %d 列 / row has %d columns, the header %d", len(rec), len(header), len(rec), len(header))
		return it
	}
	size := 0
	for _, f := range rec {
		size += len(f)
	}
	if size > MaxCSVRow {
		it.rec = nil
		it.reason = fmt.Sprintf("该行超过 %d 字节 / row larger than %d bytes", MaxCSVRow, MaxCSVRow)
		return it
	}
	it.req = license.Request{Type: typ, Fields: make(map[string]string, len(header))}
	for i, h := range header {
		v := strings.TrimSpace(rec[i])
		switch {
		case i == typeCol:
			if v != "" {
				it.req.Type = v
			}
		case i == keyCol:
			it.key = v
		case v != "":
			it.req.Fields[h] = v
		}
	}
	if it.key == "" {
		it.key = rowKey(it.req)
	}
	return it
}

// prepareBatch skips the rows an earlier run issued (one lookup per
// batch, so a resumed import costs no signatures for them) and has the
// committer reserve status indexes for the rest.
//
// Skipping is an optimisation only: IssueLicenses checks every key again
// in its transaction, so a row signed needlessly is still issued once.
// lookup says whether to look; the signer and the committer share it.
func (d *Dir) prepareBatch(ctx context.Context, agency string, b *importBatch, lookup *atomic.Bool, reserve chan<- reservation) error {
	keys := make([]string, 0, len(b.items))
	for i := range b.items {
		if b.items[i].reason == "" {
			keys = append(keys, b.items[i].key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var done map[string]store.IssueResult
	if lookup.Load() {
		var err error
		if done, err = d.Store.LookupIdempotencyKeys(ctx, agency, keys); err != nil {
			return err
		}
		// The rows an earlier run issued are the start of the file: once
		// a batch has none, stop looking (the committer turns it back on
		// if the store reports issued rows after all).
		lookup.Store(len(done) > 0)
	}
	b.todo = make([]int, 0, len(keys))
	for i := range b.items {
		it := &b.items[i]
		if it.reason != "" {
			continue
		}
		if _, ok := done[it.key]; ok {
			it.done = true
			it.rec, it.req = nil, license.Request{}
			continue
		}
		b.todo = append(b.todo, i)
	}
	if len(b.todo) == 0 {
		return nil
	}
	r := reservation{n: len(b.todo), reply: make(chan reserved, 1)}
	reserve <- r
	res := <-r.reply
	if res.err != nil {
		return res.err
	}
	b.first = res.first
	return nil
}

// signBatch signs the prepared rows of b in parallel: SM2 signing is the
// CPU cost of an import.
func (d *Dir) signBatch(signer *license.Signer, agency string, b *importBatch) {
	todo, first := b.todo, b.first
	if len(todo) == 0 {
		return
	}
	// Workers take rows in small chunks: on a shared machine one
	// descheduled worker must not hold up the batch's end.
	const chunk = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), (len(todo)+chunk-1)/chunk); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(todo) {
					return
				}
				for j := lo; j < min(lo+chunk, len(todo)); j++ {
					d.signOne(signer, agency, &b.items[todo[j]], uint64(first)+uint64(j))
				}
			}
		}()
	}
	wg.Wait()
}

func (d *Dir) signOne(signer *license.Signer, agency string, it *importItem, index uint64) {
	it.req.StatusList = agency
	it.req.StatusIndex = index
	l, err := signer.Issue(it.req)
	if err != nil {
		it.err = err
		return
	}
	// recordOf's json.Marshal of the fields is a tenth of the import's
	// CPU; give it nothing to encode and set the same JSON made without
	// reflection.
	if it.lic, it.err = recordOf(l, agency, it.key, nil); it.err == nil {
		it.lic.Fields = fieldsJSON(it.req.Fields)
		it.signed = true
		// Only the record goes on: a batch waiting for its commit holds
		// about half the memory.
		it.rec, it.req = nil, license.Request{}
	}
}

// commitBatch stores a signed batch in one transaction with one audit
// entry, then writes the batch's rejects.
func (d *Dir) commitBatch(ctx context.Context, agency, operator string, b *importBatch, st *ImportStats, rejects *csv.Writer) error {
	recs := make([]store.LicenseRecord, 0, len(b.items))
	for i := range b.items {
		it := &b.items[i]
		switch {
		case it.done:
			st.Existed++
		case it.signed:
			recs = append(recs, it.lic)
		}
	}
	if len(recs) > 0 {
		// In id order, the inserts walk the primary key index from left to
		// right instead of jumping around it.
		sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
		res, err := d.Store.IssueLicenses(ctx, recs, &store.AuditEntry{At: d.Now().UTC(), Actor: operatorOr(operator),
			Action: "license.import", Object: agency, Agency: agency,
			Detail: mustJSON(map[string]string{"first_row": fmt.Sprint(b.items[0].row), "rows": fmt.Sprint(len(b.items)),
				"issued": fmt.Sprint(len(recs))})})
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
	for i := range b.items {
		it := &b.items[i]
		reason := it.reason
		if reason == "" && it.err != nil {
			reason = oneLine(it.err)
		}
		if reason == "" {
			continue
		}
		st.Rejected++
		if rejects != nil {
			if err := rejects.Write(append([]string{fmt.Sprint(it.row), reason}, it.rec...)); err != nil {
				return err
			}
		}
	}
	if rejects != nil {
		rejects.Flush()
		return rejects.Error()
	}
	return nil
}

// ContentKey is the idempotency key a request gets when none is given (a
// CSV row, `license issue` from flags or JSON): rowKey, so that the same
// content issued twice is one license.
func ContentKey(r license.Request) string { return rowKey(r) }

// rowKey is the default idempotency key of a CSV row: a digest of its type
// and fields, so the same row imported twice is the same license. The
// digest input is type, then "\x00key\x00value" per field in key order.
func rowKey(r license.Request) string {
	var arr [16]string
	keys := arr[:0]
	for k := range r.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf [1024]byte
	b := append(buf[:0], r.Type...)
	for _, k := range keys {
		b = append(b, 0)
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, r.Fields[k]...)
	}
	sum := sm3.Sum(b)
	return "csv:" + hex.EncodeToString(sum[:16])
}

// fieldsJSON is json.Marshal of a map[string]string (keys sorted; the
// same escaping for the characters a CSV field can hold, without
// reflection): an import encodes one per row.
func fieldsJSON(m map[string]string) []byte {
	var arr [16]string
	keys := arr[:0]
	n := 2
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	sort.Strings(keys)
	b := make([]byte, 0, n+n/8)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = license.AppendJSONString(b, k)
		b = append(b, ':')
		b = license.AppendJSONString(b, m[k])
	}
	return append(b, '}')
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
