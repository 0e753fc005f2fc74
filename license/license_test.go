package license

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/fxamacker/cbor/v2"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjsm3 "github.com/tjfoc/gmsm/sm3"
	tjsm4 "github.com/tjfoc/gmsm/sm4"

	"github.com/zhengxin/zhengxin/verify/report"
)

// The ToBeSigned bytes of the cose-wg Examples sign1-pass-01 (RFC 9052
// appendix C.2.1): protected {1: -7}, no external AAD, payload "This is the
// content.".
func TestSigStructureCOSEWG(t *testing.T) {
	want := "846A5369676E61747572653143A101264054546869732069732074686520636F6E74656E742E"
	got := strings.ToUpper(hex.EncodeToString(sigStructure(protectedHeader(AlgES256, nil), []byte("This is the content."))))
	if got != want {
		t.Fatalf("Sig_structure\n got %s\nwant %s", got, want)
	}
}

// The issuer signature must verify with an independent SM2 implementation
// (tjfoc/gmsm) using the default user ID, proving Z_A and r||s are right.
func TestSignatureInteropTjfoc(t *testing.T) {
	s, cert := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	ec := cert.PublicKey.(*ecdsa.PublicKey)
	tpub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: ec.X, Y: ec.Y}
	msg := sigStructure(l.protected, l.payload)
	r, ss := new(big.Int).SetBytes(l.signature[:32]), new(big.Int).SetBytes(l.signature[32:])
	if !tjsm2.Sm2Verify(tpub, msg, []byte("1234567812345678"), r, ss) {
		t.Fatal("tjfoc/gmsm rejects the license signature")
	}
	msg[len(msg)-1] ^= 1
	if tjsm2.Sm2Verify(tpub, msg, []byte("1234567812345678"), r, ss) {
		t.Fatal("tjfoc/gmsm accepts a modified message")
	}
}

func TestIssueRoundTrip(t *testing.T) {
	s, cert := testSigner(t)
	for _, req := range SampleRequests() {
		l, err := s.Issue(req)
		if err != nil {
			t.Fatalf("%s: %v", req.Type, err)
		}
		if _, err := ParseIdentifier(l.ID()); err != nil {
			t.Fatalf("%s: identifier %s: %v", req.Type, l.ID(), err)
		}
		// Every input field comes back in text form.
		got := l.Map()
		for k, v := range req.Fields {
			f := l.Type.Field(k)
			if f.Kind == KindDate && v == f.OpenEnded {
				continue
			}
			if got[k] != v && !(f.Kind == KindNumber && strings.HasPrefix(got[k], v)) {
				t.Errorf("%s: field %s = %q, want %q", req.Type, k, got[k], v)
			}
		}
		p, err := ParseLicense(l.Marshal())
		if err != nil {
			t.Fatalf("%s: parse holder copy: %v", req.Type, err)
		}
		if err := p.VerifySignature(cert.PublicKey); err != nil {
			t.Fatalf("%s: %v", req.Type, err)
		}
		text, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseQR(text)
		if err != nil {
			t.Fatalf("%s: parse QR: %v", req.Type, err)
		}
		if err := q.VerifySignature(cert.PublicKey); err != nil {
			t.Fatalf("%s: QR signature: %v", req.Type, err)
		}
		if q.ID() != l.ID() || q.String() != l.String() {
			t.Errorf("%s: QR shows\n%s\nwant\n%s", req.Type, q, l)
		}
		// Omitting a field keeps the signature valid and hides the value.
		omit := "holder_id"
		text2, err := l.QRText(omit)
		if err != nil {
			t.Fatal(err)
		}
		q2, err := ParseQR(text2)
		if err != nil {
			t.Fatal(err)
		}
		if err := q2.VerifySignature(cert.PublicKey); err != nil {
			t.Fatalf("%s: QR without %s: %v", req.Type, omit, err)
		}
		if _, ok := q2.Value(omit); ok {
			t.Errorf("%s: omitted field shown", req.Type)
		}
	}
}

func TestQRTamper(t *testing.T) {
	s, cert := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	// Change the legal representative inside the CBOR and re-wrap.
	text, _ := l.QRText()
	body, err := unwrapQR(text, PrefixLicense)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(body, []byte("王晓明"))
	copy(body[i:], "王晓亮")
	q, err := ParseQR(wrapQR(PrefixLicense, body))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.VerifySignature(cert.PublicKey); report.ReasonOf(err) != report.SigCryptoFailure {
		t.Fatalf("tampered field: %v, want SIG_CRYPTO_FAILURE", err)
	}
}

func TestValidationErrors(t *testing.T) {
	s, _ := testSigner(t)
	req := SampleRequests()[0]
	req.Fields = map[string]string{}
	for k, v := range SampleRequests()[0].Fields {
		req.Fields[k] = v
	}
	req.Fields["holder_id"] = "91330106MA2B3C4D12"
	req.Fields["established"] = "2018-02-30"
	req.Fields["enterprise_type"] = "外星公司"
	req.Fields["registered_capital"] = "5.123"
	req.Fields["colour"] = "red"
	delete(req.Fields, "legal_rep")
	_, err := s.Issue(req)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
	want := map[string]string{
		"holder_id":          "check character at position 18 should be 1 (GB 32100 MOD 31)",
		"established":        "is not a date",
		"enterprise_type":    "is not in the code list",
		"registered_capital": "at most 2 decimals",
		"colour":             "no such field",
		"legal_rep":          "required",
	}
	for _, fe := range ve.Fields {
		if w, ok := want[fe.Key]; !ok || !strings.Contains(fe.EN, w) || fe.ZH == "" {
			t.Errorf("unexpected error for %s: %v", fe.Key, fe)
		}
		delete(want, fe.Key)
	}
	if len(want) != 0 {
		t.Errorf("missing errors: %v (got %v)", want, err)
	}
	if !strings.Contains(err.Error(), "字段“统一社会信用代码”(holder_id)：第18位校验码应为1") {
		t.Errorf("Chinese message missing: %v", err)
	}
	// Birth date must agree with the citizen ID.
	req = SampleRequests()[2]
	req.Fields["birth_date"] = "1980-01-01"
	if _, err := s.Issue(req); err == nil || !strings.Contains(err.Error(), "does not match the birth date 1880-01-01") {
		t.Errorf("birth date cross-check: %v", err)
	}
}

func testDevice(t testing.TB, curve string) *sm2.PrivateKey {
	return testKey(t, "device-"+curve)
}

func TestPresentation(t *testing.T) {
	s, cert := testSigner(t)
	dev := testDevice(t, "sm2")
	l := issueSample(t, s, "food_business_permit", func(r *Request) { r.HolderKey = dev.Public() })
	text, err := MakePresentationWith(l.Marshal(), dev, PresentOptions{Profile: "food_counter", Audience: "counter-1", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePresentation(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.License.VerifySignature(cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckDisclosures(); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckHolder(); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckFresh(testNow.Add(59*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckFresh(testNow.Add(61*time.Second), 0); report.ReasonOf(err) != report.PresentationExpired {
		t.Fatalf("late: %v", err)
	}
	if _, ok := p.License.Value("legal_rep_id"); ok {
		t.Error("legal representative's ID disclosed at a food counter")
	}
	if v, _ := p.License.Value("holder_name"); v != "杭州西湖味道餐饮管理有限公司" {
		t.Errorf("holder name %q", v)
	}
	if p.Audience != "counter-1" || len(p.Nonce) != 16 {
		t.Errorf("audience %q nonce %x", p.Audience, p.Nonce)
	}
	t.Logf("presentation: %d chars, QR version %d-M", len(text), qrVersion(t, text))

	// A P-256 device key (WebCrypto) works the same way.
	pk, err := GenerateHolderKey(nil, "p256")
	if err != nil {
		t.Fatal(err)
	}
	l2 := issueSample(t, s, "driving_license", func(r *Request) { r.HolderKey = pk.Public() })
	text2, err := MakePresentation(l2.Marshal(), pk, []string{"holder_name", "vehicle_class"}, "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ParsePresentation(text2)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Alg != AlgES256 || p2.CheckHolder() != nil || p2.CheckDisclosures() != nil {
		t.Fatalf("p256 presentation: alg %d holder %v", p2.Alg, p2.CheckHolder())
	}
	// Another device key cannot present this license.
	other := testDevice(t, "other")
	if _, err := MakePresentation(l.Marshal(), other, nil, "", testNow); err == nil {
		t.Fatal("presentation with a foreign device key made")
	}
}

func TestPresentationWrongSalt(t *testing.T) {
	s, _ := testSigner(t)
	dev := testDevice(t, "sm2")
	l := issueSample(t, s, "business_license", func(r *Request) { r.HolderKey = dev.Public() })
	// Disclose holder_name with the salt of another field: the device
	// signs it (the holder is cheating), the issuer digest must not match.
	d, err := NewDraft(l.Marshal(), dev.Public(), PresentOptions{Disclose: []string{"holder_name"}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	d.lic.salts[1] = l.salts[2]
	d.encodeDisclosures()
	_, sig, _ := signWith(nil, dev, d.ToBeSigned())
	text, err := d.Finish(sig)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePresentation(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckDisclosures(); report.ReasonOf(err) != report.HashFailure {
		t.Fatalf("wrong salt: %v, want HASH_FAILURE", err)
	}
}

func TestHolderKeyPEM(t *testing.T) {
	for _, curve := range []string{"sm2", "p256"} {
		k, err := GenerateHolderKey(nil, curve)
		if err != nil {
			t.Fatal(err)
		}
		b, err := MarshalHolderKey(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParseHolderKey(b)
		if err != nil {
			t.Fatal(err)
		}
		t1, _ := Thumbprint(k.Public())
		t2, _ := Thumbprint(k2.Public())
		pb, _ := MarshalHolderPublicKey(k.Public())
		pub, err := ParseHolderPublicKey(pb)
		if err != nil {
			t.Fatal(err)
		}
		t3, _ := Thumbprint(pub)
		if !bytes.Equal(t1, t2) || !bytes.Equal(t1, t3) {
			t.Errorf("%s: thumbprints differ after PEM round trip", curve)
		}
	}
}

// The hand-written claims encoder must equal fxamacker/cbor's core
// deterministic encoding, with and without optional keys.
func TestClaimsMarshalMatchesCoreDet(t *testing.T) {
	s, _ := testSigner(t)
	dev := testDevice(t, "sm2")
	for _, mod := range []func(*Request){nil, func(r *Request) { r.HolderKey = dev.Public(); r.StatusIndex = 70000 }} {
		for _, typ := range Types() {
			l := issueSample(t, s, typ.Key, mod)
			for _, c := range []claims{l.c, func() claims { c := l.c; c.Digests = nil; c.StatusList = ""; c.StatusIndex = nil; return c }()} {
				want, err := encMode.Marshal(&c)
				if err != nil {
					t.Fatal(err)
				}
				if got := c.marshal(); !bytes.Equal(got, want) {
					t.Fatalf("%s: claims\n got %x\nwant %x", typ.Key, got, want)
				}
			}
		}
	}
}

// Compressed holder keys decompress to the original point; for P-256 the
// result is checked against crypto/elliptic's own decompression.
func TestCOSEKeyCompressed(t *testing.T) {
	for i := 0; i < 20; i++ {
		for _, curve := range []string{"sm2", "p256"} {
			k, _ := GenerateHolderKey(nil, curve)
			pub := k.Public().(*ecdsa.PublicKey)
			b, err := coseKeyCompressed(pub)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseCOSEKey(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.X.Cmp(pub.X) != 0 || got.Y.Cmp(pub.Y) != 0 {
				t.Fatalf("%s: decompressed point differs", curve)
			}
			if curve == "p256" {
				x, y := elliptic.UnmarshalCompressed(elliptic.P256(), elliptic.MarshalCompressed(elliptic.P256(), pub.X, pub.Y))
				if x.Cmp(got.X) != 0 || y.Cmp(got.Y) != 0 {
					t.Fatal("differs from crypto/elliptic")
				}
			}
		}
	}
}

// Salts and digests recomputed with independent code: tjfoc/gmsm's SM4
// and SM3, and fxamacker/cbor's encoder for [salt, tag, value].
func TestSaltsAndDigestsIndependent(t *testing.T) {
	s, _ := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	blk, err := tjsm4.NewCipher(l.master)
	if err != nil {
		t.Fatal(err)
	}
	for tag, v := range l.values {
		in := make([]byte, 16)
		copy(in, "zx-salt:")
		in[15] = byte(tag)
		salt := make([]byte, 16)
		blk.Encrypt(salt, in)
		enc, err := cbor.Marshal([]any{salt, tag, v})
		if err != nil {
			t.Fatal(err)
		}
		d := tjsm3.Sm3Sum(enc)
		if !bytes.Equal(d[:16], l.c.Digests[tag]) {
			t.Fatalf("tag %d: digest %x, independent %x", tag, l.c.Digests[tag], d[:16])
		}
	}
	if len(l.values) != 12-3 { // 12 fields, 3 of them core dates
		t.Fatalf("%d committed fields", len(l.values))
	}
}

// The WebCrypto flow: the page signs Draft.ToBeSigned with ECDSA P-256 /
// SHA-256 and hands back r||s (IEEE P1363), as crypto.subtle.sign does.
func TestDraftWebCryptoFlow(t *testing.T) {
	s, cert := testSigner(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
	l := issueSample(t, s, "real_estate_certificate", func(r *Request) { r.HolderKey = &k.PublicKey })
	d, err := NewDraft(l.Marshal(), &k.PublicKey, PresentOptions{Profile: "residence", Now: testNow, Audience: "school-7"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Algorithm() != AlgES256 {
		t.Fatalf("alg %d", d.Algorithm())
	}
	h := sha256.Sum256(d.ToBeSigned())
	r, ss, err := ecdsa.Sign(nil, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	if _, err := d.Finish(append([]byte{}, sig[:63]...)); err == nil {
		t.Fatal("short signature accepted")
	}
	text, err := d.Finish(sig)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePresentation(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.License.VerifySignature(cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	if p.CheckHolder() != nil || p.CheckDisclosures() != nil || p.Audience != "school-7" {
		t.Fatalf("holder %v disclosures %v", p.CheckHolder(), p.CheckDisclosures())
	}
	if got := strings.Join(p.Disclosed, ","); got != "holder_name,holder_id,number,location,use" {
		t.Errorf("disclosed %s", got)
	}
}

// Map is Issue's input form: re-issuing from it (a renewal, a new device
// key) keeps every field.
func TestReissueFromMap(t *testing.T) {
	s, _ := testSigner(t)
	for _, typ := range Types() {
		l := issueSample(t, s, typ.Key, nil)
		l2, err := s.Issue(Request{Type: typ.Key, Fields: l.Map(), Serial: l.Serial, Version: l.Version + 1})
		if err != nil {
			t.Fatalf("%s: %v", typ.Key, err)
		}
		a, b := l.Map(), l2.Map()
		if len(a) != len(b) {
			t.Fatalf("%s: %v vs %v", typ.Key, a, b)
		}
		for k := range a {
			if a[k] != b[k] {
				t.Errorf("%s: %s = %q after re-issue, was %q", typ.Key, k, b[k], a[k])
			}
		}
		if l2.ID() == l.ID() || !strings.Contains(l2.ID(), ".002.") {
			t.Errorf("version not bumped: %s", l2.ID())
		}
	}
}

// TestSubjectJSON checks the report subject's hand-written JSON against
// encoding/json: what it decodes to equals the documented shape built
// here from the license, and strings are escaped as encoding/json does.
func TestSubjectJSON(t *testing.T) {
	s, _ := testSigner(t)
	l := issueSample(t, s, "business_license", func(r *Request) {
		r.Fields["holder_name"] = "杭州\"<西湖>\"\u2028&\\味道"
	})
	js, err := json.Marshal(l.Subject())
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js) || strings.Contains(string(js), "<") || strings.Contains(string(js), "\u2028") {
		t.Fatalf("not HTML-safe JSON: %s", js)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	fields := map[string]any{}
	var order []string
	for _, fv := range l.Fields() {
		fields[fv.Field.Key] = map[string]any{"label": fv.Field.ZH, "label_en": fv.Field.EN, "value": fv.Text(), "display": fv.Field.Display(fv.Value)}
		order = append(order, fv.Field.Key)
	}
	want := map[string]any{
		"id": l.ID(), "type": "business_license", "type_name": "营业执照", "issuer_code": testIssuer,
		"holder_bound": false, "status_list": "L1", "status_index": float64(12345), "fields": fields,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subject JSON\n got %v\nwant %v", got, want)
	}
	if f := got["fields"].(map[string]any)["holder_name"].(map[string]any); f["value"] != "杭州\"<西湖>\"\u2028&\\味道" {
		t.Errorf("holder_name round trip: %q", f["value"])
	}
	// Fields come in type order (as printed on the license).
	pos := -1
	for _, k := range order {
		i := strings.Index(string(js), `"`+k+`":{`)
		if i < pos {
			t.Errorf("field %s out of type order in %s", k, js)
		}
		pos = i
	}
	// Off a status list: neither status key.
	l2 := issueSample(t, s, "business_license", func(r *Request) { r.StatusList, r.StatusIndex = "", 0 })
	js2, _ := json.Marshal(l2.Subject())
	if strings.Contains(string(js2), "status_") {
		t.Errorf("status keys without a list: %s", js2)
	}
}

// TestSubjectJSONEscapes: the hand-written string escaping gives exactly
// encoding/json's bytes (HTML-safe, control characters, U+2028/2029,
// invalid UTF-8).
func TestSubjectJSONEscapes(t *testing.T) {
	for _, s := range []string{
		"", "plain", "杭州西湖云帆信息技术有限公司", `quote " backslash \ slash /`, "<script>&amp;</script>",
		"tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f", "line\u2028sep\u2029para", "bad \xff\xfe utf8 \xe4\xb8", "emoji 😀 ok",
		"\xed\xa0\x80 surrogate", "mixed <\u2028\x00\xff>",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("杭州<&>\u2028\xff\"\\")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// TestQRLowerCase: a scan gun with Caps Lock on types the QR text in lower
// case; it reads as the same license. Mixed case too; other text does not.
func TestQRLowerCase(t *testing.T) {
	s, cert := testSigner(t)
	l := issueSample(t, s, "business_license", nil)
	text, _ := l.QRText()
	for _, in := range []string{strings.ToLower(text), "zX1:" + text[4:]} {
		q, err := ParseQR(in)
		if err != nil {
			t.Fatalf("%.12s...: %v", in, err)
		}
		if q.ID() != l.ID() || q.VerifySignature(cert.PublicKey) != nil {
			t.Errorf("%.12s...: read as %s", in, q.ID())
		}
	}
	if _, err := ParseQR("zx2:" + text[4:]); err == nil {
		t.Error("another prefix accepted")
	}
}

// TestSameContent: two issuances of one request say the same (other
// serial, salts, signature); a changed field or end date does not.
func TestSameContent(t *testing.T) {
	s, _ := testSigner(t)
	a := issueSample(t, s, "business_license", nil)
	b := issueSample(t, s, "business_license", nil)
	if a.Serial == b.Serial && bytes.Equal(a.signature, b.signature) {
		t.Fatal("the two issuances are one")
	}
	if !a.SameContent(b) || !b.SameContent(a) {
		t.Error("same request, not the same content")
	}
	c := issueSample(t, s, "business_license", func(r *Request) { r.Fields["legal_rep"] = "王晓亮" })
	d := issueSample(t, s, "business_license", func(r *Request) { r.Fields["valid_to"] = "2040-01-01" })
	e := issueSample(t, s, "food_business_permit", nil)
	for name, o := range map[string]*License{"field": c, "end date": d, "type": e} {
		if a.SameContent(o) || o.SameContent(a) {
			t.Errorf("%s changed, still the same content", name)
		}
	}
}
