package license

import (
	"strconv"
	"strings"
)

// pdfReasonPrefix opens the /Reason of the signature that seals a license
// PDF (docs/pdf.md, "License PDFs"). Readers show the reason to people, so
// it stays readable; verifiers read the license it names to look up its
// status, since a sealed PDF outlives a revocation.
const pdfReasonPrefix = "电子证照签章 "

// PDFReason is the /Reason of the signature sealing l's PDF:
// "电子证照签章 <identifier>", then " 状态列表 <list> #<index>" when the
// license is on a status list. The reason is inside the signed bytes.
func PDFReason(l *License) string {
	r := pdfReasonPrefix + l.ID()
	if l.StatusList != "" {
		r += " 状态列表 " + l.StatusList + " #" + strconv.FormatUint(l.StatusIndex, 10)
	}
	return r
}

// ParsePDFReason reads a reason PDFReason wrote: the license identifier
// and, if given, its status list and index. ok is false for any other
// reason (a signature that does not seal a license).
func ParsePDFReason(reason string) (id, list string, index uint64, ok bool) {
	rest, found := strings.CutPrefix(reason, pdfReasonPrefix)
	if !found || len(rest) > 200 {
		return "", "", 0, false
	}
	parts := strings.Fields(rest)
	switch {
	case len(parts) == 1:
	case len(parts) == 4 && parts[1] == "状态列表" && strings.HasPrefix(parts[3], "#"):
		n, err := strconv.ParseUint(parts[3][1:], 10, 64)
		if err != nil || parts[2] == "" {
			return "", "", 0, false
		}
		list, index = parts[2], n
	default:
		return "", "", 0, false
	}
	if _, err := ParseIdentifier(parts[0]); err != nil {
		return "", "", 0, false
	}
	return parts[0], list, index, true
}
