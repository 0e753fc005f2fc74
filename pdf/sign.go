package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	dpdf "github.com/digitorus/pdf"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/seal"
)

// sesPropertyInfo is TBS_Sign.propertyInfo of the SES signatures we write:
// what the dataHash protects.
const sesPropertyInfo = "PDF /ByteRange (SM3)"

// sesSign makes the SES_Signature; tests replace it to build bad inputs
// that seal.Sign rightly refuses to make.
var sesSign = seal.Sign

// Format says what /Contents holds.
type Format int

const (
	// CMS is a detached CMS SignedData with SM3 and SM2 (RFC 5652 content
	// types, SignerInfo algorithm 1.2.156.10197.1.301.1).
	CMS Format = iota
	// SES is a GB/T 38540 SES_Signature whose dataHash is SM3 over the
	// bytes the /ByteRange covers.
	SES
	// DocTimestamp is a document timestamp (ISO 32000-2 §12.8.5, PAdES
	// B-LTA): /Type /DocTimeStamp, /SubFilter /ETSI.RFC3161, and /Contents
	// a bare RFC 3161 TimeStampToken whose message imprint is the hash of
	// the byte range. It is not a signature by a person or an agency: it
	// proves the revision existed at the token's genTime. Sign does not
	// make these; AddDocTimestamp does.
	DocTimestamp
	unknownFormat
)

func (f Format) String() string {
	switch f {
	case CMS:
		return "CMS"
	case SES:
		return "SES"
	case DocTimestamp:
		return "DocTimeStamp"
	}
	return "unknown"
}

// Rect is a rectangle on a page in PDF points (1/72 inch), origin at the
// bottom-left corner of the page.
type Rect struct{ X, Y, W, H float64 }

// Appearance is the visible part of a signature: a picture (the seal, a
// PNG, transparency kept) drawn in Rect on page Page (1-based).
type Appearance struct {
	PNG  []byte
	Page int
	Rect Rect
}

// SignOptions say who signs and how the signature looks.
type SignOptions struct {
	Signer crypto.Signer         // an SM2 key (*sm2.PrivateKey)
	Cert   *smx509.Certificate   // its certificate
	Chain  []*smx509.Certificate // intermediates, issuer first (optional)
	Time   time.Time             // signing time; zero means time.Now()

	Reason, Location string
	Name             string // signer's name shown by readers (/Name)
	FieldName        string // signature field name; default "Signature1", "Signature2", ...

	Appearance *Appearance // nil: an invisible signature on page 1

	Format  Format
	SESSeal []byte // Format SES: the seal (DER SESeal, version 4) listing Cert

	// Timestamp, if set (Format CMS only), is called once with the CMS
	// signature value — the SignerInfo's signature OCTET STRING contents —
	// and returns an RFC 3161 TimeStampToken (DER, at most 16 KiB) whose
	// message imprint is a hash of those bytes, as a TSA answers a request
	// for them. Sign adds it as the unsigned attribute id-aa-timeStampToken
	// (RFC 3161 Appendix A), which the signature does not cover; it checks
	// only that the token is one DER ContentInfo, Verify checks the rest.
	// Sign reserves 16 KiB more of /Contents for it. The function asks a
	// TSA (package pdf/tsaclient: HTTP, RFC 3161 §3.4) or a test TSA.
	Timestamp func(signature []byte) ([]byte, error)

	// docTimestamp makes planUpdate write a document timestamp dictionary
	// (AddDocTimestamp) instead of a signature dictionary.
	docTimestamp bool
}

// maxSignTimestamp is the room Sign reserves for SignOptions.Timestamp's
// token: a TSA certificate chain of a few certificates fits easily.
const maxSignTimestamp = 16 << 10

// ErrEncrypted is returned for encrypted PDFs, which this package neither
// signs nor verifies.
var ErrEncrypted = errors.New("pdf: the PDF is encrypted; decrypt it first (for example qpdf --decrypt in.pdf out.pdf)")

// openReader opens a PDF with digitorus/pdf, turning its panics into
// errors and refusing encrypted files.
func openReader(r io.ReaderAt, size int64) (rd *dpdf.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, fmt.Errorf("pdf: malformed PDF: %v", p)
		}
		if err != nil && looksEncrypted(r, size) {
			rd, err = nil, ErrEncrypted
		}
	}()
	if err := guardFile(r, size); err != nil {
		return nil, err
	}
	rd, err = dpdf.NewReader(r, size)
	if err != nil {
		if errors.Is(err, dpdf.ErrInvalidPassword) {
			return nil, ErrEncrypted
		}
		return nil, fmt.Errorf("pdf: cannot read the PDF: %v", err)
	}
	if !rd.Trailer().Key("Encrypt").IsNull() {
		return nil, ErrEncrypted
	}
	if err := checkObjStms(rd); err != nil {
		return nil, err
	}
	return rd, nil
}

// looksEncrypted reports whether the last trailer (or xref stream
// dictionary), near the end of the file, names an /Encrypt dictionary. It
// is used when digitorus/pdf fails on a file, so that an encrypted file
// gets a clear error rather than a parse error.
func looksEncrypted(r io.ReaderAt, size int64) bool {
	n := min(size, 64<<10)
	b := make([]byte, n)
	m, _ := r.ReadAt(b, size-n)
	return bytes.Contains(b[:m], []byte("/Encrypt"))
}

// recovered converts a panic of digitorus/pdf into err.
func recovered(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("pdf: malformed PDF: %v", p)
	}
}

const byteRangeWidth = 10 // digits per /ByteRange number: files up to ~9 GB

// Sign appends an incremental update to the PDF in (size bytes) that
// signs it, and writes the original bytes followed by the update to out.
// The original bytes are streamed through once (copied and hashed at the
// same time); only the update is built in memory.
func Sign(in io.ReaderAt, size int64, out io.Writer, opts SignOptions) (err error) {
	defer recovered(&err)
	if opts.Signer == nil || opts.Cert == nil {
		return errors.New("pdf: SignOptions needs Signer and Cert")
	}
	if !publicKeysEqual(opts.Signer.Public(), opts.Cert.PublicKey) {
		return errors.New("pdf: the signer's key does not match the certificate")
	}
	if !sm2.IsSM2PublicKey(opts.Signer.Public()) {
		return errors.New("pdf: the signer's key is not an SM2 key")
	}
	if opts.Format == SES && len(opts.SESSeal) == 0 {
		return errors.New("pdf: Format SES needs SignOptions.SESSeal, the seal to stamp with")
	}
	if opts.Format == DocTimestamp {
		return errors.New("pdf: a document timestamp is made by AddDocTimestamp with a TSA, not by Sign")
	}
	if opts.Format != CMS && opts.Timestamp != nil {
		return errors.New("pdf: SignOptions.Timestamp works with Format CMS only (an SES_Signature carries its own timestamp field)")
	}
	at := opts.Time
	if at.IsZero() {
		at = time.Now()
	}
	rd, err := openReader(in, size)
	if err != nil {
		return err
	}
	u, err := planUpdate(rd, in, size, &opts, at)
	if err != nil {
		return err
	}

	// Placeholder size: the signature plus certificates, with room to spare.
	est := 2048 + len(opts.Cert.Raw)
	for _, c := range opts.Chain {
		est += len(c.Raw)
	}
	if opts.Format == SES {
		est += len(opts.SESSeal) + len(opts.Cert.Raw) + 1024
	}
	if opts.Timestamp != nil {
		est += maxSignTimestamp + 64 // the token and its attribute's header
	}
	return u.write(in, size, out, est, sm3.New, func(digest []byte) ([]byte, error) {
		switch opts.Format {
		case CMS:
			return buildCMSStamped(digest, opts.Signer, opts.Cert, opts.Chain, at, oidSignedData, oidSM2Sign, opts.Timestamp)
		case SES:
			return sesSign(opts.SESSeal, opts.Cert, opts.Signer, digest, sesPropertyInfo, at)
		}
		return nil, fmt.Errorf("pdf: unknown signature format %d", opts.Format)
	})
}

// write builds the update with room for est bytes of /Contents, streams
// the original through out and newHash, hashes the update around
// /Contents, asks sign for /Contents over that digest, and writes the
// update.
func (u *update) write(in io.ReaderAt, size int64, out io.Writer, est int, newHash func() hash.Hash, sign func(digest []byte) ([]byte, error)) error {
	section, cStart, cEnd, err := u.build(est * 2)
	if err != nil {
		return err
	}

	base := size + int64(len(u.prefix))
	total := base + int64(len(section))
	br := []int64{0, base + int64(cStart), base + int64(cEnd), total - (base + int64(cEnd))}
	if err := patchByteRange(section, br); err != nil {
		return err
	}

	h := newHash()
	if _, err := io.Copy(io.MultiWriter(out, h), io.NewSectionReader(in, 0, size)); err != nil {
		return fmt.Errorf("pdf: copying the original: %w", err)
	}
	h.Write(u.prefix)
	h.Write(section[:cStart])
	h.Write(section[cEnd:])
	sig, err := sign(h.Sum(nil))
	if err != nil {
		return err
	}
	if 2*len(sig) > cEnd-cStart-2 {
		return fmt.Errorf("pdf: signature of %d bytes does not fit the %d-byte placeholder", len(sig), (cEnd-cStart-2)/2)
	}
	hex.Encode(section[cStart+1:], sig)
	if _, err := out.Write(u.prefix); err != nil {
		return err
	}
	if _, err := out.Write(section); err != nil {
		return err
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok1 := a.(*ecdsa.PublicKey)
	eb, ok2 := b.(*ecdsa.PublicKey)
	if ok1 && ok2 {
		return ea.X.Cmp(eb.X) == 0 && ea.Y.Cmp(eb.Y) == 0
	}
	type eq interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(eq); ok {
		return e.Equal(b)
	}
	return false
}

func patchByteRange(section []byte, br []int64) error {
	ph := []byte("/ByteRange [" + strings.Repeat("*", 3*byteRangeWidth+3+1) + "]")
	i := bytes.Index(section, ph)
	if i < 0 {
		return errors.New("pdf: internal error: ByteRange placeholder missing")
	}
	s := fmt.Sprintf("%d %d %d %d", br[0], br[1], br[2], br[3])
	inner := len(ph) - len("/ByteRange [") - 1
	if len(s) > inner {
		return errors.New("pdf: file too large for the ByteRange placeholder")
	}
	copy(section[i+len("/ByteRange ["):], s+strings.Repeat(" ", inner-len(s)))
	return nil
}

// update is the plan of one incremental update.
type update struct {
	prefix    []byte // "\n" if the original does not end with an end-of-line
	base      int64  // file offset where the update's objects start
	objs      []obj  // objects to write, in order
	nextID    uint32 // first free object number after ours
	prevXref  int64
	xrefIsStm bool
	trailer   *dict // Root, Info, ID (Size and Prev are added)
	sigID     uint32
}

type obj struct {
	id     uint32
	gen    uint16
	val    any    // dict or array
	stream []byte // non-nil: val is the stream dictionary
}

// planUpdate decides which objects the update adds and rewrites.
func planUpdate(rd *dpdf.Reader, in io.ReaderAt, size int64, opts *SignOptions, at time.Time) (*update, error) {
	u := &update{prevXref: rd.XrefInformation.StartPos, xrefIsStm: rd.XrefInformation.Type == "stream"}
	var last [1]byte
	if size > 0 {
		if _, err := in.ReadAt(last[:], size-1); err != nil {
			return nil, fmt.Errorf("pdf: reading the input: %w", err)
		}
	}
	if last[0] != '\n' && last[0] != '\r' {
		u.prefix = []byte("\n")
	}
	u.base = size + int64(len(u.prefix))

	tr := rd.Trailer()
	rootRef, ok := asRef(rawKey(tr, "Root"))
	if !ok {
		return nil, errors.New("pdf: the trailer has no indirect /Root")
	}
	root := tr.Key("Root")
	if root.Kind() != dpdf.Dict {
		return nil, errors.New("pdf: /Root is not a catalog dictionary")
	}
	locked := docMDP(root.Key("Perms").Key("DocMDP")) == 1
	for _, f := range findSignatures(rd) {
		locked = locked || docMDP(f.v) == 1
	}
	if locked {
		return nil, errors.New("pdf: the document is certified with no changes allowed (DocMDP P=1): another signature would break its certification")
	}
	sizeN := tr.Key("Size").Int64()
	if sizeN <= 0 || sizeN > 1<<24 {
		return nil, fmt.Errorf("pdf: bad trailer /Size %d", sizeN)
	}
	next := uint32(sizeN)
	alloc := func() uint32 { next++; return next - 1 }

	u.trailer = newDict()
	u.trailer.Set("Root", rootRef)
	if info, ok := asRef(rawKey(tr, "Info")); ok {
		u.trailer.Set("Info", info)
	}
	if id := rawKey(tr, "ID"); id != nil {
		u.trailer.Set("ID", id)
	}

	pageNo := 1
	if opts.Appearance != nil && opts.Appearance.Page > 0 {
		pageNo = opts.Appearance.Page
	}
	page, pageRef, err := findPage(rd, pageNo)
	if err != nil {
		return nil, err
	}

	u.sigID = alloc()
	widgetID := alloc()

	// Field name: unique among the form's top-level fields.
	af := root.Key("AcroForm")
	taken := map[string]bool{}
	fields := af.Key("Fields")
	for i := 0; i < fields.Len(); i++ {
		taken[fields.Index(i).Key("T").Text()] = true
	}
	fieldName := opts.FieldName
	prefix := "Signature"
	if opts.docTimestamp {
		prefix = "DocTimeStamp"
	}
	if fieldName == "" {
		for i := 1; ; i++ {
			fieldName = fmt.Sprintf("%s%d", prefix, i)
			if !taken[fieldName] {
				break
			}
		}
	} else if taken[fieldName] {
		return nil, fmt.Errorf("pdf: a field named %q already exists; choose another FieldName", fieldName)
	}

	// The signature dictionary; /ByteRange and /Contents are placeholders
	// patched by Sign.
	sig := newDict().
		Set("Type", name("Sig")).
		Set("Filter", name("Adobe.PPKLite")).
		Set("SubFilter", name("adbe.pkcs7.detached")).
		Set("ByteRange", rawToken("["+strings.Repeat("*", 3*byteRangeWidth+3+1)+"]")).
		Set("Contents", rawToken("\x00contents\x00"))
	if opts.docTimestamp {
		// ISO 32000-2 Table 255: the time is the token's genTime, so no
		// /M; nor a signer's /Name, /Reason or /Location.
		sig.Set("Type", name("DocTimeStamp")).Set("SubFilter", name("ETSI.RFC3161"))
	} else {
		sig.Set("M", hexString(pdfDate(at)))
	}
	if opts.Name != "" {
		sig.Set("Name", textString(opts.Name))
	}
	if opts.Reason != "" {
		sig.Set("Reason", textString(opts.Reason))
	}
	if opts.Location != "" {
		sig.Set("Location", textString(opts.Location))
	}
	u.objs = append(u.objs, obj{id: u.sigID, val: sig})

	widget := newDict().
		Set("Type", name("Annot")).
		Set("Subtype", name("Widget")).
		Set("FT", name("Sig")).
		Set("T", textString(fieldName)).
		Set("V", ref{ID: u.sigID}).
		Set("F", 132). // Print + Locked
		Set("P", pageRef)
	if a := opts.Appearance; a != nil {
		if a.Rect.W <= 0 || a.Rect.H <= 0 {
			return nil, errors.New("pdf: Appearance.Rect needs a positive width and height")
		}
		widget.Set("Rect", []any{a.Rect.X, a.Rect.Y, a.Rect.X + a.Rect.W, a.Rect.Y + a.Rect.H})
		apID := alloc()
		var res *dict
		content := "% empty\n"
		if len(a.PNG) > 0 {
			imgObjs, err := imageXObject(a.PNG, alloc)
			if err != nil {
				return nil, err
			}
			u.objs = append(u.objs, imgObjs...)
			res = newDict().Set("XObject", newDict().Set("Im0", ref{ID: imgObjs[0].id}))
			content = fmt.Sprintf("q %s 0 0 %s 0 0 cm /Im0 Do Q\n", fnum(a.Rect.W), fnum(a.Rect.H))
		}
		ap := newDict().
			Set("Type", name("XObject")).
			Set("Subtype", name("Form")).
			Set("BBox", []any{0, 0, a.Rect.W, a.Rect.H})
		if res != nil {
			ap.Set("Resources", res)
		}
		u.objs = append(u.objs, obj{id: apID, val: ap, stream: []byte(content)})
		widget.Set("AP", newDict().Set("N", ref{ID: apID}))
	} else {
		widget.Set("Rect", []any{0, 0, 0, 0})
	}
	u.objs = append(u.objs, obj{id: widgetID, val: widget})
	wref := ref{ID: widgetID}

	// The page gets the widget in /Annots (rewriting the array object if
	// /Annots is indirect, else the page).
	switch annots := rawKey(page, "Annots").(type) {
	case nil:
		pd := dictOf(page)
		pd.Set("Annots", []any{wref})
		u.objs = append(u.objs, obj{id: pageRef.ID, gen: pageRef.Gen, val: pd})
	default:
		if ar, ok := asRef(annots); ok {
			items := rawItems(page.Key("Annots"))
			u.objs = append(u.objs, obj{id: ar.ID, gen: ar.Gen, val: append(items, wref)})
		} else {
			pd := dictOf(page)
			pd.Set("Annots", append(rawItems(page.Key("Annots")), wref))
			u.objs = append(u.objs, obj{id: pageRef.ID, gen: pageRef.Gen, val: pd})
		}
	}

	// The form: /Fields gets the field, /SigFlags 3 (signatures exist,
	// append only).
	addToForm := func(form *dict, formVal dpdf.Value) {
		form.Set("SigFlags", 3)
		if fr, ok := asRef(rawKey(formVal, "Fields")); ok {
			u.objs = append(u.objs, obj{id: fr.ID, gen: fr.Gen, val: append(rawItems(formVal.Key("Fields")), wref)})
			return
		}
		form.Set("Fields", append(rawItems(formVal.Key("Fields")), wref))
	}
	rawAF := rawKey(root, "AcroForm")
	if afRef, ok := asRef(rawAF); ok && af.Kind() == dpdf.Dict {
		form := dictOf(af)
		addToForm(form, af)
		u.objs = append(u.objs, obj{id: afRef.ID, gen: afRef.Gen, val: form})
	} else {
		cat := dictOf(root)
		var form *dict
		if af.Kind() == dpdf.Dict {
			form = dictOf(af)
		} else {
			form = newDict()
		}
		addToForm(form, af)
		cat.Set("AcroForm", form)
		u.objs = append(u.objs, obj{id: rootRef.ID, gen: rootRef.Gen, val: cat})
	}
	u.nextID = next
	return u, nil
}

func fnum(f float64) string {
	var b bytes.Buffer
	writeObj(&b, f)
	return b.String()
}

// pdfDate formats t as a PDF date string (PDF 32000-1 §7.9.4).
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	s := t.Format("D:20060102150405")
	if off == 0 {
		return s + "Z"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%s%02d'%02d'", s, sign, off/3600, off%3600/60)
}

// build writes the update: objects, then the cross-reference section (a
// table if the original has one, else a cross-reference stream) and the
// trailer. It returns the bytes and where the /Contents hex string starts
// and ends (the '<' and one past the '>').
func (u *update) build(contentsHex int) ([]byte, int, int, error) {
	var w bytes.Buffer
	offsets := map[uint32]int64{}
	gens := map[uint32]uint16{}
	for _, o := range u.objs {
		offsets[o.id] = u.base + int64(w.Len())
		gens[o.id] = o.gen
		fmt.Fprintf(&w, "%d %d obj\n", o.id, o.gen)
		if o.stream != nil {
			d := o.val.(*dict)
			d.Set("Length", len(o.stream))
			if err := writeObj(&w, d); err != nil {
				return nil, 0, 0, err
			}
			w.WriteString("\nstream\n")
			w.Write(o.stream)
			w.WriteString("\nendstream")
		} else if err := writeObj(&w, o.val); err != nil {
			return nil, 0, 0, err
		}
		w.WriteString("\nendobj\n")
	}
	b := w.Bytes()
	mark := []byte("\x00contents\x00")
	i := bytes.Index(b, mark)
	if i < 0 {
		return nil, 0, 0, errors.New("pdf: internal error: Contents placeholder missing")
	}
	ph := "<" + strings.Repeat("0", contentsHex) + ">"
	var nb bytes.Buffer
	nb.Write(b[:i])
	nb.WriteString(ph)
	nb.Write(b[i+len(mark):])
	cStart, cEnd := i, i+len(ph)
	// Objects after the placeholder moved.
	delta := int64(len(ph) - len(mark))
	for id, off := range offsets {
		if off-u.base > int64(i) {
			offsets[id] = off + delta
		}
	}
	w = nb

	ids := make([]uint32, 0, len(offsets))
	for id := range offsets {
		ids = append(ids, id)
	}
	xrefOff := u.base + int64(w.Len())
	tr := u.trailer
	tr.Set("Prev", u.prevXref)
	if !u.xrefIsStm {
		tr.Set("Size", int64(u.nextID))
		sortIDs(ids)
		w.WriteString("xref\n")
		for _, run := range runs(ids) {
			fmt.Fprintf(&w, "%d %d\n", run[0], len(run))
			for _, id := range run {
				fmt.Fprintf(&w, "%010d %05d n\r\n", offsets[id], gens[id])
			}
		}
		w.WriteString("trailer\n")
		if err := writeObj(&w, tr); err != nil {
			return nil, 0, 0, err
		}
		w.WriteString("\n")
	} else {
		xid := u.nextID
		offsets[xid] = xrefOff
		ids = append(ids, xid)
		sortIDs(ids)
		ow := 4
		if xrefOff > 0xffffffff {
			ow = 8
		}
		var data []byte
		var index []any
		for _, run := range runs(ids) {
			index = append(index, int64(run[0]), int64(len(run)))
			for _, id := range run {
				data = append(data, 1)
				off := offsets[id]
				for k := ow - 1; k >= 0; k-- {
					data = append(data, byte(off>>(8*k)))
				}
				g := gens[id]
				data = append(data, byte(g>>8), byte(g))
			}
		}
		tr.Set("Type", name("XRef"))
		tr.Set("Size", int64(xid+1))
		tr.Set("Index", index)
		tr.Set("W", []any{1, ow, 2})
		tr.Set("Length", len(data))
		fmt.Fprintf(&w, "%d 0 obj\n", xid)
		if err := writeObj(&w, tr); err != nil {
			return nil, 0, 0, err
		}
		w.WriteString("\nstream\n")
		w.Write(data)
		w.WriteString("\nendstream\nendobj\n")
	}
	fmt.Fprintf(&w, "startxref\n%d\n%%%%EOF\n", xrefOff)
	return w.Bytes(), cStart, cEnd, nil
}

func sortIDs(ids []uint32) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// runs splits sorted ids into consecutive runs (xref subsections).
func runs(ids []uint32) [][]uint32 {
	var out [][]uint32
	for i, id := range ids {
		if i == 0 || id != ids[i-1]+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], id)
	}
	return out
}

// findPage returns page n (1-based) by walking the page tree, with a
// visited set (digitorus's Page follows /Kids without one).
func findPage(rd *dpdf.Reader, n int) (dpdf.Value, ref, error) {
	visited := map[ref]bool{}
	count := 0
	var found dpdf.Value
	var foundRef ref
	var walk func(v dpdf.Value, self ref, depth int) bool
	walk = func(v dpdf.Value, self ref, depth int) bool {
		if depth > 64 || visited[self] || len(visited) > 1<<20 {
			return false
		}
		visited[self] = true
		switch v.Key("Type").Name() {
		case "Page":
			count++
			if count == n {
				found, foundRef = v, self
				return true
			}
		case "Pages":
			kids := v.Key("Kids")
			raw := rawItems(kids)
			for i := range raw {
				kr, ok := asRef(raw[i])
				if !ok {
					continue // pages must be indirect objects
				}
				if walk(kids.Index(i), kr, depth+1) {
					return true
				}
			}
		}
		return false
	}
	root, ok := asRef(rawKey(rd.Trailer().Key("Root"), "Pages"))
	if !ok {
		return dpdf.Value{}, ref{}, errors.New("pdf: the catalog has no indirect /Pages")
	}
	if !walk(rd.Trailer().Key("Root").Key("Pages"), root, 0) {
		return dpdf.Value{}, ref{}, fmt.Errorf("pdf: page %d not found: the document has %d pages", n, count)
	}
	return found, foundRef, nil
}

// docMDP returns the /P of a certification signature's DocMDP transform
// (1 no changes, 2 form filling and signing, 3 also annotations), or 0 if
// sig is not a certification signature.
func docMDP(sig dpdf.Value) int64 {
	refs := sig.Key("Reference")
	for i := 0; i < refs.Len() && i < 8; i++ {
		r := refs.Index(i)
		if r.Key("TransformMethod").Name() == "DocMDP" {
			p := r.Key("TransformParams").Key("P").Int64()
			if p == 0 {
				p = 2 // the default (ISO 32000-1 Table 254)
			}
			return p
		}
	}
	return 0
}
