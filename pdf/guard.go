package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"

	dpdf "github.com/digitorus/pdf"
)

// digitorus/pdf trusts the numbers in a file: an xref stream's /Size or a
// subsection header "0 999999999" makes it allocate a table that large, a
// /Prev loop through different offsets or an object stream /Extends cycle
// keeps it busy for ever, and without a %%EOF near the end it rescans the
// file in growing windows. The checks here walk the cross-reference chain
// and the object streams first, with bounds, so that hostile input is
// refused before the library sees it.

const (
	maxXrefSections = 512
	tailWindow      = 64 << 10
)

var (
	reStartxref = regexp.MustCompile(`startxref\s+(\d+)\s*%%EOF`)
	reSize      = regexp.MustCompile(`/Size\s+(\d+)`)
	rePrev      = regexp.MustCompile(`/Prev\s+(\d+)`)
	reXRefStm   = regexp.MustCompile(`/XRefStm\s+(\d+)`)
	reIndex     = regexp.MustCompile(`/Index\s*\[([\d\s]*)\]`)
	reW         = regexp.MustCompile(`/W\s*\[([\d\s]*)\]`)
	reObjHeader = regexp.MustCompile(`^\s*\d+\s+\d+\s+obj`)
	reSubsect   = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s*(\r\n|\r|\n| \r| \n)`)
)

// maxObjects bounds object numbers in a file of size bytes: every object
// takes a few bytes even inside a compressed object stream.
func maxObjects(size int64) int64 { return size/2 + 1024 }

// guardFile checks that the file (first size bytes of r) ends with a
// startxref and %%EOF and that its cross-reference chain is bounded.
func guardFile(r io.ReaderAt, size int64) error {
	n := min(size, tailWindow)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return fmt.Errorf("pdf: reading: %w", err)
	}
	all := reStartxref.FindAllSubmatch(tail, -1)
	if len(all) == 0 {
		return errors.New("pdf: no startxref and %%EOF at the end: not a PDF, truncated, or followed by other data")
	}
	start, err := strconv.ParseInt(string(all[len(all)-1][1]), 10, 64)
	if err != nil {
		return errors.New("pdf: bad startxref")
	}
	return checkXrefChain(r, size, start)
}

func checkXrefChain(r io.ReaderAt, size, start int64) error {
	bound := maxObjects(size)
	seen := map[int64]bool{}
	queue := []int64{start}
	for len(queue) > 0 {
		off := queue[0]
		queue = queue[1:]
		if seen[off] {
			continue
		}
		seen[off] = true
		if len(seen) > maxXrefSections {
			return fmt.Errorf("pdf: more than %d cross-reference sections", maxXrefSections)
		}
		if off <= 0 || off >= size {
			return fmt.Errorf("pdf: a cross-reference offset (%d) lies outside the file", off)
		}
		head := readAt(r, off, min(4096, size-off))
		switch {
		case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\f\x00"), []byte("xref")):
			next, err := checkXrefTable(r, size, off+int64(bytes.Index(head, []byte("xref")))+4, bound)
			if err != nil {
				return err
			}
			queue = append(queue, next...)
		case reObjHeader.Match(head):
			d := head
			if i := bytes.Index(d, []byte("stream")); i >= 0 {
				d = d[:i]
			}
			if err := checkSizes(d, bound); err != nil {
				return err
			}
			if m := reIndex.FindSubmatch(d); m != nil {
				nums := bytes.Fields(m[1])
				for i := 0; i+1 < len(nums); i += 2 {
					a, _ := strconv.ParseInt(string(nums[i]), 10, 64)
					c, _ := strconv.ParseInt(string(nums[i+1]), 10, 64)
					if a+c > bound || a < 0 || c < 0 {
						return fmt.Errorf("pdf: xref stream /Index %d %d is out of proportion to the file", a, c)
					}
				}
			}
			if m := reW.FindSubmatch(d); m != nil {
				for _, w := range bytes.Fields(m[1]) {
					if v, _ := strconv.Atoi(string(w)); v > 8 {
						return errors.New("pdf: xref stream /W field wider than 8 bytes")
					}
				}
			}
			queue = append(queue, prevs(d)...)
		default:
			return fmt.Errorf("pdf: no cross-reference section at offset %d", off)
		}
	}
	return nil
}

// checkXrefTable walks the subsection headers of a classic table starting
// at pos (after "xref") and checks its trailer; it returns the /Prev and
// /XRefStm offsets to follow.
func checkXrefTable(r io.ReaderAt, size, pos, bound int64) ([]int64, error) {
	for i := 0; i < 1<<20; i++ {
		if pos >= size {
			return nil, errors.New("pdf: cross-reference table runs past the end")
		}
		b := readAt(r, pos, min(4096, size-pos))
		t := bytes.TrimLeft(b, " \t\r\n\f")
		pos += int64(len(b) - len(t))
		if bytes.HasPrefix(t, []byte("trailer")) {
			d := t
			if j := bytes.Index(d, []byte("startxref")); j >= 0 {
				d = d[:j]
			}
			if err := checkSizes(d, bound); err != nil {
				return nil, err
			}
			return prevs(d), nil
		}
		m := reSubsect.FindSubmatch(t)
		if m == nil {
			return nil, fmt.Errorf("pdf: malformed cross-reference subsection at offset %d", pos)
		}
		a, _ := strconv.ParseInt(string(m[1]), 10, 64)
		c, _ := strconv.ParseInt(string(m[2]), 10, 64)
		if a+c > bound {
			return nil, fmt.Errorf("pdf: cross-reference subsection %d %d is out of proportion to the file", a, c)
		}
		pos += int64(len(m[0])) + 20*c
	}
	return nil, errors.New("pdf: too many cross-reference subsections")
}

func checkSizes(d []byte, bound int64) error {
	if m := reSize.FindSubmatch(d); m != nil {
		if v, err := strconv.ParseInt(string(m[1]), 10, 64); err != nil || v > bound {
			return fmt.Errorf("pdf: /Size %s is out of proportion to the file", m[1])
		}
	}
	return nil
}

func prevs(d []byte) []int64 {
	var out []int64
	for _, re := range []*regexp.Regexp{rePrev, reXRefStm} {
		if m := re.FindSubmatch(d); m != nil {
			if v, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
				out = append(out, v)
			}
		}
	}
	return out
}

func readAt(r io.ReaderAt, off, n int64) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	m, _ := r.ReadAt(b, off)
	return b[:m]
}

// checkObjStms checks that the /Extends chain of every object stream the
// reader's table uses ends within a few steps (digitorus follows it
// without a cycle check).
func checkObjStms(rd *dpdf.Reader) error {
	seen := map[ref]bool{}
	xs := rd.Xref()
	for i := range xs {
		rv := reflect.ValueOf(&xs[i]).Elem()
		if !rv.FieldByName("inStream").Bool() {
			continue
		}
		s := foreignRef(rv.FieldByName("stream"))
		if seen[s] {
			continue
		}
		seen[s] = true
		if len(seen) > 100000 {
			return errors.New("pdf: too many object streams")
		}
		cur := s
		visited := map[ref]bool{}
		for hops := 0; ; hops++ {
			if visited[cur] || hops > 16 {
				return errors.New("pdf: object stream /Extends chain loops")
			}
			visited[cur] = true
			v := resolveRef(rd, cur)
			ext, ok := asRef(rawKey(v, "Extends"))
			if !ok {
				break
			}
			cur = ext
		}
	}
	return nil
}

// resolveRef resolves an object by number, without following an object
// stream chain (the object stream itself must be a plain object).
func resolveRef(rd *dpdf.Reader, r ref) dpdf.Value {
	xs := rd.Xref()
	if int(r.ID) >= len(xs) {
		return dpdf.Value{}
	}
	rv := reflect.ValueOf(&xs[r.ID]).Elem()
	if rv.FieldByName("inStream").Bool() {
		return dpdf.Value{} // an object stream inside an object stream is not allowed
	}
	p := xs[r.ID].Ptr()
	return rd.Resolve(p, p)
}
