package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// auditDomain separates the audit hash input from any other SM3 input.
const auditDomain = "zhengxin-audit-v1"

// zeroHash is the prev_hash of the first entry.
var zeroHash = make([]byte, sm3.Size)

// AuditHash returns SM3(prev || canonical(e)) where canonical(e) is
//
//	"zhengxin-audit-v1"
//	seq     uint64, big-endian
//	at      int64 microseconds since 1970-01-01 UTC, big-endian
//	actor, action, object, detail: each uint32 big-endian length || bytes
//
// It is exported so that an auditor can recompute the chain from an export
// without this package's database code.
func AuditHash(prev []byte, e AuditEntry) []byte {
	var b bytes.Buffer
	b.Grow(len(auditDomain) + 16 + 16 + len(e.Actor) + len(e.Action) + len(e.Object) + len(e.Detail))
	b.WriteString(auditDomain)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	b.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UnixMicro()))
	b.Write(n[:])
	for _, f := range [][]byte{[]byte(e.Actor), []byte(e.Action), []byte(e.Object), e.Detail} {
		binary.BigEndian.PutUint32(n[:4], uint32(len(f)))
		b.Write(n[:4])
		b.Write(f)
	}
	h := sm3.New()
	h.Write(prev)
	h.Write(b.Bytes())
	return h.Sum(nil)
}

// checkLink verifies one entry against the previous hash and the expected
// seq and says what is wrong, or "".
func checkLink(e AuditEntry, wantSeq int64, prev []byte) string {
	switch {
	case e.Seq != wantSeq:
		return fmt.Sprintf("sequence gap: expected seq %d, found %d (entries deleted or inserted)", wantSeq, e.Seq)
	case !bytes.Equal(e.PrevHash, prev):
		return "prev_hash does not match the hash of the previous entry"
	case !bytes.Equal(e.Hash, AuditHash(prev, e)):
		return "hash does not match the entry's contents (entry modified)"
	}
	return ""
}

// micro truncates t to the stored precision and UTC, so that what is
// hashed is exactly what is read back.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
