package pdf

import (
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Document timestamps (ISO 32000-2 §12.8.5; ETSI EN 319 142-1 §5.4, the
// PAdES-LTA level): a signature dictionary with /Type /DocTimeStamp and
// /SubFilter /ETSI.RFC3161 whose /Contents is a bare RFC 3161
// TimeStampToken. Its message imprint is the hash of the bytes the
// /ByteRange covers, as a CMS signature's messageDigest would be; there is
// no signer but the TSA. The token is checked with the code that checks
// signature timestamps (timestamp.go).

// SubFilterDocTimeStamp is the /SubFilter of a document timestamp.
const SubFilterDocTimeStamp = "ETSI.RFC3161"

// maxDocTimestamp is the room AddDocTimestamp reserves for the token.
const maxDocTimestamp = 32 << 10

// DocTimestampOptions say how AddDocTimestamp gets its token.
type DocTimestampOptions struct {
	// Hash is the hash of the byte range sent to the TSA: "SHA256" (the
	// default, which every RFC 3161 TSA accepts), "SM3", "SHA384" or
	// "SHA512".
	Hash string
	// Stamp asks a TSA for a TimeStampToken (DER ContentInfo, at most
	// 32 KiB) with the message imprint (hashAlg, digest): an RFC 3161
	// client (pdf/tsaclient) or a test TSA (tsatest.TSA.StampDigest).
	Stamp func(hashAlg asn1.ObjectIdentifier, digest []byte) ([]byte, error)
	// FieldName of the (invisible) field; default "DocTimeStamp1", ...
	FieldName string
}

// HashOID returns the object identifier of a hash named as in
// DocTimestampOptions.Hash ("SM3", "SHA256", "SHA384", "SHA512"), and a
// constructor for it.
func HashOID(name string) (asn1.ObjectIdentifier, func() hash.Hash, error) {
	for _, oid := range []asn1.ObjectIdentifier{oidSM3, oidSHA256, oidSHA384, oidSHA512} {
		if n, h := hashFor(oid); strings.EqualFold(strings.ReplaceAll(name, "-", ""), n) {
			return oid, h, nil
		}
	}
	return nil, nil, fmt.Errorf("pdf: unknown hash %q: use SM3, SHA256, SHA384 or SHA512", name)
}

// AddDocTimestamp appends an incremental update to the PDF in (size bytes)
// that adds a document timestamp over the whole file, and writes the
// original bytes followed by the update to out. The token opts.Stamp
// returns is checked before it is written (its imprint must be the digest
// asked for, its signature must verify with a TSA certificate): a TSA that
// answers with something else does not leave a broken file. Whether the
// TSA is trusted is the verifier's question.
func AddDocTimestamp(in io.ReaderAt, size int64, out io.Writer, opts DocTimestampOptions) (err error) {
	defer recovered(&err)
	if opts.Stamp == nil {
		return errors.New("pdf: DocTimestampOptions needs Stamp, the TSA to ask")
	}
	if opts.Hash == "" {
		opts.Hash = "SHA256"
	}
	oid, newHash, err := HashOID(opts.Hash)
	if err != nil {
		return err
	}
	rd, err := openReader(in, size)
	if err != nil {
		return err
	}
	so := &SignOptions{FieldName: opts.FieldName, docTimestamp: true}
	u, err := planUpdate(rd, in, size, so, time.Time{})
	if err != nil {
		return err
	}
	return u.write(in, size, out, maxDocTimestamp+64, newHash, func(digest []byte) ([]byte, error) {
		tok, err := opts.Stamp(oid, digest)
		if err != nil {
			return nil, err
		}
		if len(tok) > maxDocTimestamp {
			return nil, fmt.Errorf("pdf: the TSA's token is %d bytes, more than the %d reserved for it", len(tok), maxDocTimestamp)
		}
		if ts := VerifyTimestampDigest(tok, oid, digest, nil); ts.Err != nil {
			return nil, fmt.Errorf("pdf: the TSA's token does not hold: %w", ts.Err)
		}
		return tok, nil
	})
}

// VerifyTimestampDigest checks a token a TSA just issued for the message
// imprint (hashAlg, digest) and, if nonce is not nil, that nonce (RFC 3161
// §2.4.2: a nonce in the request must come back): it parses, its imprint
// and nonce are those asked for, its signature verifies with the TSA
// certificate it carries, and that certificate is a TSA certificate
// (critical id-kp-timeStamping only). Err is nil when all holds. As for
// VerifyTimestampToken, the TSA's trust is the caller's.
func VerifyTimestampDigest(token []byte, hashAlg asn1.ObjectIdentifier, digest []byte, nonce *big.Int) (ts *Timestamp) {
	ts = &Timestamp{Raw: token}
	defer func() {
		if p := recover(); p != nil {
			ts.Err = report.Errorf(report.FormatFailure, "pdf: malformed time-stamp token: %v", p)
		}
	}()
	info, err := checkTokenSignature(ts, token)
	switch {
	case err != nil:
		ts.Err = err
	case !info.hashAlg.Equal(hashAlg) || subtle.ConstantTimeCompare(info.hashed, digest) != 1:
		ts.Err = report.Errorf(report.HashFailure, "pdf: the time-stamp token stamps other data than was asked for (its message imprint differs)")
	case nonce != nil && (info.nonce == nil || info.nonce.Cmp(nonce) != 0):
		ts.Err = report.Errorf(report.FormatFailure, "pdf: the time-stamp token does not carry the nonce of the request: it answers another request (or is replayed)")
	default:
		ts.Err = checkTSACert(ts.TSA)
	}
	return ts
}

// checkDocTimestamp checks the document timestamp whose byte range is
// already checked: the token (structure, TSA signature, TSA certificate
// profile) goes to SignatureErr, the imprint against the byte range's
// digest to DigestErr. The token is also s.Timestamp, with Err the first
// of the two.
func checkDocTimestamp(r io.ReaderAt, s *Signature) {
	ts := &Timestamp{Raw: s.Contents}
	s.Timestamp = ts
	s.Algorithm = "RFC 3161"
	defer func() {
		if p := recover(); p != nil {
			s.SignatureErr = report.Errorf(report.FormatFailure, "pdf: malformed document time-stamp token: %v", p)
			if s.DigestErr == nil && s.Digest == nil {
				s.DigestErr = ErrNotChecked
			}
			ts.Err = s.SignatureErr
		}
	}()
	info, err := checkTokenSignature(ts, s.Contents)
	if err == nil {
		err = checkTSACert(ts.TSA)
	}
	s.SignatureErr = err
	s.Signer, s.Certificates, s.SigningTime = ts.TSA, ts.Certificates, ts.GenTime
	if ts.Algorithm != "" {
		s.Algorithm = ts.Algorithm + " (RFC 3161)"
	}
	s.DigestAlgorithm = ts.HashAlgorithm
	if info == nil {
		s.DigestErr = ErrNotChecked
		ts.Err = s.SignatureErr
		return
	}
	name, newHash, err := info.imprintHash()
	if err != nil {
		s.DigestErr = err
	} else {
		h := newHash()
		if err := hashRanges(r, s.ByteRange, h); err != nil {
			s.DigestErr = report.Errorf(report.FormatFailure, "pdf: reading the signed ranges: %v", err)
		} else if s.Digest = h.Sum(nil); subtle.ConstantTimeCompare(s.Digest, info.hashed) != 1 {
			s.DigestErr = report.Errorf(report.HashFailure, "pdf: the document timestamp %q stamps other bytes than its byte range (%s imprint differs): the document was changed, or the token belongs to another document", s.Field, name)
		}
	}
	ts.Err = s.SignatureErr
	if ts.Err == nil {
		ts.Err = s.DigestErr
	}
}
