package license

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"
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
