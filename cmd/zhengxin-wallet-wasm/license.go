//go:build js && wasm

package main

import (
	"encoding/base64"
	"errors"
	"syscall/js"

	"github.com/zhengxin/zhengxin/license"
)

// maxLicense bounds the holder copy the page hands in (license.ParseLicense
// refuses more than 8 KiB of CBOR anyway; base64 makes it 4/3 larger).
const maxLicense = 16 << 10

// holderCopy reads the holder's copy of a license (license.Marshal, as
// base64 in the claim answer's "signed" field) and checks its field digests.
func holderCopy(v js.Value) (*license.License, error) {
	if v.Type() != js.TypeString {
		return nil, errors.New("wallet: the license must be the base64 holder copy")
	}
	s := v.String()
	if len(s) > maxLicense {
		return nil, errors.New("wallet: the license is too large")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("wallet: the license is not valid base64")
	}
	return license.ParseLicense(b)
}

// inspect(license) -> {id, type, holder_bound, fields: {key: display text}}
func inspect(args []js.Value) (map[string]any, error) {
	if len(args) != 1 {
		return nil, errors.New("wallet: inspect(license)")
	}
	l, err := holderCopy(args[0])
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	for _, fv := range l.Fields() {
		fields[fv.Field.Key] = fv.Field.Display(fv.Value)
	}
	return map[string]any{"id": l.ID(), "type": l.Type.Key, "holder_bound": l.HolderKey != nil, "fields": fields}, nil
}
