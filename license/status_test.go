package license

import (
	"bytes"
	"context"
	"encoding/asn1"
	"github.com/emmansun/gmsm/smx509"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zhengxin/zhengxin/verify/report"
)

func TestStatusListBits(t *testing.T) {
	l, err := NewStatusList(testIssuer, "L1", 10)
	if err != nil {
		t.Fatal(err)
	}
	l.Set(0, StatusRevoked)
	l.Set(5, StatusSuspended)
	l.Set(7, StatusCancelled)
	l.Set(9, StatusSuspended)
	// Layout of the IETF Token Status List, 2 bits, LSB first:
	// byte 0 = entries 0-3, byte 1 = 4-7, byte 2 = 8-9.
	want := []byte{0x02, 0x04 | 0xc0, 0x04}
	for i := range want {
		if l.bits[i] != want[i] {
			t.Fatalf("byte %d = %08b, want %08b", i, l.bits[i], want[i])
		}
	}
	if _, err := l.Get(10); report.ReasonOf(err) != report.StatusUnavailable {
		t.Fatalf("out of range: %v", err)
	}
	if err := l.Set(10, StatusRevoked); err == nil {
		t.Fatal("set out of range")
	}
}

func TestStatusListSignedLookup(t *testing.T) {
	s, cert := testSigner(t)
	l, _ := BuildStatusList(testIssuer, "L1", 100, []StatusEntry{{3, StatusSuspended}, {4, StatusRevoked}, {99, StatusCancelled}})
	iat := testNow.Add(-time.Hour)
	data, err := s.SignStatusList(l, iat, iat.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseStatusList(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.VerifySignature(cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	sl := NewStatusLists(pinned{cert}, nil)
	if _, err := sl.Add(data); err != nil {
		t.Fatal(err)
	}
	id := Identifier{TypeCode: Types()[0].TypeCode, Issuer: testIssuer, Serial: "X1", Version: 1}.String()
	for idx, want := range map[uint64]string{0: "valid", 3: "suspended", 4: "revoked", 99: "cancelled"} {
		st, asOf, err := sl.LicenseStatus(context.Background(), id, "L1", idx)
		if err != nil || st != want || !asOf.Equal(iat.Truncate(time.Second)) {
			t.Errorf("index %d: %s %v %v, want %s", idx, st, asOf, err, want)
		}
	}
	if _, _, err := sl.LicenseStatus(context.Background(), id, "L2", 0); report.ReasonOf(err) != report.StatusUnavailable {
		t.Errorf("unknown list: %v", err)
	}
	// A flipped bit in the signed list is refused.
	bad := append([]byte(nil), data...)
	bad[len(bad)-70] ^= 1
	if _, err := NewStatusLists(pinned{cert}, nil).Add(bad); err == nil {
		t.Error("tampered status list accepted")
	}
}

// pinned is a one-certificate Trust for package tests.
type pinned struct{ c *smx509.Certificate }

func (p pinned) CertificateByKID(kid []byte) (*smx509.Certificate, error) {
	if !bytes.Equal(kid, KIDOf(p.c.Raw)) {
		return nil, report.Errorf(report.NoCertificateChainFound, "unknown kid")
	}
	return p.c, nil
}

func (p pinned) VerifyChain(c *smx509.Certificate, _ []*smx509.Certificate, _ time.Time, _ asn1.ObjectIdentifier) ([]*smx509.Certificate, error) {
	return []*smx509.Certificate{c}, nil
}

// A province-scale list: 10 million licenses, 1% not valid (mostly
// suspended, some revoked and cancelled), must stay under 3 MB signed.
func TestStatusListTenMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("large list")
	}
	s, _ := testSigner(t)
	const n = 10_000_000
	l, _ := NewStatusList(testIssuer, "2026", n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n/100; i++ {
		st := StatusSuspended
		switch r.IntN(10) {
		case 0, 1, 2:
			st = StatusRevoked
		case 3:
			st = StatusCancelled
		}
		l.Set(r.Uint64N(n), st)
	}
	data, err := s.SignStatusList(l, testNow, testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10M entries, 1%% not valid: %d bytes signed", len(data))
	if len(data) >= 3_000_000 {
		t.Fatalf("status list is %d bytes, must be under 3 MB", len(data))
	}
	p, err := ParseStatusList(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < n; i += 9973 {
		a, _ := l.Get(i)
		b, _ := p.Get(i)
		if a != b {
			t.Fatalf("index %d: %v after parse, want %v", i, b, a)
		}
	}
}

func FuzzStatusList(f *testing.F) {
	s, _ := testSigner(f)
	l, _ := BuildStatusList(testIssuer, "L1", 100, []StatusEntry{{3, StatusSuspended}})
	data, _ := s.SignStatusList(l, testNow, testNow.Add(time.Hour))
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		if p, err := ParseStatusList(b); err == nil {
			p.Get(p.Size - 1)
		}
	})
}
