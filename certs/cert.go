package certs

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Extended key usages of the Zhengxin PKI. There is no standard OID for
// these purposes yet, so they live under a provisional private arc:
//
//	1.3.6.1.4.1.32473.2026.1   Zhengxin extended key usages (provisional)
//
// 1.3.6.1.4.1.32473 is the enterprise number IANA reserves for examples
// (RFC 5612), which no real enterprise owns, so these OIDs cannot collide
// with anyone's production OIDs. They are OURS and PROVISIONAL: a deployment
// that obtains its own enterprise number, or a national standard OID for
// these purposes, replaces them (docs/pki.md says how).
var (
	// OIDExtKeyUsageLicenseSigning marks a key that signs e-licenses and
	// license status lists.
	OIDExtKeyUsageLicenseSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 2026, 1, 1}
	// OIDExtKeyUsageSealSigning marks a seal owner's key that signs
	// documents with an electronic seal (GB/T 38540 SES_Signature).
	OIDExtKeyUsageSealSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 2026, 1, 2}
	// OIDExtKeyUsageSealMaking marks a seal maker's (制章人) key that signs
	// GB/T 38540 SESeal structures.
	OIDExtKeyUsageSealMaking = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 2026, 1, 3}
	// OIDExtKeyUsageTrustListSigning marks a key that signs trust lists on
	// behalf of a root.
	OIDExtKeyUsageTrustListSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 2026, 1, 4}
)

// Profile is the kind of end-entity certificate to issue.
type Profile int

const (
	// LicenseSigner: digitalSignature, EKU license-signing. Also signs
	// status lists.
	LicenseSigner Profile = iota + 1
	// SealSigner: the seal owner's certificate; digitalSignature and
	// nonRepudiation, EKU seal-signing.
	SealSigner
	// SealMaker: the 制章人's certificate; digitalSignature, EKU seal-making.
	SealMaker
	// TrustListSigner: digitalSignature, EKU trust-list-signing.
	TrustListSigner
)

func (p Profile) String() string {
	switch p {
	case LicenseSigner:
		return "license signer"
	case SealSigner:
		return "seal signer"
	case SealMaker:
		return "seal maker"
	case TrustListSigner:
		return "trust-list signer"
	}
	return fmt.Sprintf("profile(%d)", int(p))
}

func (p Profile) usage() (x509.KeyUsage, asn1.ObjectIdentifier, error) {
	switch p {
	case LicenseSigner:
		return x509.KeyUsageDigitalSignature, OIDExtKeyUsageLicenseSigning, nil
	case SealSigner:
		return x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, OIDExtKeyUsageSealSigning, nil
	case SealMaker:
		return x509.KeyUsageDigitalSignature, OIDExtKeyUsageSealMaking, nil
	case TrustListSigner:
		return x509.KeyUsageDigitalSignature, OIDExtKeyUsageTrustListSigning, nil
	}
	return 0, nil, fmt.Errorf("certs: unknown certificate profile %d", int(p))
}

// Name is the subject of a certificate: CN, O and C=CN, plus for agencies
// the 18-character unified social credit code (统一社会信用代码, GB 32100),
// carried in the subject's serialNumber attribute (2.5.4.5), the X.520
// attribute meant for an identifier of the subject.
type Name struct {
	CommonName   string
	Organization string
	CreditCode   string
}

func (n Name) pkix() pkix.Name {
	p := pkix.Name{CommonName: n.CommonName, Country: []string{"CN"}, SerialNumber: n.CreditCode}
	if n.Organization != "" {
		p.Organization = []string{n.Organization}
	}
	return p
}

// CreditCodeOf returns the unified social credit code carried in a
// certificate's subject, or "".
func CreditCodeOf(cert *smx509.Certificate) string {
	return cert.Subject.SerialNumber
}

func (n Name) check(needCode bool) error {
	if strings.TrimSpace(n.CommonName) == "" {
		return errors.New("certs: subject needs a common name (CN)")
	}
	if n.CreditCode == "" {
		if needCode {
			return errors.New("certs: an agency certificate needs the agency's 18-character unified social credit code")
		}
		return nil
	}
	return CheckCreditCode(n.CreditCode)
}

const uscAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// CheckCreditCode checks a unified social credit code (GB 32100-2015): 18
// characters from 0-9 and A-Y without I, O, S, V, Z, the last being the
// mod-31 check character.
func CheckCreditCode(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("certs: unified social credit code %q has %d characters, expected 18", code, len(code))
	}
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(uscAlphabet, code[i])
		if v < 0 {
			return fmt.Errorf("certs: unified social credit code %q has %q at position %d, expected 0-9 or A-Y without I, O, S, V, Z", code, code[i], i+1)
		}
		if i < 17 {
			sum += v * weights[i]
		}
	}
	want := uscAlphabet[(31-sum%31)%31]
	if code[17] != want {
		return fmt.Errorf("certs: unified social credit code %q has check character %q, expected %q: check for a typing error", code, code[17], want)
	}
	return nil
}

// CA is a certificate authority able to issue: its certificate and key.
type CA struct {
	Cert *smx509.Certificate
	Key  *sm2.PrivateKey
}

// serialLimit is 2^128: serial numbers are random 128-bit positive integers.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("certs: generating serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is the first 20 bytes of SM3 over the subject public key
// (RFC 7093 method 1, with SM3 in place of SHA-256).
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	_, _, key, err := parseSPKI(der)
	if err != nil {
		return nil, err
	}
	sum := sm3.Sum(key)
	return sum[:20], nil
}

// NewRootCA makes a self-signed root certificate for key, valid from at
// for validity: CA with path length 1 (root -> agency CA -> end entity),
// key usage keyCertSign and cRLSign, signed SM2-with-SM3.
func NewRootCA(key *sm2.PrivateKey, subject Name, at time.Time, validity time.Duration) (*smx509.Certificate, error) {
	if key == nil {
		return nil, errors.New("certs: no root key given")
	}
	if err := subject.check(false); err != nil {
		return nil, err
	}
	if validity <= 0 {
		return nil, errors.New("certs: validity must be positive")
	}
	tmpl := &x509.Certificate{
		Subject:               subject.pkix(),
		NotBefore:             at.UTC().Truncate(time.Second),
		NotAfter:              at.Add(validity).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	return create(tmpl, nil, &key.PublicKey, key)
}

// NewAgencyCA issues an agency (发证机构) CA certificate for pub under ca:
// CA with path length 0 (it issues only end-entity certificates), key usage
// keyCertSign and cRLSign. subject must carry the agency's credit code.
// Validity is clamped to the issuer's (see Issue).
func (ca CA) NewAgencyCA(pub *ecdsa.PublicKey, subject Name, at time.Time, validity time.Duration) (*smx509.Certificate, error) {
	if err := subject.check(true); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               subject.pkix(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	return ca.issue(tmpl, pub, at, validity)
}

// Issue issues an end-entity certificate of the given profile for pub,
// valid from at for validity. An empty Organization or CreditCode in
// subject is taken from the issuer, so an agency's signer and seal
// certificates name the agency.
//
// Issue refuses when the issuer certificate is not a CA, when the issuer is
// not valid at at, or when ca.Key does not belong to ca.Cert. A validity
// reaching past the issuer's NotAfter is clamped to it: a certificate can
// never outlive the certificate that vouches for it, and the returned
// certificate shows the date actually granted.
func (ca CA) Issue(profile Profile, pub *ecdsa.PublicKey, subject Name, at time.Time, validity time.Duration) (*smx509.Certificate, error) {
	ku, eku, err := profile.usage()
	if err != nil {
		return nil, err
	}
	if ca.Cert != nil {
		if subject.Organization == "" && len(ca.Cert.Subject.Organization) > 0 {
			subject.Organization = ca.Cert.Subject.Organization[0]
		}
		if subject.CreditCode == "" {
			subject.CreditCode = ca.Cert.Subject.SerialNumber
		}
	}
	if err := subject.check(false); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               subject.pkix(),
		KeyUsage:              ku,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{eku},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	return ca.issue(tmpl, pub, at, validity)
}

func (ca CA) issue(tmpl *x509.Certificate, pub *ecdsa.PublicKey, at time.Time, validity time.Duration) (*smx509.Certificate, error) {
	if err := ca.check(at); err != nil {
		return nil, err
	}
	if tmpl.IsCA && ca.Cert.MaxPathLenZero {
		return nil, fmt.Errorf("certs: %s has path length 0: it may issue only end-entity certificates, not another CA", describeCert(ca.Cert))
	}
	if validity <= 0 {
		return nil, errors.New("certs: validity must be positive")
	}
	tmpl.NotBefore = at.UTC().Truncate(time.Second)
	tmpl.NotAfter = at.Add(validity).UTC().Truncate(time.Second)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	return create(tmpl, ca.Cert, pub, ca.Key)
}

// check says whether ca may issue at time at.
func (ca CA) check(at time.Time) error {
	if ca.Cert == nil || ca.Key == nil {
		return errors.New("certs: issuer needs both its certificate and its private key")
	}
	if !ca.Cert.BasicConstraintsValid || !ca.Cert.IsCA {
		return fmt.Errorf("certs: %s is not a CA certificate: it cannot issue certificates", describeCert(ca.Cert))
	}
	if ca.Cert.KeyUsage != 0 && ca.Cert.KeyUsage&smx509.KeyUsageCertSign == 0 {
		return fmt.Errorf("certs: %s lacks the keyCertSign key usage: it cannot issue certificates", describeCert(ca.Cert))
	}
	if at.Before(ca.Cert.NotBefore) {
		return fmt.Errorf("certs: issuer %s is not valid until %s: cannot issue at %s", describeCert(ca.Cert), ca.Cert.NotBefore.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if !at.Before(ca.Cert.NotAfter) {
		return fmt.Errorf("certs: issuer %s expired at %s: cannot issue at %s; renew the issuer first", describeCert(ca.Cert), ca.Cert.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	pub, ok := ca.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&ca.Key.PublicKey) {
		return fmt.Errorf("certs: the private key given does not belong to issuer %s", describeCert(ca.Cert))
	}
	return nil
}

func create(tmpl *x509.Certificate, parent *smx509.Certificate, pub *ecdsa.PublicKey, key *sm2.PrivateKey) (*smx509.Certificate, error) {
	if pub == nil || pub.Curve != sm2.P256() {
		return nil, errors.New("certs: the subject public key is not an SM2 key")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.SignatureAlgorithm = x509.SignatureAlgorithm(smx509.SM2WithSM3)
	if tmpl.SubjectKeyId, err = subjectKeyID(pub); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	var p any = tmpl
	if parent != nil {
		p = parent
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, p, pub, key)
	if err != nil {
		return nil, fmt.Errorf("certs: creating certificate: %w", err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parsing the certificate just made: %w", err)
	}
	return cert, nil
}

// KID is the key identifier that signed objects use to name a
// certificate: the first 8 bytes of SM3 over the certificate's DER.
func KID(cert *smx509.Certificate) []byte {
	sum := sm3.Sum(cert.Raw)
	return sum[:8]
}

// ParseCertificate parses one DER certificate.
func ParseCertificate(der []byte) (*smx509.Certificate, error) {
	if len(der) > maxPEMInput {
		return nil, fmt.Errorf("certs: certificate of %d bytes is too large (limit %d)", len(der), maxPEMInput)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: corrupt certificate: %v", err)
	}
	return c, nil
}

// ParseCertificatePEM parses the first PEM block of data, which must be a
// CERTIFICATE.
func ParseCertificatePEM(data []byte) (*smx509.Certificate, error) {
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("certs: certificate file of %d bytes is too large (limit %d)", len(data), maxPEMInput)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("certs: not PEM: expected a -----BEGIN CERTIFICATE----- block")
	}
	if block.Type != pemCertificate {
		return nil, fmt.Errorf("certs: found a %q PEM block, expected a CERTIFICATE", block.Type)
	}
	return ParseCertificate(block.Bytes)
}

// ParseCertificatesPEM parses every PEM block of data; each must be a
// CERTIFICATE and there must be at least one.
func ParseCertificatesPEM(data []byte) ([]*smx509.Certificate, error) {
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("certs: certificate file of %d bytes is too large (limit %d)", len(data), maxPEMInput)
	}
	var out []*smx509.Certificate
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		data = rest
		if block.Type != pemCertificate {
			return nil, fmt.Errorf("certs: found a %q PEM block among certificates, expected only CERTIFICATE blocks", block.Type)
		}
		c, err := ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("certs: no certificate found: expected -----BEGIN CERTIFICATE----- blocks")
	}
	return out, nil
}

// EncodeCertificatePEM returns cert as a CERTIFICATE PEM block.
func EncodeCertificatePEM(cert *smx509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: cert.Raw})
}

// CertificateSummary is a one-line description for printing: subject CN,
// organization and credit code if any, serial number in hex, validity and kid.
func CertificateSummary(cert *smx509.Certificate) string {
	var b strings.Builder
	b.WriteString("CN=" + cert.Subject.CommonName)
	if len(cert.Subject.Organization) > 0 {
		b.WriteString(", O=" + cert.Subject.Organization[0])
	}
	if cert.Subject.SerialNumber != "" {
		b.WriteString(", 统一社会信用代码/credit code " + cert.Subject.SerialNumber)
	}
	fmt.Fprintf(&b, "; serial %x; valid %s to %s; kid %s",
		cert.SerialNumber, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339),
		hex.EncodeToString(KID(cert)))
	return b.String()
}

// describeCert names a certificate in error messages.
func describeCert(cert *smx509.Certificate) string {
	if cert == nil {
		return "(no certificate)"
	}
	if cert.Subject.CommonName != "" {
		return fmt.Sprintf("%q", cert.Subject.CommonName)
	}
	return fmt.Sprintf("certificate with serial %x", cert.SerialNumber)
}
