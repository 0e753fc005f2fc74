package seal

import (
	"encoding/asn1"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

// malformed returns the error for a field that does not parse. There is one
// per ASN.1 production and field, so a user (or a fuzzer) learns exactly
// where the input breaks.
func malformed(what string) error {
	return report.Errorf(report.FormatFailure, "seal: malformed %s", what)
}

// chinaTime is the zone of local-time fields without an offset: the formats
// come from China, and ofdrw writes version 1 signing times in China time.
var chinaTime = time.FixedZone("CST", 8*3600)

// ParseSeal parses a DER-encoded SESeal of version 1, 4 or 5. It checks the
// structure only; call VerifyMaker and CheckValidity for the rest.
func ParseSeal(der []byte) (*Seal, error) {
	if len(der) > MaxSealSize {
		return nil, report.Errorf(report.FormatFailure, "seal: SESeal is %d bytes, more than the %d allowed", len(der), MaxSealSize)
	}
	in := cryptobyte.String(der)
	var elem cryptobyte.String
	if !in.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return nil, malformed("SESeal (not a DER SEQUENCE)")
	}
	if !in.Empty() {
		return nil, report.Errorf(report.FormatFailure, "seal: trailing data after SESeal")
	}
	return parseSESeal(elem)
}

// parseSESeal parses one SESeal element (tag and length included).
//
//	V1: SESeal ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo }
//	V4: SESeal ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING,
//	        signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }
//	V5: as V4 plus timeStamp [0] EXPLICIT BIT STRING OPTIONAL
func parseSESeal(elem cryptobyte.String) (*Seal, error) {
	s := &Seal{Raw: elem}
	var body cryptobyte.String
	if !elem.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, malformed("SESeal")
	}
	var info cryptobyte.String
	if !body.ReadASN1Element(&info, cbasn1.SEQUENCE) {
		return nil, malformed("SES_SealInfo")
	}
	s.RawSealInfo = info
	if err := parseSealInfo(info, s); err != nil {
		return nil, err
	}
	switch s.Header.Version {
	case V1:
		// SES_SignInfo ::= SEQUENCE { cert OCTET STRING,
		//     signatureAlgorithm OBJECT IDENTIFIER, signData BIT STRING }
		var sign cryptobyte.String
		if !body.ReadASN1(&sign, cbasn1.SEQUENCE) {
			return nil, malformed("SES_SignInfo")
		}
		if err := parseMakerSignature(&sign, s); err != nil {
			return nil, err
		}
		if !sign.Empty() {
			return nil, malformed("SES_SignInfo (trailing fields)")
		}
	case V4, V5:
		if err := parseMakerSignature(&body, s); err != nil {
			return nil, err
		}
		if s.Header.Version == V5 && !body.Empty() {
			ts, err := parseTimeStamp(&body, "SESeal timeStamp")
			if err != nil {
				return nil, err
			}
			s.TimeStamp = ts
		}
	}
	if !body.Empty() {
		return nil, malformed("SESeal (unexpected fields after signedValue)")
	}
	return s, nil
}

// parseMakerSignature reads cert, signAlgID and signedValue, the three
// fields V4 keeps in SESeal and V1 in SES_SignInfo.
func parseMakerSignature(in *cryptobyte.String, s *Seal) error {
	var certElem cryptobyte.String
	if !in.ReadASN1Element(&certElem, cbasn1.OCTET_STRING) {
		return malformed("SESeal maker cert")
	}
	s.rawCertElem = certElem
	var cert cryptobyte.String
	certElem.ReadASN1(&cert, cbasn1.OCTET_STRING)
	c, err := parseCert(cert, "SESeal maker cert")
	if err != nil {
		return err
	}
	s.MakerCertRaw, s.MakerCert = cert, c
	var algElem cryptobyte.String
	if !in.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) || !in.ReadASN1Element(&algElem, cbasn1.OBJECT_IDENTIFIER) {
		return malformed("SESeal signAlgID")
	}
	s.rawAlgElem = algElem
	if !algElem.ReadASN1ObjectIdentifier(&s.SignAlg) {
		return malformed("SESeal signAlgID")
	}
	sig, err := readBits(in, "SESeal signedValue", s.Header.Version == V1)
	if err != nil {
		return err
	}
	s.SignedValue = sig
	return nil
}

// parseCert parses a DER certificate carried in an OCTET STRING.
func parseCert(der []byte, what string) (*smx509.Certificate, error) {
	if len(der) == 0 || len(der) > maxCertSize {
		return nil, malformed(what + " (empty or too large)")
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, report.Errorf(report.FormatFailure, "seal: malformed %s: %v", what, err)
	}
	return c, nil
}

// parseSealInfo parses SES_SealInfo ::= SEQUENCE { header SES_Header,
// esID IA5String, property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
// extDatas ExtensionDatas OPTIONAL }.
func parseSealInfo(elem cryptobyte.String, s *Seal) error {
	var in cryptobyte.String
	if !elem.ReadASN1(&in, cbasn1.SEQUENCE) {
		return malformed("SES_SealInfo")
	}
	if err := parseHeader(&in, &s.Header); err != nil {
		return err
	}
	var err error
	if s.ESID, err = readIA5(&in, "SES_SealInfo esID", maxShortString); err != nil {
		return err
	}
	if s.ESID == "" {
		return malformed("SES_SealInfo esID (empty)")
	}
	if err := parseProperty(&in, s); err != nil {
		return err
	}
	if err := parsePicture(&in, &s.Picture); err != nil {
		return err
	}
	if in.PeekASN1Tag(cbasn1.SEQUENCE) {
		if s.ExtDatas, err = parseExtDatas(&in, "SES_SealInfo extDatas"); err != nil {
			return err
		}
	}
	if !in.Empty() {
		return malformed("SES_SealInfo (unexpected fields after picture)")
	}
	return nil
}

// parseHeader parses SES_Header ::= SEQUENCE { id IA5String ("ES"),
// version INTEGER, vid IA5String }.
func parseHeader(in *cryptobyte.String, h *Header) error {
	var hdr cryptobyte.String
	if !in.ReadASN1(&hdr, cbasn1.SEQUENCE) {
		return malformed("SES_Header")
	}
	var err error
	if h.ID, err = readIA5(&hdr, "SES_Header id", maxShortString); err != nil {
		return err
	}
	if h.ID != "ES" {
		return report.Errorf(report.FormatFailure, "seal: SES_Header id is %q, not \"ES\": not an electronic seal", h.ID)
	}
	if !hdr.ReadASN1Integer(&h.Version) {
		return malformed("SES_Header version")
	}
	switch h.Version {
	case V1, V4, V5:
	default:
		return report.Errorf(report.FormatFailure, "seal: SES_Header version %d is not supported (1, 4 or 5)", h.Version)
	}
	if h.VID, err = readIA5(&hdr, "SES_Header vid", maxShortString); err != nil {
		return err
	}
	if !hdr.Empty() {
		return malformed("SES_Header (trailing fields)")
	}
	return nil
}

// parseProperty parses SES_ESPropertyInfo.
//
//	V1: SEQUENCE { type INTEGER, name UTF8String, certList SEQUENCE OF
//	        OCTET STRING, createDate UTCTime, validStart UTCTime, validEnd UTCTime }
//	V4: SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER,
//	        certList SES_CertList, createDate, validStart, validEnd GeneralizedTime }
func parseProperty(in *cryptobyte.String, s *Seal) error {
	var p cryptobyte.String
	if !in.ReadASN1(&p, cbasn1.SEQUENCE) {
		return malformed("SES_ESPropertyInfo")
	}
	if !p.ReadASN1Integer(&s.Type) {
		return malformed("SES_ESPropertyInfo type")
	}
	var err error
	if s.Name, err = readUTF8(&p, "SES_ESPropertyInfo name"); err != nil {
		return err
	}
	s.CertListType = CertListCerts
	if s.Header.Version != V1 {
		if !p.ReadASN1Integer(&s.CertListType) {
			return malformed("SES_ESPropertyInfo certListType")
		}
	}
	var list cryptobyte.String
	if !p.ReadASN1(&list, cbasn1.SEQUENCE) {
		return malformed("SES_ESPropertyInfo certList")
	}
	switch s.CertListType {
	case CertListCerts:
		err = parseCertInfoList(list, s)
	case CertListDigests:
		err = parseCertDigestList(list, s)
	default:
		return report.Errorf(report.FormatFailure, "seal: SES_ESPropertyInfo certListType %d is neither 1 (certificates) nor 2 (digests)", s.CertListType)
	}
	if err != nil {
		return err
	}
	for _, f := range []struct {
		t    *time.Time
		name string
	}{{&s.CreateDate, "createDate"}, {&s.ValidStart, "validStart"}, {&s.ValidEnd, "validEnd"}} {
		if *f.t, err = readTime(&p, "SES_ESPropertyInfo "+f.name); err != nil {
			return err
		}
	}
	if !p.Empty() {
		return malformed("SES_ESPropertyInfo (trailing fields)")
	}
	return nil
}

// parseCertInfoList parses CertInfoList ::= SEQUENCE OF OCTET STRING.
// Entries are kept as bytes; they are parsed as certificates when matched.
func parseCertInfoList(list cryptobyte.String, s *Seal) error {
	for !list.Empty() {
		if len(s.Certs) == MaxCerts {
			return report.Errorf(report.FormatFailure, "seal: certList has more than %d entries", MaxCerts)
		}
		var c cryptobyte.String
		if !list.ReadASN1(&c, cbasn1.OCTET_STRING) || len(c) == 0 || len(c) > maxCertSize {
			return malformed("CertInfoList entry")
		}
		s.Certs = append(s.Certs, c)
	}
	if len(s.Certs) == 0 {
		return malformed("CertInfoList (empty)")
	}
	return nil
}

// parseCertDigestList parses CertDigestList ::= SEQUENCE OF CertDigestObj,
// CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }.
func parseCertDigestList(list cryptobyte.String, s *Seal) error {
	for !list.Empty() {
		if len(s.CertDigests) == MaxCerts {
			return report.Errorf(report.FormatFailure, "seal: certList has more than %d entries", MaxCerts)
		}
		var obj cryptobyte.String
		if !list.ReadASN1(&obj, cbasn1.SEQUENCE) {
			return malformed("CertDigestObj")
		}
		var d CertDigest
		var t cryptobyte.String
		var tag cbasn1.Tag
		// PrintableString by the standard; IA5 and UTF8 are seen too.
		if !obj.ReadAnyASN1(&t, &tag) || (tag != cbasn1.PrintableString && tag != cbasn1.IA5String && tag != cbasn1.UTF8String) ||
			len(t) > maxShortString || !isPrintableASCII(t) {
			return malformed("CertDigestObj type")
		}
		d.Type = string(t)
		if !obj.ReadASN1Bytes(&d.Value, cbasn1.OCTET_STRING) || len(d.Value) == 0 || len(d.Value) > 64 {
			return malformed("CertDigestObj value")
		}
		if !obj.Empty() {
			return malformed("CertDigestObj (trailing fields)")
		}
		s.CertDigests = append(s.CertDigests, d)
	}
	if len(s.CertDigests) == 0 {
		return malformed("CertDigestList (empty)")
	}
	return nil
}

// parsePicture parses SES_ESPictrueInfo ::= SEQUENCE { type IA5String,
// data OCTET STRING, width INTEGER, height INTEGER }.
func parsePicture(in *cryptobyte.String, p *Picture) error {
	var pic cryptobyte.String
	if !in.ReadASN1(&pic, cbasn1.SEQUENCE) {
		return malformed("SES_ESPictrueInfo")
	}
	var err error
	if p.Type, err = readIA5(&pic, "SES_ESPictrueInfo type", maxShortString); err != nil {
		return err
	}
	var data cryptobyte.String
	if !pic.ReadASN1(&data, cbasn1.OCTET_STRING) {
		return malformed("SES_ESPictrueInfo data")
	}
	if len(data) > MaxPictureSize {
		return report.Errorf(report.FormatFailure, "seal: picture is %d bytes, more than the %d allowed", len(data), MaxPictureSize)
	}
	p.Data = data
	if !pic.ReadASN1Integer(&p.WidthMM) || p.WidthMM < 0 {
		return malformed("SES_ESPictrueInfo width")
	}
	if !pic.ReadASN1Integer(&p.HeightMM) || p.HeightMM < 0 {
		return malformed("SES_ESPictrueInfo height")
	}
	if !pic.Empty() {
		return malformed("SES_ESPictrueInfo (trailing fields)")
	}
	return nil
}

// parseExtDatas parses ExtensionDatas ::= SEQUENCE OF ExtData.
func parseExtDatas(in *cryptobyte.String, what string) ([]ExtData, error) {
	var list cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, malformed(what)
	}
	return parseExtDataList(list, what)
}

// parseExtDataList parses the ExtData elements of an ExtensionDatas:
// ExtData ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN
// DEFAULT FALSE, extnValue OCTET STRING }.
func parseExtDataList(list cryptobyte.String, what string) ([]ExtData, error) {
	var out []ExtData
	for !list.Empty() {
		if len(out) == MaxExtDatas {
			return nil, report.Errorf(report.FormatFailure, "seal: %s has more than %d entries", what, MaxExtDatas)
		}
		var e cryptobyte.String
		var d ExtData
		if !list.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&d.ID) ||
			(e.PeekASN1Tag(cbasn1.BOOLEAN) && !e.ReadASN1Boolean(&d.Critical)) ||
			!e.ReadASN1Bytes(&d.Value, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, malformed(what + " ExtData")
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseSignature parses a DER-encoded SES_Signature of version 1, 4 or 5,
// with the seal inside it. It checks the structure only; call Verify.
func ParseSignature(der []byte) (*Signature, error) {
	if len(der) > MaxSignatureSize {
		return nil, report.Errorf(report.FormatFailure, "seal: SES_Signature is %d bytes, more than the %d allowed", len(der), MaxSignatureSize)
	}
	in := cryptobyte.String(der)
	var elem cryptobyte.String
	if !in.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return nil, malformed("SES_Signature (not a DER SEQUENCE)")
	}
	if !in.Empty() {
		return nil, report.Errorf(report.FormatFailure, "seal: trailing data after SES_Signature")
	}
	sig := &Signature{Raw: elem}
	var body cryptobyte.String
	if !elem.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, malformed("SES_Signature")
	}
	var tbs cryptobyte.String
	if !body.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("TBS_Sign")
	}
	sig.RawTBSSign = tbs
	if err := parseTBSSign(tbs, sig); err != nil {
		return nil, err
	}
	var err error
	if sig.Version == V1 {
		// SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }
		if sig.SignatureValue, err = readBits(&body, "SES_Signature signature", true); err != nil {
			return nil, err
		}
	} else {
		// SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING,
		//     signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
		//     timeStamp [0] EXPLICIT BIT STRING OPTIONAL }
		if err := parseSignerCert(&body, sig); err != nil {
			return nil, err
		}
		if sig.SignatureValue, err = readBits(&body, "SES_Signature signature", false); err != nil {
			return nil, err
		}
		if !body.Empty() {
			if sig.TimeStamp, err = parseTimeStamp(&body, "SES_Signature timeStamp"); err != nil {
				return nil, err
			}
		}
	}
	if !body.Empty() {
		return nil, malformed("SES_Signature (unexpected fields after signature)")
	}
	return sig, nil
}

// parseSignerCert reads cert OCTET STRING and the signature algorithm OID
// (in SES_Signature for V4, in TBS_Sign for V1).
func parseSignerCert(in *cryptobyte.String, sig *Signature) error {
	var cert cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.OCTET_STRING) {
		return malformed("SES_Signature cert")
	}
	c, err := parseCert(cert, "SES_Signature cert")
	if err != nil {
		return err
	}
	sig.CertRaw, sig.Cert = cert, c
	if !in.ReadASN1ObjectIdentifier(&sig.SignatureAlg) {
		return malformed("SES_Signature signatureAlgID")
	}
	return nil
}

// parseTBSSign parses TBS_Sign.
//
//	V1: SEQUENCE { version INTEGER, eseal SESeal, timeInfo BIT STRING,
//	        dataHash BIT STRING, propertyInfo IA5String, cert OCTET STRING,
//	        signatureAlgorithm OBJECT IDENTIFIER }
//	V4: SEQUENCE { version INTEGER, eseal SESeal, timeInfo GeneralizedTime,
//	        dataHash BIT STRING, propertyInfo IA5String,
//	        extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }
func parseTBSSign(elem cryptobyte.String, sig *Signature) error {
	var in cryptobyte.String
	if !elem.ReadASN1(&in, cbasn1.SEQUENCE) {
		return malformed("TBS_Sign")
	}
	if !in.ReadASN1Integer(&sig.Version) {
		return malformed("TBS_Sign version")
	}
	var sealElem cryptobyte.String
	if !in.ReadASN1Element(&sealElem, cbasn1.SEQUENCE) {
		return malformed("TBS_Sign eseal")
	}
	if len(sealElem) > MaxSealSize {
		return report.Errorf(report.FormatFailure, "seal: embedded SESeal is more than %d bytes", MaxSealSize)
	}
	s, err := parseSESeal(sealElem)
	if err != nil {
		return err
	}
	sig.Seal = s
	// TBS_Sign.version is "the same as the seal's version" (GB/T 38540 7.1).
	if sig.Version != s.Header.Version {
		return report.Errorf(report.FormatFailure, "seal: TBS_Sign version %d differs from its seal's version %d", sig.Version, s.Header.Version)
	}
	if sig.Version == V1 {
		if sig.RawTimeInfo, err = readBits(&in, "TBS_Sign timeInfo", true); err != nil {
			return err
		}
		sig.SignedAt = parseV1TimeInfo(sig.RawTimeInfo)
	} else {
		if sig.SignedAt, err = readTime(&in, "TBS_Sign timeInfo"); err != nil {
			return err
		}
	}
	if sig.DataHash, err = readBits(&in, "TBS_Sign dataHash", sig.Version == V1); err != nil {
		return err
	}
	if len(sig.DataHash) == 0 || len(sig.DataHash) > 64 {
		return malformed("TBS_Sign dataHash (not a hash value)")
	}
	if sig.PropertyInfo, err = readIA5(&in, "TBS_Sign propertyInfo", maxLongString); err != nil {
		return err
	}
	if sig.Version == V1 {
		if err := parseSignerCert(&in, sig); err != nil {
			return err
		}
	} else if !in.Empty() {
		if sig.ExtDatas, err = parseTaggedExtDatas(&in); err != nil {
			return err
		}
	}
	if !in.Empty() {
		return malformed("TBS_Sign (unexpected fields after propertyInfo)")
	}
	return nil
}

// parseTaggedExtDatas reads extDatas [0] EXPLICIT ExtensionDatas, and also
// the implicitly tagged form some producers write.
func parseTaggedExtDatas(in *cryptobyte.String) ([]ExtData, error) {
	var inner cryptobyte.String
	if !in.ReadASN1(&inner, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("TBS_Sign extDatas")
	}
	// Explicit: [0] holds one ExtensionDatas SEQUENCE whose elements are
	// ExtData SEQUENCEs. Implicit: [0] holds the ExtData SEQUENCEs, each
	// starting with an OID.
	probe := inner
	var first cryptobyte.String
	if probe.ReadASN1(&first, cbasn1.SEQUENCE) && first.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		return parseExtDataList(inner, "TBS_Sign extDatas")
	}
	out, err := parseExtDatas(&inner, "TBS_Sign extDatas")
	if err != nil {
		return nil, err
	}
	if !inner.Empty() {
		return nil, malformed("TBS_Sign extDatas (trailing data)")
	}
	return out, nil
}

// parseTimeStamp reads timeStamp [0] EXPLICIT BIT STRING (or the implicit
// [0] primitive form) and returns its bytes.
func parseTimeStamp(in *cryptobyte.String, what string) ([]byte, error) {
	var inner cryptobyte.String
	switch {
	case in.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
		in.ReadASN1(&inner, cbasn1.Tag(0).Constructed().ContextSpecific())
		ts, err := readBits(&inner, what, true)
		if err != nil {
			return nil, err
		}
		if !inner.Empty() {
			return nil, malformed(what + " (trailing data)")
		}
		return ts, nil
	case in.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		in.ReadASN1(&inner, cbasn1.Tag(0).ContextSpecific())
		if len(inner) < 1 || inner[0] != 0 {
			return nil, malformed(what)
		}
		return inner[1:], nil
	}
	return nil, malformed(what)
}

// readBits reads a BIT STRING that holds whole bytes. With tolerant set
// (version 1, where ofdrw accepts non-standard seals) an OCTET STRING is
// accepted in its place.
func readBits(in *cryptobyte.String, what string, tolerant bool) ([]byte, error) {
	if tolerant && in.PeekASN1Tag(cbasn1.OCTET_STRING) {
		var b []byte
		if !in.ReadASN1Bytes(&b, cbasn1.OCTET_STRING) {
			return nil, malformed(what)
		}
		return b, nil
	}
	var bs asn1.BitString
	if !in.ReadASN1BitString(&bs) || bs.BitLength%8 != 0 {
		return nil, malformed(what)
	}
	return bs.Bytes, nil
}

func readIA5(in *cryptobyte.String, what string, max int) (string, error) {
	var b cryptobyte.String
	if !in.ReadASN1(&b, cbasn1.IA5String) || len(b) > max {
		return "", malformed(what)
	}
	for _, c := range b {
		if c > 0x7f {
			return "", malformed(what + " (not IA5)")
		}
	}
	return string(b), nil
}

func readUTF8(in *cryptobyte.String, what string) (string, error) {
	var b cryptobyte.String
	if !in.ReadASN1(&b, cbasn1.UTF8String) || len(b) > maxLongString || !utf8.Valid(b) {
		return "", malformed(what)
	}
	return string(b), nil
}

func isPrintableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// readTime reads a GeneralizedTime (V4) or UTCTime (V1); both are accepted
// in either version because seals in the wild mix them. Fractions and
// offsets are tolerated; a time without a zone is read as China time.
func readTime(in *cryptobyte.String, what string) (time.Time, error) {
	var b cryptobyte.String
	var layouts []string
	switch {
	case in.PeekASN1Tag(cbasn1.GeneralizedTime):
		in.ReadASN1(&b, cbasn1.GeneralizedTime)
		layouts = []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "20060102150405", "200601021504Z0700"}
	case in.PeekASN1Tag(cbasn1.UTCTime):
		in.ReadASN1(&b, cbasn1.UTCTime)
		layouts = []string{"060102150405Z0700", "0601021504Z0700", "060102150405"}
	default:
		return time.Time{}, malformed(what)
	}
	if len(b) > 32 {
		return time.Time{}, malformed(what)
	}
	for _, l := range layouts {
		t, err := time.ParseInLocation(l, string(b), chinaTime)
		if err == nil {
			// UTCTime years 50-99 are 1950-1999 (RFC 5280 4.1.2.5.1);
			// Go's two-digit year rule (69) differs.
			if strings.HasPrefix(l, "06") && t.Year() >= 2050 {
				t = t.AddDate(-100, 0, 0)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, malformed(what)
}

// parseV1TimeInfo reads the text version 1 signers put in timeInfo; zero if
// it is not a recognisable time (e.g. a timestamp token).
func parseV1TimeInfo(b []byte) time.Time {
	if len(b) > 64 {
		return time.Time{}
	}
	s := strings.TrimSpace(string(b))
	for _, l := range []string{"2006-01-02 15:04:05", "20060102150405Z0700", "060102150405Z0700", "2006-01-02T15:04:05Z07:00", "20060102150405"} {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Strings used in errors and Show.
func versionName(v int) string {
	switch v {
	case V1:
		return "GM/T 0031-2014 (V1)"
	case V4:
		return "GB/T 38540-2020 (V4)"
	case V5:
		return "GM/T 0031-2025 (V5)"
	}
	return "v" + strconv.Itoa(v)
}
