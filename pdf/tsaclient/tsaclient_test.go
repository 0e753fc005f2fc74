package tsaclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/emmansun/gmsm/sm3"
	"github.com/go-pdf/fpdf"

	"github.com/zhengxin/zhengxin/pdf"
	"github.com/zhengxin/zhengxin/pdf/tsatest"
)

var genTime = time.Date(2026, 11, 23, 10, 1, 0, 0, time.UTC)

func newTSA(t testing.TB, sm2Key bool) *tsatest.TSA {
	t.Helper()
	tsa, _, err := tsatest.New(genTime, sm2Key)
	if err != nil {
		t.Fatal(err)
	}
	return tsa
}

// TestStamp asks the test TSA (SM2 and ECDSA) over HTTP and checks the
// token with pdf's verifier against the data, independently of the
// client's own check; digitorus/timestamp reads the request the client
// sent: SHA-256 imprint of the data, a nonce, certReq.
func TestStamp(t *testing.T) {
	data := []byte("the signature value")
	for _, sm2Key := range []bool{true, false} {
		tsa := newTSA(t, sm2Key)
		var req *timestamp.Request
		var ct string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ct = r.Header.Get("Content-Type")
			req, _ = timestamp.ParseRequest(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			tsa.ServeHTTP(w, r)
		}))
		c := &Client{URL: srv.URL}
		ts, err := c.Stamp(context.Background(), data)
		srv.Close()
		if err != nil {
			t.Fatalf("sm2 %v: %v", sm2Key, err)
		}
		if v := pdf.VerifyTimestampToken(ts.Raw, data); v.Err != nil || !v.GenTime.Equal(genTime) || !v.TSA.Equal(tsa.Cert) {
			t.Errorf("sm2 %v: the token does not verify for the data: %+v", sm2Key, v)
		}
		sum := sha256.Sum256(data)
		if ct != "application/timestamp-query" || req == nil || req.HashAlgorithm != crypto.SHA256 || !bytes.Equal(req.HashedMessage, sum[:]) ||
			req.Nonce == nil || req.Nonce.Sign() == 0 || !req.Certificates {
			t.Errorf("request as digitorus/timestamp reads it: content type %q, %+v", ct, req)
		}
		if ts.Nonce == nil || ts.Nonce.Cmp(req.Nonce) != 0 {
			t.Errorf("nonce %v, sent %v", ts.Nonce, req.Nonce)
		}
	}
}

// TestStampSM3 asks for an SM3 imprint.
func TestStampSM3(t *testing.T) {
	srv := httptest.NewServer(newTSA(t, true))
	defer srv.Close()
	data := []byte("data")
	ts, err := (&Client{URL: srv.URL, Hash: "SM3"}).Stamp(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if v := pdf.VerifyTimestampToken(ts.Raw, data); v.Err != nil || v.HashAlgorithm != "SM3" {
		t.Errorf("SM3 token: %+v", v)
	}
	sum := sm3.Sum(data)
	oid, _, _ := pdf.HashOID("SM3")
	if v := pdf.VerifyTimestampDigest(ts.Raw, oid, sum[:], ts.Nonce); v.Err != nil {
		t.Errorf("SM3 imprint: %v", v.Err)
	}
}

// TestStampBad: every way a TSA can fail gets a clear error and no token.
func TestStampBad(t *testing.T) {
	tsa := newTSA(t, true)
	reply := func(mod func(*tsatest.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			req, err := tsatest.ParseRequest(body)
			if err != nil {
				t.Error(err)
				return
			}
			mod(req)
			resp, err := tsa.Reply(req)
			if err != nil {
				t.Error(err)
				return
			}
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write(resp)
		}
	}
	raw := func(status int, ct string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			w.Write(body)
		}
	}
	otherTSA := newTSA(t, true)
	otherTSA.NoSigningCertificate = true
	cases := []struct {
		name    string
		handler http.Handler
		want    string
	}{
		{"wrong nonce", reply(func(r *tsatest.Request) { r.Nonce = new(big.Int).Add(r.Nonce, big.NewInt(1)) }), "nonce"},
		{"no nonce", reply(func(r *tsatest.Request) { r.Nonce = nil }), "nonce"},
		{"other imprint", reply(func(r *tsatest.Request) { r.Digest = make([]byte, len(r.Digest)) }), "other data"},
		{"rejection", raw(200, "application/timestamp-reply", tsatest.Rejection(tsatest.StatusRejection, tsatest.FailBadAlg, "SM3 not supported")), "时间戳服务拒绝签发 / the TSA refused: status rejection, badAlg"},
		{"waiting", raw(200, "application/timestamp-reply", tsatest.Rejection(tsatest.StatusWaiting, -1, "")), "status waiting"},
		{"granted without token", raw(200, "application/timestamp-reply", tsatest.Rejection(tsatest.StatusGranted, -1, "")), "no token"},
		{"garbage", raw(200, "application/timestamp-reply", []byte("garbage")), "not a TimeStampResp"},
		{"HTML page", raw(200, "text/html", []byte("<html>login</html>")), "not application/timestamp-reply"},
		{"HTTP 500", raw(500, "text/plain", []byte("down")), "HTTP 500"},
		{"too large", raw(200, "application/timestamp-reply", make([]byte, MaxReply+1)), "larger than"},
		{"token without signing certificate", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherTSA.ServeHTTP(w, r) }), "does not hold"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			ts, err := (&Client{URL: srv.URL}).Stamp(context.Background(), []byte("x"))
			if err == nil || ts != nil {
				t.Fatalf("accepted: %+v", ts)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.ZH == "" || e.EN == "" {
				t.Errorf("not a bilingual error: %v", err)
			}
		})
	}
}

// TestStampUnreachable: a closed port and a bad URL.
func TestStampUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&Client{URL: url}).Stamp(context.Background(), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "无法连接时间戳服务") || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("closed port: %v", err)
	}
	for _, u := range []string{"", "ftp://tsa.example", "tsa.example"} {
		if _, err := (&Client{URL: u}).Stamp(context.Background(), []byte("x")); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

// TestStampSlow: a TSA that does not answer before the context's deadline
// (the handler blocks until the test ends; no sleeps).
func TestStampSlow(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := (&Client{URL: srv.URL}).Stamp(ctx, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "超时") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow TSA: %v", err)
	}
	// Client.Timeout bounds a request when the context has no deadline.
	_, err = (&Client{URL: srv.URL, Timeout: 100 * time.Millisecond}).Stamp(context.Background(), []byte("x"))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow TSA with Client.Timeout: %v", err)
	}
}

// TestWithPDF: the client's functions plug into pdf.Sign (signature
// timestamp) and pdf.AddDocTimestamp (document timestamp), and Verify
// accepts both tokens.
func TestWithPDF(t *testing.T) {
	srv := httptest.NewServer(newTSA(t, true))
	defer srv.Close()
	c := &Client{URL: srv.URL}
	ctx := context.Background()
	doc := fpdf.New("P", "mm", "A4", "")
	doc.AddPage()
	var in bytes.Buffer
	if err := doc.Output(&in); err != nil {
		t.Fatal(err)
	}
	signer := newTSA(t, true) // any SM2 key and certificate will do to sign
	var signed bytes.Buffer
	if err := pdf.Sign(bytes.NewReader(in.Bytes()), int64(in.Len()), &signed, pdf.SignOptions{
		Signer: signer.Key, Cert: signer.Cert, Time: genTime, Timestamp: c.SignatureTimestamp(ctx)}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := pdf.AddDocTimestamp(bytes.NewReader(signed.Bytes()), int64(signed.Len()), &out, pdf.DocTimestampOptions{Stamp: c.DocTimestamp(ctx)}); err != nil {
		t.Fatal(err)
	}
	res, err := pdf.Verify(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Signatures) != 2 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	sig, dts := res.Signatures[0], res.Signatures[1]
	if sig.Timestamp == nil || sig.Timestamp.Err != nil || sig.SignatureErr != nil || sig.DigestErr != nil {
		t.Errorf("signature timestamp: %+v", sig.Timestamp)
	}
	if dts.Format != pdf.DocTimestamp || dts.SignatureErr != nil || dts.DigestErr != nil || dts.ModifiedErr != nil || dts.DigestAlgorithm != "SHA256" {
		t.Errorf("document timestamp: %v %v %v %s", dts.SignatureErr, dts.DigestErr, dts.ModifiedErr, dts.DigestAlgorithm)
	}
}

// FuzzParseResponse: TSA answers are outside data.
func FuzzParseResponse(f *testing.F) {
	tsa := newTSA(f, true)
	if resp, err := tsa.Reply(&tsatest.Request{HashAlg: []int{2, 16, 840, 1, 101, 3, 4, 2, 1}, Digest: make([]byte, 32), Nonce: big.NewInt(7)}); err == nil {
		f.Add(resp)
	}
	f.Add(tsatest.Rejection(tsatest.StatusRejection, tsatest.FailSystemFailure, "down"))
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxReply {
			return
		}
		tok, err := parseResponse(b)
		if err == nil {
			pdf.VerifyTimestampDigest(tok, []int{2, 16, 840, 1, 101, 3, 4, 2, 1}, make([]byte, 32), big.NewInt(7))
		}
	})
}
