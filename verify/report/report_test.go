package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestFinish(t *testing.T) {
	fail := Errorf(SigCryptoFailure, "bad signature")
	unknown := Errorf(StatusUnavailable, "no status list")
	cases := []struct {
		name    string
		checks  [][]error // per signature, per check
		verdict Verdict
		reason  Reason
	}{
		{"no checks is never PASSED", nil, Indeterminate, FormatFailure},
		{"all passed", [][]error{{nil, nil}}, Passed, ""},
		{"failure wins over an earlier indeterminate", [][]error{{nil, unknown}, {fail}}, Failed, SigCryptoFailure},
		{"first failure wins", [][]error{{Errorf(Expired, "x"), fail}}, Failed, Expired},
		{"indeterminate alone", [][]error{{nil, unknown}}, Indeterminate, StatusUnavailable},
		{"an error without a reason is a format failure", [][]error{{errors.New("garbled")}}, Failed, FormatFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{}
			for _, sig := range c.checks {
				s := Signature{}
				for i, err := range sig {
					s.Add(fmt.Sprint("check", i), err, "")
				}
				r.Signatures = append(r.Signatures, s)
			}
			r.Finish()
			if r.Verdict != c.verdict || r.Reason != c.reason {
				t.Fatalf("got %s %s, want %s %s", r.Verdict, r.Reason, c.verdict, c.reason)
			}
			if r.Message.ZH == "" || r.Message.EN == "" {
				t.Fatal("no message")
			}
		})
	}
}

// Every reason code of the contract has a Chinese and an English message,
// and the verdict class CONTRACT.md gives it.
func TestReasons(t *testing.T) {
	indeterminate := map[Reason]bool{NoCertificateChainFound: true, TrustListExpired: true, StatusUnavailable: true, TryLater: true}
	all := []Reason{FormatFailure, UnsupportedAlgorithm, HashFailure, SigCryptoFailure, NoCertificateChainFound,
		ChainConstraintsFailure, CertExpired, CertRevoked, NotYetValid, Expired, LicenseRevoked, LicenseSuspended,
		LicenseCancelled, SealInvalid, ModifiedAfterSigning, PresentationExpired, HolderBindingFailure, Replay,
		TrustListExpired, StatusUnavailable, TryLater}
	for _, r := range all {
		m, ok := Messages[r]
		if !ok || m.ZH == "" || m.EN == "" || strings.ContainsAny(m.EN, "\n") {
			t.Errorf("%s: message %+v", r, m)
		}
		want := Failed
		if indeterminate[r] {
			want = Indeterminate
		}
		if got := VerdictFor(r); got != want {
			t.Errorf("%s: verdict %s, want %s", r, got, want)
		}
	}
	if len(Messages) != len(all)+1 { // +1: the PASSED message
		t.Errorf("%d messages for %d reasons: a new code needs a message and a place in this test", len(Messages), len(all))
	}
}

func TestJSONShape(t *testing.T) {
	r := &Report{Kind: KindLicenseQR}
	s := Signature{}
	s.Add("signature", nil, "")
	r.Signatures = append(r.Signatures, s)
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"verdict", "reason", "message", "kind", "signatures", "checked_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, b)
		}
	}
	if ReasonOf(fmt.Errorf("wrapped: %w", Errorf(Replay, "x"))) != Replay {
		t.Error("ReasonOf does not see through wrapping")
	}
}

func TestPassedMessageByKind(t *testing.T) {
	for kind, wantZH := range map[string]string{KindLicenseQR: "证照", KindPDF: "文件签章", KindSeal: "电子印章"} {
		r := &Report{Kind: kind}
		s := Signature{}
		s.Add("signature", nil, "")
		r.Signatures = []Signature{s}
		r.Finish()
		if !strings.Contains(r.Message.ZH, wantZH) {
			t.Errorf("%s: PASSED message %q does not speak of %s", kind, r.Message.ZH, wantZH)
		}
	}
}

// TestFinishAdvisory: an advisory check that fails is reported, marked in
// the JSON, and does not decide the verdict; the others still do.
func TestFinishAdvisory(t *testing.T) {
	var s Signature
	s.Add("signature", nil, "")
	s.AddAdvisory("timestamp", Errorf(SigCryptoFailure, "bad token"), "")
	r := &Report{Kind: KindPDF, Signatures: []Signature{s}}
	r.Finish()
	if r.Verdict != Passed || s.Checks[1].Result != Failed || !s.Checks[1].Advisory {
		t.Fatalf("verdict %s, advisory check %+v", r.Verdict, s.Checks[1])
	}
	js, _ := json.Marshal(r)
	if !strings.Contains(string(js), `"advisory":true`) || strings.Count(string(js), "advisory") != 1 {
		t.Errorf("JSON: %s", js)
	}
	s.Add("certificate-chain", Errorf(CertRevoked, "revoked"), "")
	r = &Report{Kind: KindPDF, Signatures: []Signature{s}}
	r.Finish()
	if r.Verdict != Failed || r.Reason != CertRevoked {
		t.Errorf("a failing ordinary check beside it: %s %s", r.Verdict, r.Reason)
	}
}
