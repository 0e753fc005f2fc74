package seal

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultVID is the vendor identifier (SES_Header.vid) written when
// SealSpec.VID is empty.
const DefaultVID = "Zhengxin"

// SealSpec is what goes into a new seal.
type SealSpec struct {
	ESID string // unique seal identifier (电子印章编码), printable ASCII
	Name string // seal name, e.g. "某某市场监督管理局合同专用章"
	Type int    // TypeOrganisation, TypePersonal, or a business-defined value > 0
	VID  string // vendor identifier; DefaultVID if empty
	// SignerCerts are the certificates allowed to sign with the seal.
	SignerCerts []*smx509.Certificate
	// CertListType is CertListCerts (the default) or CertListDigests (SM3
	// digests of the certificates, type "sm3").
	CertListType int
	Picture      Picture
	CreateDate   time.Time // zero: ValidStart
	ValidStart   time.Time
	ValidEnd     time.Time
	ExtDatas     []ExtData
}

var pictureTypes = []string{"PNG", "JPG", "JPEG", "GIF", "BMP", "SVG", "OFD"}

func (spec *SealSpec) check() error {
	if spec.ESID == "" || len(spec.ESID) > maxShortString || !isPrintableASCII([]byte(spec.ESID)) {
		return fmt.Errorf("seal: the seal identifier (ESID) must be 1-%d printable ASCII characters", maxShortString)
	}
	if spec.Name == "" || len(spec.Name) > maxLongString || !utf8.ValidString(spec.Name) {
		return fmt.Errorf("seal: the seal name must be non-empty UTF-8 of at most %d bytes", maxLongString)
	}
	if spec.Type <= 0 {
		return fmt.Errorf("seal: seal type %d: use 1 (organisation), 2 (personal) or another positive value", spec.Type)
	}
	if len(spec.VID) > maxShortString || !isPrintableASCII([]byte(spec.VID)) {
		return fmt.Errorf("seal: the vendor identifier must be printable ASCII of at most %d characters", maxShortString)
	}
	if len(spec.SignerCerts) == 0 || len(spec.SignerCerts) > MaxCerts {
		return fmt.Errorf("seal: a seal needs 1-%d signer certificates, got %d", MaxCerts, len(spec.SignerCerts))
	}
	for i, c := range spec.SignerCerts {
		if c == nil || len(c.Raw) == 0 || len(c.Raw) > maxCertSize {
			return fmt.Errorf("seal: signer certificate %d is missing or larger than %d bytes", i+1, maxCertSize)
		}
	}
	switch spec.CertListType {
	case 0, CertListCerts, CertListDigests:
	default:
		return fmt.Errorf("seal: certificate list type %d: use 1 (certificates) or 2 (digests)", spec.CertListType)
	}
	p := spec.Picture
	known := false
	for _, t := range pictureTypes {
		known = known || strings.EqualFold(p.Type, t)
	}
	if !known {
		return fmt.Errorf("seal: picture type %q: use one of %s", p.Type, strings.Join(pictureTypes, ", "))
	}
	if len(p.Data) == 0 || len(p.Data) > MaxPictureSize {
		return fmt.Errorf("seal: the picture must be 1 byte to %d bytes, got %d", MaxPictureSize, len(p.Data))
	}
	if p.WidthMM <= 0 || p.HeightMM <= 0 || p.WidthMM > 1000 || p.HeightMM > 1000 {
		return fmt.Errorf("seal: picture size %dx%d mm: width and height must be 1-1000 mm", p.WidthMM, p.HeightMM)
	}
	if spec.ValidStart.IsZero() || spec.ValidEnd.IsZero() || !spec.ValidEnd.After(spec.ValidStart) {
		return fmt.Errorf("seal: the validity window must have a start before its end")
	}
	if spec.ValidStart.Year() < 1950 || spec.ValidEnd.Year() > 9999 {
		return fmt.Errorf("seal: the validity window must lie within years 1950-9999")
	}
	if len(spec.ExtDatas) > MaxExtDatas {
		return fmt.Errorf("seal: at most %d extension data entries", MaxExtDatas)
	}
	return nil
}

// checkKey makes sure key belongs to cert, so that a mix-up is reported
// when making the seal rather than when a relying party fails to verify it.
func checkKey(cert *smx509.Certificate, key crypto.Signer, who string) error {
	if cert == nil || key == nil {
		return fmt.Errorf("seal: the %s certificate and key are required", who)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return fmt.Errorf("seal: the %s certificate %q does not hold an SM2 key", who, cert.Subject.CommonName)
	}
	kp, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || !kp.Equal(pub) {
		return fmt.Errorf("seal: the %s key does not belong to the %s certificate %q", who, who, cert.Subject.CommonName)
	}
	return nil
}

// sign makes an SM2-with-SM3 signature (user ID 1234567812345678, DER
// SEQUENCE{r,s}) over msg. key is usually a *sm2.PrivateKey; any
// crypto.Signer that understands *sm2.SM2SignerOption works.
func sign(key crypto.Signer, msg []byte) ([]byte, error) {
	sig, err := key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("seal: signing: %w", err)
	}
	return sig, nil
}

// MakeSeal makes a version 4 (GB/T 38540-2020) SESeal signed by the seal
// maker (制章人) and returns its DER, ready to be written as a .esl file.
// The maker signs DER(SES_SealInfo), as ofdrw does. Dates are written in
// UTC to the second.
func MakeSeal(spec SealSpec, makerCert *smx509.Certificate, makerKey crypto.Signer) ([]byte, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if err := checkKey(makerCert, makerKey, "maker"); err != nil {
		return nil, err
	}
	if spec.VID == "" {
		spec.VID = DefaultVID
	}
	if spec.CertListType == 0 {
		spec.CertListType = CertListCerts
	}
	if spec.CreateDate.IsZero() {
		spec.CreateDate = spec.ValidStart
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_SealInfo
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_Header
			addString(b, cbasn1.IA5String, "ES")
			b.AddASN1Int64(V4)
			addString(b, cbasn1.IA5String, spec.VID)
		})
		addString(b, cbasn1.IA5String, spec.ESID)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_ESPropertyInfo
			b.AddASN1Int64(int64(spec.Type))
			addString(b, cbasn1.UTF8String, spec.Name)
			b.AddASN1Int64(int64(spec.CertListType))
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range spec.SignerCerts {
					if spec.CertListType == CertListCerts {
						b.AddASN1OctetString(c.Raw)
						continue
					}
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CertDigestObj
						h := sm3.Sum(c.Raw)
						addString(b, cbasn1.PrintableString, "sm3")
						b.AddASN1OctetString(h[:])
					})
				}
			})
			addTime(b, spec.CreateDate)
			addTime(b, spec.ValidStart)
			addTime(b, spec.ValidEnd)
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_ESPictrueInfo
			addString(b, cbasn1.IA5String, strings.ToUpper(spec.Picture.Type))
			b.AddASN1OctetString(spec.Picture.Data)
			b.AddASN1Int64(int64(spec.Picture.WidthMM))
			b.AddASN1Int64(int64(spec.Picture.HeightMM))
		})
		if len(spec.ExtDatas) > 0 {
			addExtDatas(b, spec.ExtDatas)
		}
	})
	info, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: encoding SES_SealInfo: %w", err)
	}
	sig, err := sign(makerKey, info)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SESeal
		b.AddBytes(info)
		b.AddASN1OctetString(makerCert.Raw)
		b.AddASN1ObjectIdentifier(OIDSM2WithSM3)
		b.AddASN1BitString(sig)
	})
	der, err := out.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: encoding SESeal: %w", err)
	}
	if len(der) > MaxSealSize {
		return nil, fmt.Errorf("seal: the seal would be %d bytes, more than the %d readers accept; use a smaller picture", len(der), MaxSealSize)
	}
	return der, nil
}

// Sign makes a version 4 SES_Signature: the signer's SM2 signature, with
// the seal sealDER, over dataHash (the SM3 hash of the document) and
// propertyInfo (free text naming what is protected, e.g. a file name or
// byte range), signed at time at. The signer certificate must be listed
// in the seal and the seal valid at at; a version 1 seal cannot be used
// (make a new version 4 seal).
func Sign(sealDER []byte, signerCert *smx509.Certificate, signerKey crypto.Signer, dataHash []byte, propertyInfo string, at time.Time) ([]byte, error) {
	s, err := ParseSeal(sealDER)
	if err != nil {
		return nil, err
	}
	if s.Version() != V4 {
		return nil, fmt.Errorf("seal: seal %q is %s; only version 4 seals can sign (make a new seal)", s.ESID, versionName(s.Version()))
	}
	if err := checkKey(signerCert, signerKey, "signer"); err != nil {
		return nil, err
	}
	if err := s.Lists(signerCert.Raw); err != nil {
		return nil, err
	}
	if err := s.CheckValidity(at); err != nil {
		return nil, err
	}
	if len(dataHash) != sm3.Size {
		return nil, fmt.Errorf("seal: dataHash must be a %d-byte SM3 hash, got %d bytes", sm3.Size, len(dataHash))
	}
	if len(propertyInfo) > maxLongString || !isPrintableASCII([]byte(propertyInfo)) {
		return nil, fmt.Errorf("seal: propertyInfo must be printable ASCII (IA5String) of at most %d bytes", maxLongString)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBS_Sign
		b.AddASN1Int64(V4)
		b.AddBytes(s.Raw)
		addTime(b, at)
		b.AddASN1BitString(dataHash)
		addString(b, cbasn1.IA5String, propertyInfo)
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("seal: encoding TBS_Sign: %w", err)
	}
	sig, err := sign(signerKey, tbs)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SES_Signature
		b.AddBytes(tbs)
		b.AddASN1OctetString(signerCert.Raw)
		b.AddASN1ObjectIdentifier(OIDSM2WithSM3)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

// SignData is Sign over the SM3 hash of data.
func SignData(sealDER []byte, signerCert *smx509.Certificate, signerKey crypto.Signer, data []byte, propertyInfo string, at time.Time) ([]byte, error) {
	h := sm3.Sum(data)
	return Sign(sealDER, signerCert, signerKey, h[:], propertyInfo, at)
}

func addString(b *cryptobyte.Builder, tag cbasn1.Tag, s string) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

// addTime writes a DER GeneralizedTime: UTC, whole seconds, "Z".
func addTime(b *cryptobyte.Builder, t time.Time) {
	b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
}

func addExtDatas(b *cryptobyte.Builder, exts []ExtData) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range exts {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(e.ID)
				if e.Critical { // DEFAULT FALSE is omitted in DER
					b.AddASN1Boolean(true)
				}
				b.AddASN1OctetString(e.Value)
			})
		}
	})
}
