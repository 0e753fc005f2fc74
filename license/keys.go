package license

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Holder device keys are SM2 by default; ECDSA P-256 is accepted because
// browsers (WebCrypto) can keep a P-256 key non-extractable but know no
// SM2. On disk a device key is a PEM "PRIVATE KEY" (PKCS#8) file, mode
// 0600, and its public half a PEM "PUBLIC KEY" (SubjectPublicKeyInfo).

// GenerateHolderKey makes a device key: curve "sm2" (or "") or "p256".
func GenerateHolderKey(rnd io.Reader, curve string) (crypto.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch curve {
	case "", "sm2":
		return sm2.GenerateKey(rnd)
	case "p256", "P-256":
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	}
	return nil, errors.New("license: holder key curve must be sm2 or p256")
}

// MarshalHolderKey encodes a device private key as PEM PKCS#8.
func MarshalHolderKey(k crypto.Signer) ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseHolderKey decodes a PEM PKCS#8 device private key (SM2 or P-256).
func ParseHolderKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("license: holder key file is not a PEM \"PRIVATE KEY\" block")
	}
	k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, errors.New("license: holder key file holds no valid PKCS#8 key")
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("license: holder key must be SM2 or ECDSA P-256")
	}
	if _, err := Thumbprint(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// MarshalHolderPublicKey encodes a device public key as PEM SPKI.
func MarshalHolderPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParseHolderPublicKey decodes a PEM SPKI device public key.
func ParseHolderPublicKey(data []byte) (crypto.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("license: holder public key is not a PEM \"PUBLIC KEY\" block")
	}
	k, err := smx509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, errors.New("license: holder public key is not a valid SubjectPublicKeyInfo")
	}
	if _, err := Thumbprint(k); err != nil {
		return nil, err
	}
	return k, nil
}
