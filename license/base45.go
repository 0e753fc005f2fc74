package license

import (
	"errors"
	"fmt"
)

// Base45 per RFC 9285: every 2 bytes become 3 characters of the QR
// alphanumeric set (a trailing single byte becomes 2), least significant
// digit first, so the QR code can use alphanumeric mode (5.5 bits a
// character) instead of byte mode (8 bits).
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var base45Values = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = int8(i)
	}
	return t
}()

// Base45Encode encodes b per RFC 9285.
func Base45Encode(b []byte) string {
	out := make([]byte, 0, len(b)/2*3+2)
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])<<8 | int(b[i+1])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return string(out)
}

var errBase45Length = errors.New("license: base45 text has an impossible length (3n or 3n+2 characters expected)")

// Base45Decode decodes s per RFC 9285, refusing characters outside the
// alphabet, impossible lengths and triples above 65535 (RFC 9285 §4.2).
func Base45Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, errBase45Length
	}
	out := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		var v [3]int
		n := 3
		if len(s)-i == 2 {
			n = 2
		}
		for j := 0; j < n; j++ {
			c := base45Values[s[i+j]]
			if c < 0 {
				return nil, fmt.Errorf("license: character %d of the base45 text is not in the QR alphanumeric set", i+j+1)
			}
			v[j] = int(c)
		}
		x := v[0] + v[1]*45 + v[2]*2025
		if n == 3 {
			if x > 0xffff {
				return nil, fmt.Errorf("license: base45 triple at character %d exceeds 65535", i+1)
			}
			out = append(out, byte(x>>8), byte(x))
		} else {
			if x > 0xff {
				return nil, fmt.Errorf("license: base45 pair at character %d exceeds 255", i+1)
			}
			out = append(out, byte(x))
		}
	}
	return out, nil
}
