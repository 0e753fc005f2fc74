package datadir

import (
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/certs"
)

// keys.example documents a deployment: its keys must open with the DEMO
// passphrase it states, be mode 0600, and chain to its root as a
// license signer.
func TestKeysExample(t *testing.T) {
	base := filepath.Join("..", "keys.example", "data")
	root, err := os.ReadFile(filepath.Join(base, "root", "root-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rootCert, err := certs.ParseCertificatePEM(root)
	if err != nil {
		t.Fatal(err)
	}
	agencies, _ := filepath.Glob(filepath.Join(base, "agencies", "*"))
	if len(agencies) == 0 {
		t.Fatal("no agency in keys.example")
	}
	for _, a := range agencies {
		ca, err := os.ReadFile(filepath.Join(a, "agency-ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		caCert, _ := certs.ParseCertificatePEM(ca)
		for _, role := range []string{RoleAgencyCA, RoleLicenseSigner, RoleSeal, RoleSealMaker} {
			keyPath := filepath.Join(a, role+".key")
			if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
				// git keeps only the executable bit; a checkout makes 0644.
				t.Logf("%s: mode %v (a git checkout does not keep 0600; zhengxin init writes 0600)", keyPath, fi.Mode().Perm())
			}
			k, err := certs.ReadKeyFile(keyPath, []byte(DemoPassphrase))
			if err != nil {
				t.Fatalf("%s does not open with the DEMO passphrase: %v", keyPath, err)
			}
			pem, _ := os.ReadFile(filepath.Join(a, role+".pem"))
			c, err := certs.ParseCertificatePEM(pem)
			if err != nil {
				t.Fatal(err)
			}
			if !c.PublicKey.(*ecdsa.PublicKey).Equal(&k.PublicKey) {
				t.Fatalf("%s: key and certificate differ", role)
			}
		}
		signer, _ := os.ReadFile(filepath.Join(a, "license-signer.pem"))
		sc, _ := certs.ParseCertificatePEM(signer)
		pool := certs.NewPool()
		pool.AddAnchor(rootCert)
		if _, err := pool.VerifyChain(sc, []*smx509.Certificate{caCert}, sc.NotBefore, certs.OIDExtKeyUsageLicenseSigning); err != nil {
			t.Fatalf("license signer does not chain to the example root: %v", err)
		}
	}
}
