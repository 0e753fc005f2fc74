package pdf

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/go-pdf/fpdf"
)

// fixedNow is the tests' clock.
var fixedNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type testPKI struct {
	rootKey, caKey, leafKey *sm2.PrivateKey
	root, ca, leaf          *smx509.Certificate
}

var (
	pkiOnce sync.Once
	pki     testPKI
)

func mustKey(t testing.TB) *sm2.PrivateKey {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeCert(t testing.TB, tmpl, parent *smx509.Certificate, pub any, signer *sm2.PrivateKey) *smx509.Certificate {
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// getPKI returns a root -> agency CA -> signer chain of SM2 certificates.
func getPKI(t testing.TB) *testPKI {
	pkiOnce.Do(func() {
		p := &pki
		p.rootKey, p.caKey, p.leafKey = mustKey(t), mustKey(t), mustKey(t)
		nb, na := fixedNow.AddDate(-1, 0, 0), fixedNow.AddDate(5, 0, 0)
		rootT := &smx509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "测试根CA Test Root"},
			NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		p.root = makeCert(t, rootT, rootT, &p.rootKey.PublicKey, p.rootKey)
		caT := &smx509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "测试市场监督管理局 Agency CA"},
			NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		p.ca = makeCert(t, caT, p.root, &p.caKey.PublicKey, p.rootKey)
		leafT := &smx509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "测试印章 Seal Signer"},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
		p.leaf = makeCert(t, leafT, p.ca, &p.leafKey.PublicKey, p.caKey)
	})
	return &pki
}

func (p *testPKI) opts() SignOptions {
	return SignOptions{
		Signer: p.leafKey, Cert: p.leaf, Chain: []*smx509.Certificate{p.ca},
		Time: fixedNow, Reason: "盖章 Sealed", Location: "北京 Beijing", Name: "测试印章",
	}
}

// sealPNG draws a red round stamp on a transparent background.
func sealPNG(t testing.TB) []byte {
	const n = 200
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	red := color.NRGBA{0xd0, 0x10, 0x10, 0xff}
	c := float64(n) / 2
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			// ring
			if d < c-2 && d > c-14 {
				img.SetNRGBA(x, y, red)
			}
			// star-ish centre: a filled disc
			if d < c/4 {
				img.SetNRGBA(x, y, red)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// simplePDF makes a small PDF with fpdf (a classic xref table).
func simplePDF(t testing.TB, pages int) []byte {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetFont("Helvetica", "", 16)
	for i := 0; i < pages; i++ {
		f.AddPage()
		f.Cell(40, 10, "Zhengxin test page")
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func needTool(t testing.TB, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y --no-install-recommends poppler-utils qpdf)", name)
	}
	return p
}

func writeTemp(t testing.TB, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// qpdfCheck runs qpdf --check and fails the test unless it exits 0.
func qpdfCheck(t testing.TB, b []byte) {
	t.Helper()
	needTool(t, "qpdf")
	p := writeTemp(t, "check.pdf", b)
	out, err := exec.Command("qpdf", "--check", p).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "No syntax or stream encoding errors found") {
		t.Fatalf("qpdf --check output unexpected:\n%s", out)
	}
}

func pdfsig(t testing.TB, b []byte) string {
	t.Helper()
	needTool(t, "pdfsig")
	p := writeTemp(t, "sig.pdf", b)
	out, _ := exec.Command("pdfsig", "-nocert", p).CombinedOutput()
	return string(out)
}

func interop(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "interop", "pdf", name))
	if err != nil {
		t.Skipf("interop sample %s absent (../shared/interop/pdf): %v", name, err)
	}
	return b
}

func signBytes(t testing.TB, in []byte, o SignOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Sign(bytes.NewReader(in), int64(len(in)), &out, o); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return out.Bytes()
}
