package license

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	errRefTooLarge = errors.New("too large")
	errRefTrailing = errors.New("trailing bytes")
)

// refDecompress is the reference decompress checks its own zlib framing
// against: compress/zlib with the preset dictionary, the same bound, and
// no bytes after the stream.
func refDecompress(b []byte) ([]byte, error) {
	br := bytes.NewReader(b)
	zr, err := zlib.NewReaderDict(br, []byte(ZlibDictionary()))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxCBOR+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxCBOR {
		return nil, errRefTooLarge
	}
	if br.Len() != 0 {
		return nil, errRefTrailing
	}
	return out, nil
}

func compareDecompress(t *testing.T, b []byte) {
	t.Helper()
	got, err := decompress(b)
	want, werr := refDecompress(b)
	switch {
	case (err == nil) != (werr == nil):
		t.Fatalf("%x: decompress error %v, compress/zlib error %v", b, err, werr)
	case err == nil && !bytes.Equal(got, want):
		t.Fatalf("%x: decompress gives %x, compress/zlib %x", b, got, want)
	case err != nil && werr != errRefTooLarge && werr != errRefTrailing && !strings.Contains(err.Error(), werr.Error()):
		t.Fatalf("%x: decompress error %q does not carry compress/zlib's %q", b, err, werr)
	}
	if err == nil {
		releaseBody(got)
	}
}

// TestDecompressMatchesZlib: decompress's own zlib framing accepts and
// refuses exactly what compress/zlib does (with the dictionary, without,
// with another dictionary, truncated anywhere, any byte flipped, bytes
// appended, above the bound).
func TestDecompressMatchesZlib(t *testing.T) {
	body := []byte("\x85\xd2\x84 有限公司 市场监督管理局 hello hello hello 一般项目：技术服务")
	var plain, other, big bytes.Buffer
	zw := zlib.NewWriter(&plain)
	zw.Write(body)
	zw.Close()
	zw, _ = zlib.NewWriterLevelDict(&other, zlib.BestCompression, []byte("another dictionary 有限公司"))
	zw.Write(body)
	zw.Close()
	zw = zlib.NewWriter(&big)
	zw.Write(make([]byte, maxCBOR+1))
	zw.Close()
	var exact bytes.Buffer
	zw = zlib.NewWriter(&exact)
	zw.Write(make([]byte, maxCBOR))
	zw.Close()
	streams := [][]byte{compress(body), plain.Bytes(), other.Bytes(), big.Bytes(), exact.Bytes(), compress(nil)}
	for _, s := range streams {
		compareDecompress(t, s)
		compareDecompress(t, append(bytes.Clone(s), 0))
		for i := 0; i < len(s); i++ {
			compareDecompress(t, s[:i])
			for _, bit := range []byte{1, 0x20, 0x80} {
				m := bytes.Clone(s)
				m[i] ^= bit
				compareDecompress(t, m)
			}
		}
	}
	if _, err := decompress(compress(body)); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecompressMatchesZlib(f *testing.F) {
	f.Add(compress([]byte("有限公司 hello")))
	f.Add([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<14 {
			return
		}
		compareDecompress(t, b)
	})
}

// rsToDERBig is the straightforward encoding rsToDER replaced.
func rsToDERBig(rs []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[:32]))
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[32:]))
	})
	return b.BytesOrPanic()
}

func TestRSToDERMatchesCryptobyte(t *testing.T) {
	cases := [][]byte{make([]byte, 64), bytes.Repeat([]byte{0xff}, 64), bytes.Repeat([]byte{0x7f}, 64)}
	for i := 0; i < 64; i++ {
		// One non-zero byte at every position, high bit set and not.
		for _, v := range []byte{0x01, 0x80} {
			b := make([]byte, 64)
			b[i] = v
			cases = append(cases, b)
		}
	}
	for i := 0; i < 200; i++ {
		b := make([]byte, 64)
		rand.Read(b)
		cases = append(cases, b)
	}
	for _, rs := range cases {
		if got, want := rsToDER(rs), rsToDERBig(rs); !bytes.Equal(got, want) {
			t.Fatalf("%x: rsToDER %x, cryptobyte %x", rs, got, want)
		}
	}
}
