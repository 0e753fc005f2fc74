package license

import "unicode/utf8"

// MaskID hides the middle of a holder ID number or credit code for logs and
// the audit log: the first 4 and last 4 characters stay, 8 asterisks stand
// for the rest whatever its length ("1101********002X"). Shorter values
// keep only their last 2 characters.
func MaskID(id string) string {
	n := utf8.RuneCountInString(id)
	if n == 0 {
		return ""
	}
	r := []rune(id)
	if n >= 12 {
		return string(r[:4]) + "********" + string(r[n-4:])
	}
	if n <= 2 {
		return "**"
	}
	return "****" + string(r[n-2:])
}
