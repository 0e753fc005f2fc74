package pdf

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/zhengxin/zhengxin/font"
	"github.com/zhengxin/zhengxin/seal"
)

func sampleLicense(t testing.TB) LicenseDoc {
	qr, err := qrcode.Encode("ZX1:1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U", qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	stamp, err := seal.RenderStamp(seal.StampSpec{Agency: "测试市市场监督管理局", Purpose: "电子印章", Shape: seal.Round, DPI: 300})
	if err != nil {
		t.Fatal(err)
	}
	return LicenseDoc{
		Title:    "营业执照",
		Subtitle: "（电子证照）Electronic Business License",
		Fields: []Field{
			{"统一社会信用代码", "91110108MA01ABCD2X"},
			{"名称", "北京证信科技有限公司"},
			{"类型", "有限责任公司（自然人投资或控股）"},
			{"法定代表人", "张三"},
			{"经营范围", "技术开发、技术咨询、技术服务；软件开发；计算机系统服务；数据处理（数据处理中的银行卡中心、PUE值在1.5以上的云计算数据中心除外）。"},
			{"注册资本", "人民币壹佰万元整"},
			{"成立日期", "2018年03月15日"},
			{"住所", "北京市海淀区中关村大街1号"},
		},
		QRPNG:      qr,
		SealPNG:    stamp,
		Issuer:     "测试市市场监督管理局",
		IssuedOn:   "2026年11月23日",
		Identifier: "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
		Note:       "可通过证信核验此证照 Verify at a Zhengxin counter",
		Time:       fixedNow,
	}
}

func TestRenderLicense(t *testing.T) {
	doc := sampleLicense(t)
	b, err := RenderLicense(doc)
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, b)
	path := writeTemp(t, "license.pdf", b)

	needTool(t, "pdffonts")
	out, err := exec.Command("pdffonts", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("want exactly one font:\n%s", out)
	}
	fields := strings.Fields(lines[2])
	// name type... enc emb sub uni id gen
	if !strings.Contains(lines[2], "CID TrueType") || fields[len(fields)-5] != "yes" || fields[len(fields)-3] != "yes" {
		t.Errorf("font not embedded with a ToUnicode map:\n%s", out)
	}
	// fpdf subsets without the ABCDEF+ name prefix pdffonts looks for, so
	// check the subsetting by size: the whole font is megabytes.
	if len(b) > len(font.TTF())/10 {
		t.Errorf("license PDF is %d bytes: the font (%d bytes) was not subset", len(b), len(font.TTF()))
	}

	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"营 业 执 照", "统一社会信用代码", "91110108MA01ABCD2X", "北京证信科技有限公司", "测试市市场监督管理局", "2026年11月23日", "技术开发"} {
		if !strings.Contains(strings.ReplaceAll(string(txt), " ", ""), strings.ReplaceAll(want, " ", "")) {
			t.Errorf("pdftotext lacks %q:\n%s", want, txt)
		}
	}

	// Rendered: the seal's red lies over the issuer, centred.
	if n := redAround(renderPage(t, b, 1, 50), LicenseSealRect, 50); n < 100 {
		t.Errorf("only %d red pixels around the seal position", n)
	}

	if _, err := RenderLicense(LicenseDoc{Title: "证", Fields: []Field{{"名称", "𠀀"}}}); err == nil {
		t.Error("a character outside the font should be an error")
	}
}

func TestRenderAndSign(t *testing.T) {
	p := getPKI(t)
	doc := sampleLicense(t)
	b, err := RenderAndSign(doc, p.opts())
	if err != nil {
		t.Fatal(err)
	}
	qpdfCheck(t, b)
	res := verifyBytes(t, b)
	if len(res.Signatures) != 1 {
		t.Fatal("not signed")
	}
	assertValid(t, res.Signatures[0])
	if os.Getenv("ZHENGXIN_KEEP_PDF") != "" {
		os.WriteFile(filepath.Join(os.Getenv("ZHENGXIN_KEEP_PDF"), "license-signed.pdf"), b, 0o644)
	}
	// The stamp seen on the page is now the signature's appearance.
	if n := redAround(renderPage(t, b, 1, 50), LicenseSealRect, 50); n < 100 {
		t.Errorf("only %d red pixels where the signature's seal should be", n)
	}
	if !strings.Contains(pdfsig(t, b), "Total document signed") {
		t.Error("pdfsig does not see the signature cover the document")
	}
}

func renderPage(t testing.TB, b []byte, page, dpi int) image.Image {
	t.Helper()
	needTool(t, "pdftoppm")
	path := writeTemp(t, "r.pdf", b)
	prefix := filepath.Join(filepath.Dir(path), "r")
	pg := strconv.Itoa(page)
	if out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-png", "-f", pg, "-l", pg, "-singlefile", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("ZHENGXIN_KEEP_PDF"); dir != "" {
		os.WriteFile(filepath.Join(dir, t.Name()+".png"), mustRead(prefix+".png"), 0o644)
	}
	return img
}

func mustRead(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

// redAround counts seal-red pixels within 40 px of the centre of r (PDF
// points) on a page rendered at dpi.
func redAround(img image.Image, r Rect, dpi int) int {
	cx := int((r.X + r.W/2) * float64(dpi) / 72)
	cy := img.Bounds().Dy() - int((r.Y+r.H/2)*float64(dpi)/72)
	red := 0
	for dy := -40; dy <= 40; dy++ {
		for dx := -40; dx <= 40; dx++ {
			r, g, b, _ := img.At(cx+dx, cy+dy).RGBA()
			if r>>8 > 150 && g>>8 < 100 && b>>8 < 100 {
				red++
			}
		}
	}
	return red
}
