package seal

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// CertSummary names a certificate for people.
type CertSummary struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SM3       string    `json:"sm3"` // hex SM3 of the DER, to compare with digest lists
}

// Summary is a seal's content for display and for JSON output
// (`zhengxin seal show --json`).
type Summary struct {
	Version      int           `json:"version"`
	Format       string        `json:"format"`
	VID          string        `json:"vid"`
	ESID         string        `json:"es_id"`
	Name         string        `json:"name"`
	Type         int           `json:"type"`
	TypeName     string        `json:"type_name"`
	CertListType int           `json:"cert_list_type"`
	Signers      []CertSummary `json:"signers,omitempty"`
	SignerSM3    []string      `json:"signer_digests,omitempty"` // "type:hex" for digest lists
	CreateDate   time.Time     `json:"create_date"`
	ValidStart   time.Time     `json:"valid_start"`
	ValidEnd     time.Time     `json:"valid_end"`
	PictureType  string        `json:"picture_type"`
	PictureBytes int           `json:"picture_bytes"`
	WidthMM      int           `json:"width_mm"`
	HeightMM     int           `json:"height_mm"`
	Extensions   []string      `json:"extensions,omitempty"`
	Maker        CertSummary   `json:"maker"`
	SignAlg      string        `json:"sign_alg"`
	HasTimeStamp bool          `json:"has_timestamp,omitempty"`
}

// Summarize returns the displayable content of s.
func Summarize(s *Seal) Summary {
	sum := Summary{
		Version: s.Header.Version, Format: versionName(s.Header.Version), VID: s.Header.VID,
		ESID: s.ESID, Name: s.Name, Type: s.Type, TypeName: typeName(s.Type), CertListType: s.CertListType,
		CreateDate: s.CreateDate, ValidStart: s.ValidStart, ValidEnd: s.ValidEnd,
		PictureType: s.Picture.Type, PictureBytes: len(s.Picture.Data), WidthMM: s.Picture.WidthMM, HeightMM: s.Picture.HeightMM,
		Maker: certSummary(s.MakerCertRaw, s.MakerCert), SignAlg: algName(s.SignAlg.String()), HasTimeStamp: s.TimeStamp != nil,
	}
	for _, c := range s.Certs {
		parsed, _ := smx509.ParseCertificate(c)
		sum.Signers = append(sum.Signers, certSummary(c, parsed))
	}
	for _, d := range s.CertDigests {
		sum.SignerSM3 = append(sum.SignerSM3, d.Type+":"+hex.EncodeToString(d.Value))
	}
	for _, e := range s.ExtDatas {
		crit := ""
		if e.Critical {
			crit = " critical"
		}
		sum.Extensions = append(sum.Extensions, fmt.Sprintf("%v%s (%d bytes)", e.ID, crit, len(e.Value)))
	}
	return sum
}

func certSummary(raw []byte, c *smx509.Certificate) CertSummary {
	h := sm3.Sum(raw)
	cs := CertSummary{SM3: hex.EncodeToString(h[:])}
	if c == nil {
		cs.Subject = "(unparsable certificate 无法解析的证书)"
		return cs
	}
	cs.Subject, cs.Issuer = c.Subject.String(), c.Issuer.String()
	cs.Serial = c.SerialNumber.Text(16)
	cs.NotBefore, cs.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	return cs
}

func typeName(t int) string {
	switch t {
	case TypeOrganisation:
		return "单位印章 organisation"
	case TypePersonal:
		return "个人印章 personal"
	}
	return "自定义 business-defined"
}

func algName(oid string) string {
	if oid == OIDSM2WithSM3.String() {
		return "SM2-with-SM3 (" + oid + ")"
	}
	return oid
}

// Show returns a seal's content as text, Chinese labels first with the
// English beside them, one field a line, for `zhengxin seal show`.
func Show(s *Seal) string {
	sum := Summarize(s)
	var b strings.Builder
	line := func(zh, en, v string) { fmt.Fprintf(&b, "%s %s: %s\n", zh, en, v) }
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
	line("印章格式", "Format", sum.Format)
	line("厂商标识", "Vendor ID", sum.VID)
	line("印章编码", "Seal ID", sum.ESID)
	line("印章名称", "Name", sum.Name)
	line("印章类型", "Type", fmt.Sprintf("%d (%s)", sum.Type, sum.TypeName))
	line("制作日期", "Created", day(sum.CreateDate))
	line("有效期", "Valid", day(sum.ValidStart)+" — "+day(sum.ValidEnd))
	line("印章图片", "Picture", fmt.Sprintf("%s, %d bytes, %d×%d mm", sum.PictureType, sum.PictureBytes, sum.WidthMM, sum.HeightMM))
	switch sum.CertListType {
	case CertListDigests:
		line("签章人证书", "Signers", fmt.Sprintf("%d certificate digests", len(sum.SignerSM3)))
		for _, d := range sum.SignerSM3 {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
	default:
		line("签章人证书", "Signers", fmt.Sprintf("%d certificates", len(sum.Signers)))
		for _, c := range sum.Signers {
			fmt.Fprintf(&b, "  - %s (issuer %s, serial %s, %s — %s)\n", c.Subject, c.Issuer, c.Serial, c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
		}
	}
	line("制章人", "Maker", fmt.Sprintf("%s (issuer %s, serial %s, %s — %s)", sum.Maker.Subject, sum.Maker.Issuer, sum.Maker.Serial,
		sum.Maker.NotBefore.Format("2006-01-02"), sum.Maker.NotAfter.Format("2006-01-02")))
	line("签名算法", "Algorithm", sum.SignAlg)
	for _, e := range sum.Extensions {
		line("扩展数据", "Extension", e)
	}
	if sum.HasTimeStamp {
		line("时间戳", "Timestamp", "present (not checked 未验证)")
	}
	return b.String()
}

// ShowSignature returns a seal signature's content as text, Chinese labels
// first, followed by its seal's (Show).
func ShowSignature(sig *Signature) string {
	var b strings.Builder
	line := func(zh, en, v string) { fmt.Fprintf(&b, "%s %s: %s\n", zh, en, v) }
	line("签章格式", "Format", versionName(sig.Version)+" SES_Signature")
	c := certSummary(sig.CertRaw, sig.Cert)
	line("签章人", "Signer", fmt.Sprintf("%s (issuer %s, serial %s, %s — %s)", c.Subject, c.Issuer, c.Serial,
		c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02")))
	if sig.SignedAt.IsZero() {
		line("签章时间", "Signed at", fmt.Sprintf("unreadable 无法识别 (%q)", sig.RawTimeInfo))
	} else {
		line("签章时间", "Signed at", sig.SignedAt.UTC().Format("2006-01-02 15:04:05 UTC")+" (claimed by the signer 签章人声明)")
	}
	line("原文属性", "Property info", sig.PropertyInfo)
	line("原文杂凑", "Data hash", hex.EncodeToString(sig.DataHash))
	line("签名算法", "Algorithm", algName(sig.SignatureAlg.String()))
	if sig.TimeStamp != nil {
		line("时间戳", "Timestamp", "present (not checked 未验证)")
	}
	b.WriteString("—— 印章 Seal ——\n")
	b.WriteString(Show(sig.Seal))
	return b.String()
}
