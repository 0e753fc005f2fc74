package tsatest

import (
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net/http"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The RFC 3161 protocol around the tokens (§2.4.1, §2.4.2) and its HTTP
// transport (§3.4), so that a TSA client can be tested against this TSA
// with net/http/httptest.

// PKIStatus values (RFC 3161 §2.4.2).
const (
	StatusGranted                = 0
	StatusGrantedWithMods        = 1
	StatusRejection              = 2
	StatusWaiting                = 3
	StatusRevocationWarning      = 4
	StatusRevocationNotification = 5
)

// PKIFailureInfo bits (RFC 3161 §2.4.2).
const (
	FailBadAlg              = 0
	FailBadRequest          = 2
	FailBadDataFormat       = 5
	FailTimeNotAvailable    = 14
	FailUnacceptedPolicy    = 15
	FailUnacceptedExtension = 16
	FailAddInfoNotAvailable = 17
	FailSystemFailure       = 25
)

// Request is a TimeStampReq as this TSA reads it:
//
//	TimeStampReq ::= SEQUENCE {
//	  version INTEGER { v1(1) },
//	  messageImprint MessageImprint,
//	  reqPolicy TSAPolicyId OPTIONAL,
//	  nonce INTEGER OPTIONAL,
//	  certReq BOOLEAN DEFAULT FALSE,
//	  extensions [0] IMPLICIT Extensions OPTIONAL }
type Request struct {
	HashAlg asn1.ObjectIdentifier
	Digest  []byte
	Policy  asn1.ObjectIdentifier
	Nonce   *big.Int
	CertReq bool
}

// ParseRequest reads a DER TimeStampReq.
func ParseRequest(der []byte) (*Request, error) {
	bad := errors.New("tsatest: malformed TimeStampReq")
	s := cryptobyte.String(der)
	var body, mi, alg cryptobyte.String
	var version int64
	r := &Request{}
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() || !body.ReadASN1Integer(&version) || version != 1 ||
		!body.ReadASN1(&mi, cbasn1.SEQUENCE) || !mi.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&r.HashAlg) || !mi.ReadASN1Bytes(&r.Digest, cbasn1.OCTET_STRING) || !mi.Empty() {
		return nil, bad
	}
	if body.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) && !body.ReadASN1ObjectIdentifier(&r.Policy) {
		return nil, bad
	}
	if body.PeekASN1Tag(cbasn1.INTEGER) {
		r.Nonce = new(big.Int)
		if !body.ReadASN1Integer(r.Nonce) {
			return nil, bad
		}
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) && !body.ReadASN1Boolean(&r.CertReq) {
		return nil, bad
	}
	if !body.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !body.Empty() {
		return nil, bad
	}
	return r, nil
}

// Reply answers req with a granted TimeStampResp carrying a token over
// its imprint and nonce.
func (t *TSA) Reply(req *Request) ([]byte, error) {
	tok, err := t.stamp(req.HashAlg, req.Digest, req.Nonce)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(StatusGranted) })
		b.AddBytes(tok)
	})
	return b.Bytes()
}

// Rejection is a TimeStampResp without a token:
//
//	TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
//	PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
//	                             failInfo PKIFailureInfo OPTIONAL }
//
// with the failure bit failBit set (negative: none) and text as the
// statusString (empty: none).
func Rejection(status, failBit int, text string) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(status))
			if text != "" {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(text)) })
				})
			}
			if failBit >= 0 {
				bits := make([]byte, failBit/8+1)
				bits[failBit/8] = 0x80 >> (failBit % 8)
				unused := 7 - failBit%8
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
					b.AddUint8(uint8(unused))
					b.AddBytes(bits)
				})
			}
		})
	})
	return b.BytesOrPanic()
}

// ServeHTTP is the RFC 3161 §3.4 transport: a POST of
// application/timestamp-query answered with application/timestamp-reply.
// A request it cannot read gets a rejection (badRequest), as a TSA
// answers.
func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	der, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	req, err := ParseRequest(der)
	if err != nil || r.Header.Get("Content-Type") != "application/timestamp-query" {
		w.Write(Rejection(StatusRejection, FailBadRequest, "tsatest: not a TimeStampReq"))
		return
	}
	resp, err := t.Reply(req)
	if err != nil {
		w.Write(Rejection(StatusRejection, FailSystemFailure, err.Error()))
		return
	}
	w.Write(resp)
}
