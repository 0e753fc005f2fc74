package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

// verifySM2 checks an SM2-with-SM3 signature (default user ID) over msg.
// sig is DER SEQUENCE{r, s}; a raw 64-byte r||s, as hardware signers
// return, is accepted too.
func verifySM2(cert *smx509.Certificate, alg asn1.ObjectIdentifier, msg, sig []byte) error {
	if !alg.Equal(OIDSM2WithSM3) {
		return report.Errorf(report.UnsupportedAlgorithm, "seal: signature algorithm %v is not SM2 with SM3 (1.2.156.10197.1.501)", alg)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return report.Errorf(report.UnsupportedAlgorithm, "seal: certificate %q does not hold an SM2 public key", cert.Subject.CommonName)
	}
	if sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
		return nil
	}
	if len(sig) == 64 {
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if sm2.VerifyWithSM2(pub, nil, msg, r, s) {
			return nil
		}
	}
	return errBadSignature
}

var errBadSignature = fmt.Errorf("signature does not verify")

// VerifyMaker checks the seal maker's signature with the maker certificate
// the seal carries. For version 4 and 5 it accepts a signature over
// DER(SES_SealInfo) (what ofdrw writes) or over SEQUENCE{SES_SealInfo,
// cert, signAlgID} (the GM/T 0031 wording); for version 1 the same two, the
// latter first. It does not say whether the maker is trusted.
func (s *Seal) VerifyMaker() error {
	inputs := [][]byte{s.RawSealInfo, s.makerSeqInput()}
	if s.Header.Version == V1 {
		inputs[0], inputs[1] = inputs[1], inputs[0]
	}
	for _, in := range inputs {
		err := verifySM2(s.MakerCert, s.SignAlg, in, s.SignedValue)
		if err == nil {
			return nil
		}
		if err != errBadSignature {
			return err
		}
	}
	return report.Errorf(report.SigCryptoFailure, "seal: the maker signature of seal %q does not verify with the maker certificate %q: the seal was altered or forged", s.ESID, s.MakerCert.Subject.CommonName)
}

// makerSeqInput is SEQUENCE{SES_SealInfo, cert, signAlgID} from the
// parsed elements, byte for byte.
func (s *Seal) makerSeqInput() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(s.RawSealInfo)
		b.AddBytes(s.rawCertElem)
		b.AddBytes(s.rawAlgElem)
	})
	return b.BytesOrPanic()
}

// CheckValidity reports whether the seal is within its validity window
// [ValidStart, ValidEnd] at t, with a SEAL_INVALID error if not.
func (s *Seal) CheckValidity(t time.Time) error {
	if t.Before(s.ValidStart) {
		return report.Errorf(report.SealInvalid, "seal: seal %q is valid only from %s, not at %s", s.ESID, s.ValidStart.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if t.After(s.ValidEnd) {
		return report.Errorf(report.SealInvalid, "seal: seal %q expired at %s (checked at %s)", s.ESID, s.ValidEnd.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	return nil
}

// Lists reports whether cert is one of the seal's signer certificates: the
// same DER for a certificate list, or a matching digest for a digest list
// (SM3, SHA-256 or SHA-1, named by CertDigestObj.type). If not, the error
// carries SEAL_INVALID.
func (s *Seal) Lists(cert []byte) error {
	switch s.CertListType {
	case CertListCerts:
		for _, c := range s.Certs {
			if bytes.Equal(c, cert) {
				return nil
			}
		}
	case CertListDigests:
		for _, d := range s.CertDigests {
			if h := digestByName(d.Type, cert); h != nil && subtle.ConstantTimeCompare(h, d.Value) == 1 {
				return nil
			}
		}
	}
	return report.Errorf(report.SealInvalid, "seal: the signer certificate is not in the certificate list of seal %q: this signer may not use the seal", s.ESID)
}

// digestByName hashes b with the algorithm a CertDigestObj.type names, or
// returns nil for an unknown name.
func digestByName(name string, b []byte) []byte {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "-", "")) {
	case "sm3", "1.2.156.10197.1.401", "sm3withsm2", "1.2.156.10197.1.501":
		h := sm3.Sum(b)
		return h[:]
	case "sha256", "2.16.840.1.101.3.4.2.1":
		h := sha256.Sum256(b)
		return h[:]
	case "sha1", "1.3.14.3.2.26":
		h := sha1.Sum(b)
		return h[:]
	}
	return nil
}

// VerifySignature checks the signer's SM2 signature over TBS_Sign with the
// signer certificate the signature carries. It does not look at the
// document, the seal, or trust.
func (sig *Signature) VerifySignature() error {
	err := verifySM2(sig.Cert, sig.SignatureAlg, sig.RawTBSSign, sig.SignatureValue)
	if err == errBadSignature {
		return report.Errorf(report.SigCryptoFailure, "seal: the signature over TBS_Sign does not verify with the signer certificate %q: it was altered or forged", sig.Cert.Subject.CommonName)
	}
	return err
}

// CheckHash compares the signed dataHash with hash, the hash of the
// document the signature is claimed for (SM3 for version 4, the whole
// Signature.xml for OFD, the ByteRange for PDF). A mismatch is a
// HASH_FAILURE: the document is not what was signed.
func (sig *Signature) CheckHash(hash []byte) error {
	if subtle.ConstantTimeCompare(hash, sig.DataHash) != 1 {
		return report.Errorf(report.HashFailure, "seal: the document's hash does not match the signed dataHash: the document was altered after signing or is not the one signed")
	}
	return nil
}

// Verify checks a seal signature over data, a detached document: see
// VerifyHash. data is hashed with SM3.
func (sig *Signature) Verify(data []byte) error {
	h := sm3.Sum(data)
	return sig.VerifyHash(h[:])
}

// VerifyHash checks everything a seal signature says about itself, in
// this order: the signer's signature over TBS_Sign, the document hash, the
// seal maker's signature, that the signer certificate is listed in the
// seal, and that the seal was within its validity window at the signing
// time. It does not check certificate chains or revocation (the caller's
// Trust does) and treats the signing time as the signer claims it (a
// timestamp, if any, is not checked). The first failure is returned with
// its report reason.
func (sig *Signature) VerifyHash(hash []byte) error {
	if err := sig.VerifySignature(); err != nil {
		return err
	}
	if err := sig.CheckHash(hash); err != nil {
		return err
	}
	if err := sig.Seal.VerifyMaker(); err != nil {
		return err
	}
	if err := sig.Seal.Lists(sig.CertRaw); err != nil {
		return err
	}
	if sig.SignedAt.IsZero() {
		return report.Errorf(report.FormatFailure, "seal: the signing time %q cannot be read, so the seal's validity cannot be judged", sig.RawTimeInfo)
	}
	return sig.Seal.CheckValidity(sig.SignedAt)
}
