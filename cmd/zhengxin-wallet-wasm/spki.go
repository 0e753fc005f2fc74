package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/pem"
	"errors"

	"github.com/emmansun/gmsm/sm2"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// spki encodes an SM2 public key as SubjectPublicKeyInfo (GB/T 35276:
// id-ecPublicKey with the sm2p256v1 curve, uncompressed point), by hand, so
// the module does not need an X.509 encoder for one structure. The claim
// sends it, PEM-armoured, for the issuer to bind the license to.
func spki(pub *ecdsa.PublicKey) []byte {
	pt := make([]byte, 65)
	pt[0] = 4
	pub.X.FillBytes(pt[1:33])
	pub.Y.FillBytes(pt[33:])
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECPublicKey)
			b.AddASN1ObjectIdentifier(oidSM2)
		})
		b.AddASN1BitString(pt)
	})
	return b.BytesOrPanic()
}

var (
	oidECPublicKey = []int{1, 2, 840, 10045, 2, 1}
	oidSM2         = []int{1, 2, 156, 10197, 1, 301}
	oidP256        = []int{1, 2, 840, 10045, 3, 1, 7}
)

// maxSPKI bounds the input: an SM2 or P-256 SubjectPublicKeyInfo is 91 bytes.
const maxSPKI = 256

// parseSPKI reads a device public key: SubjectPublicKeyInfo of an SM2 key
// (id-ecPublicKey + sm2p256v1, or the sm2p256v1 OID as the algorithm, as
// some implementations write it) or of a P-256 key (what WebCrypto exports),
// with an uncompressed point that must lie on the curve. It is here, rather
// than license.ParseHolderPublicKey (smx509.ParsePKIXPublicKey), so the
// module accepts exactly the two key types a device may have and links no
// parser for the others (RSA, DSA, Ed25519, SM9): about 150 KB smaller.
func parseSPKI(der []byte) (*ecdsa.PublicKey, error) {
	if len(der) > maxSPKI {
		return nil, errors.New("wallet: public key too long")
	}
	in := cryptobyte.String(der)
	var spki, alg cryptobyte.String
	var algOID, curveOID asn1.ObjectIdentifier
	var point asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&algOID) {
		return nil, errors.New("wallet: public key is not a SubjectPublicKeyInfo")
	}
	if !alg.Empty() && !alg.ReadASN1ObjectIdentifier(&curveOID) {
		return nil, errors.New("wallet: public key parameters are not a named curve")
	}
	if !alg.Empty() || !spki.ReadASN1BitString(&point) || !spki.Empty() || point.BitLength != 8*len(point.Bytes) {
		return nil, errors.New("wallet: malformed SubjectPublicKeyInfo")
	}
	switch {
	case algOID.Equal(oidSM2) && curveOID == nil, algOID.Equal(oidECPublicKey) && curveOID.Equal(oidSM2):
		k, err := sm2.NewPublicKey(point.Bytes)
		if err != nil {
			return nil, errors.New("wallet: the SM2 public key is not a point on the curve")
		}
		return k, nil
	case algOID.Equal(oidECPublicKey) && curveOID.Equal(oidP256):
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point.Bytes)
		if err != nil {
			return nil, errors.New("wallet: the P-256 public key is not a point on the curve")
		}
		return k, nil
	}
	return nil, errors.New("wallet: device keys are SM2 or ECDSA P-256")
}

// parsePublicPEM reads a PEM "PUBLIC KEY" block with parseSPKI.
func parsePublicPEM(data []byte) (*ecdsa.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New(`wallet: the public key is not a PEM "PUBLIC KEY" block`)
	}
	return parseSPKI(b.Bytes)
}
