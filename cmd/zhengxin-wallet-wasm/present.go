//go:build js && wasm

package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"syscall/js"
	"time"

	"github.com/zhengxin/zhengxin/license"
)

// present(private, license, fields, purpose, nowMillis) -> {payload, expires}
//
// license is the base64 holder copy; fields the keys to disclose (null: the
// purpose's profile); purpose a profile key of the license type ("custom"
// or "" when the holder chose the fields); nowMillis the page's clock.
func present(args []js.Value) (map[string]any, error) {
	if len(args) != 5 {
		return nil, errors.New("wallet: present(private, license, fields, purpose, nowMillis)")
	}
	key, err := deviceKey(args[0])
	if err != nil {
		return nil, err
	}
	lic, o, err := licenseAndOptions(args[1:])
	if err != nil {
		return nil, err
	}
	payload, err := license.MakePresentationWith(lic, key, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"payload": payload, "expires": float64(o.Now.Add(o.Lifetime).UnixMilli())}, nil
}

// licenseAndOptions reads (license, fields, purpose, nowMillis), the
// arguments present and draft share after the key.
func licenseAndOptions(args []js.Value) ([]byte, license.PresentOptions, error) {
	lic, err := licenseBytes(args[0])
	if err != nil {
		return nil, license.PresentOptions{}, err
	}
	o, err := presentOptions(args[1], args[2], args[3])
	if err != nil {
		return nil, o, err
	}
	return lic, o, nil
}

func licenseBytes(v js.Value) ([]byte, error) {
	if v.Type() != js.TypeString || len(v.String()) > maxLicense {
		return nil, errors.New("wallet: the license must be the base64 holder copy")
	}
	b, err := base64.StdEncoding.DecodeString(v.String())
	if err != nil {
		return nil, errors.New("wallet: the license is not valid base64")
	}
	return b, nil
}

// presentOptions reads (fields, purpose, nowMillis) from the page.
func presentOptions(fields, purpose, nowMillis js.Value) (license.PresentOptions, error) {
	o := license.PresentOptions{}
	if f := fields; f.Type() == js.TypeObject {
		n := f.Get("length").Int()
		if n > 64 {
			return o, errors.New("wallet: too many fields to disclose")
		}
		o.Disclose = make([]string, 0, n)
		for i := 0; i < n; i++ {
			if f.Index(i).Type() != js.TypeString {
				return o, errors.New("wallet: field keys must be strings")
			}
			o.Disclose = append(o.Disclose, f.Index(i).String())
		}
	}
	if p := purpose; p.Type() == js.TypeString && p.String() != "custom" {
		o.Profile = p.String()
	}
	ms := nowMillis.Float()
	if math.IsNaN(ms) || ms < 0 || ms > 1e15 {
		return o, errors.New("wallet: bad clock value")
	}
	o.Now = time.UnixMilli(int64(ms))
	o.Lifetime = license.DefaultLifetime
	return o, nil
}

// Drafts wait here between draft and finish, while the page signs with a
// WebCrypto key. Few are ever open at once; the oldest go first.
var (
	drafts    = map[int]*license.Draft{}
	nextDraft = 1
)

const maxDrafts = 8

// draft(publicPEM, license, fields, purpose, nowMillis) -> {id, tbs: Uint8Array, alg, expires}
//
// For a device key the page holds as a non-extractable WebCrypto ECDSA
// P-256 key: sign tbs with {name: "ECDSA", hash: "SHA-256"} (WebCrypto's
// output is the raw r||s the presentation carries) and call finish.
func draft(args []js.Value) (map[string]any, error) {
	if len(args) != 5 || args[0].Type() != js.TypeString || len(args[0].String()) > 4096 {
		return nil, errors.New("wallet: draft(publicPEM, license, fields, purpose, nowMillis)")
	}
	pub, err := parsePublicPEM([]byte(args[0].String()))
	if err != nil {
		return nil, err
	}
	lic, o, err := licenseAndOptions(args[1:])
	if err != nil {
		return nil, err
	}
	d, err := license.NewDraft(lic, pub, o)
	if err != nil {
		return nil, err
	}
	id := nextDraft
	nextDraft++
	drafts[id] = d
	delete(drafts, id-maxDrafts)
	return map[string]any{"id": id, "tbs": bytesToJS(d.ToBeSigned()), "alg": float64(d.Algorithm()),
		"expires": float64(o.Now.Add(o.Lifetime).UnixMilli())}, nil
}

// finish(id, signature Uint8Array(64)) -> {payload}
func finish(args []js.Value) (map[string]any, error) {
	if len(args) != 2 || args[0].Type() != js.TypeNumber {
		return nil, errors.New("wallet: finish(id, signature)")
	}
	id := args[0].Int()
	d, ok := drafts[id]
	if !ok {
		return nil, errors.New("wallet: no such draft (made too long ago?); make a new one")
	}
	delete(drafts, id)
	sig, err := bytesFromJS(args[1], 64)
	if err != nil {
		return nil, err
	}
	payload, err := d.Finish(sig)
	if err != nil {
		return nil, err
	}
	return map[string]any{"payload": payload}, nil
}

// thumbprint(publicPEM) -> {thumbprint: hex}
func thumbprint(args []js.Value) (map[string]any, error) {
	if len(args) != 1 || args[0].Type() != js.TypeString || len(args[0].String()) > 4096 {
		return nil, errors.New("wallet: thumbprint(publicPEM)")
	}
	pub, err := parsePublicPEM([]byte(args[0].String()))
	if err != nil {
		return nil, err
	}
	th, err := license.Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	return map[string]any{"thumbprint": hex.EncodeToString(th)}, nil
}
