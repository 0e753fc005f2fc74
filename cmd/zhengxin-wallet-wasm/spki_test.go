package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/license"
)

// The hand-made SubjectPublicKeyInfo is byte-for-byte what smx509 makes,
// license.ParseHolderPublicKey takes it, and OpenSSL reads it as an SM2 key
// with the same point.
func TestSPKI(t *testing.T) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got := spki(&priv.PublicKey)
	want, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("spki differs from smx509:\n got %x\nwant %x", got, want)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: got})
	k, err := license.ParseHolderPublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(k) {
		t.Fatal("parsed key differs")
	}

	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: skipping the OpenSSL cross-check")
	}
	f := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(f, p, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "pkey", "-pubin", "-in", f, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "ASN1 OID: SM2") {
		t.Fatalf("openssl does not see an SM2 key:\n%s", text)
	}
	// OpenSSL prints the point as colon-separated hex, 15 bytes a line.
	hexPt := strings.NewReplacer(" ", "", "\n", "", ":", "").Replace(text[strings.Index(text, "pub:")+4 : strings.Index(text, "ASN1 OID")])
	if hexPt != hex.EncodeToString(got[len(got)-65:]) {
		t.Fatalf("openssl point %s, want %x", hexPt, got[len(got)-65:])
	}
}

// parseSPKI agrees with smx509.ParsePKIXPublicKey (the reference) on the
// keys a wallet has, and refuses the rest.
func TestParseSPKI(t *testing.T) {
	sm2Key, _ := sm2.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	sm2DER, _ := smx509.MarshalPKIXPublicKey(&sm2Key.PublicKey)
	p256DER, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	// The other SM2 encoding: the curve OID as the algorithm, no parameters.
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSM2) })
		b.AddASN1BitString(elliptic.Marshal(sm2Key.Curve, sm2Key.X, sm2Key.Y)) //nolint:staticcheck // test vector only
	})
	sm2Alt := b.BytesOrPanic()
	for name, der := range map[string][]byte{"sm2": sm2DER, "sm2-alt": sm2Alt, "p256": p256DER} {
		got, err := parseSPKI(der)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, err := smx509.ParsePKIXPublicKey(der)
		if err != nil && name != "sm2-alt" {
			t.Fatalf("%s: reference: %v", name, err)
		}
		if err == nil && !got.Equal(want) {
			t.Errorf("%s: key differs from smx509's", name)
		}
		if _, err := license.Thumbprint(got); err != nil {
			t.Errorf("%s: license refuses the key: %v", name, err)
		}
	}
	offCurve := append([]byte{}, p256DER...)
	offCurve[len(offCurve)-1] ^= 1
	for name, der := range map[string][]byte{"p384": p384DER, "rsa": rsaDER, "off-curve": offCurve,
		"trailing": append(append([]byte{}, p256DER...), 0), "empty": nil, "truncated": p256DER[:40]} {
		if _, err := parseSPKI(der); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Differential fuzzing: parseSPKI never panics, and whatever it accepts
// smx509 accepts as the same key (or, for the alternative SM2 encoding,
// is a valid SM2 point).
func FuzzParseSPKI(f *testing.F) {
	k, _ := sm2.GenerateKey(rand.Reader)
	p, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d1, _ := smx509.MarshalPKIXPublicKey(&k.PublicKey)
	d2, _ := x509.MarshalPKIXPublicKey(&p.PublicKey)
	f.Add(d1)
	f.Add(d2)
	f.Fuzz(func(t *testing.T, der []byte) {
		got, err := parseSPKI(der)
		if err != nil {
			return
		}
		if want, err := smx509.ParsePKIXPublicKey(der); err == nil {
			if !got.Equal(want) {
				t.Fatal("parseSPKI and smx509 disagree")
			}
		} else if !sm2.IsSM2PublicKey(got) {
			t.Fatalf("accepted a key smx509 refuses: %v", err)
		}
	})
}
