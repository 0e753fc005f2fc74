package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"sort"
	"time"

	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Object identifiers of RFC 5652, GB/T 35275 and GM/T 0006 (STANDARDS.md §2).
var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSMSignedData      = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSM3               = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	oidSM2Sign           = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
	oidSM2WithSM3        = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidECPublicKey       = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

// buildCMS returns a detached CMS SignedData (RFC 5652 content types, SM3
// digest, SM2 signature 1.2.156.10197.1.301.1, as gmsm's NewSignedData +
// SetDigestAlgorithm(SM3) writes) over the message whose SM3 is digest.
//
// It is written here, not with gmsm's SignedData, because gmsm always puts
// time.Now() into the signingTime attribute: the PDF's /M, the CMS
// signingTime and an SES timeInfo must be the one SignOptions.Time, and
// tests need a fixed clock. Its output is checked against gmsm's parser
// and verifier in the tests.
func buildCMS(digest []byte, signer crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate, at time.Time) ([]byte, error) {
	return buildCMSWith(digest, signer, cert, chain, at, oidSignedData, oidSM2Sign)
}

// buildCMSWith is buildCMS with the ContentInfo type and the SignerInfo
// signature algorithm chosen (tests use it to make the GB/T 35275 and
// 1.2.156.10197.1.501 variants other producers write).
func buildCMSWith(digest []byte, signer crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate, at time.Time, contentType, sigAlg asn1.ObjectIdentifier) ([]byte, error) {
	return buildCMSStamped(digest, signer, cert, chain, at, contentType, sigAlg, nil)
}

// buildCMSStamped is buildCMSWith with an optional timestamp: stamp gets
// the signature value and returns an RFC 3161 TimeStampToken, added as the
// unsigned attribute id-aa-timeStampToken (RFC 3161 Appendix A).
func buildCMSStamped(digest []byte, signer crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate, at time.Time, contentType, sigAlg asn1.ObjectIdentifier, stamp func([]byte) ([]byte, error)) ([]byte, error) {
	if !sm2.IsSM2PublicKey(signer.Public()) {
		return nil, errors.New("pdf: the signer's key is not an SM2 key: PDF signing here is SM2 only")
	}
	algSM3 := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSM3)
			b.AddASN1NULL()
		})
	}
	// Signed attributes, each encoded on its own so the SET OF can be
	// sorted as DER requires.
	var attrs [][]byte
	addAttr := func(oid asn1.ObjectIdentifier, val func(b *cryptobyte.Builder)) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, val)
		})
		attrs = append(attrs, b.BytesOrPanic())
	}
	addAttr(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
	addAttr(oidAttrSigningTime, func(b *cryptobyte.Builder) {
		t := at.UTC()
		if t.Year() >= 1950 && t.Year() < 2050 {
			b.AddASN1UTCTime(t)
		} else {
			b.AddASN1GeneralizedTime(t)
		}
	})
	addAttr(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	signedAttrs := set.BytesOrPanic()
	sig, err := signer.Sign(rand.Reader, signedAttrs, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("pdf: signing: %w", err)
	}
	var token []byte
	if stamp != nil {
		if token, err = stamp(sig); err != nil {
			return nil, fmt.Errorf("pdf: getting the timestamp: %w", err)
		}
		if err := checkTokenShape(token); err != nil {
			return nil, err
		}
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(contentType)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, algSM3)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // detached
					b.AddASN1ObjectIdentifier(oidData)
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.Raw)
					for _, c := range chain {
						b.AddBytes(c.Raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						algSM3(b)
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							for _, a := range attrs {
								b.AddBytes(a)
							}
						})
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(sigAlg)
							b.AddASN1NULL()
						})
						b.AddASN1OctetString(sig)
						if token != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									b.AddASN1ObjectIdentifier(oidAttrTimeStampToken)
									b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(token) })
								})
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

// cmsInfo is what was learnt from a CMS SignedData in /Contents.
type cmsInfo struct {
	Signer      *smx509.Certificate
	Certs       []*smx509.Certificate
	Algorithm   string
	SigningTime time.Time
	digestOID   asn1.ObjectIdentifier
	newHash     func() hash.Hash
	// checkDigest compares the digest of the byte ranges with the signed
	// messageDigest (nil without signed attributes); checkSig checks the
	// signature (over the signed attributes, or the digest without them).
	checkDigest func(digest []byte) error
	checkSig    func(digest []byte) error
	sm2NoAttrs  bool
	// timestampToken is the first id-aa-timeStampToken unsigned attribute
	// value (nil if none); signatureValue is the SignerInfo's signature,
	// which the token's imprint must hash (RFC 3161 Appendix A).
	timestampToken []byte
	signatureValue []byte
}

// trimDER cuts the zero padding of /Contents after the outer element. For
// an indefinite-length (BER) encoding it keeps trailing zero pairs, which
// are end-of-contents octets, by trying them one pair at a time.
func trimDER(b []byte) [][]byte {
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &v); err == nil {
		return [][]byte{b[:len(b)-len(rest)]}
	}
	t := bytes.TrimRight(b, "\x00")
	var out [][]byte
	for i := 0; i <= 8 && len(t)+2*i <= len(b); i++ {
		out = append(out, b[:len(t)+2*i])
	}
	return out
}

// parseCMS reads a CMS SignedData with gmsm's parser (it converts BER to
// DER and parses SM2, RSA and ECDSA certificates) and prepares the checks
// that gmsm's own verifier cannot do here: it knows only SignerInfo
// algorithm 1.2.156.10197.1.301.1 (not 1.501), wants the whole message in
// memory and judges certificate validity against time.Now.
func parseCMS(contents []byte) (*cmsInfo, error) {
	var p7 *pkcs7.PKCS7
	var err error
	for _, cand := range trimDER(contents) {
		if p7, err = safeParseP7(cand); err == nil {
			break
		}
	}
	if err != nil || p7 == nil {
		return nil, report.Errorf(report.FormatFailure, "pdf: /Contents is not a CMS SignedData: %v", err)
	}
	if len(p7.Signers) != 1 {
		return nil, report.Errorf(report.FormatFailure, "pdf: CMS has %d signers, want exactly 1", len(p7.Signers))
	}
	si := p7.Signers[0]
	info := &cmsInfo{Certs: p7.Certificates}
	for _, c := range p7.Certificates {
		if bytes.Equal(c.RawIssuer, si.IssuerAndSerialNumber.IssuerName.FullBytes) && c.SerialNumber.Cmp(si.IssuerAndSerialNumber.SerialNumber) == 0 {
			info.Signer = c
			break
		}
	}
	if info.Signer == nil {
		return nil, report.Errorf(report.NoCertificateChainFound, "pdf: the CMS does not carry the signer's certificate")
	}
	info.digestOID = si.DigestAlgorithm.Algorithm
	hname, newHash := hashFor(info.digestOID)
	if newHash == nil {
		return nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: unsupported digest algorithm %s", info.digestOID)
	}
	info.newHash = newHash
	info.signatureValue = si.EncryptedDigest
	var tsSets [][]byte
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidAttrTimeStampToken) {
			tsSets = append(tsSets, a.Value.Bytes)
		}
	}
	if toks := timestampTokens(tsSets, 1); len(toks) > 0 {
		info.timestampToken = toks[0]
	}

	// What the signature covers: the DER of the signed attributes as a
	// SET, or (no attributes) the content itself.
	var signedAttrs []byte
	var mdAttr []byte
	if len(si.AuthenticatedAttributes) > 0 {
		type attr struct {
			Type  asn1.ObjectIdentifier
			Value asn1.RawValue `asn1:"set"`
		}
		var as []attr
		for _, a := range si.AuthenticatedAttributes {
			as = append(as, attr{a.Type, a.Value})
			switch {
			case a.Type.Equal(oidAttrMessageDigest):
				if _, err := asn1.Unmarshal(a.Value.Bytes, &mdAttr); err != nil {
					return nil, report.Errorf(report.FormatFailure, "pdf: bad messageDigest attribute: %v", err)
				}
			case a.Type.Equal(oidAttrSigningTime):
				var t time.Time
				if _, err := asn1.Unmarshal(a.Value.Bytes, &t); err == nil {
					info.SigningTime = t
				}
			}
		}
		enc, err := asn1.Marshal(struct {
			A []attr `asn1:"set"`
		}{as})
		if err != nil {
			return nil, report.Errorf(report.FormatFailure, "pdf: re-encoding signed attributes: %v", err)
		}
		var outer asn1.RawValue
		if _, err := asn1.Unmarshal(enc, &outer); err != nil {
			return nil, report.Errorf(report.FormatFailure, "pdf: re-encoding signed attributes: %v", err)
		}
		signedAttrs = outer.Bytes // SET { ... } contents; the outer SEQUENCE holds one SET
		if mdAttr == nil {
			return nil, report.Errorf(report.FormatFailure, "pdf: signed attributes lack messageDigest")
		}
	}

	pub := info.Signer.PublicKey
	sigAlg := si.DigestEncryptionAlgorithm.Algorithm
	sig := si.EncryptedDigest
	isSM2 := false
	if ek, ok := pub.(*ecdsa.PublicKey); ok && sm2.IsSM2PublicKey(ek) {
		isSM2 = true
	}
	switch {
	case isSM2:
		if !sigAlg.Equal(oidSM2Sign) && !sigAlg.Equal(oidSM2WithSM3) && !sigAlg.Equal(oidECPublicKey) {
			return nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: SM2 key with signature algorithm %s", sigAlg)
		}
		if !info.digestOID.Equal(oidSM3) {
			return nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: SM2 signature with digest %s (want SM3)", info.digestOID)
		}
		info.Algorithm = "SM2-with-SM3"
	case sigAlg.Equal(oidSM2Sign) || sigAlg.Equal(oidSM2WithSM3):
		return nil, report.Errorf(report.SigCryptoFailure, "pdf: SM2 signature but the signer's key is %T", pub)
	default:
		switch pub.(type) {
		case *rsa.PublicKey:
			info.Algorithm = "RSA-with-" + hname
		case *ecdsa.PublicKey:
			info.Algorithm = "ECDSA-with-" + hname
		default:
			return nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: unsupported signer key %T", pub)
		}
	}

	cryptoHash := cryptoHashFor(info.digestOID)
	checkSig := func(msg []byte) error {
		var ok bool
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			if isSM2 {
				ok = sm2.VerifyASN1WithSM2(k, nil, msg, sig)
			} else {
				h := newHash()
				h.Write(msg)
				ok = ecdsa.VerifyASN1(k, h.Sum(nil), sig)
			}
		case *rsa.PublicKey:
			h := newHash()
			h.Write(msg)
			ok = rsa.VerifyPKCS1v15(k, cryptoHash, h.Sum(nil), sig) == nil
		case ed25519.PublicKey:
			ok = false
		}
		if !ok {
			return report.Errorf(report.SigCryptoFailure, "pdf: the CMS signature does not verify with the signer's certificate %q", info.Signer.Subject.CommonName)
		}
		return nil
	}
	if signedAttrs != nil {
		info.checkDigest = func(digest []byte) error {
			if subtle.ConstantTimeCompare(digest, mdAttr) != 1 {
				return report.Errorf(report.HashFailure, "pdf: the %s of the signed byte ranges does not match the signature's messageDigest: the document was altered", hname)
			}
			return nil
		}
		info.checkSig = func([]byte) error { return checkSig(signedAttrs) }
		return info, nil
	}
	// No signed attributes: the signature is over the content. For RSA and
	// ECDSA the digest suffices; SM2 needs SM3(Z_A || M), which Verify
	// computes while streaming (see sm2ZA).
	info.checkSig = func(digest []byte) error {
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			if isSM2 {
				if sm2.VerifyASN1(k, digest, sig) {
					return nil
				}
			} else if ecdsa.VerifyASN1(k, digest, sig) {
				return nil
			}
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(k, cryptoHash, digest, sig) == nil {
				return nil
			}
		}
		return report.Errorf(report.SigCryptoFailure, "pdf: the CMS signature (no signed attributes) does not verify")
	}
	info.sm2NoAttrs = isSM2
	return info, nil
}

func safeParseP7(b []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("malformed CMS: %v", r)
		}
	}()
	return pkcs7.Parse(b)
}

func hashFor(oid asn1.ObjectIdentifier) (string, func() hash.Hash) {
	switch {
	case oid.Equal(oidSM3):
		return "SM3", sm3.New
	case oid.Equal(oidSHA1):
		return "SHA1", sha1.New
	case oid.Equal(oidSHA256):
		return "SHA256", sha256.New
	case oid.Equal(oidSHA384):
		return "SHA384", sha512.New384
	case oid.Equal(oidSHA512):
		return "SHA512", sha512.New
	}
	return "", nil
}

func cryptoHashFor(oid asn1.ObjectIdentifier) crypto.Hash {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1
	case oid.Equal(oidSHA256):
		return crypto.SHA256
	case oid.Equal(oidSHA384):
		return crypto.SHA384
	case oid.Equal(oidSHA512):
		return crypto.SHA512
	}
	return 0
}

// sm2ZA returns Z_A for the default user ID, to prefix the streamed content
// when an SM2 CMS has no signed attributes.
func sm2ZA(pub *ecdsa.PublicKey) ([]byte, error) {
	return sm2.CalculateZA(pub, []byte("1234567812345678"))
}

// isCMS sniffs /Contents (STANDARDS.md §3.1): a ContentInfo starts with
// the signedData OID (RFC 5652 or GB/T 35275); an SES_Signature starts with
// a SEQUENCE (TBS_Sign) whose first element is an INTEGER version.
func sniffContents(b []byte) Format {
	s := cryptobyte.String(b)
	var outer cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&outer, &tag) || tag != cbasn1.SEQUENCE {
		// BER indefinite length: fall back to the OID bytes.
		if bytes.Contains(b[:min(len(b), 32)], oidBytes(oidSignedData)) || bytes.Contains(b[:min(len(b), 32)], oidBytes(oidSMSignedData)) {
			return CMS
		}
		return unknownFormat
	}
	var oid asn1.ObjectIdentifier
	if outer.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if outer.ReadASN1ObjectIdentifier(&oid) && (oid.Equal(oidSignedData) || oid.Equal(oidSMSignedData)) {
			return CMS
		}
		return unknownFormat
	}
	var tbs cryptobyte.String
	if outer.ReadASN1(&tbs, cbasn1.SEQUENCE) && tbs.PeekASN1Tag(cbasn1.INTEGER) {
		return SES
	}
	return unknownFormat
}

func oidBytes(oid asn1.ObjectIdentifier) []byte {
	b, _ := asn1.Marshal(oid)
	return b
}

// checkTokenShape makes sure a timestamp from SignOptions.Timestamp is one
// DER ContentInfo (a SEQUENCE starting with an OID) that fits the space
// Sign reserves. Its content is not checked here: a bad token is reported
// by Verify like any other.
func checkTokenShape(token []byte) error {
	if len(token) > maxSignTimestamp {
		return fmt.Errorf("pdf: the timestamp token is %d bytes, more than the %d reserved for it", len(token), maxSignTimestamp)
	}
	s := cryptobyte.String(token)
	var el cryptobyte.String
	if !s.ReadASN1(&el, cbasn1.SEQUENCE) || !s.Empty() || !el.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		return errors.New("pdf: the timestamp is not one DER ContentInfo: give the TimeStampToken, not a whole TimeStampResp (take its timeStampToken field)")
	}
	return nil
}
