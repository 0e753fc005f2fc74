package main

import (
	"crypto/ecdsa"

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
			b.AddASN1ObjectIdentifier([]int{1, 2, 840, 10045, 2, 1})   // id-ecPublicKey
			b.AddASN1ObjectIdentifier([]int{1, 2, 156, 10197, 1, 301}) // sm2p256v1
		})
		b.AddASN1BitString(pt)
	})
	return b.BytesOrPanic()
}
