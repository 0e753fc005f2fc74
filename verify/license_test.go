package verify

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/fxamacker/cbor/v2"

	"github.com/zhengxin/zhengxin/certs"
	"github.com/zhengxin/zhengxin/license"
	"github.com/zhengxin/zhengxin/verify/report"
)

var updateVectors = flag.Bool("update", false, "regenerate verify/testdata/license (fixed keys and clock)")

const vectorDir = "testdata/license"

// Fixed clock of the vectors: verification happens at vecNow; licenses
// are signed an hour earlier; the status list is from two hours earlier.
var (
	vecNow    = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	vecSigned = vecNow.Add(-time.Hour)
	vecStatus = vecNow.Add(-2 * time.Hour)
)

const (
	vecIssuer   = "11330106MA0001018C"
	vecAudience = "counter-1"
)

// seedKey derives a fixed SM2 key from a label, so regenerated vectors use
// the same keys.
func seedKey(t testing.TB, label string) *sm2.PrivateKey {
	h := sm3.Sum([]byte("zhengxin test vector key: " + label))
	k, err := sm2.NewPrivateKey(h[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seedP256(t testing.TB, label string) *ecdsa.PrivateKey {
	h := sm3.Sum([]byte("zhengxin test vector p256: " + label))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type vecPKI struct {
	root, agency, unknownRoot, unknownAgency certs.CA
	signers                                  map[string]*smx509.Certificate
	keys                                     map[string]*sm2.PrivateKey
	crl                                      *smx509.RevocationList
}

func buildPKI(t testing.TB) *vecPKI {
	p := &vecPKI{signers: map[string]*smx509.Certificate{}, keys: map[string]*sm2.PrivateKey{}}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mkRoot := func(label, cn string) certs.CA {
		k := seedKey(t, label)
		c, err := certs.NewRootCA(k, certs.Name{CommonName: cn, Organization: "证信测试"}, t0, 20*365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return certs.CA{Cert: c, Key: k}
	}
	mkAgency := func(root certs.CA, label, cn string) certs.CA {
		k := seedKey(t, label)
		c, err := root.NewAgencyCA(&k.PublicKey, certs.Name{CommonName: cn, Organization: cn, CreditCode: vecIssuer}, t0, 15*365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return certs.CA{Cert: c, Key: k}
	}
	p.root = mkRoot("root", "证信测试根CA")
	p.agency = mkAgency(p.root, "agency", "杭州市西湖区市场监督管理局CA")
	p.unknownRoot = mkRoot("unknown-root", "Unknown Root")
	p.unknownAgency = mkAgency(p.unknownRoot, "unknown-agency", "Unknown Agency CA")
	signer := func(ca certs.CA, label string, from time.Time, validity time.Duration) {
		k := seedKey(t, label)
		c, err := ca.Issue(certs.LicenseSigner, &k.PublicKey, certs.Name{CommonName: "证照签名 " + label, CreditCode: vecIssuer}, from, validity)
		if err != nil {
			t.Fatal(err)
		}
		p.signers[label], p.keys[label] = c, k
	}
	signer(p.agency, "signer", t0, 12*365*24*time.Hour)
	signer(p.agency, "signer2", t0, 12*365*24*time.Hour)
	signer(p.agency, "expired", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), 365*24*time.Hour)
	signer(p.agency, "revoked", t0, 12*365*24*time.Hour)
	signer(p.unknownAgency, "unknown", t0, 12*365*24*time.Hour)
	crl, err := p.agency.NewCRL([]certs.Revocation{{Serial: p.signers["revoked"].SerialNumber, At: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Reason: certs.ReasonKeyCompromise}}, 1, vecNow.Add(-24*time.Hour), vecNow.Add(6*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p.crl = crl
	return p
}

func pemCerts(cs ...*smx509.Certificate) []byte {
	var b []byte
	for _, c := range cs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

type vector struct {
	name, expect, note string
	headers            map[string]string
	payload            string
}

func writeVector(t testing.TB, v vector) {
	var b strings.Builder
	b.WriteString("expect: " + v.expect + "\n")
	b.WriteString("note: " + v.note + "\n")
	keys := make([]string, 0, len(v.headers))
	for k := range v.headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + v.headers[k] + "\n")
	}
	b.WriteString("\n" + v.payload + "\n")
	if err := os.WriteFile(filepath.Join(vectorDir, v.name+".txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readVector(t testing.TB, path string) vector {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, payload, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		t.Fatalf("%s: no blank line between header and payload", path)
	}
	v := vector{name: filepath.Base(path), headers: map[string]string{}, payload: strings.TrimRight(payload, "\n")}
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		k, val, _ := strings.Cut(sc.Text(), ": ")
		v.headers[k] = val
	}
	v.expect = v.headers["expect"]
	return v
}

// --- CBOR surgery for bad vectors, written independently of package
// license's encoder (fxamacker/cbor generic values + RFC 9052 by hand). ---

func unwrap(t testing.TB, text, prefix string) []cbor.RawMessage {
	z, err := license.Base45Decode(strings.TrimPrefix(text, prefix))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReaderDict(bytes.NewReader(z), zlibDictForTests(t))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(zr)
	var arr []cbor.RawMessage
	if err := cbor.Unmarshal(body.Bytes(), &arr); err != nil {
		t.Fatal(err)
	}
	return arr
}

// zlibDictForTests is the preset dictionary, needed to read payloads;
// the tests re-wrap without one (FDICT is optional in the format).
func zlibDictForTests(t testing.TB) []byte { return []byte(license.ZlibDictionary()) }

func wrap(t testing.TB, prefix string, arr []cbor.RawMessage) string {
	body, err := cbor.Marshal(arr)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	return prefix + license.Base45Encode(z.Bytes())
}

type cose1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

func parseCOSE(t testing.TB, raw cbor.RawMessage) cose1 {
	var tag cbor.RawTag
	if err := cbor.Unmarshal(raw, &tag); err != nil || tag.Number != 18 {
		t.Fatalf("not a COSE_Sign1: %v", err)
	}
	var c cose1
	if err := cbor.Unmarshal(tag.Content, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c cose1) raw(t testing.TB) cbor.RawMessage {
	content, err := cbor.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cbor.Marshal(cbor.RawTag{Number: 18, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toBeSigned(t testing.TB, protected, aad, payload []byte) []byte {
	if aad == nil {
		aad = []byte{}
	}
	b, err := cbor.Marshal([]any{"Signature1", protected, aad, payload})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRS signs with SM2 (Z_A, default ID) or P-256 (SHA-256) and returns r||s.
func signRS(t testing.TB, k crypto.Signer, msg []byte) []byte {
	var der []byte
	var err error
	if sk, ok := k.(*sm2.PrivateKey); ok {
		der, err = sk.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	} else {
		h := crypto.SHA256.New()
		h.Write(msg)
		der, err = k.Sign(rand.Reader, h.Sum(nil), crypto.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out
}

func coseKeyOf(t testing.TB, pub *ecdsa.PublicKey, crv int64) cbor.RawMessage {
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	b, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Marshal(map[int64]any{1: 2, -1: crv, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateLicenseVectors(t *testing.T) {
	if !*updateVectors {
		t.Skip("run with -update to regenerate the vectors")
	}
	os.RemoveAll(vectorDir)
	os.MkdirAll(vectorDir, 0o755)
	p := buildPKI(t)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(vectorDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("anchors.pem", pemCerts(p.root.Cert))
	write("intermediates.pem", pemCerts(p.agency.Cert, p.unknownAgency.Cert))
	write("signers.pem", pemCerts(p.signers["signer"], p.signers["signer2"], p.signers["expired"], p.signers["revoked"], p.signers["unknown"]))
	write("agency.crl.pem", certs.EncodeCRLPEM(p.crl))

	signerFor := func(label string, at time.Time) *license.Signer {
		s, err := license.NewSigner(p.keys[label], p.signers[label], vecIssuer)
		if err != nil {
			t.Fatal(err)
		}
		s.Now = func() time.Time { return at }
		return s
	}
	main := signerFor("signer", vecSigned)

	sl, _ := license.BuildStatusList(vecIssuer, "L1", 1000, []license.StatusEntry{{Index: 1, Status: license.StatusSuspended}, {Index: 2, Status: license.StatusRevoked}, {Index: 3, Status: license.StatusCancelled}})
	slBytes, err := main.SignStatusList(sl, vecStatus, vecStatus.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write("status-L1.cose", slBytes)

	devSM2 := seedKey(t, "device-sm2")
	devP256 := seedP256(t, "device-p256")
	attacker := seedKey(t, "device-attacker")
	samples := map[string]license.Request{}
	for _, r := range license.SampleRequests() {
		samples[r.Type] = r
	}
	next := uint64(10)
	issue := func(s *license.Signer, typ string, mod func(*license.Request)) *license.License {
		r := samples[typ]
		f := map[string]string{}
		for k, v := range r.Fields {
			f[k] = v
		}
		r.Fields, r.StatusList, r.StatusIndex = f, "L1", next
		next++
		if mod != nil {
			mod(&r)
		}
		l, err := s.Issue(r)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	qr := func(l *license.License) string {
		s, err := l.QRText()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	present := func(l *license.License, dev crypto.Signer, o license.PresentOptions) string {
		if o.Now.IsZero() {
			o.Now = vecNow.Add(-5 * time.Second)
		}
		s, err := license.MakePresentationWith(l.Marshal(), dev, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	vec := func(name, expect, note, payload string, headers map[string]string) {
		writeVector(t, vector{name: name, expect: expect, note: note, payload: payload, headers: headers})
	}
	lq := map[string]string{"kind": report.KindLicenseQR}
	pq := map[string]string{"kind": report.KindPresentationQR}

	for _, typ := range license.Types() {
		vec("good_"+typ.Key, "PASSED", "static QR of a valid "+typ.ZH, qr(issue(main, typ.Key, nil)), lq)
	}
	bound := issue(main, "food_business_permit", func(r *license.Request) { r.HolderKey = devSM2.Public() })
	vec("good_presentation_sm2", "PASSED", "food counter profile, SM2 device key, audience counter-1",
		present(bound, devSM2, license.PresentOptions{Profile: "food_counter", Audience: vecAudience}), pq)
	boundP := issue(main, "driving_license", func(r *license.Request) { r.HolderKey = devP256.Public() })
	vec("good_presentation_p256", "PASSED", "ECDSA P-256 (WebCrypto) device key, no audience",
		present(boundP, devP256, license.PresentOptions{Profile: "traffic"}), pq)

	biz := issue(main, "business_license", nil)
	good := qr(biz)
	arr := unwrap(t, good, license.PrefixLicense)

	// Bit flip in a signed field value ("398" -> "399" in the address).
	{
		a := append([]cbor.RawMessage(nil), arr...)
		v := bytes.Clone(a[3])
		i := bytes.Index(v, []byte("398"))
		v[i+2] ^= 0x01
		a[3] = v
		vec("bad_payload_bitflip", "FAILED SIG_CRYPTO_FAILURE", "one bit of the address changed inside the signed data", wrap(t, license.PrefixLicense, a), lq)
	}
	{
		a := append([]cbor.RawMessage(nil), arr...)
		c := parseCOSE(t, a[0])
		c.Signature[10] ^= 0x80
		a[0] = c.raw(t)
		vec("bad_signature_bitflip", "FAILED SIG_CRYPTO_FAILURE", "one bit of the signature flipped", wrap(t, license.PrefixLicense, a), lq)
	}
	{
		a := append([]cbor.RawMessage(nil), arr...)
		c := parseCOSE(t, a[0])
		c.Protected[len(c.Protected)-1] ^= 0x01
		a[0] = c.raw(t)
		vec("bad_header_bitflip", "INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND", "one bit of the kid in the protected header flipped: no such signer", wrap(t, license.PrefixLicense, a), lq)
	}
	{
		a := append([]cbor.RawMessage(nil), arr...)
		c := parseCOSE(t, a[0])
		h, _ := cbor.Marshal(map[int64]any{1: int64(-65537), 4: certs.KID(p.signers["signer2"])})
		c.Protected = h
		a[0] = c.raw(t)
		vec("bad_wrong_kid", "FAILED SIG_CRYPTO_FAILURE", "kid names another trusted signer of the same agency", wrap(t, license.PrefixLicense, a), lq)
	}
	{
		a := append([]cbor.RawMessage(nil), arr...)
		c := parseCOSE(t, a[0])
		h, _ := cbor.Marshal(map[int64]any{1: int64(-7), 4: certs.KID(p.signers["signer"])})
		c.Protected = h
		a[0] = c.raw(t)
		vec("bad_alg_substitution", "FAILED UNSUPPORTED_ALGORITHM", "alg changed to ES256 (-7)", wrap(t, license.PrefixLicense, a), lq)
	}
	vec("bad_unknown_issuer", "INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND", "signer certificate is known by kid but chains to an untrusted root",
		qr(issue(signerFor("unknown", vecSigned), "business_license", nil)), lq)
	vec("bad_signer_cert_expired", "FAILED CERT_EXPIRED", "signed 2025-06-01 by a certificate valid 2024-01-01..2024-12-31",
		qr(issue(signerFor("expired", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)), "business_license", nil)), lq)
	vec("bad_signer_cert_revoked", "FAILED CERT_REVOKED", "signer certificate revoked (key compromise) by the agency CRL",
		qr(issue(signerFor("revoked", vecSigned), "business_license", nil)), lq)
	vec("bad_license_expired", "FAILED EXPIRED", "food permit valid to 2025-01-09",
		qr(issue(main, "food_business_permit", func(r *license.Request) { r.Fields["issue_date"], r.Fields["valid_to"] = "2020-01-10", "2025-01-09" })), lq)
	vec("bad_license_not_yet_valid", "FAILED NOT_YET_VALID", "driving license valid from 2027-01-01",
		qr(issue(main, "driving_license", func(r *license.Request) { r.Fields["valid_from"] = "2027-01-01" })), lq)
	for idx, st := range map[uint64]string{1: "suspended", 2: "revoked", 3: "cancelled"} {
		l := issue(main, "business_license", func(r *license.Request) { r.StatusIndex = idx })
		vec("bad_license_"+st, "FAILED LICENSE_"+strings.ToUpper(st), "status list L1 marks index as "+st, qr(l), lq)
	}
	vec("bad_status_list_unknown", "INDETERMINATE STATUS_UNAVAILABLE", "license names status list L9, which the verifier does not hold",
		qr(issue(main, "business_license", func(r *license.Request) { r.StatusList = "L9" })), lq)
	vec("bad_status_stale", "INDETERMINATE STATUS_UNAVAILABLE", "status list is 2 h old, verifier accepts 1 h", good,
		map[string]string{"kind": report.KindLicenseQR, "max_status_age": "1h"})
	vec("bad_truncated", "FAILED FORMAT_FAILURE", "payload cut in half", good[:len(good)/2], lq)
	vec("bad_oversized", "FAILED FORMAT_FAILURE", "5000 characters, more than any QR code holds", license.PrefixLicense+strings.Repeat("0", 5000), lq)
	{
		z, _ := license.Base45Decode(good[len(license.PrefixLicense):])
		vec("bad_trailing_bytes", "FAILED FORMAT_FAILURE", "two bytes appended after the zlib stream", license.PrefixLicense+license.Base45Encode(append(z, 0, 0)), lq)
	}
	vec("bad_non_base45", "FAILED FORMAT_FAILURE", "lower-case letters are not in the QR alphanumeric set", license.PrefixLicense+strings.ToLower(good[4:]), lq)
	{
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write(make([]byte, 1<<20))
		zw.Close()
		vec("bad_zip_bomb", "FAILED FORMAT_FAILURE", "1 MiB of zeros behind 1 KiB of zlib", license.PrefixLicense+license.Base45Encode(z.Bytes()), lq)
	}

	// Presentations.
	vec("bad_presentation_expired", "FAILED PRESENTATION_EXPIRED", "made 5 minutes before verification, valid 60 s",
		present(bound, devSM2, license.PresentOptions{Profile: "food_counter", Now: vecNow.Add(-5 * time.Minute)}), pq)
	vec("bad_presentation_replayed", "FAILED REPLAY", "the same presentation verified twice: the second time is a replay",
		present(bound, devSM2, license.PresentOptions{Profile: "food_counter"}), map[string]string{"kind": report.KindPresentationQR, "replay": "true"})
	vec("bad_presentation_audience", "FAILED REPLAY", "made for counter-2, shown at counter-1",
		present(bound, devSM2, license.PresentOptions{Profile: "food_counter", Audience: "counter-2"}), pq)
	vec("bad_presentation_from_future", "FAILED PRESENTATION_EXPIRED", "made 5 minutes after the verifier's clock (device clock wrong or forged)",
		present(bound, devSM2, license.PresentOptions{Profile: "food_counter", Now: vecNow.Add(5 * time.Minute)}), pq)
	goodP := present(bound, devSM2, license.PresentOptions{Profile: "food_counter", Audience: vecAudience})
	parr := unwrap(t, goodP, license.PrefixPresentation)
	resignDevice := func(a []cbor.RawMessage, key crypto.Signer) {
		d := parseCOSE(t, a[3])
		aad := sm3.Sum(append(bytes.Clone(a[0]), a[1]...))
		d.Signature = signRS(t, key, toBeSigned(t, d.Protected, aad[:], d.Payload))
		a[3] = d.raw(t)
	}
	{
		// Someone copies the license and presents it with their own key.
		a := append([]cbor.RawMessage(nil), parr...)
		a[2] = coseKeyOf(t, &attacker.PublicKey, license.CrvSM2)
		resignDevice(a, attacker)
		vec("bad_holder_key_mismatch", "FAILED HOLDER_BINDING_FAILURE", "device key is not the one bound in the license (copied license, own key)", wrap(t, license.PrefixPresentation, a), pq)
	}
	{
		// The holder discloses a field with a wrong salt (and signs it).
		a := append([]cbor.RawMessage(nil), parr...)
		var disc map[uint64][]cbor.RawMessage
		if err := cbor.Unmarshal(a[1], &disc); err != nil {
			t.Fatal(err)
		}
		var salt []byte
		cbor.Unmarshal(disc[1][0], &salt)
		salt[0] ^= 0x01
		disc[1][0], _ = cbor.Marshal(salt)
		a[1], _ = cbor.Marshal(disc)
		resignDevice(a, devSM2)
		vec("bad_wrong_salt", "FAILED HASH_FAILURE", "holder_name disclosed with a salt one bit off, signed by the holder's device", wrap(t, license.PrefixPresentation, a), pq)
	}
	{
		// A license with no holder key, dressed up as a presentation by
		// whoever has a copy: the device signature is valid, the binding
		// is not.
		unbound := issue(main, "food_business_permit", nil)
		a := append([]cbor.RawMessage(nil), parr...)
		a[0] = cbor.RawMessage(unbound.COSE())
		a[1] = cbor.RawMessage{0xa0} // nothing disclosed, so no digest to fail
		resignDevice(a, devSM2)
		vec("bad_license_not_holder_bound", "FAILED HOLDER_BINDING_FAILURE", "presentation of a license issued without a holder key", wrap(t, license.PrefixPresentation, a), pq)
	}
	{
		// Someone strips a disclosed field from a captured presentation.
		a := append([]cbor.RawMessage(nil), parr...)
		var disc map[uint64]cbor.RawMessage
		if err := cbor.Unmarshal(a[1], &disc); err != nil {
			t.Fatal(err)
		}
		delete(disc, 1)
		a[1], _ = cbor.Marshal(disc)
		vec("bad_disclosure_removed", "FAILED HOLDER_BINDING_FAILURE", "holder_name removed from the disclosures after the device signed them", wrap(t, license.PrefixPresentation, a), pq)
	}
	{
		a := append([]cbor.RawMessage(nil), parr...)
		d := parseCOSE(t, a[3])
		d.Signature[40] ^= 0x04
		a[3] = d.raw(t)
		vec("bad_device_signature_bitflip", "FAILED HOLDER_BINDING_FAILURE", "one bit of the device signature flipped (a screenshot cannot be re-signed)", wrap(t, license.PrefixPresentation, a), pq)
	}
}

type memNonces struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memNonces) Seen(_ context.Context, nonce []byte, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	_, ok := m.seen[string(nonce)]
	m.seen[string(nonce)] = expires
	return ok, nil
}

func loadVectorTrust(t testing.TB) (*certs.Pool, *license.StatusLists) {
	pool := certs.NewPool()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(vectorDir, name))
		if err != nil {
			t.Fatalf("%v (run go test ./verify -run GenerateLicenseVectors -update)", err)
		}
		return b
	}
	parse := func(name string) []*smx509.Certificate {
		var out []*smx509.Certificate
		rest := read(name)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				return out
			}
			c, err := smx509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	for _, c := range parse("anchors.pem") {
		pool.AddAnchor(c)
	}
	for _, c := range parse("intermediates.pem") {
		pool.AddIntermediate(c)
	}
	for _, c := range parse("signers.pem") {
		pool.AddCertificate(c)
	}
	crl, err := certs.ParseCRL(read("agency.crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.AddCRL(crl); err != nil {
		t.Fatal(err)
	}
	sl := license.NewStatusLists(pool, LicenseSigningEKU)
	if _, err := sl.Add(read("status-L1.cose")); err != nil {
		t.Fatal(err)
	}
	return pool, sl
}

func vectorOptions(pool *certs.Pool, sl *license.StatusLists, v vector) Options {
	o := Options{Trust: pool, Status: sl, Nonces: &memNonces{}, Now: func() time.Time { return vecNow }, Audience: vecAudience}
	if s := v.headers["max_status_age"]; s != "" {
		o.MaxStatusAge, _ = time.ParseDuration(s)
	}
	return o
}

func TestLicenseVectors(t *testing.T) {
	pool, sl := loadVectorTrust(t)
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	if len(files) < 30 {
		t.Fatalf("only %d vectors in %s", len(files), vectorDir)
	}
	for _, f := range files {
		v := readVector(t, f)
		t.Run(v.name, func(t *testing.T) {
			o := vectorOptions(pool, sl, v)
			run := VerifyLicenseQR
			if v.headers["kind"] == report.KindPresentationQR {
				run = VerifyPresentationQR
			}
			r := run(context.Background(), v.payload, o)
			if v.headers["replay"] == "true" {
				if r.Verdict != report.Passed {
					t.Fatalf("first showing: %s %s", r.Verdict, r.Reason)
				}
				r = run(context.Background(), v.payload, o)
			}
			got := strings.TrimSpace(string(r.Verdict) + " " + string(r.Reason))
			if got != v.expect {
				t.Errorf("got %s, want %s (%s)\nchecks: %+v", got, v.expect, v.headers["note"], r.Signatures)
			}
			if r.Kind != v.headers["kind"] {
				t.Errorf("kind %s", r.Kind)
			}
			if strings.HasPrefix(v.name, "good_") && !hasLicenseSubject(r) {
				t.Errorf("no subject: %v", r.Subject)
			}
		})
	}
}

func hasLicenseSubject(r *report.Report) bool {
	s, ok := r.Subject.(*license.Subject)
	return ok && s.ID != "" && len(s.Fields) > 0
}

func TestPresentationSubjectDisclosesOnlyProfile(t *testing.T) {
	pool, sl := loadVectorTrust(t)
	v := readVector(t, filepath.Join(vectorDir, "good_presentation_sm2.txt"))
	r := VerifyPresentationQR(context.Background(), v.payload, vectorOptions(pool, sl, v))
	if len(r.Signatures) != 2 || !strings.HasPrefix(r.Signatures[1].Signer, "持证人设备") || r.Signatures[1].Algorithm != "SM2-with-SM3" || len(r.Signatures[1].Checks) != 4 {
		t.Errorf("device signature entry: %+v", r.Signatures)
	}
	// What a counter sees: the report as JSON.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Subject struct {
			ID     string         `json:"id"`
			Fields map[string]any `json:"fields"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	fields := back.Subject.Fields
	if back.Subject.ID == "" || len(fields) == 0 {
		t.Fatalf("subject: %s", js)
	}
	if _, ok := fields["legal_rep_id"]; ok {
		t.Error("legal representative's ID disclosed at a food counter")
	}
	if f, ok := fields["holder_name"].(map[string]any); !ok || f["label"] != "经营者名称" || f["value"] != "杭州西湖味道餐饮管理有限公司" {
		t.Errorf("holder_name: %v", fields["holder_name"])
	}
}

func TestMissingTrustOrStatusIsIndeterminate(t *testing.T) {
	pool, sl := loadVectorTrust(t)
	v := readVector(t, filepath.Join(vectorDir, "good_business_license.txt"))
	for name, o := range map[string]Options{
		"no trust":  {Status: sl, Now: func() time.Time { return vecNow }},
		"no status": {Trust: pool, Now: func() time.Time { return vecNow }},
	} {
		r := VerifyLicenseQR(context.Background(), v.payload, o)
		if r.Verdict != report.Indeterminate {
			t.Errorf("%s: %s %s, want INDETERMINATE", name, r.Verdict, r.Reason)
		}
	}
}

func TestLicenseSignedInFuture(t *testing.T) {
	pool, sl := loadVectorTrust(t)
	v := readVector(t, filepath.Join(vectorDir, "good_business_license.txt"))
	o := vectorOptions(pool, sl, v)
	o.Now = func() time.Time { return vecSigned.Add(-2 * time.Hour) }
	o.MaxStatusAge = 100 * time.Hour
	r := VerifyLicenseQR(context.Background(), v.payload, o)
	if r.Verdict != report.Failed || r.Reason != report.NotYetValid {
		t.Fatalf("%s %s", r.Verdict, r.Reason)
	}
}
