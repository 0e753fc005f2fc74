// Command gen builds the wallet's WebAssembly module and copies the Go
// runtime's JavaScript glue next to it, for server/web/static. It is run by
// `go generate ./server` (see server/pages.go):
//
//	go run ../cmd/zhengxin-wallet-wasm/gen -out web/static
//
// It writes wallet.wasm (GOOS=js GOARCH=wasm, -trimpath -ldflags="-s -w"),
// wasm_exec.js (from $(go env GOROOT)/lib/wasm) and wallet.wasm.sum, which
// records the Go version, the SHA-256 of both files and a hash of the
// module's sources, so a test can tell a stale committed module without
// rebuilding it (a build takes a minute on a cold cache):
//
//	go run ../cmd/zhengxin-wallet-wasm/gen -check -out web/static
//
// exits 1 when the sources of the module's package closure (this module's
// files, other modules' versions) differ from the ones it was built from,
// or when the committed files are not the ones the sum names.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func main() {
	out := flag.String("out", "web/static", "directory to write wallet.wasm, wasm_exec.js and wallet.wasm.sum into")
	pkg := flag.String("pkg", "github.com/zhengxin/zhengxin/cmd/zhengxin-wallet-wasm", "package to build")
	check := flag.Bool("check", false, "do not build: exit 1 if the committed module is stale")
	flag.Parse()
	if *check {
		if err := checkFresh(*out, *pkg); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, pkg string) error {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	wasmPath := filepath.Join(out, "wallet.wasm")
	tmp := wasmPath + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", tmp, pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building %s for js/wasm: %w", pkg, err)
	}
	if err := os.Rename(tmp, wasmPath); err != nil {
		return err
	}
	glue, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("reading the Go runtime's wasm_exec.js: %w", err)
	}
	if err := writeFile(filepath.Join(out, "wasm_exec.js"), glue); err != nil {
		return err
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	src, err := sourceHash(pkg)
	if err != nil {
		return err
	}
	var sum bytes.Buffer
	fmt.Fprintf(&sum, "go %s\n", runtime.Version())
	fmt.Fprintf(&sum, "source %s\n", src)
	fmt.Fprintf(&sum, "wallet.wasm %x\n", sha256.Sum256(wasm))
	fmt.Fprintf(&sum, "wasm_exec.js %x\n", sha256.Sum256(glue))
	return writeFile(filepath.Join(out, "wallet.wasm.sum"), sum.Bytes())
}

// writeFile writes through a temporary file and a rename, so an
// interrupted run never leaves half a file to be embedded.
func writeFile(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// sourceHash hashes what the js/wasm build of pkg is made from: for each
// package of its closure, in go list's deterministic order, the contents of
// this module's Go and embedded files, or another module's path@version, or
// a standard package's import path (the Go version is recorded apart: a new
// toolchain alone does not make the committed pair of wasm and glue stale).
func sourceHash(pkg string) (string, error) {
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Standard,Module", pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	h := sha256.New()
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Dir     string
			GoFiles, EmbedFiles []string
			Standard            bool
			Module              *struct {
				Path, Version string
				Main          bool
			}
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", err
		}
		switch {
		case p.Standard:
			fmt.Fprintf(h, "std %s\n", p.ImportPath)
		case p.Module != nil && !p.Module.Main:
			fmt.Fprintf(h, "mod %s %s@%s\n", p.ImportPath, p.Module.Path, p.Module.Version)
		default:
			files := append(append([]string{}, p.GoFiles...), p.EmbedFiles...)
			sort.Strings(files)
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(p.Dir, f))
				if err != nil {
					return "", err
				}
				fmt.Fprintf(h, "file %s/%s %x\n", p.ImportPath, f, sha256.Sum256(b))
			}
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func checkFresh(out, pkg string) error {
	sum, err := os.ReadFile(filepath.Join(out, "wallet.wasm.sum"))
	if err != nil {
		return fmt.Errorf("no wallet.wasm.sum: run go generate ./server: %w", err)
	}
	rec := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sum)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		rec[k] = v
	}
	for _, f := range []string{"wallet.wasm", "wasm_exec.js"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			return err
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != rec[f] {
			return fmt.Errorf("%s is not the file wallet.wasm.sum names (sha256 %s, want %s): run go generate ./server", f, got, rec[f])
		}
	}
	src, err := sourceHash(pkg)
	if err != nil {
		return err
	}
	if src != rec["source"] {
		return fmt.Errorf("wallet.wasm is stale: its sources changed since it was built with %s; run go generate ./server and commit server/web/static", rec["go"])
	}
	return nil
}
