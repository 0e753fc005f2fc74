package license

import (
	"bytes"

	"github.com/fxamacker/cbor/v2"
)

// A fast path for the CBOR that QRText writes. The general decoders
// (fxamacker/cbor through reflection) cost as much as the rest of parsing a
// QR together; the payloads a verifier sees are almost always exactly the
// deterministic encoding this package writes. The functions here recognise
// only that: definite lengths, shortest heads, map keys in increasing
// order, no tags but the COSE_Sign1 tag, sizes within the decoders'
// limits. For such input they return what the general decoder
// returns; for anything else they report ok=false and the caller uses the
// general decoder, so every other input gets exactly the old result,
// errors included. Tests compare the two on mutated payloads.

// headOf is readHead for input that may be empty.
func headOf(b []byte) (major byte, arg uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, 0, false
	}
	return readHead(b)
}

// readBstr reads a byte string in shortest form; it returns its content
// (not copied) and the length of the whole item.
func readBstr(b []byte) ([]byte, int, bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	major, arg, n, ok := headOf(b)
	if !ok || major != 2 || arg > uint64(len(b)-n) {
		return nil, 0, false
	}
	return b[n : n+int(arg)], n + int(arg), true
}

// skipCanonical returns the length of the data item at the start of b if
// it is a kind the fast path knows in canonical form (integers, byte
// strings, text, arrays and maps of at most 64 entries nested
// at most depth levels, false/true/null).
func skipCanonical(b []byte, depth int) (int, bool) {
	if len(b) == 0 || depth <= 0 {
		return 0, false
	}
	major, arg, n, ok := headOf(b)
	if !ok {
		return 0, false
	}
	switch major {
	case 0, 1:
		return n, true
	case 2, 3:
		// No UTF-8 check: fxamacker/cbor does not check text inside a
		// RawMessage either; decodeValue and the claims decoder do.
		if arg > uint64(len(b)-n) {
			return 0, false
		}
		return n + int(arg), true
	case 4, 5:
		if arg > 64 {
			return 0, false
		}
		items := int(arg)
		if major == 5 {
			items *= 2
		}
		off := n
		for i := 0; i < items; i++ {
			m, ok := skipCanonical(b[off:], depth-1)
			if !ok {
				return 0, false
			}
			off += m
		}
		return off, true
	case 7:
		if b[0] >= 0xf4 && b[0] <= 0xf6 {
			return 1, true
		}
	}
	return 0, false
}

// fastStaticQR decodes a canonical static QR body into q and its
// COSE_Sign1 (detached payload, 64-byte signature) into cs. Byte strings
// kept by the license are copied: body is a pooled buffer. The {tag:
// value} entries go to *vals, in order, as slices of body (decodeValueList
// copies what it keeps); q.Values stays nil.
func fastStaticQR(body []byte, q *staticQR, cs *coseSign1, vals *[]tagValue) bool {
	b := body
	if len(b) < 3 || b[0] != 0x85 || b[1] != coseSign1Tag || b[2] != 0x84 {
		return false
	}
	off := 3
	prot, m, ok := readBstr(b[off:])
	if !ok {
		return false
	}
	off += m
	if len(b) < off+2 || b[off] != 0xa0 || b[off+1] != 0xf6 {
		return false
	}
	off += 2
	sig, m, ok := readBstr(b[off:])
	if !ok || len(sig) != 64 {
		return false
	}
	off += m
	coseEnd := off
	if m, ok = skipCanonical(b[off:], 3); !ok {
		return false
	}
	claims := b[off : off+m]
	off += m
	master, m, ok := readBstr(b[off:])
	if !ok {
		return false
	}
	off += m

	major, n, hl, ok := headOf(b[off:])
	if !ok || major != 5 || n > 64 {
		return false
	}
	off += hl
	values := make([]tagValue, 0, n)
	var last uint64
	for i := uint64(0); i < n; i++ {
		kmaj, tag, kl, ok := headOf(b[off:])
		if !ok || kmaj != 0 || i > 0 && tag <= last {
			return false
		}
		off += kl
		vl, ok := skipCanonical(b[off:], 1)
		if !ok {
			return false
		}
		values = append(values, tagValue{tag, b[off : off+vl]})
		off += vl
		last = tag
	}

	major, n, hl, ok = headOf(b[off:])
	if !ok || major != 5 || n > 64 {
		return false
	}
	off += hl
	var omitted map[uint64][]byte
	if n > 0 {
		omitted = make(map[uint64][]byte, n)
	}
	for i := uint64(0); i < n; i++ {
		kmaj, tag, kl, ok := headOf(b[off:])
		if !ok || kmaj != 0 || i > 0 && tag <= last {
			return false
		}
		off += kl
		d, dl, ok := readBstr(b[off:])
		if !ok {
			return false
		}
		omitted[tag] = bytes.Clone(d)
		off += dl
		last = tag
	}
	if off != len(b) {
		return false
	}
	*q = staticQR{COSE: b[1:coseEnd], Claims: claims, Master: bytes.Clone(master), Omitted: omitted}
	*vals = values
	*cs = coseSign1{Protected: bytes.Clone(prot), Unprotected: cbor.RawMessage{0xa0}, Signature: bytes.Clone(sig)}
	return true
}

// fastProtected decodes the canonical protected header {1: alg} or
// {1: alg, 4: kid}.
func fastProtected(b []byte) (header, bool) {
	var h header
	if len(b) < 2 || (b[0] != 0xa1 && b[0] != 0xa2) || b[1] != 0x01 {
		return h, false
	}
	major, arg, n, ok := headOf(b[2:])
	if !ok || major > 1 || arg > 1<<63-1 {
		return h, false
	}
	h.Alg = int64(arg)
	if major == 1 {
		h.Alg = -1 - int64(arg)
	}
	off := 2 + n
	if b[0] == 0xa2 {
		if off >= len(b) || b[off] != 0x04 {
			return h, false
		}
		kid, m, ok := readBstr(b[off+1:])
		if !ok {
			return h, false
		}
		h.KID = bytes.Clone(kid)
		off += 1 + m
	}
	return h, off == len(b)
}
