package seal

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/zhengxin/zhengxin/verify/report"
)

// interopDir holds samples made by other implementations (ofdrw), see
// ../shared/interop/README.md.
const interopDir = "../../shared/interop/seal"

// interopNow is the fixed clock the interop README judges validity against.
var interopNow = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func readInterop(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interopDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("interop sample %s absent (the shared interop folder is not next to this clone)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readInteropCert(t testing.TB, name string) *smx509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(readInterop(t, name))
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := smx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantReason(t *testing.T, err error, r report.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", r)
	}
	if got := report.ReasonOf(err); got != r {
		t.Fatalf("reason = %q (%v), want %s", got, err, r)
	}
}

func TestInteropUserV4(t *testing.T) {
	s, err := ParseSeal(readInterop(t, "UserV4.esl"))
	if err != nil {
		t.Fatal(err)
	}
	// Values as printed by `openssl asn1parse -inform DER -in UserV4.esl`.
	if s.Version() != V4 || s.Header.VID != "OFDR&WTest" || s.ESID != "51f044b76510434e9bc67a1185c2fba5" ||
		s.Name != "OFD R&W 测试用印章" || s.Type != 3 || s.CertListType != CertListCerts || len(s.Certs) != 1 ||
		s.Picture.Type != "PNG" || s.Picture.WidthMM != 40 || s.Picture.HeightMM != 40 {
		t.Errorf("parsed %+v", s.Header)
		t.Errorf("esID %q name %q type %d certListType %d certs %d picture %s %dx%d", s.ESID, s.Name, s.Type, s.CertListType, len(s.Certs), s.Picture.Type, s.Picture.WidthMM, s.Picture.HeightMM)
	}
	if want := time.Date(2022, 4, 22, 2, 9, 0, 0, time.UTC); !s.ValidEnd.Equal(want) {
		t.Errorf("validEnd = %v, want %v", s.ValidEnd, want)
	}
	if err := s.VerifyMaker(); err != nil {
		t.Fatalf("maker signature of ofdrw's V4 seal: %v", err)
	}
	if verifySM2(s.MakerCert, s.SignAlg, s.RawSealInfo, s.SignedValue) != nil {
		t.Error("ofdrw's V4 maker signature is not over DER(SES_SealInfo)")
	}
	// The maker cert is ofdrw's SealBuilder certificate; the listed
	// signer is its USER certificate; both are issued by its ROOT.
	if string(s.MakerCertRaw) != string(readInteropCert(t, "SealBuilder.cert.pem").Raw) {
		t.Error("maker cert is not SealBuilder.cert.pem")
	}
	user := readInteropCert(t, "USER.cert.pem")
	if err := s.Lists(user.Raw); err != nil {
		t.Errorf("USER cert not listed: %v", err)
	}
	if err := s.Lists(readInteropCert(t, "ROOT.cert.pem").Raw); report.ReasonOf(err) != report.SealInvalid {
		t.Errorf("ROOT cert listed: %v", err)
	}
	wantReason(t, s.CheckValidity(interopNow), report.SealInvalid)
	if err := s.CheckValidity(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("valid in 2021: %v", err)
	}
}

func TestInteropUserV1(t *testing.T) {
	s, err := ParseSeal(readInterop(t, "UserV1.esl"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != V1 || s.ESID != "40C8CDD24DEF43388B86E62CCE1D6832" || s.Name != "OFDRW测试用印章" || s.Type != 1 || len(s.Certs) != 1 {
		t.Errorf("esID %q name %q type %d certs %d", s.ESID, s.Name, s.Type, len(s.Certs))
	}
	// UTCTime 220422021807Z.
	if want := time.Date(2022, 4, 22, 2, 18, 7, 0, time.UTC); !s.ValidEnd.Equal(want) {
		t.Errorf("validEnd = %v, want %v", s.ValidEnd, want)
	}
	if err := s.VerifyMaker(); err != nil {
		t.Fatalf("maker signature of ofdrw's V1 seal: %v", err)
	}
	// V1 signs SEQUENCE{sealInfo, cert, alg}, not SES_SealInfo alone.
	if verifySM2(s.MakerCert, s.SignAlg, s.makerSeqInput(), s.SignedValue) != nil || verifySM2(s.MakerCert, s.SignAlg, s.RawSealInfo, s.SignedValue) == nil {
		t.Error("V1 maker signature input is not SEQUENCE{sealInfo, cert, alg}")
	}
	wantReason(t, s.CheckValidity(interopNow), report.SealInvalid)
}

func TestInteropSignedValueV4(t *testing.T) {
	sig, err := ParseSignature(readInterop(t, "SignedValueV4.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if sig.Version != V4 || sig.Seal.ESID != "51f044b76510434e9bc67a1185c2fba5" || sig.PropertyInfo != "/Doc_0/Signs/Sign_0/Signature.xml" {
		t.Errorf("version %d esID %q propertyInfo %q", sig.Version, sig.Seal.ESID, sig.PropertyInfo)
	}
	if want := time.Date(2020, 10, 12, 11, 14, 3, 0, time.UTC); !sig.SignedAt.Equal(want) {
		t.Errorf("signedAt = %v, want %v", sig.SignedAt, want)
	}
	if err := sig.VerifySignature(); err != nil {
		t.Fatalf("signature over TBS_Sign: %v", err)
	}
	// Bound to the sample Signature.xml the hash does not match: tampered.
	xml := readInterop(t, "Signature.xml")
	wantReason(t, sig.Verify(xml), report.HashFailure)
	// With the hash it does carry, everything else holds (the seal was
	// within its window in 2020).
	if err := sig.VerifyHash(sig.DataHash); err != nil {
		t.Errorf("VerifyHash with the signed hash: %v", err)
	}
	// Judged today (2026-11-23) the seal and the signer certificate have
	// expired.
	wantReason(t, sig.Seal.CheckValidity(interopNow), report.SealInvalid)
	if !sig.Cert.NotAfter.Before(interopNow) {
		t.Errorf("signer certificate valid until %v, expected expired", sig.Cert.NotAfter)
	}
	h := sm3.Sum(xml)
	if string(h[:]) == string(sig.DataHash) {
		t.Fatal("sample changed: dataHash equals SM3(Signature.xml)")
	}
	// One flipped bit in TBS_Sign (the propertyInfo text) breaks the signature.
	raw := append([]byte(nil), readInterop(t, "SignedValueV4.dat")...)
	raw[17074+2] ^= 0x01
	bad, err := ParseSignature(raw)
	if err != nil {
		t.Fatal(err)
	}
	wantReason(t, bad.VerifySignature(), report.SigCryptoFailure)
}

func TestInteropRootLacksKeyCertSign(t *testing.T) {
	root := readInteropCert(t, "ROOT.cert.pem")
	s, err := ParseSeal(readInterop(t, "UserV4.esl"))
	if err != nil {
		t.Fatal(err)
	}
	// The maker cert is signed by ROOT (raw signature check passes) ...
	if err := s.MakerCert.CheckSignatureFrom(root); err == nil {
		t.Fatal("CheckSignatureFrom accepted a CA without keyCertSign")
	}
	if err := root.CheckSignature(s.MakerCert.SignatureAlgorithm, s.MakerCert.RawTBSCertificate, s.MakerCert.Signature); err != nil {
		t.Fatalf("raw signature of ROOT over the maker cert: %v", err)
	}
	// ... but a strict RFC 5280 chain check fails.
	pool := smx509.NewCertPool()
	pool.AddCert(root)
	_, err = s.MakerCert.Verify(smx509.VerifyOptions{Roots: pool, CurrentTime: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil {
		t.Fatal("strict chain check accepted ROOT without keyCertSign")
	}
}
