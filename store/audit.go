package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// auditDomain separates the audit hash input from any other SM3 input.
const auditDomain = "zhengxin-audit-v1"

// auditAgencyTag introduces the agency in the hash input of an entry that
// has one. Entries without an agency hash exactly as every entry did
// before the agency column existed, so those chains still verify.
const auditAgencyTag = "zhengxin-audit-agency"

// zeroHash is the prev_hash of the first entry.
var zeroHash = make([]byte, sm3.Size)

// AuditHash returns SM3(prev || canonical(e)) where canonical(e) is
//
//	"zhengxin-audit-v1"
//	seq     uint64, big-endian
//	at      int64 microseconds since 1970-01-01 UTC, big-endian
//	actor, action, object, detail: each uint32 big-endian length || bytes
//
// followed, only when e.Agency is not empty, by
//
//	"zhengxin-audit-agency"
//	agency: uint32 big-endian length || bytes
//
// The old encoding ends with the detail field, whose length prefix says
// where it ends, so no entry without an agency encodes to the same bytes
// as one with an agency. It is exported so that an auditor can recompute
// the chain from an export without this package's database code; see
// [AuditAgency] for the entries written before agencies were hashed.
func AuditHash(prev []byte, e AuditEntry) []byte {
	var b bytes.Buffer
	b.Grow(len(auditDomain) + 16 + 16 + len(e.Actor) + len(e.Action) + len(e.Object) + len(e.Detail) + len(auditAgencyTag) + 4 + len(e.Agency))
	b.WriteString(auditDomain)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	b.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UnixMicro()))
	b.Write(n[:])
	field := func(f []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(f)))
		b.Write(n[:4])
		b.Write(f)
	}
	for _, f := range [][]byte{[]byte(e.Actor), []byte(e.Action), []byte(e.Object), e.Detail} {
		field(f)
	}
	if e.Agency != "" {
		b.WriteString(auditAgencyTag)
		field([]byte(e.Agency))
	}
	h := sm3.New()
	h.Write(prev)
	h.Write(b.Bytes())
	return h.Sum(nil)
}

// licenseRoot is the OID arc of e-license identifiers (GB/T 36904); the
// store does not import package license, so the layout is repeated here.
const licenseRoot = "1.2.156.3005.2."

// AuditAgency returns the agency an entry's own hashed fields name:
//
//  1. if Object is an e-license identifier (GB/T 36904:
//     1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>, each part
//     digits and upper-case letters), its issuer code — Zhengxin numbers
//     an agency's licenses with the agency's unified social credit code;
//  2. else, if Detail is a JSON object with a string member "agency"
//     (the exact key; of duplicates the last), that string;
//  3. else "".
//
// AppendAudit fills an empty Agency with it. Entries written before the
// agency column existed do not hash their agency; the migration that
// added the column filled it with this function, and VerifyAuditChain
// accepts an agency outside the hash only if it equals what this function
// returns, and an empty agency only if this function returns "". So the
// agency of no entry, old or new, can be changed without breaking the
// chain.
func AuditAgency(e AuditEntry) string {
	if a := licenseIssuer(e.Object); a != "" {
		return a
	}
	return detailAgency(e.Detail)
}

// licenseIssuer returns the issuer part of an e-license identifier, or ""
// if id is not one. The check character is not verified: the object was
// written by the store's callers, and the question is only whose license
// it names.
func licenseIssuer(id string) string {
	rest, ok := strings.CutPrefix(id, licenseRoot)
	if !ok || len(id) > 200 {
		return ""
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 5 {
		return ""
	}
	for _, p := range parts {
		if p == "" || len(p) > 40 {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return ""
			}
		}
	}
	return parts[1]
}

// detailAgency returns the string member "agency" of a JSON object, or "".
func detailAgency(detail []byte) string {
	// A key that decodes to "agency" is spelled out or uses a \u escape;
	// most details have neither and need no parse.
	if !bytes.Contains(detail, []byte("agency")) && !bytes.Contains(detail, []byte(`\u`)) {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(detail, &m) != nil {
		return ""
	}
	var a string
	if raw, ok := m["agency"]; !ok || json.Unmarshal(raw, &a) != nil {
		return ""
	}
	return a
}

// checkLink verifies one entry against the previous hash and the expected
// seq and says what is wrong, or "".
func checkLink(e AuditEntry, wantSeq int64, prev []byte) string {
	switch {
	case e.Seq != wantSeq:
		return fmt.Sprintf("sequence gap: expected seq %d, found %d (entries deleted or inserted)", wantSeq, e.Seq)
	case !bytes.Equal(e.PrevHash, prev):
		return "prev_hash does not match the hash of the previous entry"
	}
	if bytes.Equal(e.Hash, AuditHash(prev, e)) {
		if named := AuditAgency(e); e.Agency == "" && named != "" {
			return fmt.Sprintf("agency is empty but the entry names agency %q in its object or detail (agency removed)", named)
		}
		return ""
	}
	if e.Agency != "" {
		// Written before agencies were hashed: the agency must be the one
		// the hashed fields name.
		old := e
		old.Agency = ""
		if bytes.Equal(e.Hash, AuditHash(prev, old)) {
			if named := AuditAgency(e); named != e.Agency {
				says := "no agency"
				if named != "" {
					says = fmt.Sprintf("agency %q", named)
				}
				return fmt.Sprintf("agency %q is not in the entry's hash, and its object and detail name %s (agency changed)", e.Agency, says)
			}
			return ""
		}
	}
	return "hash does not match the entry's contents (entry modified)"
}

// micro truncates t to the stored precision and UTC, so that what is
// hashed is exactly what is read back.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
