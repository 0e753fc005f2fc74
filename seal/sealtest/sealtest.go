// Package sealtest makes real GB/T 38540 seal files for tests of code that
// stores, serves or shows seals (server, pages): a throwaway SM2 root, seal
// maker and seal signer, made once per process. Not for production: the
// keys are generated in memory and forgotten.
package sealtest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/seal"
)

// At is the start of the test seals' validity (three years).
var At = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type pki struct {
	root, maker, signer *smx509.Certificate
	makerKey            *sm2.PrivateKey
}

var testPKI = sync.OnceValues(func() (*pki, error) {
	const year = 365 * 24 * time.Hour
	rootKey, err := certs.GenerateKey()
	if err != nil {
		return nil, err
	}
	p := &pki{}
	if p.root, err = certs.NewRootCA(rootKey, certs.Name{CommonName: "sealtest Root (TEST)"}, At, 10*year); err != nil {
		return nil, err
	}
	ca := certs.CA{Cert: p.root, Key: rootKey}
	if p.makerKey, err = certs.GenerateKey(); err != nil {
		return nil, err
	}
	if p.maker, err = ca.Issue(certs.SealMaker, &p.makerKey.PublicKey, certs.Name{CommonName: "sealtest Seal Maker (TEST)"}, At, 5*year); err != nil {
		return nil, err
	}
	signerKey, err := certs.GenerateKey()
	if err != nil {
		return nil, err
	}
	if p.signer, err = ca.Issue(certs.SealSigner, &signerKey.PublicKey, certs.Name{CommonName: "sealtest Seal (TEST)"}, At, 5*year); err != nil {
		return nil, err
	}
	return p, nil
})

// Picture is a small PNG stamp picture (a red diagonal on 8 x 8 pixels).
func Picture() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < 8; i++ {
		img.Set(i, i, color.NRGBA{200, 22, 29, 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img) // writing to a bytes.Buffer cannot fail
	return b.Bytes()
}

// Make returns a seal file with the given identifier, name and picture
// (nil: Picture()) of type pictureType ("PNG", "SVG", ...; "" = "PNG").
func Make(id, name string, picture []byte, pictureType string) ([]byte, error) {
	p, err := testPKI()
	if err != nil {
		return nil, err
	}
	if picture == nil {
		picture = Picture()
	}
	if pictureType == "" {
		pictureType = "PNG"
	}
	return seal.MakeSeal(seal.SealSpec{ESID: id, Name: name, Type: seal.TypeOrganisation,
		SignerCerts: []*smx509.Certificate{p.signer},
		Picture:     seal.Picture{Type: pictureType, Data: picture, WidthMM: 40, HeightMM: 40},
		ValidStart:  At, ValidEnd: At.AddDate(3, 0, 0)}, p.maker, p.makerKey)
}
