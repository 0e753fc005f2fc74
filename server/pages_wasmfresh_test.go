package server

import (
	"os/exec"
	"testing"
)

// The committed wallet.wasm must be built from the current sources of its
// package closure (cmd/zhengxin-wallet-wasm, package license, ...): the gen
// tool compares the source hash recorded by `go generate ./server` with a
// fresh one, and the committed files with the hashes in wallet.wasm.sum.
// Rebuilding instead would take a minute on a cold build cache.
func TestPagesWasmFresh(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("pages: no go command on PATH to check wallet.wasm freshness")
	}
	out, err := exec.Command("go", "run", "../cmd/zhengxin-wallet-wasm/gen", "-check", "-out", "web/static").CombinedOutput()
	if err != nil {
		t.Fatalf("%s(%v)", out, err)
	}
}
