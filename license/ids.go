package license

import (
	"fmt"
	"strings"
	"time"
)

// CodeError says which character of an identifier breaks which rule, in
// Chinese and English, so a clerk can read it out and a user can fix the
// exact character.
type CodeError struct {
	// Position is the 1-based character position at fault, 0 when the
	// error concerns the whole code (its length, say).
	Position int
	ZH, EN   string
}

func (e *CodeError) Error() string { return "license: " + e.ZH + " / " + e.EN }

func codeErr(pos int, zh, en string, args ...any) *CodeError {
	return &CodeError{Position: pos, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}
}

// labelCodeErr says which code a CodeError is about.
func labelCodeErr(err error, zh, en string) error {
	if ce, ok := err.(*CodeError); ok {
		return &CodeError{Position: ce.Position, ZH: zh + "：" + ce.ZH, EN: en + ": " + ce.EN}
	}
	return err
}

// citizenWeights are W_i = 2^(17-i) mod 11 of GB 11643-1999 (ISO 7064 MOD 11-2).
var citizenWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckCitizenID validates an 18-character 公民身份号码 (GB 11643-1999):
// 17 digits, a valid birth date at positions 7-14 and the ISO 7064 MOD 11-2
// check character (0-9 or X) at position 18. It returns the code in
// canonical form (lower-case x upper-cased).
func CheckCitizenID(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", codeErr(0, "公民身份号码应为18位，实为%d位", "citizen ID number must have 18 characters, has %d (GB 11643)", len([]rune(s)))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return "", codeErr(i+1, "第%d位应为数字", "character at position %d must be a digit (GB 11643)", i+1)
		}
		sum += int(c-'0') * citizenWeights[i]
	}
	want := "10X98765432"[sum%11]
	if s[17] != want {
		return "", codeErr(18, "第18位校验码应为%c", "check character at position 18 should be %c (GB 11643 MOD 11-2)", want)
	}
	if _, err := time.Parse("20060102", s[6:14]); err != nil {
		return "", codeErr(7, "第7-14位出生日期%s无效", "birth date %s at positions 7-14 is not a valid date (GB 11643)", s[6:14])
	}
	return s, nil
}

// CitizenBirthDate returns the birth date encoded in a valid citizen ID.
func CitizenBirthDate(id string) (Date, bool) {
	id, err := CheckCitizenID(id)
	if err != nil {
		return 0, false
	}
	d, err := ParseDate(id[6:10] + "-" + id[10:12] + "-" + id[12:14])
	return d, err == nil
}

// CitizenSex returns the sex a valid citizen ID encodes, as the "sex" code
// list has it: 1 male, 2 female (GB 11643 §5.3: the 17th character, the
// last of the sequence code, is odd for men and even for women).
func CitizenSex(id string) (int64, bool) {
	id, err := CheckCitizenID(id)
	if err != nil {
		return 0, false
	}
	if (id[16]-'0')%2 == 1 {
		return 1, true
	}
	return 2, true
}

// usccAlphabet is the 31-character alphabet of GB 32100-2015 (no I O Z S V).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckUSCC validates an 18-character 统一社会信用代码 (GB 32100-2015): the
// 31-character alphabet, the MOD 31 check character at position 18, and the
// GB 11714 organisation code embedded at positions 9-17 with its own check
// character at position 17.
func CheckUSCC(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", codeErr(0, "统一社会信用代码应为18位，实为%d位", "unified social credit code must have 18 characters, has %d (GB 32100)", len([]rune(s)))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return "", codeErr(i+1, "第%d位字符不在代码字符集中（不含I、O、Z、S、V）", "character at position %d is not allowed (alphabet 0-9 A-Z without I O Z S V, GB 32100)", i+1)
		}
		sum += v * usccWeights[i]
	}
	want := usccAlphabet[(31-sum%31)%31]
	if s[17] != want {
		return "", codeErr(18, "第18位校验码应为%c", "check character at position 18 should be %c (GB 32100 MOD 31)", want)
	}
	if err := checkOrgCode(s[8:17], 8); err != nil {
		return "", err
	}
	return s, nil
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// checkOrgCode validates a 9-character GB 11714 organisation code (8 body
// characters and a MOD 11 check character); offset shifts the reported
// positions when the code is embedded in a longer one.
func checkOrgCode(s string, offset int) error {
	sum := 0
	for i := 0; i < 8; i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return codeErr(offset+i+1, "第%d位组织机构代码字符无效", "organisation code character at position %d is invalid (GB 11714)", offset+i+1)
		}
		sum += v * orgWeights[i]
	}
	var want byte
	switch c := 11 - sum%11; c {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + c)
	}
	if s[8] != want {
		return codeErr(offset+9, "第%d位组织机构代码校验码应为%c", "organisation code check character at position %d should be %c (GB 11714 MOD 11)", offset+9, want)
	}
	return nil
}

// CheckOrgCode validates a 9-character GB 11714 organisation code.
func CheckOrgCode(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(strings.ReplaceAll(s, "-", "")))
	if len(s) != 9 {
		return "", codeErr(0, "组织机构代码应为9位", "organisation code must have 9 characters (GB 11714)")
	}
	return s, checkOrgCode(s, 0)
}

// IdentifierRoot is the OID arc of e-license identifiers (GB/T 36904).
const IdentifierRoot = "1.2.156.3005.2"

const mod3736Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// mod3736 returns the ISO/IEC 7064 MOD 37,36 check character of s, or 0 if s
// holds a character outside 0-9 A-Z.
func mod3736(s string) byte {
	p := 36
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(mod3736Alphabet, s[i])
		if v < 0 {
			return 0
		}
		t := (p + v) % 36
		if t == 0 {
			t = 36
		}
		p = (2 * t) % 37
	}
	return mod3736Alphabet[(37-p)%36]
}

// Identifier is the parsed e-license identifier of GB/T 36904:
// 1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>.
type Identifier struct {
	TypeCode string // 证照类型代码, usually the defining ministry's USCC + 3 digits
	Issuer   string // 证照颁发机构代码 (USCC)
	Serial   string // 流水号
	Version  int    // 版本号, 1 for the first issue
}

// String formats the identifier with its MOD 37,36 check character.
func (id Identifier) String() string {
	ver := fmt.Sprintf("%03d", id.Version)
	c := mod3736(id.TypeCode + id.Issuer + id.Serial + ver)
	return IdentifierRoot + "." + id.TypeCode + "." + id.Issuer + "." + id.Serial + "." + ver + "." + string(c)
}

func checkIDPart(part string, pos int, what string, maxLen int) error {
	if part == "" || len(part) > maxLen {
		return codeErr(pos, "第%d位起的%s长度应为1至%d位", "%[2]s starting at position %[1]d must have 1 to %[3]d characters", pos, what, maxLen)
	}
	for i := 0; i < len(part); i++ {
		c := part[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return codeErr(pos+i, "第%d位字符应为数字或大写字母", "character at position %d must be a digit or an upper-case letter (GB/T 36904)", pos+i)
		}
	}
	return nil
}

// ParseIdentifier parses and checks an e-license identifier: the root arc,
// five parts, a 3-digit version and the MOD 37,36 check character. The
// issuer code is checked as a USCC only by the caller (real identifiers use
// other codes too, e.g. a 6-digit area code).
func ParseIdentifier(s string) (Identifier, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) > 200 {
		return Identifier{}, codeErr(0, "电子证照标识过长", "e-license identifier is too long (GB/T 36904)")
	}
	if !strings.HasPrefix(s, IdentifierRoot+".") {
		return Identifier{}, codeErr(1, "电子证照标识应以%s开头", "e-license identifier must start with %s (GB/T 36904)", IdentifierRoot)
	}
	parts := strings.Split(s[len(IdentifierRoot)+1:], ".")
	if len(parts) != 5 {
		return Identifier{}, codeErr(0, "电子证照标识应有5段（类型代码.颁发机构代码.流水号.版本号.校验位），实为%d段", "e-license identifier must have 5 parts after the root (type.issuer.serial.version.check), has %d (GB/T 36904)", len(parts))
	}
	pos := len(IdentifierRoot) + 2
	names := []string{"证照类型代码 / type code", "颁发机构代码 / issuer code", "流水号 / serial"}
	for i, p := range parts[:3] {
		if err := checkIDPart(p, pos, names[i], 40); err != nil {
			return Identifier{}, err
		}
		pos += len(p) + 1
	}
	ver := parts[3]
	if len(ver) != 3 || strings.Trim(ver, "0123456789") != "" || ver == "000" {
		return Identifier{}, codeErr(pos, "第%d位起的版本号应为3位数字（001起）", "version at position %d must be 3 digits from 001 (GB/T 36904)", pos)
	}
	pos += 4
	if len(parts[4]) != 1 {
		return Identifier{}, codeErr(pos, "第%d位校验位应为1个字符", "check character at position %d must be one character (GB/T 36904)", pos)
	}
	want := mod3736(parts[0] + parts[1] + parts[2] + ver)
	if parts[4][0] != want {
		return Identifier{}, codeErr(pos, "第%d位校验位应为%c", "check character at position %d should be %c (ISO 7064 MOD 37,36)", pos, want)
	}
	v := int(ver[0]-'0')*100 + int(ver[1]-'0')*10 + int(ver[2]-'0')
	return Identifier{TypeCode: parts[0], Issuer: parts[1], Serial: parts[2], Version: v}, nil
}
