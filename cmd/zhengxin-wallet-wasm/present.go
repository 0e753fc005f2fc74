//go:build js && wasm

package main

import (
	"errors"
	"syscall/js"
)

// present(private, license, fields, purpose, nowMillis) -> {payload, expires}
func present(args []js.Value) (map[string]any, error) {
	return nil, errors.New("wallet: presentations are not available in this build (package license has no MakePresentation yet)")
}
