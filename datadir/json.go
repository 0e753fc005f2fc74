package datadir

import "encoding/json"

// mustJSON encodes audit details, which are always plain maps of strings.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
