package license

import "testing"

func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002X":          "1101********002X", // GB 11643
		"91350100M000100Y43":          "9135********0Y43", // GB 32100
		"E12345678901234567890123456": "E123********3456", // longer than 18: still 8 stars
		"E1234567":                    "****67",
		"AB":                          "**",
		"":                            "",
		"张三丰李四王五赵六钱七孙八": "张三丰李********钱七孙八",
	} {
		if got := MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}
