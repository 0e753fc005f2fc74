// Command zhengxin is the one binary of Zhengxin (证信): an SM2/SM3 trust
// service for government e-licenses (电子证照), e-seals (电子印章) and holder
// identity.
//
// Usage:
//
//	zhengxin <command> [flags]
//
// Each command lives in its own file; this one holds dispatch, the error
// grammar and the exit codes. Errors go to stderr as one line,
// "zhengxin: <what went wrong>: <why>", with an optional "zhengxin: hint: ..."
// line; never a stack trace.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `zhengxin (证信) — e-licenses, e-seals and holder identity on SM2/SM3/SM4

Usage:
  zhengxin <command> [flags]

Commands:
  init      create a data directory: root CA, agency CA, signer and seal keys
            创建数据目录：根CA、机构CA、签发与印章密钥
  ca        certificates: chain, agency add, cert issue/revoke, crl, trust-list
            证书管理
  license   e-licenses: issue (one, or --csv in bulk), list, show, qr, pdf, status
            电子证照：签发、查询、二维码、PDF、状态变更
  holder    holder keys and presentations (for tests and scripted holders)
            持证人设备密钥与出示码
  seal      e-seals (GB/T 38540): make, show, list
            电子印章：制作、查看、列表
  pdf       sign any PDF with SM2 and a visible seal; add a document timestamp
            PDF 签章与文档时间戳
  verify    verify a QR payload, a QR picture, a signed PDF or a seal file
            验证二维码、图片、PDF 或印章文件
  audit     check the hash-chained audit log
            校验审计日志哈希链
  serve     run the HTTP service and the pages
            启动 HTTP 服务与页面
  demo      make a demo data directory if absent, then serve
            一键演示
  bench     measure the speed goals against SM2/SM3 baselines in one run
            性能测量

Run "zhengxin <command> --help" for the flags and examples of a command.

Exit codes: 0 success; 1 failure. verify: 0 PASSED, 1 FAILED,
2 INDETERMINATE, 3 could not run.
`

var commands = map[string]func(args []string, env *cli) error{}

// cli carries the process's streams so the commands are testable.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	os.Exit(run(os.Args[1:], &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

func run(args []string, c *cli) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			if f, ok := commands[args[1]]; ok {
				return c.exit(f([]string{"--help"}, c))
			}
		}
		fmt.Fprint(c.stdout, usage)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(c.stdout, "zhengxin", version)
		return 0
	}
	f, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "zhengxin: unknown command %q: run \"zhengxin --help\" for the list\n", args[0])
		return 1
	}
	return c.exit(f(args[1:], c))
}

var version = "0.1.0-dev"

// exitError carries an exit code other than 1 (verify's verdict codes, or 0
// after --help).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// hintError adds a hint line to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err, hint} }

// errHelpShown is returned by a command's flag parsing after --help.
var errHelpShown = &exitError{code: 0}

func (c *cli) exit(err error) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
		err = ee.err
	}
	fmt.Fprintf(c.stderr, "zhengxin: %s\n", oneLine(err.Error()))
	var he *hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(c.stderr, "zhengxin: hint: %s\n", he.hint)
	}
	return code
}

// oneLine keeps the error grammar: one line, no trailing period.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.TrimSpace(s)
}
