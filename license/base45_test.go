package license

import (
	"bytes"
	"testing"
)

// Examples of RFC 9285 §4.
func TestBase45RFC9285(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
	} {
		if got := Base45Encode([]byte(tc.in)); got != tc.out {
			t.Errorf("encode %q = %q, want %q", tc.in, got, tc.out)
		}
		got, err := Base45Decode(tc.out)
		if err != nil || string(got) != tc.in {
			t.Errorf("decode %q = %q, %v; want %q", tc.out, got, err, tc.in)
		}
	}
	for _, bad := range []string{"GGW", "GGW0", "A", "ABCD", "ab", "::", "BB8\n"} {
		if _, err := Base45Decode(bad); err == nil {
			t.Errorf("decode %q: no error", bad)
		}
	}
}

// Every 2-byte group and every final byte: the last character is never a
// space, which is why QR text may be trimmed.
func TestBase45NeverEndsWithSpace(t *testing.T) {
	for n := 0; n < 1<<16; n++ {
		if e := Base45Encode([]byte{byte(n >> 8), byte(n)}); e[2] == ' ' {
			t.Fatalf("%04x -> %q", n, e)
		}
		if n < 256 {
			if e := Base45Encode([]byte{byte(n)}); e[1] == ' ' {
				t.Fatalf("%02x -> %q", n, e)
			}
		}
	}
}

func FuzzBase45(f *testing.F) {
	f.Add([]byte("Hello!!"), "%69 VD92EX0")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		if len(b) > 4096 || len(s) > 8192 {
			return
		}
		if e := Base45Encode(b); len(e) > 0 && e[len(e)-1] == ' ' {
			t.Fatalf("encoding of %x ends with a space", b)
		}
		got, err := Base45Decode(Base45Encode(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %x: %x, %v", b, got, err)
		}
		if d, err := Base45Decode(s); err == nil && Base45Encode(d) != s {
			t.Fatalf("decode/encode of %q not canonical", s)
		}
	})
}
