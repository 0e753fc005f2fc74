package seal

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestShowInterop(t *testing.T) {
	s, err := ParseSeal(readInterop(t, "UserV4.esl"))
	if err != nil {
		t.Fatal(err)
	}
	out := Show(s)
	for _, want := range []string{
		"印章格式 Format: GB/T 38540-2020 (V4)",
		"印章编码 Seal ID: 51f044b76510434e9bc67a1185c2fba5",
		"印章名称 Name: OFD R&W 测试用印章",
		"有效期 Valid: 2020-04-22 02:09:00 UTC — 2022-04-22 02:09:00 UTC",
		"印章图片 Picture: PNG, ", "40×40 mm",
		"签章人证书 Signers: 1 certificates",
		"CN=Test Certificate",
		"签名算法 Algorithm: SM2-with-SM3 (1.2.156.10197.1.501)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Show lacks %q:\n%s", want, out)
		}
	}
	b, err := json.Marshal(Summarize(s))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back["es_id"] != "51f044b76510434e9bc67a1185c2fba5" || back["version"] != float64(4) {
		t.Errorf("JSON summary = %s (%v)", b, err)
	}
}

func TestShowSignatureInterop(t *testing.T) {
	sig, err := ParseSignature(readInterop(t, "SignedValueV4.dat"))
	if err != nil {
		t.Fatal(err)
	}
	out := ShowSignature(sig)
	for _, want := range []string{
		"签章格式 Format: GB/T 38540-2020 (V4) SES_Signature",
		"签章时间 Signed at: 2020-10-12 11:14:03 UTC",
		"原文属性 Property info: /Doc_0/Signs/Sign_0/Signature.xml",
		"原文杂凑 Data hash: " + strings.Repeat("00", 32),
		"印章编码 Seal ID: 51f044b76510434e9bc67a1185c2fba5",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ShowSignature lacks %q:\n%s", want, out)
		}
	}
}
