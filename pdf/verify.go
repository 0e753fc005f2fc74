package pdf

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	dpdf "github.com/digitorus/pdf"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/verify/report"
)

// Limits for Verify.
const (
	maxContents   = 8 << 20 // the /Contents hex string of one signature
	maxSignatures = 64
	maxFieldDepth = 32
	chunkSize     = 1 << 20
)

// Signature is what Verify found out about one signature of a PDF.
type Signature struct {
	Field     string // fully qualified field name
	Filter    string
	SubFilter string
	Format    Format // what /Contents holds: CMS, SES or a DocTimestamp token

	ByteRange   []int64
	Revision    int   // 1-based number of the revision the signature signs
	RevisionEnd int64 // the offset where that revision ends
	// CoversWholeFile is true when the signed revision is the whole file.
	CoversWholeFile bool

	Contents        []byte // the DER of /Contents, padding removed
	DigestAlgorithm string // "SM3", "SHA256", ...
	Digest          []byte // over the byte ranges
	Algorithm       string // "SM2-with-SM3", "ECDSA-with-SHA256", ...

	Signer       *smx509.Certificate   // nil if not found
	Certificates []*smx509.Certificate // every certificate the signature carries (for chain building)
	SigningTime  time.Time             // signed attribute (CMS) or timeInfo (SES); zero if absent
	ClaimedTime  time.Time             // /M, not covered by the signature's own attributes
	Name         string
	Reason       string
	Location     string

	// Timestamp is the RFC 3161 signature timestamp of a CMS signature
	// (unsigned attribute id-aa-timeStampToken; the first one if there are
	// several), nil if it has none. Its Err says whether the token itself
	// holds; the TSA's trust is the caller's. For Format DocTimestamp it
	// is the document timestamp itself: Signer is then the TSA,
	// SigningTime its genTime, SignatureErr the token's own checks and
	// DigestErr its imprint against the byte range.
	Timestamp *Timestamp

	// SES is the parsed SES_Signature for Format SES: the caller checks
	// the seal (maker, validity, signer listed) and trust with it.
	SES *seal.Signature

	// Outcome of each check; nil means it passed. Each error carries a
	// report reason (report.ReasonOf).
	ByteRangeErr error // FORMAT_FAILURE
	DigestErr    error // HASH_FAILURE
	SignatureErr error // SIG_CRYPTO_FAILURE, UNSUPPORTED_ALGORITHM, FORMAT_FAILURE
	ModifiedErr  error // MODIFIED_AFTER_SIGNING

	// Changes lists what later revisions did that does not invalidate the
	// signature (signatures, annotations, form updates, metadata).
	Changes []string
}

// Result is the outcome of Verify.
type Result struct {
	Signatures []Signature
	// RevisionEnds are the offsets where each revision ends (after its
	// %%EOF line), in file order.
	RevisionEnds []int64
	// TrailingBytes counts bytes after the last revision that are not a
	// valid incremental update (whitespace aside).
	TrailingBytes int64
	Pages         int
}

// Verify finds and checks every signature of the PDF r (size bytes). The
// file is read in chunks; memory stays bounded by the size of its
// cross-reference tables and one signature's /Contents, not the file.
// A file Verify cannot read at all is an error; problems with one
// signature are recorded in its Signature.
func Verify(r io.ReaderAt, size int64) (res *Result, err error) {
	defer recovered(&err)
	ends, err := revisionEnds(r, size)
	if err != nil {
		return nil, err
	}
	if len(ends) == 0 {
		return nil, errors.New("pdf: no %%EOF marker: not a PDF or truncated")
	}
	res = &Result{}
	// The document is the last revision that opens; anything after it is
	// not a valid incremental update.
	// Open the last revision that reads: anything after it is not a valid
	// incremental update. Opening at the exact revision end (not the file
	// size) keeps trailing junk away from the parser.
	var rd *dpdf.Reader
	last := len(ends) - 1
	for ; last >= 0; last-- {
		rd, err = openReader(io.NewSectionReader(r, 0, ends[last]), ends[last])
		if err == nil {
			break
		}
		if errors.Is(err, ErrEncrypted) {
			return nil, err
		}
	}
	if rd == nil {
		return nil, err
	}
	ends = ends[:last+1]
	res.RevisionEnds = ends
	if tail := size - ends[last]; tail > 0 {
		n, err := nonSpace(r, ends[last], size)
		if err != nil {
			return nil, err
		}
		res.TrailingBytes = n
	}
	docEnd := ends[last]
	res.Pages = rd.NumPage()

	sigs := findSignatures(rd)
	if len(sigs) > maxSignatures {
		return nil, fmt.Errorf("pdf: %d signatures, more than the %d this verifier reads", len(sigs), maxSignatures)
	}
	readers := map[int64]*dpdf.Reader{docEnd: rd}
	for _, f := range sigs {
		s := checkSignature(r, size, f, ends)
		if s.ByteRangeErr == nil && s.RevisionEnd < docEnd {
			old, ok := readers[s.RevisionEnd]
			if !ok {
				old, err = openReader(io.NewSectionReader(r, 0, s.RevisionEnd), s.RevisionEnd)
				if err != nil {
					s.ModifiedErr = report.Errorf(report.ModifiedAfterSigning, "pdf: the signed revision cannot be read on its own: %v", err)
				}
				readers[s.RevisionEnd] = old
			}
			if old != nil {
				s.Changes, s.ModifiedErr = compareRevisions(old, rd)
				if s.ModifiedErr == nil {
					s.ModifiedErr = checkDocMDP(f.v, s.Changes)
				}
			}
		}
		if s.ModifiedErr == nil && res.TrailingBytes > 0 {
			s.ModifiedErr = report.Errorf(report.ModifiedAfterSigning, "pdf: %d bytes after the last %%%%EOF are not a valid incremental update", res.TrailingBytes)
		}
		res.Signatures = append(res.Signatures, s)
	}
	return res, nil
}

// sigField is a signature field found in the form.
type sigField struct {
	name string
	v    dpdf.Value // the signature dictionary
}

// findSignatures walks the form's fields (and their kids) for signature
// fields with a value.
func findSignatures(rd *dpdf.Reader) []sigField {
	var out []sigField
	seen := map[ref]bool{}
	visited := map[ref]bool{}
	budget := 20000
	var walk func(v dpdf.Value, self any, prefix, ft string, depth int)
	walk = func(v dpdf.Value, self any, prefix, ft string, depth int) {
		budget--
		if budget < 0 || depth > maxFieldDepth || v.Kind() != dpdf.Dict || len(out) > maxSignatures {
			return
		}
		if r, ok := asRef(self); ok {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		full := prefix
		if t := v.Key("T"); t.Kind() == dpdf.String {
			if full != "" {
				full += "."
			}
			full += t.Text()
		}
		if f := v.Key("FT"); f.Kind() == dpdf.Name {
			ft = f.Name()
		}
		if ft == "Sig" {
			sv := v.Key("V")
			if sv.Kind() == dpdf.Dict && !sv.Key("ByteRange").IsNull() {
				p, isRef := asRef(rawKey(v, "V"))
				if !isRef || !seen[p] {
					seen[p] = true
					out = append(out, sigField{name: full, v: sv})
				}
			}
		}
		kids := v.Key("Kids")
		raw := rawItems(kids)
		for i := 0; i < len(raw); i++ {
			walk(kids.Index(i), raw[i], full, ft, depth+1)
		}
	}
	fields := rd.Trailer().Key("Root").Key("AcroForm").Key("Fields")
	raw := rawItems(fields)
	for i := 0; i < len(raw); i++ {
		walk(fields.Index(i), raw[i], "", "", 0)
	}
	return out
}

// checkSignature checks one signature's byte range, digest and
// cryptographic signature.
func checkSignature(r io.ReaderAt, size int64, f sigField, ends []int64) (s Signature) {
	v := f.v
	s.Field = f.name
	s.Filter = v.Key("Filter").Name()
	s.SubFilter = v.Key("SubFilter").Name()
	s.Name = v.Key("Name").Text()
	s.Reason = v.Key("Reason").Text()
	s.Location = v.Key("Location").Text()
	if t, err := parsePDFDate(v.Key("M").Text()); err == nil {
		s.ClaimedTime = t
	}
	fail := func(err error) Signature {
		s.ByteRangeErr = err
		s.DigestErr = ErrNotChecked
		s.SignatureErr = ErrNotChecked
		return s
	}
	contents := []byte(v.Key("Contents").RawString())
	if len(contents) == 0 || len(contents) > maxContents {
		return fail(report.Errorf(report.FormatFailure, "pdf: signature %q has an empty or oversized /Contents", f.name))
	}
	brv := v.Key("ByteRange")
	for i := 0; i < brv.Len() && i < 8; i++ {
		s.ByteRange = append(s.ByteRange, brv.Index(i).Int64())
	}
	if err := checkByteRange(r, size, s.ByteRange, contents, ends, &s); err != nil {
		return fail(err)
	}
	cands := trimDER(contents)
	s.Contents = cands[0]
	s.Format = sniffContents(contents)
	if s.SubFilter == SubFilterDocTimeStamp {
		// The token is a CMS SignedData too, but over a TSTInfo, not the
		// byte range: it is recognised by its /SubFilter.
		s.Format = DocTimestamp
	}
	switch s.Format {
	case DocTimestamp:
		checkDocTimestamp(r, &s)
	case CMS:
		info, err := parseCMS(contents)
		if err != nil {
			s.SignatureErr = err
			s.DigestErr = ErrNotChecked
			return s
		}
		s.Signer, s.Certificates, s.SigningTime, s.Algorithm = info.Signer, info.Certs, info.SigningTime, info.Algorithm
		s.DigestAlgorithm, _ = hashFor(info.digestOID)
		h := info.newHash()
		if info.sm2NoAttrs {
			za, err := sm2ZA(info.Signer.PublicKey.(*ecdsa.PublicKey))
			if err != nil {
				s.SignatureErr = report.Errorf(report.FormatFailure, "pdf: %v", err)
				return s
			}
			h.Write(za)
		}
		if err := hashRanges(r, s.ByteRange, h); err != nil {
			return fail(report.Errorf(report.FormatFailure, "pdf: reading the signed ranges: %v", err))
		}
		s.Digest = h.Sum(nil)
		if info.checkDigest != nil {
			s.DigestErr = info.checkDigest(s.Digest)
		}
		s.SignatureErr = info.checkSig(s.Digest)
		if info.timestampToken != nil {
			s.Timestamp = VerifyTimestampToken(info.timestampToken, info.signatureValue)
		}
	case SES:
		ses, err := parseSES(s.Contents)
		if err != nil {
			s.SignatureErr = report.Errorf(report.FormatFailure, "pdf: /Contents of %q looks like an SES_Signature but does not parse: %v", f.name, err)
			s.DigestErr = ErrNotChecked
			return s
		}
		s.SES = ses
		s.Signer = ses.Cert
		s.Certificates = []*smx509.Certificate{ses.Cert}
		s.SigningTime = ses.SignedAt
		s.Algorithm = "SM2-with-SM3 (GB/T 38540 SES_Signature)"
		s.DigestAlgorithm = "SM3"
		h := sm3.New()
		if err := hashRanges(r, s.ByteRange, h); err != nil {
			return fail(report.Errorf(report.FormatFailure, "pdf: reading the signed ranges: %v", err))
		}
		s.Digest = h.Sum(nil)
		s.DigestErr = ses.CheckHash(s.Digest)
		s.SignatureErr = ses.VerifySignature()
	default:
		s.SignatureErr = report.Errorf(report.FormatFailure, "pdf: /Contents of %q is neither a CMS SignedData nor an SES_Signature", f.name)
		s.DigestErr = ErrNotChecked
	}
	return s
}

func parseSES(der []byte) (s *seal.Signature, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("malformed SES_Signature: %v", p)
		}
	}()
	return seal.ParseSignature(der)
}

// ErrNotChecked marks a check that could not run because an earlier one
// failed.
var ErrNotChecked = report.Errorf(report.FormatFailure, "pdf: not checked (an earlier check failed)")

// checkByteRange checks that the byte range is [0 a b c], lies within the
// file, ends where a revision ends, and leaves out exactly the /Contents
// hex string (so nothing else of the revision is unsigned).
func checkByteRange(r io.ReaderAt, size int64, br []int64, contents []byte, ends []int64, s *Signature) error {
	bad := func(format string, args ...any) error {
		return report.Errorf(report.FormatFailure, "pdf: /ByteRange %v of %q: "+format, append([]any{br, s.Field}, args...)...)
	}
	if len(br) != 4 {
		return bad("want 4 numbers")
	}
	a, b, c, d := br[0], br[1], br[2], br[3]
	if a != 0 {
		return bad("does not start at 0")
	}
	if b <= 0 || c <= b || d < 0 || c > size || d > size-c {
		return bad("overlaps, is negative or runs past the end of the file (%d bytes)", size)
	}
	end := c + d
	s.RevisionEnd = end
	rev := -1
	for i, e := range ends {
		// A revision ends after %%EOF plus an optional end-of-line; accept
		// a range ending right after %%EOF too.
		if end == e || (end < e && end >= e-2 && onlyEOL(r, end, e)) {
			rev = i
			break
		}
	}
	if rev < 0 {
		return bad("does not end at the end of a revision (%%%%EOF): part of the file is not signed")
	}
	s.Revision = rev + 1
	s.CoversWholeFile = rev == len(ends)-1
	gap := c - b
	if gap != int64(2*len(contents)+2) && !(gap > 2 && gap <= 2*maxContents+2) {
		return bad("the unsigned gap is %d bytes", gap)
	}
	buf := make([]byte, gap)
	if _, err := r.ReadAt(buf, b); err != nil {
		return bad("reading the gap: %v", err)
	}
	if buf[0] != '<' || buf[len(buf)-1] != '>' {
		return bad("the unsigned gap is not exactly the /Contents hex string")
	}
	inner := buf[1 : len(buf)-1]
	if len(inner)%2 != 0 {
		return bad("odd-length /Contents hex string")
	}
	dec := make([]byte, len(inner)/2)
	if _, err := hex.Decode(dec, inner); err != nil {
		return bad("the unsigned gap holds more than hex digits: %v", err)
	}
	if !bytes.Equal(dec, contents) {
		return bad("the unsigned gap is not this signature's /Contents")
	}
	// The bytes before the gap must end with "/Contents" (whitespace
	// allowed), so the gap is that key's value, not some other string.
	pre := make([]byte, min(b, 64))
	if _, err := r.ReadAt(pre, b-int64(len(pre))); err != nil {
		return bad("reading before the gap: %v", err)
	}
	if !bytes.HasSuffix(bytes.TrimRight(pre, " \t\r\n\f\x00"), []byte("/Contents")) {
		return bad("the unsigned gap is not the value of /Contents")
	}
	return nil
}

func onlyEOL(r io.ReaderAt, from, to int64) bool {
	b := make([]byte, to-from)
	if _, err := r.ReadAt(b, from); err != nil {
		return false
	}
	return len(bytes.Trim(b, "\r\n")) == 0
}

// hashRanges feeds the byte ranges (pairs of offset, length) to h in
// chunks.
func hashRanges(r io.ReaderAt, br []int64, h hash.Hash) error {
	buf := make([]byte, chunkSize)
	for i := 0; i+1 < len(br); i += 2 {
		if _, err := io.CopyBuffer(h, io.NewSectionReader(r, br[i], br[i+1]), buf); err != nil {
			return err
		}
	}
	return nil
}

// revisionEnds scans the file once for "%%EOF" markers preceded by a
// startxref, and returns the offsets just after each (and its end-of-line).
func revisionEnds(r io.ReaderAt, size int64) ([]int64, error) {
	var ends []int64
	const overlap = 1024
	buf := make([]byte, chunkSize+overlap)
	marker := []byte("%%EOF")
	for off := int64(0); off < size; off += chunkSize {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("pdf: reading: %w", err)
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], marker)
			if j < 0 {
				break
			}
			p := i + j
			i = p + len(marker)
			abs := off + int64(p)
			// Markers in the overlap are seen again in the next chunk.
			if p >= chunkSize && off+chunkSize < size {
				continue
			}
			if !bytes.Contains(b[max(0, p-64):p], []byte("startxref")) && !precededByStartxref(r, abs) {
				continue
			}
			e := abs + int64(len(marker))
			var eol [2]byte
			m, _ := r.ReadAt(eol[:], e)
			if m > 0 && eol[0] == '\r' {
				e++
				if m > 1 && eol[1] == '\n' {
					e++
				}
			} else if m > 0 && eol[0] == '\n' {
				e++
			}
			if len(ends) == 0 || ends[len(ends)-1] < e {
				ends = append(ends, e)
			}
		}
	}
	return ends, nil
}

func precededByStartxref(r io.ReaderAt, at int64) bool {
	b := make([]byte, min(at, 64))
	r.ReadAt(b, at-int64(len(b)))
	return bytes.Contains(b, []byte("startxref"))
}

func nonSpace(r io.ReaderAt, from, to int64) (int64, error) {
	var n int64
	buf := make([]byte, chunkSize)
	for off := from; off < to; off += chunkSize {
		m, err := r.ReadAt(buf[:min(int64(chunkSize), to-off)], off)
		if err != nil && err != io.EOF {
			return 0, err
		}
		for _, c := range buf[:m] {
			switch c {
			case ' ', '\t', '\r', '\n', '\f', 0:
			default:
				n++
			}
		}
	}
	return n, nil
}

// compareRevisions lists what the newer document changed relative to the
// signed revision old. Added signatures, annotations and form entries,
// page /Annots and catalog /AcroForm updates, and document metadata are
// allowed changes; anything else (page content, resources, objects
// replaced or deleted) is MODIFIED_AFTER_SIGNING.
func compareRevisions(old, cur *dpdf.Reader) (changes []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = report.Errorf(report.ModifiedAfterSigning, "pdf: a later revision cannot be compared with the signed one: %v", p)
		}
	}()
	ox, cx := old.Xref(), cur.Xref()
	oldRoot := ptrOf(old.Trailer().Key("Root"))
	oldInfo, _ := asRef(rawKey(old.Trailer(), "Info"))
	curInfo, _ := asRef(rawKey(cur.Trailer(), "Info"))
	if ptrOf(cur.Trailer().Key("Root")) != oldRoot {
		return nil, report.Errorf(report.ModifiedAfterSigning, "pdf: a later revision replaced the document catalog")
	}
	var acroForm ref
	if af, ok := asRef(rawKey(cur.Trailer().Key("Root"), "AcroForm")); ok {
		acroForm = af
	}
	seen := map[string]bool{}
	note := func(s string) {
		if !seen[s] {
			seen[s] = true
			changes = append(changes, s)
		}
	}
	var mods []string
	for i := 1; i < len(cx); i++ {
		var oe, ce any
		if i < len(ox) {
			oe = xrefKey(&ox[i])
		}
		ce = xrefKey(&cx[i])
		if reflect.DeepEqual(oe, ce) {
			continue
		}
		id := uint32(i)
		cp := cx[i].Ptr()
		if cid := cp.GetID(); cid != id {
			// A free or missing entry in the new table.
			if i < len(ox) {
				if op := ox[i].Ptr(); op.GetID() == id && id != 0 {
					mods = append(mods, fmt.Sprintf("object %d deleted", id))
				}
			}
			continue
		}
		nv := cur.Resolve(cp, cp)
		var ov dpdf.Value
		if i < len(ox) {
			if op := ox[i].Ptr(); op.GetID() == id {
				ov = old.Resolve(op, op)
			}
		}
		if ov.IsNull() {
			note(addedKind(nv))
			continue
		}
		kind, ok := changedKind(id, ov, nv, oldRoot, acroForm, oldInfo, curInfo)
		if ok {
			note(kind)
		} else {
			mods = append(mods, kind)
		}
	}
	if len(mods) > 0 {
		sort.Strings(mods)
		if len(mods) > 5 {
			mods = append(mods[:5], fmt.Sprintf("and %d more", len(mods)-5))
		}
		return changes, report.Errorf(report.ModifiedAfterSigning, "pdf: changed after signing: %s", strings.Join(mods, "; "))
	}
	return changes, nil
}

// xrefKey returns a comparable view of a digitorus xref entry: where the
// object lives.
func xrefKey(x any) any {
	rv := reflect.ValueOf(x).Elem()
	p := rv.FieldByName("ptr")
	s := rv.FieldByName("stream")
	return [6]int64{
		int64(p.FieldByName("id").Uint()), int64(p.FieldByName("gen").Uint()),
		boolInt(rv.FieldByName("inStream").Bool()),
		int64(s.FieldByName("id").Uint()), int64(s.FieldByName("gen").Uint()),
		rv.FieldByName("offset").Int(),
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func addedKind(v dpdf.Value) string {
	switch v.Key("Type").Name() {
	case "Sig", "DocTimeStamp":
		return "signature added"
	case "Annot":
		if v.Key("FT").Name() == "Sig" {
			return "signature field added"
		}
		return "annotation added (" + v.Key("Subtype").Name() + ")"
	case "XObject":
		return "appearance added"
	case "XRef", "ObjStm":
		return "cross-reference data added"
	}
	if v.Key("FT").Name() == "Sig" {
		return "signature field added"
	}
	return "objects added"
}

// changedKind classifies an object that exists in both revisions but
// differs; ok reports whether the change is allowed.
func changedKind(id uint32, ov, nv dpdf.Value, root, acroForm, oldInfo, curInfo ref) (string, bool) {
	diff := differingKeys(ov, nv)
	only := func(allowed ...string) bool {
		for _, k := range diff {
			ok := false
			for _, a := range allowed {
				ok = ok || k == a
			}
			if !ok {
				return false
			}
		}
		return true
	}
	typ := nv.Key("Type").Name()
	switch {
	case id == root.ID:
		if only("AcroForm", "DSS", "Perms") {
			return "form updated (catalog /AcroForm)", true
		}
		return fmt.Sprintf("document catalog changed (%s)", strings.Join(diff, ", ")), false
	case acroForm.ID != 0 && id == acroForm.ID:
		if only("Fields", "SigFlags", "DR", "DA", "NeedAppearances") {
			return "form updated", true
		}
		return fmt.Sprintf("form changed (%s)", strings.Join(diff, ", ")), false
	case typ == "Page":
		if only("Annots") {
			return "page annotations updated", true
		}
		return fmt.Sprintf("page object %d changed (%s)", id, strings.Join(diff, ", ")), false
	case id == oldInfo.ID || id == curInfo.ID:
		return "document information updated", true
	case typ == "Metadata":
		return "metadata updated", true
	case typ == "Annot" && nv.Key("FT").Name() == "Sig" && only("V", "AP", "AS"):
		return "signature field signed", true
	case ov.Kind() == dpdf.Array && nv.Kind() == dpdf.Array:
		if arrayOnlyAddsAnnots(ov, nv) {
			return "annotations or fields appended", true
		}
		return fmt.Sprintf("array object %d changed", id), false
	}
	if typ == "" {
		typ = ov.Key("Type").Name()
	}
	if typ == "" {
		typ = "untyped"
	}
	return fmt.Sprintf("object %d (%s) replaced", id, typ), false
}

// differingKeys lists the dictionary keys whose raw values differ.
func differingKeys(a, b dpdf.Value) []string {
	keys := map[string]bool{}
	for _, k := range a.Keys() {
		keys[k] = true
	}
	for _, k := range b.Keys() {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !reflect.DeepEqual(rawKey(a, k), rawKey(b, k)) {
			out = append(out, k)
		}
	}
	if a.Kind() == dpdf.Stream || b.Kind() == dpdf.Stream {
		// Stream data cannot be compared through keys; a stream object
		// rewritten at a new place counts as changed content.
		out = append(out, "(stream)")
	}
	sort.Strings(out)
	return out
}

// arrayOnlyAddsAnnots reports whether nv keeps every element of ov and
// every added element is an annotation or form field dictionary.
func arrayOnlyAddsAnnots(ov, nv dpdf.Value) bool {
	oi, ni := rawItems(ov), rawItems(nv)
	have := map[any]int{}
	for _, x := range ni {
		have[x]++
	}
	for _, x := range oi {
		if have[x] == 0 {
			return false
		}
		have[x]--
	}
	for i := 0; i < nv.Len(); i++ {
		x := ni[i]
		if have[x] == 0 {
			continue
		}
		have[x]--
		e := nv.Index(i)
		if e.Key("Type").Name() != "Annot" && e.Key("FT").IsNull() {
			return false
		}
	}
	return true
}

// parsePDFDate reads "D:YYYYMMDDHHmmSSOHH'mm'" with optional parts.
func parsePDFDate(s string) (time.Time, error) {
	s = strings.TrimPrefix(s, "D:")
	if len(s) < 4 {
		return time.Time{}, errors.New("short date")
	}
	layouts := []string{"20060102150405Z07'00'", "20060102150405Z07'00", "20060102150405Z0700", "20060102150405Z", "20060102150405", "200601021504", "2006010215", "20060102", "200601", "2006"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	if strings.HasSuffix(s, "Z00'00'") {
		return time.Parse("20060102150405", strings.TrimSuffix(s, "Z00'00'"))
	}
	return time.Time{}, fmt.Errorf("cannot read date %q", s)
}

// checkDocMDP applies a certification signature's permissions to the
// changes made after it.
func checkDocMDP(sig dpdf.Value, changes []string) error {
	p := docMDP(sig)
	if p == 0 || len(changes) == 0 {
		return nil
	}
	if p == 1 {
		return report.Errorf(report.ModifiedAfterSigning, "pdf: the document was certified with no changes allowed (DocMDP P=1) but was changed: %s", strings.Join(changes, ", "))
	}
	if p == 2 {
		for _, c := range changes {
			if strings.HasPrefix(c, "annotation added") {
				return report.Errorf(report.ModifiedAfterSigning, "pdf: the certification allows form filling and signing only (DocMDP P=2), but an annotation was added")
			}
		}
	}
	return nil
}
