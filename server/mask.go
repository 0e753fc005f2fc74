package server

import (
	"encoding/json"
	"io"

	"github.com/zhengxin/zhengxin/license"
)

// MaskID hides the middle of a holder ID number or credit code for logs and
// the audit log; see license.MaskID.
func MaskID(id string) string { return license.MaskID(id) }

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
