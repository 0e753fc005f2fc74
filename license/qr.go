package license

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"io"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"

	"github.com/zhengxin/zhengxin/verify/report"
)

// QR payload prefixes. The prefix names the format version; a verifier
// refuses any other rather than guessing.
const (
	PrefixLicense      = "ZX1:"  // static license QR
	PrefixPresentation = "ZXP1:" // holder-bound presentation QR
)

const (
	// MaxQRText is the most characters a QR code holds in alphanumeric
	// mode (version 40, level L); longer input is refused before decoding.
	MaxQRText = 4296
	// maxCBOR bounds decompression: no payload inflates beyond it
	// (zip-bomb safe: reading stops at maxCBOR+1 bytes).
	maxCBOR = 8192
)

var (
	zwPool = sync.Pool{New: func() any {
		w, err := zlib.NewWriterLevelDict(io.Discard, zlib.BestCompression, zlibDictBytes)
		if err != nil {
			panic(err)
		}
		return w
	}}
	// frPool holds raw DEFLATE readers (io.ReadCloser implementing
	// flate.Resetter): decompress does the zlib framing itself.
	frPool sync.Pool

	// zlibDictBytes is the preset dictionary as bytes, made once: a
	// []byte(zlibDict) per call would copy its 2.6 KB every time.
	zlibDictBytes = []byte(zlibDict)
	// zlibDictID is the DICTID (RFC 1950 §2.2: Adler-32 of the
	// dictionary) a stream made with the dictionary carries.
	zlibDictID = adler32.Checksum(zlibDictBytes)
)

// compress zlib-compresses b with the preset dictionary, reusing writers.
func compress(b []byte) []byte {
	var out bytes.Buffer
	w := zwPool.Get().(*zlib.Writer)
	w.Reset(&out)
	w.Write(b)
	w.Close()
	zwPool.Put(w)
	return out.Bytes()
}

// decompress inflates a zlib stream made with or without the preset
// dictionary, refusing output above maxCBOR bytes.
//
// It reads the zlib framing (RFC 1950) itself, with the same checks and
// errors as compress/zlib, around a pooled DEFLATE reader: zlib's Reset
// takes the dictionary as an argument and recomputes its Adler-32 on every
// call, here computed once (zlibDictID).
func decompress(b []byte) ([]byte, error) {
	// Header: CMF, FLG (CM 8 = deflate, CINFO <= 7, FCHECK), then DICTID
	// when FDICT is set.
	if len(b) < 2 {
		return nil, formatErr("zlib: %v", io.ErrUnexpectedEOF)
	}
	if b[0]&0x0f != 8 || b[0]>>4 > 7 || (uint(b[0])<<8|uint(b[1]))%31 != 0 {
		return nil, formatErr("%v", zlib.ErrHeader)
	}
	var dict []byte
	rest := b[2:]
	if b[1]&0x20 != 0 {
		if len(rest) < 4 {
			return nil, formatErr("zlib: %v", io.ErrUnexpectedEOF)
		}
		if binary.BigEndian.Uint32(rest) != zlibDictID {
			return nil, formatErr("%v", zlib.ErrDictionary)
		}
		dict, rest = zlibDictBytes, rest[4:]
	}
	br := bytes.NewReader(rest)
	var fr io.ReadCloser
	if v := frPool.Get(); v != nil {
		fr = v.(io.ReadCloser)
		fr.(flate.Resetter).Reset(br, dict)
	} else {
		fr = flate.NewReaderDict(br, dict)
	}
	defer frPool.Put(fr)
	// Read into one pooled buffer of the bound's size plus one byte: no
	// re-growing, and one byte too many proves the payload too large.
	buf := bufPool.Get().(*[maxCBOR + 1]byte)[:]
	n := 0
	for n < len(buf) {
		m, err := fr.Read(buf[n:])
		n += m
		if err == io.EOF {
			// Trailer: Adler-32 of the inflated data.
			var sum [4]byte
			if _, err := io.ReadFull(br, sum[:]); err != nil {
				releaseBody(buf)
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, formatErr("zlib: %v", err)
			}
			if binary.BigEndian.Uint32(sum[:]) != adler32.Checksum(buf[:n]) {
				releaseBody(buf)
				return nil, formatErr("%v", zlib.ErrChecksum)
			}
			break
		}
		if err != nil {
			releaseBody(buf)
			return nil, formatErr("zlib: %v", err)
		}
	}
	if n > maxCBOR {
		releaseBody(buf)
		return nil, formatErr("payload inflates beyond %d bytes", maxCBOR)
	}
	if br.Len() != 0 {
		// flate reads a bytes.Reader byte by byte, so what is left is
		// really after the stream's checksum: refuse it, one payload has
		// one encoding.
		releaseBody(buf)
		return nil, formatErr("%d bytes after the zlib stream", br.Len())
	}
	return buf[:n], nil
}

// bufPool holds inflate buffers. Decoders copy what they keep (strings,
// byte strings, RawMessage), so a body goes back to the pool as soon as
// its parse function returns (releaseBody).
var bufPool = sync.Pool{New: func() any { return new([maxCBOR + 1]byte) }}

func releaseBody(b []byte) {
	if cap(b) >= maxCBOR+1 {
		bufPool.Put((*[maxCBOR + 1]byte)(b[:maxCBOR+1]))
	}
}

// unwrapQR checks the prefix and size, and undoes Base45 and zlib.
func unwrapQR(text, prefix string) ([]byte, error) {
	// Scan guns end lines with CR/LF. Space is a Base45 character, but
	// never the last one (the last digit of a group is at most 32), and
	// the text starts with the prefix, so trimming spaces loses nothing.
	text = strings.TrimSpace(text)
	if len(text) > MaxQRText+len(prefix) {
		return nil, formatErr("QR text longer than %d characters", MaxQRText)
	}
	if len(text) < len(prefix) || !strings.EqualFold(text[:len(prefix)], prefix) {
		return nil, formatErr("QR text does not start with %s", prefix)
	}
	if !strings.HasPrefix(text, prefix) {
		// A scan gun with Caps Lock on types the text in lower case.
		// Base45 has no lower-case letters, so upper-casing restores
		// exactly what the QR holds.
		text = strings.ToUpper(text)
	}
	z, err := Base45Decode(text[len(prefix):])
	if err != nil {
		return nil, report.Errorf(report.FormatFailure, "%v", err)
	}
	if len(z) == 0 {
		return nil, formatErr("empty QR payload")
	}
	return decompress(z)
}

func wrapQR(prefix string, body []byte) string {
	return prefix + Base45Encode(compress(body))
}

// staticQR is the body of a "ZX1:" license QR:
// [COSE_Sign1 with detached payload, claims without digests (key 12),
// master salt, {tag: value}, {tag: digest} of fields left out].
type staticQR struct {
	_       struct{} `cbor:",toarray"`
	COSE    cbor.RawMessage
	Claims  cbor.RawMessage
	Master  []byte
	Values  map[uint64]cbor.RawMessage
	Omitted map[uint64][]byte
}

// QRText returns the static license QR payload: every field in clear
// except those named in omit (which travel as their digests only), with
// the master salt so that a verifier can recompute each field's digest,
// rebuild the signed claims and check the signature.
//
// The static QR proves what the license says but not who shows it (it can
// be copied); holder-bound presentations (MakePresentation) prove both.
func (l *License) QRText(omit ...string) (string, error) {
	if l.master == nil {
		return "", errors.New("license: only the holder's copy can make a static QR")
	}
	vals := map[uint64]any{}
	omitted := map[uint64][]byte{}
	skip := map[uint64]bool{}
	for _, k := range omit {
		f := l.Type.Field(k)
		if f == nil || f.Core() {
			return "", errors.New("license: cannot omit " + k + ": not a selectively disclosable field of " + l.Type.Key)
		}
		skip[f.Tag] = true
	}
	for tag, v := range l.values {
		if skip[tag] {
			omitted[tag] = l.c.Digests[tag]
		} else {
			vals[tag] = v
		}
	}
	c := l.c
	c.Digests = nil
	cb := c.marshal()
	b := []byte{0x85}
	b = append(b, (&coseSign1{Protected: l.protected, Signature: l.signature}).marshal()...)
	b = append(b, cb...)
	b = appendBytes(b, l.master)
	b = appendValues(b, vals)
	b = appendHead(b, 5, uint64(len(omitted)))
	for _, tag := range sortedTags(omitted) {
		b = appendBytes(appendHead(b, 0, tag), omitted[tag])
	}
	return wrapQR(PrefixLicense, b), nil
}

// ParseQR decodes a static license QR payload ("ZX1:..."): it recomputes
// every field's digest from the master salt and rebuilds the signed claims,
// so VerifySignature can then check the issuer's signature. Errors carry
// report reasons (FORMAT_FAILURE).
func ParseQR(text string) (*License, error) {
	body, err := unwrapQR(text, PrefixLicense)
	if err != nil {
		return nil, err
	}
	defer releaseBody(body)
	var q staticQR
	var vals []tagValue
	cs := new(coseSign1)
	fast := fastStaticQR(body, &q, cs, &vals)
	if !fast {
		if err := envDecMode.Unmarshal(body, &q); err != nil {
			return nil, formatErr("malformed license QR: %v", err)
		}
		if cs, err = parseCOSESign1(q.COSE); err != nil {
			return nil, err
		}
	}
	if cs.Payload != nil {
		return nil, formatErr("license QR carries a COSE payload; it must be detached")
	}
	if len(q.Master) != saltSize {
		return nil, formatErr("master salt must be %d bytes", saltSize)
	}
	l := &License{protected: cs.Protected, signature: cs.Signature, master: q.Master}
	if err := l.readHeader(); err != nil {
		return nil, err
	}
	if err := decMode.Unmarshal(q.Claims, &l.c); err != nil {
		return nil, formatErr("malformed claims: %v", err)
	}
	if l.c.Digests != nil {
		return nil, formatErr("license QR claims must not carry digests")
	}
	if l.Type, err = checkClaims(&l.c); err != nil {
		return nil, err
	}
	if fast {
		l.values, err = decodeValueList(l.Type, vals)
	} else {
		l.values, err = decodeValues(l.Type, q.Values)
	}
	if err != nil {
		return nil, err
	}
	tags := sortedTags(l.values)
	if l.salts, err = fieldSalts(l.master, tags); err != nil {
		return nil, err
	}
	l.c.Digests = make(map[uint64][]byte, len(l.values)+len(q.Omitted))
	ds := make([]byte, 0, digestSize*len(tags))
	for _, tag := range tags {
		ds = appendFieldDigest(ds, l.salts[tag], tag, l.values[tag])
		l.c.Digests[tag] = ds[len(ds)-digestSize : len(ds) : len(ds)]
	}
	for tag, d := range q.Omitted {
		if _, dup := l.c.Digests[tag]; dup || l.Type.FieldByTag(tag) == nil || len(d) != digestSize {
			return nil, formatErr("bad omitted digest for tag %d", tag)
		}
		l.c.Digests[tag] = d
	}
	if len(l.c.Digests) == 0 {
		l.c.Digests = nil
	}
	l.payload = l.c.marshal()
	l.fillFromClaims()
	// The holder copy's master salt stays: a static QR reveals everything
	// anyway, and keeping it lets a wallet import a license from its QR.
	return l, nil
}
