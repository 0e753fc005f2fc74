package pdf

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/seal"
	"github.com/zhengxin/zhengxin/verify/report"
)

// appendUpdate appends a hand-written incremental update (classic xref)
// that (re)defines the given objects, the way another tool would.
func appendUpdate(t testing.TB, in []byte, objs map[int]string) []byte {
	t.Helper()
	rd, err := openReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	tr := rd.Trailer()
	root, _ := asRef(rawKey(tr, "Root"))
	size := tr.Key("Size").Int64()
	var b bytes.Buffer
	b.Write(in)
	if in[len(in)-1] != '\n' {
		b.WriteByte('\n')
	}
	offs := map[int]int{}
	var ids []int
	for id, body := range objs {
		offs[id] = b.Len()
		ids = append(ids, id)
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", id, body)
		if int64(id) >= size {
			size = int64(id) + 1
		}
	}
	sort.Ints(ids)
	x := b.Len()
	b.WriteString("xref\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n\r\n", id, offs[id])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", size, root, rd.XrefInformation.StartPos, x)
	return b.Bytes()
}

func signedSimple(t testing.TB) ([]byte, []byte) {
	p := getPKI(t)
	o := p.opts()
	o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 400, Y: 600, W: 100, H: 100}}
	in := simplePDF(t, 1)
	return in, signBytes(t, in, o)
}

func TestTampered(t *testing.T) {
	in, signed := signedSimple(t)
	if s := verifyBytes(t, signed).Signatures; len(s) != 1 {
		t.Fatal("no signature")
	} else {
		assertValid(t, s[0])
	}

	t.Run("byte flipped in signed range", func(t *testing.T) {
		b := append([]byte{}, signed...)
		i := bytes.Index(b, []byte("/Producer"))
		if i < 0 {
			t.Fatal("no /Producer")
		}
		b[i+12] ^= 0x01 // inside the producer string
		s := verifyBytes(t, b).Signatures[0]
		if report.ReasonOf(s.DigestErr) != report.HashFailure {
			t.Errorf("digest: %v, want HASH_FAILURE", s.DigestErr)
		}
		if s.ByteRangeErr != nil {
			t.Errorf("byte range should still be fine: %v", s.ByteRangeErr)
		}
	})

	t.Run("bytes appended after EOF", func(t *testing.T) {
		b := append(append([]byte{}, signed...), []byte("garbage appended 1 0 obj\n")...)
		res := verifyBytes(t, b)
		s := res.Signatures[0]
		if res.TrailingBytes == 0 || report.ReasonOf(s.ModifiedErr) != report.ModifiedAfterSigning {
			t.Errorf("trailing %d, modified %v; want MODIFIED_AFTER_SIGNING", res.TrailingBytes, s.ModifiedErr)
		}
		if s.DigestErr != nil || s.SignatureErr != nil {
			t.Errorf("the signed revision itself is intact: %v %v", s.DigestErr, s.SignatureErr)
		}
		// An appended "update" whose cross-reference section is broken is
		// not a valid incremental update either.
		fake := append(append([]byte{}, signed...), "5 0 obj (x) endobj\nxref\n5 1\nbroken\ntrailer\n<< /Size 6 >>\nstartxref\n999999\n%%EOF\n"...)
		res = verifyBytes(t, fake)
		if len(res.Signatures) != 1 || report.ReasonOf(res.Signatures[0].ModifiedErr) != report.ModifiedAfterSigning {
			t.Errorf("broken appended update: %+v", res.Signatures)
		}
		// Whitespace only is not a modification.
		res = verifyBytes(t, append(append([]byte{}, signed...), "\n\n  \n"...))
		if res.Signatures[0].ModifiedErr != nil {
			t.Errorf("trailing whitespace: %v", res.Signatures[0].ModifiedErr)
		}
	})

	t.Run("byte range not covering the file", func(t *testing.T) {
		b := append([]byte{}, signed...)
		m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+) *\]`).FindSubmatchIndex(b)
		if m == nil {
			t.Fatal("no ByteRange")
		}
		last, _ := strconv.Atoi(string(b[m[6]:m[7]]))
		repl := []byte(strconv.Itoa(last - 200))
		for len(repl) < m[7]-m[6] {
			repl = append(repl, ' ')
		}
		copy(b[m[6]:], repl)
		s := verifyBytes(t, b).Signatures[0]
		if s.ByteRangeErr == nil || report.ReasonOf(s.ByteRangeErr) != report.FormatFailure {
			t.Errorf("byte range: %v, want FORMAT_FAILURE", s.ByteRangeErr)
		}
	})

	t.Run("contents swapped from another PDF", func(t *testing.T) {
		p := getPKI(t)
		o := p.opts()
		o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 400, Y: 600, W: 100, H: 100}}
		other := signBytes(t, simplePDF(t, 2), o)
		gapOf := func(b []byte) (int, int) {
			s := verifyBytes(t, b).Signatures[0]
			return int(s.ByteRange[1]), int(s.ByteRange[2])
		}
		a0, a1 := gapOf(signed)
		b0, b1 := gapOf(other)
		if a1-a0 != b1-b0 {
			t.Fatal("placeholders differ in size")
		}
		b := append([]byte{}, signed...)
		copy(b[a0:a1], other[b0:b1])
		s := verifyBytes(t, b).Signatures[0]
		if report.ReasonOf(s.DigestErr) != report.HashFailure {
			t.Errorf("digest: %v, want HASH_FAILURE", s.DigestErr)
		}
	})

	t.Run("page content replaced after signing", func(t *testing.T) {
		rd, _ := openReader(bytes.NewReader(signed), int64(len(signed)))
		cref, ok := asRef(rawKey(rd.Page(1).V, "Contents"))
		if !ok {
			t.Fatal("page /Contents is not a reference")
		}
		body := "BT /F1 24 Tf 72 720 Td (FORGED) Tj ET"
		b := appendUpdate(t, signed, map[int]string{int(cref.ID): fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(body), body)})
		qpdfCheck(t, b)
		s := verifyBytes(t, b).Signatures[0]
		if report.ReasonOf(s.ModifiedErr) != report.ModifiedAfterSigning {
			t.Errorf("modified: %v, want MODIFIED_AFTER_SIGNING", s.ModifiedErr)
		}
		if s.DigestErr != nil || s.SignatureErr != nil || s.ByteRangeErr != nil {
			t.Errorf("the signed revision is intact, its checks should pass: %v %v %v", s.ByteRangeErr, s.DigestErr, s.SignatureErr)
		}
	})

	t.Run("annotation added after signing is allowed", func(t *testing.T) {
		rd, _ := openReader(bytes.NewReader(signed), int64(len(signed)))
		page := rd.Page(1).V
		pref := ptrOf(page)
		var annots bytes.Buffer
		writeObj(&annots, append(rawItems(page.Key("Annots")), ref{ID: 900}))
		pd := dictOf(page)
		pd.Set("Annots", rawToken(annots.String()))
		var pb bytes.Buffer
		writeObj(&pb, pd)
		b := appendUpdate(t, signed, map[int]string{
			900:          "<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (note) >>",
			int(pref.ID): pb.String(),
		})
		qpdfCheck(t, b)
		s := verifyBytes(t, b).Signatures[0]
		if s.ModifiedErr != nil {
			t.Errorf("adding a comment is allowed: %v", s.ModifiedErr)
		}
		found := false
		for _, c := range s.Changes {
			found = found || c == "annotation added (Text)"
		}
		if !found {
			t.Errorf("changes %v do not mention the added annotation", s.Changes)
		}
	})

	t.Run("unsigned input has no signatures", func(t *testing.T) {
		if n := len(verifyBytes(t, in).Signatures); n != 0 {
			t.Errorf("%d signatures in an unsigned file", n)
		}
	})
}

// makeSeal makes a version 4 seal listing signer, made by a maker key
// whose certificate is issued by the test CA (or self-signed if selfMaker).
func makeSeal(t testing.TB, signer *smx509.Certificate, start, end time.Time, selfMaker bool) []byte {
	p := getPKI(t)
	mk := mustKey(t)
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: "制章人 Seal Maker"},
		NotBefore: fixedNow.AddDate(-1, 0, 0), NotAfter: fixedNow.AddDate(5, 0, 0), KeyUsage: 1}
	var maker *smx509.Certificate
	if selfMaker {
		maker = makeCert(t, tmpl, tmpl, &mk.PublicKey, mk)
	} else {
		maker = makeCert(t, tmpl, p.ca, &mk.PublicKey, p.caKey)
	}
	der, err := seal.MakeSeal(seal.SealSpec{
		ESID: "11010000000001", Name: "测试市场监督管理局电子印章", Type: seal.TypeOrganisation,
		SignerCerts: []*smx509.Certificate{signer},
		Picture:     seal.Picture{Type: "PNG", Data: sealPNG(t), WidthMM: 40, HeightMM: 40},
		ValidStart:  start, ValidEnd: end,
	}, maker, mk)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSESFormat(t *testing.T) {
	p := getPKI(t)
	o := p.opts()
	o.Format = SES
	o.SESSeal = makeSeal(t, p.leaf, fixedNow.AddDate(0, -1, 0), fixedNow.AddDate(1, 0, 0), false)
	o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 300, Y: 300, W: 100, H: 100}}
	b := signBytes(t, simplePDF(t, 1), o)
	qpdfCheck(t, b)
	res := verifyBytes(t, b)
	if len(res.Signatures) != 1 {
		t.Fatal("no signature")
	}
	s := res.Signatures[0]
	assertValid(t, s)
	if s.Format != SES || s.SES == nil {
		t.Fatalf("format %v, want SES", s.Format)
	}
	want := sm3.Sum(signedRanges(b, s.ByteRange))
	if !bytes.Equal(s.SES.DataHash, want[:]) {
		t.Error("dataHash is not SM3 over the byte ranges")
	}
	if !s.SigningTime.Equal(fixedNow) || !bytes.Equal(s.Signer.Raw, p.leaf.Raw) {
		t.Errorf("time %v signer %v", s.SigningTime, s.Signer.Subject)
	}
	if err := s.SES.VerifyHash(want[:]); err != nil {
		t.Errorf("seal package rejects the signature: %v", err)
	}
	out := pdfsig(t, b)
	if !strings.Contains(out, "Signature Field Name: Signature1") {
		t.Errorf("pdfsig does not list the SES signature:\n%s", out)
	}

	// Tampering is caught for SES too.
	bad := append([]byte{}, b...)
	i := bytes.Index(bad, []byte("/Producer"))
	bad[i+12] ^= 1
	if s := verifyBytes(t, bad).Signatures[0]; report.ReasonOf(s.DigestErr) != report.HashFailure {
		t.Errorf("tampered SES: %v, want HASH_FAILURE", s.DigestErr)
	}
}

// sesUnchecked signs like seal.Sign but without its checks (seal
// validity, signer listed), as a careless producer would.
func sesUnchecked(sealDER []byte, cert *smx509.Certificate, key crypto.Signer, hash []byte, prop string, at time.Time) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(4)
		b.AddBytes(sealDER)
		b.AddASN1GeneralizedTime(at.UTC())
		b.AddASN1BitString(hash)
		b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(prop)) })
	})
	tbs := b.BytesOrPanic()
	sig, err := key.Sign(rand.Reader, tbs, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddASN1OctetString(cert.Raw)
		b.AddASN1ObjectIdentifier(seal.OIDSM2WithSM3)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

func withSESSigner(t testing.TB, f func(sealDER []byte, cert *smx509.Certificate, key crypto.Signer, hash []byte, prop string, at time.Time) ([]byte, error)) {
	old := sesSign
	sesSign = f
	t.Cleanup(func() { sesSign = old })
}
