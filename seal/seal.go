// Package seal reads, makes and checks electronic seals (电子印章) and seal
// signatures (电子签章) in the formats of GB/T 38540-2020 "安全电子签章密码技术
// 规范" (version 4) and its predecessor GM/T 0031-2014 (version 1), which old
// seals still in use follow. It also draws the stamp picture a seal carries.
//
// A seal (SESeal, a .esl file) binds a picture, a name and a list of signer
// certificates, and is signed by the seal maker (制章人). A seal signature
// (SES_Signature) is a signer's SM2 signature over the SM3 hash of a document
// together with the seal it was stamped with.
//
// Making a seal and stamping a document:
//
//	der, err := seal.MakeSeal(seal.SealSpec{
//		ESID: "11010000000001", Name: "某某市场监督管理局合同专用章", Type: 1,
//		SignerCerts: []*smx509.Certificate{sealCert},
//		Picture:     seal.Picture{Type: "PNG", Data: png, WidthMM: 42, HeightMM: 42},
//		ValidStart:  start, ValidEnd: end,
//	}, makerCert, makerKey)
//	sig, err := seal.SignData(der, sealCert, sealKey, doc, "doc.pdf", time.Now())
//
// Checking one:
//
//	s, err := seal.ParseSignature(sig)
//	err = s.Verify(doc) // signature, hash, maker, cert list, validity at signing
//
// Errors from checks carry a report reason (verify/report): FORMAT_FAILURE
// for malformed input, SIG_CRYPTO_FAILURE, HASH_FAILURE, SEAL_INVALID,
// UNSUPPORTED_ALGORITHM. Whether the maker and signer certificates chain to
// a trusted root is the caller's question (package verify asks its Trust).
//
// What is emitted: version 4 only, signature algorithm 1.2.156.10197.1.501
// (SM2 with SM3, user ID "1234567812345678"), signature values DER
// SEQUENCE{r, s}; the maker signs DER(SES_SealInfo) as ofdrw does. What is
// accepted: versions 1, 4 and 5 (GM/T 0031-2025, with its optional seal
// timestamp); a maker signature over either DER(SES_SealInfo) or
// SEQUENCE{SES_SealInfo, cert, signAlgID}; raw 64-byte r||s signature
// values; UTCTime or GeneralizedTime dates; OCTET STRING where version 1
// says BIT STRING; explicit or implicit [0] tags. See docs/seals.md.
package seal

import (
	"encoding/asn1"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Limits on what the parser accepts, so that hostile input cannot make it
// allocate or loop without bound.
const (
	MaxSealSize      = 4 << 20 // a whole SESeal
	MaxSignatureSize = 5 << 20 // a whole SES_Signature (it embeds a seal)
	MaxPictureSize   = 2 << 20
	MaxCerts         = 32 // entries of the seal's certificate list
	MaxExtDatas      = 32
	maxCertSize      = 16 << 10
	maxShortString   = 256 // esID, vid, picture type, digest type
	maxLongString    = 4096
)

// OIDs used by the formats (GM/T 0006, GB/T 33560).
var (
	OIDSM2WithSM3 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	OIDSM3        = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
)

// Versions of SES_Header.version.
const (
	V1 = 1 // GM/T 0031-2014
	V4 = 4 // GB/T 38540-2020
	V5 = 5 // GM/T 0031-2025 (read only)
)

// Certificate list types of SES_ESPropertyInfo.certListType (version 4).
const (
	CertListCerts   = 1 // the list holds signer certificates (DER)
	CertListDigests = 2 // the list holds digests of signer certificates
)

// Seal types commonly used in SES_ESPropertyInfo.type. The standard leaves
// the values to the business; these are the GM/T 0031 ones.
const (
	TypeOrganisation = 1 // 单位印章
	TypePersonal     = 2 // 个人印章
)

// Header is SES_Header.
type Header struct {
	ID      string // always "ES"
	Version int
	VID     string // vendor identifier (电子印章厂商标识)
}

// Picture is SES_ESPictrueInfo (sic): the stamp image and its printed size.
type Picture struct {
	Type     string // "PNG", "JPG", "GIF", "BMP", "SVG", "OFD"
	Data     []byte
	WidthMM  int
	HeightMM int
}

// ExtData is one vendor extension.
type ExtData struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte
}

// CertDigest is a CertDigestObj: a signer certificate named by its hash.
type CertDigest struct {
	Type  string // the digest algorithm, e.g. "sm3" or "1.2.156.10197.1.401"
	Value []byte
}

// Seal is a parsed SESeal.
type Seal struct {
	Raw         []byte // the whole SESeal, exactly as parsed
	RawSealInfo []byte // the SES_SealInfo element, the maker signature input

	Header       Header
	ESID         string // 电子印章标识
	Type         int
	Name         string
	CertListType int      // CertListCerts or CertListDigests (version 1: CertListCerts)
	Certs        [][]byte // signer certificates, DER (CertListCerts)
	CertDigests  []CertDigest
	CreateDate   time.Time
	ValidStart   time.Time
	ValidEnd     time.Time
	Picture      Picture
	ExtDatas     []ExtData

	MakerCertRaw []byte
	MakerCert    *smx509.Certificate
	SignAlg      asn1.ObjectIdentifier
	SignedValue  []byte
	// TimeStamp is the version 5 seal timestamp, raw, if present. It is
	// not checked.
	TimeStamp []byte

	// The elements that make the version 1 maker signature input
	// SEQUENCE{SES_SealInfo, cert, signAlgID}, exactly as parsed.
	rawCertElem, rawAlgElem []byte
}

// Version returns the seal's format version (1, 4 or 5).
func (s *Seal) Version() int { return s.Header.Version }

// Signature is a parsed SES_Signature.
type Signature struct {
	Raw        []byte // the whole SES_Signature
	RawTBSSign []byte // the TBS_Sign element, the signer's signature input

	Version int
	Seal    *Seal
	// SignedAt is TBS_Sign.timeInfo. Version 1 carries free text there
	// (often "2006-01-02 15:04:05", China time); if it cannot be read as a
	// time, SignedAt is zero and RawTimeInfo holds the bytes.
	SignedAt     time.Time
	RawTimeInfo  []byte
	DataHash     []byte
	PropertyInfo string
	ExtDatas     []ExtData

	CertRaw        []byte
	Cert           *smx509.Certificate
	SignatureAlg   asn1.ObjectIdentifier
	SignatureValue []byte
	// TimeStamp is the optional [0] timestamp over the signature value,
	// raw. It is not checked.
	TimeStamp []byte
}
