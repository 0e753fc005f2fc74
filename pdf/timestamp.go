package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

// RFC 3161 time-stamp tokens as CMS unsigned attributes (RFC 3161 §2.4.2
// and Appendix A, RFC 5652, RFC 2634 §5.4 and RFC 5035 for the signing
// certificate attributes).
//
// The token is parsed here with cryptobyte, one function per ASN.1
// production, and its signature checked with gmsm's SM2 and the standard
// library's ECDSA and RSA, rather than with gmsm's pkcs7 or
// digitorus/timestamp: gmsm's parser does not expose eContentType (which
// must be id-ct-TSTInfo), knows SM2 only under 1.2.156.10197.1.301.1 and
// judges certificates against time.Now; digitorus/timestamp builds on
// digitorus/pkcs7, which has no SM2. Both serve as independent references
// in the tests (gmsm makes and verifies SM2 tokens, digitorus/timestamp and
// OpenSSL make ECDSA ones).

var (
	oidAttrTimeStampToken     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidAttrSigningCertificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidAttrSigningCertV2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidTSTInfo                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidExtKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidRSAEncryption          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECDSAWithSHA256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}

	// OIDExtKeyUsageTimeStamping is id-kp-timeStamping (RFC 5280
	// §4.2.1.12), the only extended key usage a TSA certificate may have
	// (RFC 3161 §2.3).
	OIDExtKeyUsageTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// Limits for time-stamp tokens (hostile input).
const (
	maxTimestampToken = 256 << 10 // one token, certificates included
	maxTokenCerts     = 16
	maxTokenAttrs     = 32
	maxAttrValues     = 8
)

// Timestamp is what was found out about the RFC 3161 time-stamp token a
// CMS signature carries as its unsigned attribute id-aa-timeStampToken
// (1.2.840.113549.1.9.16.2.14): a TSA's signed statement that the
// signature value existed at GenTime.
//
// Err is nil when the token is well formed (a SignedData whose
// eContentType is id-ct-TSTInfo, with contentType and messageDigest
// attributes that match), its message imprint is the hash of this
// signature's value, its signature verifies with the TSA certificate it
// carries, its signing-certificate attribute names that certificate, and
// the certificate is a TSA certificate (RFC 3161 §2.3: extended key usage
// id-kp-timeStamping only, critical). Whether the TSA is trusted — its
// chain to an anchor at GenTime, revocation — is the caller's: package
// verify checks it. Fields are filled as far as parsing got, so a token
// that fails still shows what it claims; trust GenTime only when Err is
// nil and the TSA chains.
type Timestamp struct {
	Raw           []byte    // the TimeStampToken (DER ContentInfo)
	GenTime       time.Time // TSTInfo.genTime
	Accuracy      time.Duration
	SerialNumber  *big.Int
	Policy        asn1.ObjectIdentifier
	Nonce         *big.Int // TSTInfo.nonce, nil if absent
	HashAlgorithm string   // of the message imprint: "SM3", "SHA256", ...
	Algorithm     string   // of the token's signature: "SM2-with-SM3", "ECDSA-with-SHA256", ...

	TSA          *smx509.Certificate   // the certificate that signed the token; nil if not found
	Certificates []*smx509.Certificate // every certificate the token carries (for chain building)

	Err error // carries a report reason (report.ReasonOf)
}

// VerifyTimestampToken checks the RFC 3161 TimeStampToken token against
// stamped, the bytes whose hash its message imprint must be (for a CMS
// signature timestamp: the SignerInfo's signature value). See [Timestamp]
// for what is checked; the TSA's chain is not.
func VerifyTimestampToken(token, stamped []byte) (ts *Timestamp) {
	ts = &Timestamp{Raw: token}
	defer func() {
		// Parsing is bounded and checked, but a panic in a library on
		// hostile input must not take the verifier down.
		if p := recover(); p != nil {
			ts.Err = report.Errorf(report.FormatFailure, "pdf: malformed time-stamp token: %v", p)
		}
	}()
	ts.Err = checkTimestamp(ts, token, stamped)
	return ts
}

func checkTimestamp(ts *Timestamp, token, stamped []byte) error {
	info, err := checkTokenSignature(ts, token)
	if err != nil {
		return err
	}
	if err := info.checkImprint(stamped); err != nil {
		return err
	}
	return checkTSACert(ts.TSA)
}

// checkTokenSignature parses token into ts and checks everything but the
// message imprint and the TSA certificate's profile: the structure, the
// signed attributes and the TSA's signature. It returns the TSTInfo as
// soon as it parsed, even with an error, so that a document timestamp can
// still compare its imprint (and report both problems).
func checkTokenSignature(ts *Timestamp, token []byte) (*tstInfo, error) {
	if len(token) > maxTimestampToken {
		return nil, report.Errorf(report.FormatFailure, "pdf: time-stamp token of %d bytes, more than the %d this verifier reads", len(token), maxTimestampToken)
	}
	tok, err := parseTimeStampToken(token)
	if err != nil {
		return nil, err
	}
	ts.Certificates = tok.certs
	info, err := parseTSTInfo(tok.eContent)
	if err != nil {
		return nil, err
	}
	ts.GenTime, ts.Accuracy, ts.SerialNumber, ts.Policy, ts.Nonce = info.genTime, info.accuracy, info.serial, info.policy, info.nonce
	ts.HashAlgorithm, _ = hashFor(info.hashAlg)

	si := &tok.signer
	ts.TSA = si.findCert(tok.certs)
	if ts.TSA == nil {
		return info, report.Errorf(report.NoCertificateChainFound, "pdf: the time-stamp token does not carry the certificate of the TSA that signed it")
	}
	if err := si.checkAttributes(tok.eContent, ts.TSA); err != nil {
		return info, err
	}
	alg, err := verifySignerSignature(ts.TSA.PublicKey, si.digestAlg, si.sigAlg, si.signedAttrs, si.signature)
	ts.Algorithm = alg
	return info, err
}

// timeStampToken is the part of a TimeStampToken the checks need.
type timeStampToken struct {
	eContent []byte // DER of TSTInfo
	certs    []*smx509.Certificate
	signer   tokenSignerInfo
}

// parseTimeStampToken reads
//
//	TimeStampToken ::= ContentInfo  -- contentType id-signedData
//	ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
//
// The GB/T 35275 signedData identifier is accepted beside RFC 5652's, as
// for the signatures themselves.
func parseTimeStampToken(der []byte) (*timeStampToken, error) {
	s := cryptobyte.String(der)
	var ci, content cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !s.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&ct) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token is not a DER CMS ContentInfo")
	}
	if !ct.Equal(oidSignedData) && !ct.Equal(oidSMSignedData) {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's content type is %s, not signedData", ct)
	}
	return parseTokenSignedData(content)
}

// parseTokenSignedData reads
//
//	SignedData ::= SEQUENCE {
//	  version CMSVersion,
//	  digestAlgorithms SET OF DigestAlgorithmIdentifier,
//	  encapContentInfo EncapsulatedContentInfo,
//	  certificates [0] IMPLICIT CertificateSet OPTIONAL,
//	  crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//	  signerInfos SET OF SignerInfo }
//
// with exactly one SignerInfo: RFC 3161 §2.4.2 allows no signature but
// the TSA's.
func parseTokenSignedData(content cryptobyte.String) (*timeStampToken, error) {
	bad := func(what string) error {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token's SignedData is malformed (%s)", what)
	}
	var sd, digestAlgs, eci, certs, signerInfos cryptobyte.String
	var version int64
	var hasCerts bool
	if !content.ReadASN1(&sd, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, bad("not a SEQUENCE")
	}
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&eci, cbasn1.SEQUENCE) {
		return nil, bad("version, digestAlgorithms or encapContentInfo")
	}
	tok := &timeStampToken{}
	var err error
	if tok.eContent, err = parseEncapContentInfo(eci); err != nil {
		return nil, err
	}
	if !sd.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("certificates")
	}
	if hasCerts {
		if tok.certs, err = parseCertificateSet(certs); err != nil {
			return nil, err
		}
	}
	if !sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() {
		return nil, bad("crls or signerInfos")
	}
	var si cryptobyte.String
	if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, bad("no SignerInfo")
	}
	if !signerInfos.Empty() {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token has more than one signature (RFC 3161 §2.4.2 allows only the TSA's)")
	}
	if err := parseTokenSignerInfo(si, &tok.signer); err != nil {
		return nil, err
	}
	return tok, nil
}

// parseEncapContentInfo reads
//
//	EncapsulatedContentInfo ::= SEQUENCE {
//	  eContentType ContentType,                       -- id-ct-TSTInfo
//	  eContent [0] EXPLICIT OCTET STRING OPTIONAL }   -- required here
//
// and returns the eContent octets. A constructed OCTET STRING (BER
// segments that gmsm's BER-to-DER pass leaves constructed) is joined.
func parseEncapContentInfo(eci cryptobyte.String) ([]byte, error) {
	var ct asn1.ObjectIdentifier
	var ec cryptobyte.String
	var has bool
	if !eci.ReadASN1ObjectIdentifier(&ct) || !eci.ReadOptionalASN1(&ec, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !eci.Empty() {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's encapContentInfo is malformed")
	}
	if !ct.Equal(oidTSTInfo) {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's eContentType is %s, not id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4): it is not an RFC 3161 token", ct)
	}
	if !has {
		return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token carries no TSTInfo (eContent absent)")
	}
	var octets cryptobyte.String
	switch {
	case ec.PeekASN1Tag(cbasn1.OCTET_STRING):
		if !ec.ReadASN1(&octets, cbasn1.OCTET_STRING) || !ec.Empty() {
			return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's eContent is malformed")
		}
		return octets, nil
	case ec.PeekASN1Tag(cbasn1.OCTET_STRING.Constructed()):
		var segs cryptobyte.String
		if !ec.ReadASN1(&segs, cbasn1.OCTET_STRING.Constructed()) || !ec.Empty() {
			return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's eContent is malformed")
		}
		var out []byte
		for !segs.Empty() {
			var seg cryptobyte.String
			if !segs.ReadASN1(&seg, cbasn1.OCTET_STRING) {
				return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's eContent has a bad segment")
			}
			out = append(out, seg...)
		}
		return out, nil
	}
	return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's eContent is not an OCTET STRING")
}

// parseCertificateSet reads CertificateSet ::= SET OF CertificateChoices,
// keeping the X.509 certificates (SEQUENCE) and skipping the other
// choices (attribute certificates, [0]..[3]).
func parseCertificateSet(set cryptobyte.String) ([]*smx509.Certificate, error) {
	var out []*smx509.Certificate
	for !set.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !set.ReadAnyASN1Element(&el, &tag) {
			return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's certificates are malformed")
		}
		if tag != cbasn1.SEQUENCE {
			continue
		}
		if len(out) == maxTokenCerts {
			return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token carries more than %d certificates", maxTokenCerts)
		}
		c, err := smx509.ParseCertificate(el)
		if err != nil {
			return nil, report.Errorf(report.FormatFailure, "pdf: a certificate in the time-stamp token does not parse: %v", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// tokenSignerInfo is the TSA's SignerInfo, raw parts kept.
type tokenSignerInfo struct {
	issuer      []byte   // sid IssuerAndSerialNumber: the issuer Name DER
	serial      *big.Int // and the serial
	ski         []byte   // or sid SubjectKeyIdentifier
	digestAlg   asn1.ObjectIdentifier
	signedAttrs []byte // the DER the signature covers: SET OF Attribute, tag SET
	attrs       []attribute
	sigAlg      asn1.ObjectIdentifier
	signature   []byte
}

type attribute struct {
	typ    asn1.ObjectIdentifier
	values [][]byte // each value's DER element
}

// parseTokenSignerInfo reads
//
//	SignerInfo ::= SEQUENCE {
//	  version CMSVersion,
//	  sid SignerIdentifier,   -- IssuerAndSerialNumber | [0] SubjectKeyIdentifier
//	  digestAlgorithm DigestAlgorithmIdentifier,
//	  signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,  -- required here
//	  signatureAlgorithm SignatureAlgorithmIdentifier,
//	  signature SignatureValue,
//	  unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
func parseTokenSignerInfo(s cryptobyte.String, si *tokenSignerInfo) error {
	bad := func(what string) error {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token's SignerInfo is malformed (%s)", what)
	}
	var version int64
	if !s.ReadASN1Integer(&version) {
		return bad("version")
	}
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		var issuer cryptobyte.String
		si.serial = new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(si.serial) || !ias.Empty() {
			return bad("issuerAndSerialNumber")
		}
		si.issuer = issuer
	case s.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) {
			return bad("subjectKeyIdentifier")
		}
		si.ski = ski
	default:
		return bad("sid")
	}
	var err error
	if si.digestAlg, err = readAlgorithm(&s); err != nil {
		return bad("digestAlgorithm")
	}
	var attrsEl cryptobyte.String
	signedAttrsTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if !s.PeekASN1Tag(signedAttrsTag) {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token has no signed attributes (RFC 3161 §2.4.2 requires the signing certificate attribute)")
	}
	// The signature covers the attributes with the EXPLICIT SET OF tag
	// (RFC 5652 §5.4), so the [0] IMPLICIT tag byte is replaced.
	if !s.ReadASN1Element(&attrsEl, signedAttrsTag) {
		return bad("signedAttrs")
	}
	si.signedAttrs = append([]byte{0x31}, attrsEl[1:]...)
	var attrs cryptobyte.String
	if !attrsEl.ReadASN1(&attrs, signedAttrsTag) {
		return bad("signedAttrs")
	}
	if si.attrs, err = parseAttributes(attrs); err != nil {
		return err
	}
	if si.sigAlg, err = readAlgorithm(&s); err != nil {
		return bad("signatureAlgorithm")
	}
	var sig cryptobyte.String
	if !s.ReadASN1(&sig, cbasn1.OCTET_STRING) || !s.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !s.Empty() {
		return bad("signature")
	}
	si.signature = sig
	return nil
}

// readAlgorithm reads AlgorithmIdentifier ::= SEQUENCE { algorithm OID,
// parameters ANY OPTIONAL } and returns the OID; the parameters of the
// algorithms accepted here are NULL or absent.
func readAlgorithm(s *cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var ai cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&ai, cbasn1.SEQUENCE) || !ai.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("malformed AlgorithmIdentifier")
	}
	return oid, nil
}

// parseAttributes reads a SET OF Attribute (the contents, tag removed):
//
//	Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }
func parseAttributes(s cryptobyte.String) ([]attribute, error) {
	var out []attribute
	for !s.Empty() {
		if len(out) == maxTokenAttrs {
			return nil, report.Errorf(report.FormatFailure, "pdf: more than %d attributes", maxTokenAttrs)
		}
		var a, vals cryptobyte.String
		var at attribute
		if !s.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&at.typ) || !a.ReadASN1(&vals, cbasn1.SET) || !a.Empty() {
			return nil, report.Errorf(report.FormatFailure, "pdf: malformed CMS attribute")
		}
		for !vals.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if len(at.values) == maxAttrValues || !vals.ReadAnyASN1Element(&v, &tag) {
				return nil, report.Errorf(report.FormatFailure, "pdf: malformed or oversized value of CMS attribute %s", at.typ)
			}
			at.values = append(at.values, v)
		}
		out = append(out, at)
	}
	return out, nil
}

// attr returns the single value of the attribute typ, nil if absent; an
// attribute present twice or with several values is an error (RFC 5652
// §11: contentType and messageDigest are single-valued, and so is the
// signing certificate attribute).
func (si *tokenSignerInfo) attr(typ asn1.ObjectIdentifier) ([]byte, error) {
	var v []byte
	for _, a := range si.attrs {
		if !a.typ.Equal(typ) {
			continue
		}
		if v != nil || len(a.values) != 1 {
			return nil, report.Errorf(report.FormatFailure, "pdf: the time-stamp token's attribute %s must have exactly one value", typ)
		}
		v = a.values[0]
	}
	return v, nil
}

// findCert returns the certificate the sid names.
func (si *tokenSignerInfo) findCert(certs []*smx509.Certificate) *smx509.Certificate {
	for _, c := range certs {
		if si.serial != nil && bytes.Equal(c.RawIssuer, si.issuer) && c.SerialNumber.Cmp(si.serial) == 0 {
			return c
		}
		if si.ski != nil && bytes.Equal(c.SubjectKeyId, si.ski) {
			return c
		}
	}
	return nil
}

// checkAttributes checks the signed attributes that bind the signature
// to the content and to the TSA certificate: contentType is
// id-ct-TSTInfo (RFC 5652 §11.1), messageDigest is the hash of the
// TSTInfo (§11.2), and the signing certificate (RFC 3161 §2.4.2: ESS
// signingCertificate, or signingCertificateV2 per RFC 5816) names tsa.
func (si *tokenSignerInfo) checkAttributes(eContent []byte, tsa *smx509.Certificate) error {
	ctv, err := si.attr(oidAttrContentType)
	if err != nil {
		return err
	}
	var ct asn1.ObjectIdentifier
	if s := cryptobyte.String(ctv); ctv == nil || !s.ReadASN1ObjectIdentifier(&ct) || !s.Empty() || !ct.Equal(oidTSTInfo) {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token's signed contentType attribute is missing or not id-ct-TSTInfo")
	}
	mdv, err := si.attr(oidAttrMessageDigest)
	if err != nil {
		return err
	}
	var md cryptobyte.String
	if s := cryptobyte.String(mdv); mdv == nil || !s.ReadASN1(&md, cbasn1.OCTET_STRING) || !s.Empty() {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token's messageDigest attribute is missing or malformed")
	}
	name, newHash := hashFor(si.digestAlg)
	if newHash == nil {
		return report.Errorf(report.UnsupportedAlgorithm, "pdf: the time-stamp token uses digest algorithm %s, which is not supported", si.digestAlg)
	}
	if name == "SHA1" {
		return report.Errorf(report.UnsupportedAlgorithm, "pdf: the time-stamp token is signed with SHA-1, which is not accepted for timestamps (collisions are practical)")
	}
	h := newHash()
	h.Write(eContent)
	if subtle.ConstantTimeCompare(h.Sum(nil), md) != 1 {
		return report.Errorf(report.SigCryptoFailure, "pdf: the time-stamp token's TSTInfo does not match its signed messageDigest: the token was altered")
	}
	return si.checkSigningCertificate(tsa)
}

// checkSigningCertificate checks that the first ESSCertID of the signing
// certificate attribute is the hash of tsa's DER:
//
//	SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }
//	ESSCertID ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial IssuerSerial OPTIONAL }
//	SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
//	ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
//	                           certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
//
// It stops a certificate-substitution attack: another certificate with the
// same key and issuer but other contents (RFC 2634 §5.4).
func (si *tokenSignerInfo) checkSigningCertificate(tsa *smx509.Certificate) error {
	v1, err := si.attr(oidAttrSigningCertificate)
	if err != nil {
		return err
	}
	v2, err := si.attr(oidAttrSigningCertV2)
	if err != nil {
		return err
	}
	val, isV2 := v1, false
	if v2 != nil {
		val, isV2 = v2, true
	}
	if val == nil {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token lacks the signing certificate attribute RFC 3161 §2.4.2 requires")
	}
	bad := report.Errorf(report.FormatFailure, "pdf: the time-stamp token's signing certificate attribute is malformed")
	s := cryptobyte.String(val)
	var sc, ids, id cryptobyte.String
	if !s.ReadASN1(&sc, cbasn1.SEQUENCE) || !s.Empty() || !sc.ReadASN1(&ids, cbasn1.SEQUENCE) || !ids.ReadASN1(&id, cbasn1.SEQUENCE) {
		return bad
	}
	hashOID := oidSHA1
	if isV2 {
		hashOID = oidSHA256
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			if hashOID, err = readAlgorithm(&id); err != nil {
				return bad
			}
		}
	}
	var certHash cryptobyte.String
	if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
		return bad
	}
	_, newHash := hashFor(hashOID)
	if newHash == nil {
		return report.Errorf(report.UnsupportedAlgorithm, "pdf: the time-stamp token's signing certificate attribute uses hash %s, which is not supported", hashOID)
	}
	h := newHash()
	h.Write(tsa.Raw)
	if subtle.ConstantTimeCompare(h.Sum(nil), certHash) != 1 {
		return report.Errorf(report.SigCryptoFailure, "pdf: the time-stamp token's signing certificate attribute names another certificate than %q, which signed it", tsa.Subject.CommonName)
	}
	return nil
}

// verifySignerSignature checks a CMS signature sig over msg (the DER of
// the signed attributes) with pub: SM2 with SM3 (SignerInfo algorithm
// 1.2.156.10197.1.301.1, .501 or id-ecPublicKey; Z_A with the default user
// ID), ECDSA or RSA PKCS #1 v1.5 with SHA-256/384/512. It returns the
// algorithm's name.
func verifySignerSignature(pub crypto.PublicKey, digestAlg, sigAlg asn1.ObjectIdentifier, msg, sig []byte) (string, error) {
	hname, newHash := hashFor(digestAlg)
	if newHash == nil || hname == "SHA1" {
		return "", report.Errorf(report.UnsupportedAlgorithm, "pdf: time-stamp token digest algorithm %s is not supported (SM3, SHA-256/384/512 are)", digestAlg)
	}
	bad := func(alg string) (string, error) {
		return alg, report.Errorf(report.SigCryptoFailure, "pdf: the time-stamp token's signature (%s) does not verify with the TSA certificate: forged or altered", alg)
	}
	digest := func() []byte {
		h := newHash()
		h.Write(msg)
		return h.Sum(nil)
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(k) {
			const alg = "SM2-with-SM3"
			if !(sigAlg.Equal(oidSM2Sign) || sigAlg.Equal(oidSM2WithSM3) || sigAlg.Equal(oidECPublicKey)) || hname != "SM3" {
				return alg, report.Errorf(report.UnsupportedAlgorithm, "pdf: SM2 time-stamp key with signature algorithm %s and digest %s (want SM2 with SM3)", sigAlg, digestAlg)
			}
			if !sm2.VerifyASN1WithSM2(k, nil, msg, sig) {
				return bad(alg)
			}
			return alg, nil
		}
		alg := "ECDSA-with-" + hname
		if !sigAlg.Equal(oidECPublicKey) && !sigAlg.Equal(ecdsaSigAlgFor(hname)) {
			return alg, report.Errorf(report.UnsupportedAlgorithm, "pdf: ECDSA time-stamp key with signature algorithm %s and digest %s", sigAlg, digestAlg)
		}
		if !ecdsa.VerifyASN1(k, digest(), sig) {
			return bad(alg)
		}
		return alg, nil
	case *rsa.PublicKey:
		alg := "RSA-with-" + hname
		if !sigAlg.Equal(oidRSAEncryption) && !sigAlg.Equal(rsaSigAlgFor(hname)) {
			return alg, report.Errorf(report.UnsupportedAlgorithm, "pdf: RSA time-stamp key with signature algorithm %s and digest %s (RSA-PSS is not supported)", sigAlg, digestAlg)
		}
		if rsa.VerifyPKCS1v15(k, cryptoHashFor(digestAlg), digest(), sig) != nil {
			return bad(alg)
		}
		return alg, nil
	}
	return "", report.Errorf(report.UnsupportedAlgorithm, "pdf: unsupported time-stamp key %T", pub)
}

func ecdsaSigAlgFor(hname string) asn1.ObjectIdentifier {
	switch hname {
	case "SHA256":
		return oidECDSAWithSHA256
	case "SHA384":
		return oidECDSAWithSHA384
	case "SHA512":
		return oidECDSAWithSHA512
	}
	return nil
}

func rsaSigAlgFor(hname string) asn1.ObjectIdentifier {
	switch hname {
	case "SHA256":
		return oidSHA256WithRSA
	case "SHA384":
		return oidSHA384WithRSA
	case "SHA512":
		return oidSHA512WithRSA
	}
	return nil
}

// checkTSACert applies RFC 3161 §2.3: the TSA certificate has exactly one
// extended key usage, id-kp-timeStamping, in a critical extension; and, if
// it has key usage, digitalSignature or nonRepudiation.
func checkTSACert(c *smx509.Certificate) error {
	critical := false
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	n := len(c.ExtKeyUsage) + len(c.UnknownExtKeyUsage)
	if n != 1 || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != smx509.ExtKeyUsageTimeStamping {
		return report.Errorf(report.ChainConstraintsFailure, "pdf: the time-stamp token's certificate %q is not a TSA certificate: RFC 3161 §2.3 requires the extended key usage id-kp-timeStamping and no other", c.Subject.CommonName)
	}
	if !critical {
		return report.Errorf(report.ChainConstraintsFailure, "pdf: the TSA certificate %q has id-kp-timeStamping in a non-critical extension; RFC 3161 §2.3 requires it critical", c.Subject.CommonName)
	}
	if c.KeyUsage != 0 && c.KeyUsage&(smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment) == 0 {
		return report.Errorf(report.ChainConstraintsFailure, "pdf: the TSA certificate %q lacks the digitalSignature key usage", c.Subject.CommonName)
	}
	return nil
}

// tstInfo is the part of TSTInfo the checks and the report use.
type tstInfo struct {
	policy   asn1.ObjectIdentifier
	hashAlg  asn1.ObjectIdentifier
	hashed   []byte
	serial   *big.Int
	genTime  time.Time
	accuracy time.Duration
	nonce    *big.Int // nil if absent
}

// parseTSTInfo reads
//
//	TSTInfo ::= SEQUENCE {
//	  version INTEGER { v1(1) },
//	  policy TSAPolicyId,
//	  messageImprint MessageImprint,
//	  serialNumber INTEGER,
//	  genTime GeneralizedTime,
//	  accuracy Accuracy OPTIONAL,
//	  ordering BOOLEAN DEFAULT FALSE,
//	  nonce INTEGER OPTIONAL,
//	  tsa [0] GeneralName OPTIONAL,
//	  extensions [1] IMPLICIT Extensions OPTIONAL }
//	MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
//
// The fields after the nonce are not used and not parsed further.
func parseTSTInfo(der []byte) (*tstInfo, error) {
	bad := func(what string) error {
		return report.Errorf(report.FormatFailure, "pdf: the time-stamp token's TSTInfo is malformed (%s)", what)
	}
	s := cryptobyte.String(der)
	var body, mi, hashed cryptobyte.String
	var version int64
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("not a SEQUENCE")
	}
	if !body.ReadASN1Integer(&version) || version != 1 {
		return nil, bad("version is not 1")
	}
	info := &tstInfo{serial: new(big.Int)}
	if !body.ReadASN1ObjectIdentifier(&info.policy) {
		return nil, bad("policy")
	}
	if !body.ReadASN1(&mi, cbasn1.SEQUENCE) {
		return nil, bad("messageImprint")
	}
	var err error
	if info.hashAlg, err = readAlgorithm(&mi); err != nil || !mi.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !mi.Empty() {
		return nil, bad("messageImprint")
	}
	info.hashed = hashed
	if !body.ReadASN1Integer(info.serial) {
		return nil, bad("serialNumber")
	}
	var gt cryptobyte.String
	if !body.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, bad("genTime")
	}
	if info.genTime, err = parseGenTime(string(gt)); err != nil {
		return nil, bad("genTime: " + err.Error())
	}
	if body.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		if !body.ReadASN1(&acc, cbasn1.SEQUENCE) {
			return nil, bad("accuracy")
		}
		if info.accuracy, err = parseAccuracy(acc); err != nil {
			return nil, bad("accuracy")
		}
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) {
		var ordering bool
		if !body.ReadASN1Boolean(&ordering) {
			return nil, bad("ordering")
		}
	}
	if body.PeekASN1Tag(cbasn1.INTEGER) {
		info.nonce = new(big.Int)
		if !body.ReadASN1Integer(info.nonce) {
			return nil, bad("nonce")
		}
	}
	return info, nil
}

// parseGenTime reads a GeneralizedTime as RFC 3161 §2.4.2 restricts it:
// YYYYMMDDhhmmss[.s...]Z, in UTC, seconds always present.
func parseGenTime(s string) (time.Time, error) {
	if len(s) < 15 || s[len(s)-1] != 'Z' {
		return time.Time{}, errors.New("not YYYYMMDDhhmmss[.s]Z")
	}
	whole, frac := s[:14], s[14:len(s)-1]
	t, err := time.Parse("20060102150405", whole)
	if err != nil {
		return time.Time{}, err
	}
	if frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, errors.New("bad fraction of a second")
		}
		digits := frac[1:]
		n, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("bad fraction of a second")
		}
		for i := len(digits); i < 9; i++ {
			n *= 10
		}
		t = t.Add(time.Duration(n))
	}
	return t.UTC(), nil
}

// parseAccuracy reads
//
//	Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL,
//	                        millis [0] INTEGER (1..999) OPTIONAL,
//	                        micros [1] INTEGER (1..999) OPTIONAL }
func parseAccuracy(s cryptobyte.String) (time.Duration, error) {
	var d time.Duration
	var secs, millis, micros int64
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		if !s.ReadASN1Integer(&secs) || secs < 0 || secs > 1<<30 {
			return 0, errors.New("bad seconds")
		}
		d += time.Duration(secs) * time.Second
	}
	for _, f := range []struct {
		tag  cbasn1.Tag
		v    *int64
		unit time.Duration
	}{{cbasn1.Tag(0).ContextSpecific(), &millis, time.Millisecond}, {cbasn1.Tag(1).ContextSpecific(), &micros, time.Microsecond}} {
		var present bool
		var raw cryptobyte.String
		if !s.ReadOptionalASN1(&raw, &present, f.tag) {
			return 0, errors.New("bad field")
		}
		if present {
			// IMPLICIT INTEGER: the contents are an INTEGER's.
			n := new(big.Int)
			if len(raw) == 0 || len(raw) > 2 {
				return 0, errors.New("bad field")
			}
			n.SetBytes(raw)
			*f.v = n.Int64()
			if *f.v < 0 || *f.v > 999 {
				return 0, errors.New("out of range")
			}
			d += time.Duration(*f.v) * f.unit
		}
	}
	if !s.Empty() {
		return 0, errors.New("trailing data")
	}
	return d, nil
}

// imprintHash returns the hash of the message imprint, refusing the ones
// not supported or not accepted.
func (info *tstInfo) imprintHash() (string, func() hash.Hash, error) {
	name, newHash := hashFor(info.hashAlg)
	if newHash == nil {
		return "", nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: the time-stamp token's imprint uses hash %s, which is not supported", info.hashAlg)
	}
	if name == "SHA1" {
		return "", nil, report.Errorf(report.UnsupportedAlgorithm, "pdf: the time-stamp token's imprint is SHA-1, which is not accepted for timestamps (collisions are practical)")
	}
	return name, newHash, nil
}

// checkImprint compares the message imprint with the hash of stamped.
func (info *tstInfo) checkImprint(stamped []byte) error {
	name, newHash, err := info.imprintHash()
	if err != nil {
		return err
	}
	h := newHash()
	h.Write(stamped)
	if subtle.ConstantTimeCompare(h.Sum(nil), info.hashed) != 1 {
		return report.Errorf(report.HashFailure, "pdf: the time-stamp token's message imprint is not the %s of this signature's value: the token belongs to something else", name)
	}
	return nil
}

// timestampTokens returns the values of the id-aa-timeStampToken unsigned
// attributes of a SignerInfo as gmsm parsed them (each attribute's SET
// contents), at most max of them.
func timestampTokens(setContents [][]byte, max int) [][]byte {
	var out [][]byte
	for _, set := range setContents {
		s := cryptobyte.String(set)
		for !s.Empty() && len(out) < max {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !s.ReadAnyASN1Element(&el, &tag) {
				// Keep the bytes so the check reports the malformed token.
				out = append(out, []byte(s))
				break
			}
			out = append(out, el)
		}
	}
	return out
}

// String summarises a token for reports: time, TSA, algorithms.
func (ts *Timestamp) String() string {
	tsa := "unknown TSA"
	if ts.TSA != nil {
		tsa = ts.TSA.Subject.String()
	}
	return fmt.Sprintf("genTime %s, TSA %s (%s imprint, %s)", ts.GenTime.UTC().Format(time.RFC3339Nano), tsa, ts.HashAlgorithm, ts.Algorithm)
}
