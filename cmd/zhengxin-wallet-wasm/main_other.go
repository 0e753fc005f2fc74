//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// On any other platform the command only says how it is meant to be built,
// so `go build ./...` and `go vet ./...` keep working on the host.
func main() {
	fmt.Fprintln(os.Stderr, "zhengxin-wallet-wasm: this is the wallet page's WebAssembly module; build it with `go generate ./server` (GOOS=js GOARCH=wasm)")
	os.Exit(2)
}
