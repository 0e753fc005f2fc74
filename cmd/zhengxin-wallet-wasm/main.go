//go:build js && wasm

// Command zhengxin-wallet-wasm is the device-key module of the wallet page
// (/wallet), compiled to WebAssembly. It makes the holder's SM2 device key
// in the browser and signs presentations with it, using package license,
// so the wallet speaks exactly the format the verifier checks.
//
// It registers one global object, zxWallet, with:
//
//	newKey() -> {private: Uint8Array(32), public: Uint8Array (SubjectPublicKeyInfo DER), publicPEM, thumbprint: hex}
//	present(private, license, fields, purpose, nowMillis) -> {payload: string, expires: millis}
//	inspect(license) -> {id, type, fields: {key: text}}
//	draft(publicPEM, license, fields, purpose, nowMillis) -> {id, tbs, alg, expires}
//	finish(id, signature) -> {payload}
//	thumbprint(publicPEM) -> {thumbprint: hex}
//
// draft and finish serve a device key that is a non-extractable WebCrypto
// ECDSA P-256 key: Go prepares the bytes, the browser signs them.
//
// Each returns {error: "..."} instead of throwing when something is wrong.
//
// The private key is the raw 32-byte SM2 scalar, which the page keeps in
// IndexedDB. Unlike a WebCrypto key made with extractable:false, it can be
// read by any script running in the page's origin: the trade-off for SM2,
// which WebCrypto does not offer. docs/pages.md discusses it.
//
// Build with `go generate ./server`, which runs ./gen.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/emmansun/gmsm/sm2"

	"github.com/zhengxin/zhengxin/license"
)

func main() {
	w := js.Global().Get("Object").New()
	w.Set("newKey", js.FuncOf(guard(newKey)))
	w.Set("present", js.FuncOf(guard(present)))
	w.Set("inspect", js.FuncOf(guard(inspect)))
	w.Set("draft", js.FuncOf(guard(draft)))
	w.Set("finish", js.FuncOf(guard(finish)))
	w.Set("thumbprint", js.FuncOf(guard(thumbprint)))
	js.Global().Set("zxWallet", w)
	select {} // keep the functions alive for the page's lifetime
}

// guard turns errors and panics into {error: "..."} so a bad input never
// kills the module (a dead Go instance cannot be restarted without a reload).
func guard(f func(args []js.Value) (map[string]any, error)) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if r := recover(); r != nil {
				ret = map[string]any{"error": fmt.Sprint("wallet: internal error: ", r)}
			}
		}()
		m, err := f(args)
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		return m
	}
}

func bytesToJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func bytesFromJS(v js.Value, max int) ([]byte, error) {
	if v.Type() != js.TypeObject || v.Get("length").Type() != js.TypeNumber {
		return nil, errors.New("wallet: expected a Uint8Array")
	}
	n := v.Get("length").Int()
	if n > max {
		return nil, fmt.Errorf("wallet: %d bytes is over the limit of %d", n, max)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, v)
	return b, nil
}

func newKey(args []js.Value) (map[string]any, error) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("wallet: making the device key: %w", err)
	}
	d := make([]byte, 32)
	priv.D.FillBytes(d)
	th, err := license.Thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"private":    bytesToJS(d),
		"public":     bytesToJS(spki(&priv.PublicKey)),
		"publicPEM":  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki(&priv.PublicKey)})),
		"thumbprint": hex.EncodeToString(th),
	}, nil
}

func deviceKey(v js.Value) (*sm2.PrivateKey, error) {
	d, err := bytesFromJS(v, 32)
	if err != nil || len(d) != 32 {
		return nil, errors.New("wallet: the stored device key is not a 32-byte SM2 key; enrol the device again")
	}
	return sm2.NewPrivateKey(d)
}
