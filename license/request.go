package license

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// requestJSON is the JSON form of a Request (zhengxin license issue
// --json FILE):
//
//	{"type": "business_license", "serial": "20260000001",
//	 "status_list": "L1", "status_index": 12,
//	 "fields": {"holder_name": "...", "registered_capital": 500, ...}}
//
// Field values may be JSON strings or numbers.
type requestJSON struct {
	Type        string                     `json:"type"`
	Serial      string                     `json:"serial"`
	Version     int                        `json:"version"`
	StatusList  string                     `json:"status_list"`
	StatusIndex uint64                     `json:"status_index"`
	Fields      map[string]json.RawMessage `json:"fields"`
}

// RequestFromJSON reads a Request from its JSON form (see docs/formats.md).
// The holder key is not part of it: set Request.HolderKey from a PEM file
// (ParseHolderPublicKey).
func RequestFromJSON(data []byte) (Request, error) {
	var rj requestJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rj); err != nil {
		return Request{}, fmt.Errorf("license: request JSON: %w", err)
	}
	r := Request{Type: rj.Type, Serial: rj.Serial, Version: rj.Version, StatusList: rj.StatusList, StatusIndex: rj.StatusIndex, Fields: map[string]string{}}
	for k, raw := range rj.Fields {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			r.Fields[k] = s
			continue
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return Request{}, fmt.Errorf("license: request JSON: field %s must be a string or a number", k)
		}
		r.Fields[k] = n.String()
	}
	return r, nil
}

// Record is what a store keeps about an issued license besides its bytes.
type Record struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	TypeName    string    `json:"type_name"`
	Holder      string    `json:"holder"`
	HolderID    string    `json:"holder_id"`
	Issuer      string    `json:"issuer_code"`
	Serial      string    `json:"serial"`
	Version     int       `json:"version"`
	IssueDate   string    `json:"issue_date"`
	ValidFrom   string    `json:"valid_from"`
	ValidTo     string    `json:"valid_to,omitempty"` // "" open-ended
	SignedAt    time.Time `json:"signed_at"`
	StatusList  string    `json:"status_list,omitempty"`
	StatusIndex uint64    `json:"status_index"`
	HolderBound bool      `json:"holder_bound"`
}

// Record returns the license's record fields.
func (l *License) Record() Record {
	r := Record{ID: l.ID(), Type: l.Type.Key, TypeName: l.Type.ZH, Issuer: l.Issuer, Serial: l.Serial, Version: l.Version,
		IssueDate: l.IssueDate.String(), ValidFrom: l.ValidFrom.String(), SignedAt: l.SignedAt,
		StatusList: l.StatusList, StatusIndex: l.StatusIndex, HolderBound: l.HolderKey != nil}
	r.Holder, _ = l.Value("holder_name")
	r.HolderID, _ = l.Value("holder_id")
	if l.ValidTo != nil {
		r.ValidTo = l.ValidTo.String()
	}
	return r
}
