package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

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
