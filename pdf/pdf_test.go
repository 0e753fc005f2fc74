package pdf

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm3"

	"github.com/zhengxin/zhengxin/verify/report"
)

func verifyBytes(t testing.TB, b []byte) *Result {
	t.Helper()
	res, err := Verify(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func assertValid(t testing.TB, s Signature) {
	t.Helper()
	for name, err := range map[string]error{"byte range": s.ByteRangeErr, "digest": s.DigestErr, "signature": s.SignatureErr, "modified": s.ModifiedErr} {
		if err != nil {
			t.Errorf("signature %q: %s check failed: %v", s.Field, name, err)
		}
	}
}

// signedRanges returns the bytes a signature's /ByteRange covers.
func signedRanges(b []byte, br []int64) []byte {
	return append(append([]byte{}, b[br[0]:br[0]+br[1]]...), b[br[2]:br[2]+br[3]]...)
}

// TestSignVerifyRoundTrip signs PDFs from three producers (fpdf, the
// pdfsign test file, an already ECDSA-signed pdfsign output), countersigns,
// and checks the result with our verifier, gmsm's independent CMS verifier,
// qpdf --check and poppler's pdfsig.
func TestSignVerifyRoundTrip(t *testing.T) {
	p := getPKI(t)
	inputs := map[string][]byte{"fpdf": simplePDF(t, 2)}
	// LibreOffice 7.4 writer output (soffice --convert-to pdf of a short
	// Chinese text), committed because LibreOffice is a large install.
	if b, err := os.ReadFile(filepath.Join("testdata", "libreoffice.pdf")); err == nil {
		inputs["libreoffice"] = b
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "interop", "pdf", "testfile12.pdf")); err == nil {
		inputs["pdfsign-testfile12"] = b
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "interop", "pdf", "signed_ecdsa_testfile12.pdf")); err == nil {
		inputs["pdfsign-ecdsa-signed"] = b
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			pre := len(verifyBytes(t, in).Signatures)
			o := p.opts()
			o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 100, Y: 500, W: 120, H: 120}}
			once := signBytes(t, in, o)
			if !bytes.Equal(once[:len(in)], in) {
				t.Fatal("the original bytes were not kept as they were")
			}
			twice := signBytes(t, once, o)
			res := verifyBytes(t, twice)
			if len(res.Signatures) != pre+2 {
				t.Fatalf("found %d signatures, want %d", len(res.Signatures), pre+2)
			}
			for _, s := range res.Signatures {
				assertValid(t, s)
			}
			ours := res.Signatures[pre:]
			if ours[0].Field != "Signature1" && pre == 0 || ours[1].CoversWholeFile != true || ours[0].CoversWholeFile {
				t.Errorf("fields/coverage wrong: %+v / %+v", ours[0].Field, ours[1].Field)
			}
			if len(ours[0].Changes) == 0 {
				t.Error("the first signature should list the second signature as an allowed change")
			}
			for _, s := range ours {
				if s.Algorithm != "SM2-with-SM3" || s.DigestAlgorithm != "SM3" || s.Format != CMS {
					t.Errorf("algorithm %q digest %q format %v", s.Algorithm, s.DigestAlgorithm, s.Format)
				}
				if !s.SigningTime.Equal(fixedNow) || !s.ClaimedTime.Equal(fixedNow) {
					t.Errorf("signing time %v / %v, want %v", s.SigningTime, s.ClaimedTime, fixedNow)
				}
				if s.Signer == nil || !bytes.Equal(s.Signer.Raw, p.leaf.Raw) || s.Reason != "盖章 Sealed" || s.Location != "北京 Beijing" {
					t.Errorf("signer/reason/location wrong: %v %q %q", s.Signer, s.Reason, s.Location)
				}
				// Independent check: gmsm's CMS verifier over the signed bytes.
				p7, err := pkcs7.Parse(s.Contents)
				if err != nil {
					t.Fatalf("gmsm cannot parse our CMS: %v", err)
				}
				p7.Content = signedRanges(twice, s.ByteRange)
				if err := p7.Verify(); err != nil {
					t.Errorf("gmsm rejects our CMS: %v", err)
				}
				if d := sm3.Sum(p7.Content); !bytes.Equal(d[:], s.Digest) {
					t.Error("Digest is not SM3 over the byte ranges")
				}
				if len(p7.Certificates) != 2 {
					t.Errorf("CMS carries %d certificates, want signer + CA", len(p7.Certificates))
				}
			}
			qpdfCheck(t, twice)
			out := pdfsig(t, twice)
			if n := strings.Count(out, "Signature Field Name:"); n != pre+2 {
				t.Errorf("pdfsig lists %d signatures, want %d:\n%s", n, pre+2, out)
			}
			if !strings.Contains(out, "Total document signed") || !strings.Contains(out, "Signature Type: adbe.pkcs7.detached") {
				t.Errorf("pdfsig output lacks total coverage / subfilter:\n%s", out)
			}
		})
	}
}

// TestECDSAInterop verifies the pdfsign-made ECDSA P-256 signature: valid,
// signer as in ecdsa_selfsigned.pem.
func TestECDSAInterop(t *testing.T) {
	b := interop(t, "signed_ecdsa_testfile12.pdf")
	res := verifyBytes(t, b)
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures, want 1", len(res.Signatures))
	}
	s := res.Signatures[0]
	assertValid(t, s)
	if s.Algorithm != "ECDSA-with-SHA256" || !s.CoversWholeFile {
		t.Errorf("algorithm %q whole %v", s.Algorithm, s.CoversWholeFile)
	}
	blk, _ := pem.Decode(interop(t, "ecdsa_selfsigned.pem"))
	if s.Signer == nil || blk == nil || !bytes.Equal(blk.Bytes, s.Signer.Raw) {
		t.Error("the signer is not the certificate in ecdsa_selfsigned.pem")
	}
	// Flip one byte inside the signed range: the digest must fail.
	bad := append([]byte{}, b...)
	bad[100] ^= 0x01
	if s := verifyBytes(t, bad).Signatures[0]; report.ReasonOf(s.DigestErr) != report.HashFailure {
		t.Errorf("tampered pdfsign file: digest error %v, want HASH_FAILURE", s.DigestErr)
	}
}

// TestXrefStreamInput signs a PDF whose cross-reference section is a
// stream (made by qpdf) and checks qpdf accepts our xref-stream update.
func TestXrefStreamInput(t *testing.T) {
	needTool(t, "qpdf")
	src := writeTemp(t, "in.pdf", simplePDF(t, 1))
	dst := filepath.Join(filepath.Dir(src), "xs.pdf")
	if out, err := exec.Command("qpdf", "--object-streams=generate", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v %s", err, out)
	}
	in, _ := os.ReadFile(dst)
	if !bytes.Contains(in, []byte("/XRef")) {
		t.Fatal("qpdf did not write an xref stream")
	}
	p := getPKI(t)
	o := p.opts()
	o.Appearance = &Appearance{PNG: sealPNG(t), Page: 1, Rect: Rect{X: 50, Y: 50, W: 80, H: 80}}
	out := signBytes(t, signBytes(t, in, o), o)
	tail := out[len(in):]
	if !bytes.Contains(tail, []byte("/Type/XRef")) && !bytes.Contains(tail, []byte("/Type /XRef")) {
		t.Error("the update to an xref-stream file should use an xref stream")
	}
	qpdfCheck(t, out)
	res := verifyBytes(t, out)
	if len(res.Signatures) != 2 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	for _, s := range res.Signatures {
		assertValid(t, s)
	}
}

func TestEncryptedRefused(t *testing.T) {
	needTool(t, "qpdf")
	src := writeTemp(t, "in.pdf", simplePDF(t, 1))
	for i, args := range [][]string{{"", "owner", "256"}, {"secret", "owner", "256"}, {"", "owner", "128", "--use-aes=y"}} {
		pw := args[0]
		dst := filepath.Join(filepath.Dir(src), fmt.Sprintf("enc%d.pdf", i))
		cmd := append(append([]string{"--encrypt"}, args...), "--", src, dst)
		if out, err := exec.Command("qpdf", cmd...).CombinedOutput(); err != nil {
			t.Fatalf("qpdf: %v %s", err, out)
		}
		in, _ := os.ReadFile(dst)
		err := Sign(bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, getPKI(t).opts())
		if !errors.Is(err, ErrEncrypted) {
			t.Errorf("user password %q: Sign error %v, want ErrEncrypted", pw, err)
		}
		if _, err := Verify(bytes.NewReader(in), int64(len(in))); !errors.Is(err, ErrEncrypted) {
			t.Errorf("user password %q: Verify error %v, want ErrEncrypted", pw, err)
		}
	}
}

// TestAppearanceRendered renders the signed page with pdftoppm and checks
// the seal's red is where it was asked for, and not elsewhere.
func TestAppearanceRendered(t *testing.T) {
	needTool(t, "pdftoppm")
	p := getPKI(t)
	o := p.opts()
	// A4 is 595x842 pt; at 72 dpi a point is a pixel.
	o.Appearance = &Appearance{PNG: sealPNG(t), Page: 2, Rect: Rect{X: 400, Y: 100, W: 150, H: 150}}
	out := signBytes(t, simplePDF(t, 3), o)
	path := writeTemp(t, "s.pdf", out)
	prefix := filepath.Join(filepath.Dir(path), "page")
	if b, err := exec.Command("pdftoppm", "-r", "72", "-png", "-f", "2", "-l", "2", "-singlefile", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, b)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := img.Bounds().Dy()
	isRed := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return r>>8 > 150 && g>>8 < 90 && b>>8 < 90
	}
	// Centre of the seal (x 475, y 175 from the bottom) is the red disc;
	// a point between ring and disc shows the white page (transparency).
	if !isRed(475, h-175) {
		t.Error("no red at the seal's centre")
	}
	if isRed(475+45, h-175) {
		t.Error("red between ring and centre: the transparent background was not kept")
	}
	if !isRed(475+69, h-175) {
		t.Error("no red on the seal's ring")
	}
	if isRed(100, 100) || isRed(475, h-400) {
		t.Error("red outside the seal's rectangle")
	}
}
