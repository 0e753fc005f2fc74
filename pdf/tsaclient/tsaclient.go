// Package tsaclient asks an RFC 3161 time-stamping authority for
// time-stamp tokens over HTTP (RFC 3161 §3.4): it POSTs a DER TimeStampReq
// (§2.4.1) as application/timestamp-query and reads the TimeStampResp
// (§2.4.2) from an application/timestamp-reply.
//
// Every request carries a random 64-bit nonce and certReq TRUE (the token
// must carry the TSA certificate, which the verifier needs). A reply is
// accepted only if its status is granted (or grantedWithMods), and the
// token it carries verifies (package pdf: the TSA's signature, a TSA
// certificate with the critical id-kp-timeStamping usage) and stamps the
// imprint and nonce that were sent. Whether the TSA is trusted is the
// verifier's question, not the client's: a token from an unknown TSA is
// still a well-formed token.
//
// The request and the reply are built and read with cryptobyte rather
// than with github.com/digitorus/timestamp: its requests name the hash by
// crypto.Hash, which has no SM3, and its ParseResponse verifies tokens
// with digitorus/pkcs7, which has no SM2 — a Chinese TSA signs with SM2
// over SM3. digitorus/timestamp reads our requests in the tests.
package tsaclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zhengxin/zhengxin/pdf"
)

// Defaults and bounds.
const (
	DefaultTimeout = 30 * time.Second
	// MaxReply bounds a TimeStampResp: a token with a certificate chain
	// is a few KiB; the verifier reads tokens up to 256 KiB.
	MaxReply = 256 << 10
)

// Client asks one TSA. The zero value is not usable: URL is required.
type Client struct {
	URL string
	// Hash of the imprint of Stamp: "SHA256" (default; every TSA takes
	// it), "SM3", "SHA384" or "SHA512".
	Hash string
	// Policy, if set, is the reqPolicy: the TSA policy asked for.
	Policy asn1.ObjectIdentifier
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds one request when the context has no earlier
	// deadline; zero means DefaultTimeout.
	Timeout time.Duration
	// Rand is the source of nonces; nil means crypto/rand.
	Rand io.Reader
}

// Error is a failure to get a token, with a bilingual message.
type Error struct {
	ZH, EN string
	Err    error // the cause, if any
}

func (e *Error) Error() string {
	s := e.ZH + " / " + e.EN
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Stamp returns a token over data, hashed with c.Hash.
func (c *Client) Stamp(ctx context.Context, data []byte) (*pdf.Timestamp, error) {
	name := c.Hash
	if name == "" {
		name = "SHA256"
	}
	oid, newHash, err := pdf.HashOID(name)
	if err != nil {
		return nil, err
	}
	h := newHash()
	h.Write(data)
	return c.StampDigest(ctx, oid, h.Sum(nil))
}

// SignatureTimestamp returns a function for pdf.SignOptions.Timestamp:
// it stamps the CMS signature value.
func (c *Client) SignatureTimestamp(ctx context.Context) func(signature []byte) ([]byte, error) {
	return func(signature []byte) ([]byte, error) {
		ts, err := c.Stamp(ctx, signature)
		if err != nil {
			return nil, err
		}
		return ts.Raw, nil
	}
}

// DocTimestamp returns a function for pdf.DocTimestampOptions.Stamp.
func (c *Client) DocTimestamp(ctx context.Context) func(hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	return func(hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
		ts, err := c.StampDigest(ctx, hashAlg, digest)
		if err != nil {
			return nil, err
		}
		return ts.Raw, nil
	}
}

// StampDigest asks the TSA for a token with the message imprint (hashAlg,
// digest) and returns it checked (Err nil).
func (c *Client) StampDigest(ctx context.Context, hashAlg asn1.ObjectIdentifier, digest []byte) (*pdf.Timestamp, error) {
	if c.URL == "" {
		return nil, &Error{ZH: "未配置时间戳服务地址", EN: "no TSA URL configured"}
	}
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return nil, &Error{ZH: "时间戳服务地址须为 http:// 或 https:// 网址", EN: fmt.Sprintf("the TSA URL %q is not an http:// or https:// URL", c.URL)}
	}
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	nonce, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("tsaclient: nonce: %w", err)
	}
	req, err := marshalRequest(hashAlg, digest, c.Policy, nonce)
	if err != nil {
		return nil, err
	}
	reply, err := c.post(ctx, req)
	if err != nil {
		return nil, err
	}
	tok, err := parseResponse(reply)
	if err != nil {
		return nil, err
	}
	ts := pdf.VerifyTimestampDigest(tok, hashAlg, digest, nonce)
	if ts.Err != nil {
		return nil, &Error{ZH: "时间戳服务返回的时间戳无效", EN: "the TSA's token does not hold", Err: ts.Err}
	}
	return ts, nil
}

// post sends the request and reads the reply, bounded in time and size.
func (c *Client) post(ctx context.Context, body []byte) ([]byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{ZH: "时间戳服务地址无效", EN: fmt.Sprintf("bad TSA URL %q", c.URL), Err: err}
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{ZH: "时间戳服务超时未应答", EN: fmt.Sprintf("the TSA %s did not answer in time", c.URL), Err: ctx.Err()}
		}
		return nil, &Error{ZH: "无法连接时间戳服务", EN: fmt.Sprintf("the TSA %s is unreachable", c.URL), Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{ZH: "时间戳服务超时未应答", EN: fmt.Sprintf("the TSA %s did not finish its answer in time", c.URL), Err: ctx.Err()}
		}
		return nil, &Error{ZH: "读取时间戳服务应答失败", EN: fmt.Sprintf("reading the answer of the TSA %s", c.URL), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{ZH: "时间戳服务返回 HTTP 错误", EN: fmt.Sprintf("the TSA %s answered HTTP %s: %s", c.URL, resp.Status, excerpt(b))}
	}
	if len(b) > MaxReply {
		return nil, &Error{ZH: "时间戳服务应答过大", EN: fmt.Sprintf("the TSA's answer is larger than %d bytes", MaxReply)}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	// application/timestamp-response is what some older TSAs send (an
	// early draft's name).
	if ct != "application/timestamp-reply" && ct != "application/timestamp-response" {
		return nil, &Error{ZH: "时间戳服务应答类型不对，地址可能不是 RFC 3161 时间戳服务", EN: fmt.Sprintf("the answer of %s is %q, not application/timestamp-reply: is it an RFC 3161 TSA? (%s)", c.URL, resp.Header.Get("Content-Type"), excerpt(b))}
	}
	return b, nil
}

// excerpt shows the start of an unexpected answer, printable only.
func excerpt(b []byte) string {
	if len(b) > 120 {
		b = b[:120]
	}
	if !utf8.Valid(b) {
		return fmt.Sprintf("%d bytes of binary data", len(b))
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// marshalRequest builds
//
//	TimeStampReq ::= SEQUENCE {
//	  version INTEGER { v1(1) },
//	  messageImprint MessageImprint,  -- SEQUENCE { hashAlgorithm, hashedMessage }
//	  reqPolicy TSAPolicyId OPTIONAL,
//	  nonce INTEGER OPTIONAL,
//	  certReq BOOLEAN DEFAULT FALSE,
//	  extensions [0] IMPLICIT Extensions OPTIONAL }
func marshalRequest(hashAlg asn1.ObjectIdentifier, digest []byte, policy asn1.ObjectIdentifier, nonce *big.Int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(hashAlg)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(digest)
		})
		if policy != nil {
			b.AddASN1ObjectIdentifier(policy)
		}
		b.AddASN1BigInt(nonce)
		b.AddASN1Boolean(true)
	})
	return b.Bytes()
}

// statusNames are PKIStatus values (RFC 3161 §2.4.2).
var statusNames = []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}

// failNames are PKIFailureInfo bits, with what they mean for the user.
var failNames = map[int][2]string{
	0:  {"badAlg", "不支持该摘要算法（可改用 SHA256） / unrecognized or unsupported hash algorithm (try SHA256)"},
	2:  {"badRequest", "请求不被接受 / transaction not permitted or supported"},
	5:  {"badDataFormat", "请求格式错误 / the data submitted has the wrong format"},
	14: {"timeNotAvailable", "时间源不可用 / the TSA's time source is not available"},
	15: {"unacceptedPolicy", "不接受所请求的策略 / the requested TSA policy is not supported"},
	16: {"unacceptedExtension", "不接受所请求的扩展 / the requested extension is not supported"},
	17: {"addInfoNotAvailable", "附加信息不可用 / the additional information requested is not available"},
	25: {"systemFailure", "时间戳服务内部故障 / the TSA failed internally"},
}

// parseResponse reads
//
//	TimeStampResp ::= SEQUENCE {
//	  status PKIStatusInfo,
//	  timeStampToken TimeStampToken OPTIONAL }
//
// and returns the token's DER if the status grants it.
func parseResponse(der []byte) ([]byte, error) {
	bad := func(what string) error {
		return &Error{ZH: "时间戳服务应答格式错误", EN: "the TSA's answer is not a TimeStampResp (" + what + ")"}
	}
	s := cryptobyte.String(der)
	var resp, si cryptobyte.String
	if !s.ReadASN1(&resp, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("not one DER SEQUENCE")
	}
	if !resp.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, bad("status")
	}
	status, text, fails, err := parseStatusInfo(si)
	if err != nil {
		return nil, bad(err.Error())
	}
	if status != 0 && status != 1 {
		name := fmt.Sprint(status)
		if status >= 0 && status < int64(len(statusNames)) {
			name = statusNames[status]
		}
		en := "the TSA refused: status " + name
		zh := "时间戳服务拒绝签发"
		for _, f := range fails {
			en += ", " + f
		}
		if text != "" {
			en += ": " + text
		}
		return nil, &Error{ZH: zh, EN: en}
	}
	var tok cryptobyte.String
	if !resp.ReadASN1Element(&tok, cbasn1.SEQUENCE) || !resp.Empty() {
		return nil, bad("status granted but no token")
	}
	return tok, nil
}

// parseStatusInfo reads
//
//	PKIStatusInfo ::= SEQUENCE {
//	  status PKIStatus,                  -- INTEGER
//	  statusString PKIFreeText OPTIONAL, -- SEQUENCE SIZE (1..MAX) OF UTF8String
//	  failInfo PKIFailureInfo OPTIONAL } -- BIT STRING
func parseStatusInfo(s cryptobyte.String) (status int64, text string, fails []string, err error) {
	if !s.ReadASN1Integer(&status) {
		return 0, "", nil, errors.New("status")
	}
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		var ft cryptobyte.String
		if !s.ReadASN1(&ft, cbasn1.SEQUENCE) {
			return 0, "", nil, errors.New("statusString")
		}
		var parts []string
		for !ft.Empty() {
			var u cryptobyte.String
			if !ft.ReadASN1(&u, cbasn1.UTF8String) || !utf8.Valid(u) {
				return 0, "", nil, errors.New("statusString")
			}
			parts = append(parts, string(u))
		}
		text = strings.Join(parts, "; ")
		if r := []rune(text); len(r) > 200 {
			text = string(r[:200]) + "…"
		}
	}
	if s.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bs asn1.BitString
		if !s.ReadASN1BitString(&bs) {
			return 0, "", nil, errors.New("failInfo")
		}
		for i := 0; i < bs.BitLength && i < 64; i++ {
			if bs.At(i) == 1 {
				if n, ok := failNames[i]; ok {
					fails = append(fails, n[0]+" ("+n[1]+")")
				} else {
					fails = append(fails, fmt.Sprintf("failure bit %d", i))
				}
			}
		}
	}
	if !s.Empty() {
		return 0, "", nil, errors.New("trailing data in PKIStatusInfo")
	}
	return status, text, fails, nil
}
