//go:build js && wasm

package main

import (
	"encoding/base64"
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
	if args[1].Type() != js.TypeString || len(args[1].String()) > maxLicense {
		return nil, errors.New("wallet: the license must be the base64 holder copy")
	}
	lic, err := base64.StdEncoding.DecodeString(args[1].String())
	if err != nil {
		return nil, errors.New("wallet: the license is not valid base64")
	}
	o := license.PresentOptions{}
	if f := args[2]; f.Type() == js.TypeObject {
		n := f.Get("length").Int()
		if n > 64 {
			return nil, errors.New("wallet: too many fields to disclose")
		}
		o.Disclose = make([]string, 0, n)
		for i := 0; i < n; i++ {
			if f.Index(i).Type() != js.TypeString {
				return nil, errors.New("wallet: field keys must be strings")
			}
			o.Disclose = append(o.Disclose, f.Index(i).String())
		}
	}
	if p := args[3]; p.Type() == js.TypeString && p.String() != "custom" {
		o.Profile = p.String()
	}
	ms := args[4].Float()
	if math.IsNaN(ms) || ms < 0 || ms > 1e15 {
		return nil, errors.New("wallet: bad clock value")
	}
	o.Now = time.UnixMilli(int64(ms))
	o.Lifetime = license.DefaultLifetime
	payload, err := license.MakePresentationWith(lic, key, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"payload": payload, "expires": float64(o.Now.Add(o.Lifetime).UnixMilli())}, nil
}
