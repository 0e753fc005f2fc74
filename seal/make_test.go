package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/verify/report"
)

func TestMakeSealRoundTrip(t *testing.T) {
	p := getPKI(t)
	spec := testSpec(p)
	spec.ExtDatas = []ExtData{{ID: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte("x")}}
	der, err := MakeSeal(spec, p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != V4 || s.Header.ID != "ES" || s.Header.VID != DefaultVID || s.ESID != spec.ESID || s.Name != spec.Name ||
		s.Type != 1 || s.CertListType != 1 || len(s.Certs) != 1 || !bytes.Equal(s.Certs[0], p.signer.Raw) ||
		!s.ValidEnd.Equal(spec.ValidEnd) || !s.CreateDate.Equal(spec.CreateDate) || !bytes.Equal(s.Picture.Data, spec.Picture.Data) ||
		s.Picture.WidthMM != 42 || !bytes.Equal(s.MakerCertRaw, p.maker.Raw) || len(s.ExtDatas) != 1 || !s.ExtDatas[0].Critical {
		t.Errorf("round trip lost fields: %+v", s)
	}
	if err := s.VerifyMaker(); err != nil {
		t.Fatal(err)
	}
	if err := s.Lists(p.signer.Raw); err != nil {
		t.Error(err)
	}
	wantReason(t, s.Lists(p.other.Raw), report.SealInvalid)
	if err := s.CheckValidity(testNow); err != nil {
		t.Error(err)
	}
	wantReason(t, s.CheckValidity(testNow.AddDate(3, 0, 0)), report.SealInvalid)
	wantReason(t, s.CheckValidity(testNow.AddDate(0, -2, 0)), report.SealInvalid)

	// Independent reference 1: tjfoc/gmsm verifies the maker signature over
	// DER(SES_SealInfo) with its default user ID.
	pub := p.maker.PublicKey.(*ecdsa.PublicKey)
	tj := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: pub.X, Y: pub.Y}
	if !tj.Verify(s.RawSealInfo, s.SignedValue) {
		t.Error("tjfoc/gmsm does not verify our maker signature over DER(SES_SealInfo)")
	}
	if tj.Verify(s.makerSeqInput(), s.SignedValue) {
		t.Error("tjfoc/gmsm verifies our maker signature over the wrong input")
	}
	// Independent reference 2: OpenSSL reads the structure.
	checkASN1Layout(t, der, []string{
		`d=0 cons: SEQUENCE`,
		`d=1 cons: SEQUENCE`,      // SES_SealInfo
		`d=2 cons: SEQUENCE`,      // SES_Header
		`d=3 prim: IA5STRING :ES`, // id
		`d=3 prim: INTEGER :04`,   // version
		`d=3 prim: IA5STRING :Zhengxin`,
		`d=2 prim: IA5STRING :110108000000001`,
		`d=2 cons: SEQUENCE`,    // SES_ESPropertyInfo
		`d=3 prim: INTEGER :01`, // type
		`d=3 prim: UTF8STRING :测试市场监督管理局合同专用章`,
		`d=3 prim: INTEGER :01`,  // certListType
		`d=3 cons: SEQUENCE`,     // certList
		`d=4 prim: OCTET STRING`, // signer cert
		`d=3 prim: GENERALIZEDTIME :20261023090000Z`,
		`d=3 prim: GENERALIZEDTIME :20261023090000Z`,
		`d=3 prim: GENERALIZEDTIME :20281123090000Z`,
		`d=2 cons: SEQUENCE`, // picture
		`d=3 prim: IA5STRING :PNG`,
		`d=3 prim: OCTET STRING`,
		`d=3 prim: INTEGER :2A`,
		`d=3 prim: INTEGER :2A`,
		`d=2 cons: SEQUENCE`, // extDatas
		`d=3 cons: SEQUENCE`,
		`d=4 prim: OBJECT :1.2.3`,
		`d=4 prim: BOOLEAN :255`,
		`d=4 prim: OCTET STRING`,
		`d=1 prim: OCTET STRING`, // maker cert
		`d=1 prim: OBJECT :SM2-with-SM3`,
		`d=1 prim: BIT STRING`,
	})
}

// checkASN1Layout runs `openssl asn1parse` on der and compares the
// sequence of depth, form, type and value with want (lines for nested
// certificates are skipped: OCTET STRINGs are not descended into).
func checkASN1Layout(t *testing.T, der []byte, want []string) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Log("openssl not installed; structure not cross-checked")
		return
	}
	path := filepath.Join(t.TempDir(), "x.der")
	if err := os.WriteFile(path, der, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", path).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out)
	}
	// "   10:d=3  hl=2 l=   2 prim: IA5STRING         :ES"
	re := regexp.MustCompile(`^\s*\d+:(d=\d+)\s+hl=\d+\s+l=\s*\d+\s+(prim|cons):\s+(.*?)\s*$`)
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		typ := regexp.MustCompile(`\s+:`).ReplaceAllString(m[3], " :")
		typ = strings.TrimSpace(strings.SplitN(typ, "[HEX DUMP]", 2)[0])
		got = append(got, m[1]+" "+m[2]+": "+typ)
	}
	if len(got) != len(want) {
		t.Fatalf("openssl asn1parse shows %d elements, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] && !strings.HasPrefix(got[i], want[i]+" :") {
			t.Errorf("element %d: openssl shows %q, want %q", i, got[i], want[i])
		}
	}
}

func TestMakeSealDigestList(t *testing.T) {
	p := getPKI(t)
	spec := testSpec(p)
	spec.CertListType = CertListDigests
	spec.SignerCerts = append(spec.SignerCerts, p.other)
	der, err := MakeSeal(spec, p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	if s.CertListType != CertListDigests || len(s.CertDigests) != 2 || s.CertDigests[0].Type != "sm3" {
		t.Fatalf("digest list = %+v", s.CertDigests)
	}
	// The digest is SM3 over the certificate DER: check against a value
	// computed independently of the seal code.
	want := sm3.Sum(p.signer.Raw)
	if !bytes.Equal(s.CertDigests[0].Value, want[:]) {
		t.Error("CertDigestObj value is not SM3(cert DER)")
	}
	for _, c := range []*smx509.Certificate{p.signer, p.other} {
		if err := s.Lists(c.Raw); err != nil {
			t.Error(err)
		}
	}
	wantReason(t, s.Lists(p.maker.Raw), report.SealInvalid)
	if err := s.VerifyMaker(); err != nil {
		t.Fatal(err)
	}
}

func TestMakeSealRejects(t *testing.T) {
	p := getPKI(t)
	for name, mod := range map[string]func(*SealSpec){
		"no esid":        func(s *SealSpec) { s.ESID = "" },
		"esid non-ascii": func(s *SealSpec) { s.ESID = "印章" },
		"no name":        func(s *SealSpec) { s.Name = "" },
		"type 0":         func(s *SealSpec) { s.Type = 0 },
		"no certs":       func(s *SealSpec) { s.SignerCerts = nil },
		"list type 3":    func(s *SealSpec) { s.CertListType = 3 },
		"picture type":   func(s *SealSpec) { s.Picture.Type = "EXE" },
		"no picture":     func(s *SealSpec) { s.Picture.Data = nil },
		"huge picture":   func(s *SealSpec) { s.Picture.Data = make([]byte, MaxPictureSize+1) },
		"zero size":      func(s *SealSpec) { s.Picture.WidthMM = 0 },
		"window":         func(s *SealSpec) { s.ValidEnd = s.ValidStart },
	} {
		spec := testSpec(p)
		mod(&spec)
		if _, err := MakeSeal(spec, p.maker, p.makerKey); err == nil || !strings.HasPrefix(err.Error(), "seal: ") {
			t.Errorf("%s: MakeSeal error = %v, want a seal: error", name, err)
		}
	}
	if _, err := MakeSeal(testSpec(p), p.maker, p.signerKey); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched maker key: %v", err)
	}
}

func TestSignRoundTrip(t *testing.T) {
	p := getPKI(t)
	sealDER, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte("%PDF-1.7 a contract 合同")
	at := testNow.Add(90 * time.Minute)
	der, err := SignData(sealDER, p.signer, p.signerKey, doc, "contract.pdf", at)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ParseSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Version != V4 || !sig.SignedAt.Equal(at) || sig.PropertyInfo != "contract.pdf" || !bytes.Equal(sig.Seal.Raw, sealDER) ||
		!bytes.Equal(sig.CertRaw, p.signer.Raw) || !sig.SignatureAlg.Equal(OIDSM2WithSM3) || sig.TimeStamp != nil {
		t.Errorf("round trip lost fields: %+v", sig)
	}
	if err := sig.Verify(doc); err != nil {
		t.Fatal(err)
	}
	wantReason(t, sig.Verify(append(doc, ' ')), report.HashFailure)

	// Independent reference: tjfoc/gmsm verifies the signature over TBS_Sign,
	// and dataHash is SM3 of the document.
	pub := p.signer.PublicKey.(*ecdsa.PublicKey)
	if !(&tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: pub.X, Y: pub.Y}).Verify(sig.RawTBSSign, sig.SignatureValue) {
		t.Error("tjfoc/gmsm does not verify our SES_Signature")
	}
	h := sm3.Sum(doc)
	if !bytes.Equal(sig.DataHash, h[:]) {
		t.Error("dataHash is not SM3(document)")
	}
	// openssl reads the layout: TBS_Sign{version, SESeal, time, hash, info}, cert, alg, sig.
	checkASN1Layout(t, der, sigLayout(t, der))

	// Sign refuses what would not verify.
	if _, err := SignData(sealDER, p.other, p.otherKey, doc, "x", at); report.ReasonOf(err) != report.SealInvalid {
		t.Errorf("signer not listed: %v", err)
	}
	if _, err := SignData(sealDER, p.signer, p.signerKey, doc, "x", testNow.AddDate(5, 0, 0)); report.ReasonOf(err) != report.SealInvalid {
		t.Errorf("after the seal expired: %v", err)
	}
	if _, err := Sign(sealDER, p.signer, p.signerKey, []byte("short"), "x", at); err == nil {
		t.Error("accepted a 5-byte hash")
	}
	if _, err := SignData(sealDER, p.signer, p.signerKey, doc, "非ASCII", at); err == nil {
		t.Error("accepted non-IA5 propertyInfo")
	}
	if v1 := readInteropOrNil(t, "UserV1.esl"); v1 != nil {
		if _, err := SignData(v1, p.signer, p.signerKey, doc, "x", at); err == nil || !strings.Contains(err.Error(), "version 4") {
			t.Errorf("signing with a V1 seal: %v", err)
		}
	}
}

func readInteropOrNil(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(interopDir, name))
	if err != nil {
		return nil
	}
	return b
}

// sigLayout is the expected top-level openssl view of one of our
// SES_Signatures, built from the seal layout (one level deeper).
func sigLayout(t *testing.T, der []byte) []string {
	out := []string{`d=0 cons: SEQUENCE`, `d=1 cons: SEQUENCE`, `d=2 prim: INTEGER :04`}
	for _, l := range []string{
		`d=0 cons: SEQUENCE`, `d=1 cons: SEQUENCE`, `d=2 cons: SEQUENCE`, `d=3 prim: IA5STRING :ES`, `d=3 prim: INTEGER :04`,
		`d=3 prim: IA5STRING :Zhengxin`, `d=2 prim: IA5STRING :110108000000001`, `d=2 cons: SEQUENCE`, `d=3 prim: INTEGER :01`,
		`d=3 prim: UTF8STRING`, `d=3 prim: INTEGER :01`, `d=3 cons: SEQUENCE`, `d=4 prim: OCTET STRING`,
		`d=3 prim: GENERALIZEDTIME`, `d=3 prim: GENERALIZEDTIME`, `d=3 prim: GENERALIZEDTIME`, `d=2 cons: SEQUENCE`,
		`d=3 prim: IA5STRING :PNG`, `d=3 prim: OCTET STRING`, `d=3 prim: INTEGER :2A`, `d=3 prim: INTEGER :2A`,
		`d=1 prim: OCTET STRING`, `d=1 prim: OBJECT :SM2-with-SM3`, `d=1 prim: BIT STRING`,
	} {
		n := int(l[2] - '0')
		out = append(out, "d="+string(rune('0'+n+2))+l[3:])
	}
	return append(out,
		`d=2 prim: GENERALIZEDTIME :20261123103000Z`,
		`d=2 prim: BIT STRING`,
		`d=2 prim: IA5STRING :contract.pdf`,
		`d=1 prim: OCTET STRING`,
		`d=1 prim: OBJECT :SM2-with-SM3`,
		`d=1 prim: BIT STRING`)
}

// TestVerifyTolerances: what other producers write that we accept.
func TestVerifyTolerances(t *testing.T) {
	p := getPKI(t)
	der, err := MakeSeal(testSpec(p), p.maker, p.makerKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	// Maker signature over SEQUENCE{sealInfo, cert, alg} (GM/T 0031 wording).
	seqSig, err := p.makerKey.Sign(rand.Reader, s.makerSeqInput(), sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	alt := reseal(t, s, seqSig)
	if as, err := ParseSeal(alt); err != nil {
		t.Fatal(err)
	} else if err := as.VerifyMaker(); err != nil {
		t.Errorf("maker signature over SEQUENCE{sealInfo, cert, alg}: %v", err)
	}
	// Raw 64-byte r||s, as SKF/SDF devices return.
	var r, ss big.Int
	in := cryptobyte.String(s.SignedValue)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&ss) {
		t.Fatal("our signature value is not DER SEQUENCE{r, s}")
	}
	raw := append(r.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
	if rs, err := ParseSeal(reseal(t, s, raw)); err != nil {
		t.Fatal(err)
	} else if err := rs.VerifyMaker(); err != nil {
		t.Errorf("raw r||s maker signature: %v", err)
	}
	// A signature by another key fails with SIG_CRYPTO_FAILURE.
	otherSig, _ := p.otherKey.Sign(rand.Reader, s.RawSealInfo, sm2.DefaultSM2SignerOpts)
	if bs, err := ParseSeal(reseal(t, s, otherSig)); err != nil {
		t.Fatal(err)
	} else {
		wantReason(t, bs.VerifyMaker(), report.SigCryptoFailure)
	}
	// A signature without Z_A (the hash-only trap) fails.
	h := sm3.Sum(s.RawSealInfo)
	noZA, _ := sm2.SignASN1(rand.Reader, p.makerKey, h[:], nil)
	if bs, err := ParseSeal(reseal(t, s, noZA)); err != nil {
		t.Fatal(err)
	} else {
		wantReason(t, bs.VerifyMaker(), report.SigCryptoFailure)
	}
}

// reseal rebuilds a V4 SESeal from s with another signedValue.
func reseal(t *testing.T, s *Seal, sig []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(s.RawSealInfo)
		b.AddBytes(s.rawCertElem)
		b.AddBytes(s.rawAlgElem)
		b.AddASN1BitString(sig)
	})
	return b.BytesOrPanic()
}
