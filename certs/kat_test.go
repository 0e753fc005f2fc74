package certs

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// Known-answer vectors from STANDARDS.md §6 (GB/T 32905 Annex A for SM3;
// the GM/T 0003 / GB/T 32918 example on the recommended curve for SM2).

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSM3Vectors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	} {
		got := sm3.Sum([]byte(c.in))
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("SM3(%q) = %x, want %s", c.in, got, c.want)
		}
	}
}

func katKey(t *testing.T) (*sm2.PrivateKey, *ecdsa.PublicKey) {
	d := unhex(t, "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
	priv, err := sm2.NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	x := new(big.Int).SetBytes(unhex(t, "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"))
	y := new(big.Int).SetBytes(unhex(t, "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13"))
	pub := &ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("public key derived from d differs from the published (xA, yA)")
	}
	return priv, pub
}

func derSig(t *testing.T, r, s string) []byte {
	sig, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(unhex(t, r)), new(big.Int).SetBytes(unhex(t, s))})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestSM2Vectors(t *testing.T) {
	_, pub := katKey(t)
	za, err := sm2.CalculateZA(pub, []byte("1234567812345678"))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(za) != "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3" {
		t.Errorf("ZA(default ID) = %x", za)
	}
	e := sm3.Sum(append(za, "message digest"...))
	if !bytes.Equal(e[:], unhex(t, "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640")) {
		t.Errorf("e = SM3(ZA||M) = %x", e)
	}
	msg := []byte("message digest")
	sig := derSig(t, "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3",
		"B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA")
	if !Verify(pub, msg, sig) {
		t.Error("published (r, s) for \"message digest\" does not verify with Verify")
	}
	if Verify(pub, []byte("message digesT"), sig) {
		t.Error("published signature verifies over another message")
	}

	alice := []byte("ALICE123@YAHOO.COM")
	zaA, err := sm2.CalculateZA(pub, alice)
	if err != nil {
		t.Fatal(err)
	}
	if h := hex.EncodeToString(zaA); !strings.HasPrefix(h, "26db4bc1") || !strings.HasSuffix(h, "93afd7ed") {
		t.Errorf("ZA(ALICE) = %s, want 26db4bc1…93afd7ed", h)
	}
	sigA := derSig(t, "b0e3e7d4ac2178f833ad73fa9d1191e41c76c8bfedb5ad89040ba2e5184bde58",
		"cc8d096578f7dd2669ac1ac42f7e722bcfa42b9e0be0b1b5df7ca0b53fdd5750")
	if !sm2.VerifyASN1WithSM2(pub, alice, msg, sigA) {
		t.Error("ALICE-ID signature does not verify with that ID")
	}
	// Our API always uses the default ID, so it must reject this one.
	if Verify(pub, msg, sigA) {
		t.Error("Verify accepted a signature made with another user ID")
	}
}
