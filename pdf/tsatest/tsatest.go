// Package tsatest is a time-stamping authority for tests: it makes RFC 3161
// TimeStampTokens (RFC 3161 §2.4.2) over given bytes, at a given time, with
// an SM2 or ECDSA key, to feed pdf.SignOptions.Timestamp and the verifiers.
//
// The CMS SignedData around the TSTInfo is made by gmsm's pkcs7 (not by
// package pdf's code), so a token checks pdf's verifier against another
// implementation; the TSTInfo and the signing-certificate attribute are
// built here with cryptobyte. Knobs make the bad tokens the tests need.
//
// A token is worth only the trust in its TSA. This one signs whatever it is
// given at whatever time it is told: never use it for real documents.
package tsatest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers (RFC 3161, RFC 5035, RFC 5280).
var (
	OIDTSTInfo                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	OIDSigningCertificateV2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDExtKeyUsageTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	// DefaultPolicy is under the documentation arc 1.3.6.1.4.1.32473
	// (RFC 5612) the project uses for its test OIDs.
	DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 2026, 9, 1}
)

// TSA makes tokens. Key and Cert are required; the rest has defaults.
type TSA struct {
	Key   crypto.Signer         // *sm2.PrivateKey or *ecdsa.PrivateKey
	Cert  *smx509.Certificate   // the TSA certificate (put in the token)
	Chain []*smx509.Certificate // intermediates to put in the token too
	Time  time.Time             // genTime; required (tests use a fixed clock)

	// Hash is the digest of the imprint, of the token's signature and of
	// the signing-certificate attribute: "SM3", "SHA256", "SHA384",
	// "SHA512" or "SHA1". Default: SM3 for an SM2 key, SHA256 otherwise.
	Hash   string
	Policy asn1.ObjectIdentifier // default DefaultPolicy
	Serial int64                 // default 1

	// Knobs for bad tokens.
	EContentType         asn1.ObjectIdentifier // default OIDTSTInfo
	NoSigningCertificate bool                  // leave out signingCertificateV2
	SigningCertificate   *smx509.Certificate   // name this one in it instead of Cert
}

// Stamp returns a TimeStampToken (DER ContentInfo) whose message imprint
// is the hash of data.
func (t *TSA) Stamp(data []byte) ([]byte, error) {
	oid, newHash, err := t.hash()
	if err != nil {
		return nil, err
	}
	h := newHash()
	h.Write(data)
	return t.StampDigest(oid, h.Sum(nil))
}

// StampDigest returns a TimeStampToken with the message imprint
// (hashAlg, digest) as given, as a TSA answers a request.
func (t *TSA) StampDigest(hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	return t.stamp(hashAlg, digest, nil)
}

func (t *TSA) stamp(hashAlg asn1.ObjectIdentifier, digest []byte, nonce *big.Int) ([]byte, error) {
	if t.Key == nil || t.Cert == nil || t.Time.IsZero() {
		return nil, errors.New("tsatest: TSA needs Key, Cert and Time")
	}
	digestOID, _, err := t.hash()
	if err != nil {
		return nil, err
	}
	tst, err := t.tstInfo(hashAlg, digest, nonce)
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(tst)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(digestOID)
	ct := t.EContentType
	if ct == nil {
		ct = OIDTSTInfo
	}
	// gmsm writes the contentType signed attribute from the encapsulated
	// content type, so setting it here keeps the two equal (RFC 5652 §11.1).
	sd.GetSignedData().ContentInfo.ContentType = ct
	sd.GetSignedData().Version = 3 // eContentType is not id-data (RFC 5652 §5.1)
	var cfg pkcs7.SignerInfoConfig
	if !t.NoSigningCertificate {
		named := t.Cert
		if t.SigningCertificate != nil {
			named = t.SigningCertificate
		}
		v2, err := t.signingCertificateV2(named)
		if err != nil {
			return nil, err
		}
		cfg.ExtraSignedAttributes = []pkcs7.Attribute{{Type: OIDSigningCertificateV2, Value: asn1.RawValue{FullBytes: v2}}}
	}
	var key crypto.PrivateKey = t.Key
	if err := sd.AddSignerChain(t.Cert, key, t.Chain, cfg); err != nil {
		return nil, fmt.Errorf("tsatest: signing: %w", err)
	}
	return sd.Finish()
}

func (t *TSA) hash() (asn1.ObjectIdentifier, func() hash.Hash, error) {
	name := t.Hash
	if name == "" {
		name = "SHA256"
		if k, ok := t.Key.Public().(*ecdsa.PublicKey); ok && sm2.IsSM2PublicKey(k) {
			name = "SM3"
		}
	}
	switch name {
	case "SM3":
		return pkcs7.OIDDigestAlgorithmSM3, sm3.New, nil
	case "SHA256":
		return pkcs7.OIDDigestAlgorithmSHA256, sha256.New, nil
	case "SHA384":
		return pkcs7.OIDDigestAlgorithmSHA384, sha512.New384, nil
	case "SHA512":
		return pkcs7.OIDDigestAlgorithmSHA512, sha512.New, nil
	case "SHA1":
		return pkcs7.OIDDigestAlgorithmSHA1, sha1.New, nil
	}
	return nil, nil, fmt.Errorf("tsatest: unknown hash %q", name)
}

// tstInfo builds TSTInfo ::= SEQUENCE { version 1, policy, messageImprint,
// serialNumber, genTime, accuracy { seconds 1 }, nonce OPTIONAL }.
func (t *TSA) tstInfo(hashAlg asn1.ObjectIdentifier, digest []byte, nonce *big.Int) ([]byte, error) {
	policy := t.Policy
	if policy == nil {
		policy = DefaultPolicy
	}
	serial := t.Serial
	if serial == 0 {
		serial = 1
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(policy)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(hashAlg)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(digest)
		})
		b.AddASN1BigInt(big.NewInt(serial))
		b.AddASN1GeneralizedTime(t.Time.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })
		if nonce != nil {
			b.AddASN1BigInt(nonce)
		}
	})
	return b.Bytes()
}

// signingCertificateV2 builds SigningCertificateV2 ::= SEQUENCE { certs
// SEQUENCE OF ESSCertIDv2 } with one ESSCertIDv2 { hashAlgorithm (left
// out for the default SHA-256), certHash }.
func (t *TSA) signingCertificateV2(c *smx509.Certificate) ([]byte, error) {
	oid, newHash, err := t.hash()
	if err != nil {
		return nil, err
	}
	if oid.Equal(pkcs7.OIDDigestAlgorithmSHA1) {
		oid, newHash = pkcs7.OIDDigestAlgorithmSHA256, sha256.New
	}
	h := newHash()
	h.Write(c.Raw)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if !oid.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oid)
						b.AddASN1NULL()
					})
				}
				b.AddASN1OctetString(h.Sum(nil))
			})
		})
	})
	return b.Bytes()
}
