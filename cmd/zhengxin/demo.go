package main

import (
	"fmt"

	"github.com/zhengxin/zhengxin/datadir"
)

const demoHelp = `Usage: zhengxin demo [--dir D] [--addr A]

Make a demo data directory if there is none (a DEMO root and agency CA, a
default seal and a sample license of every type; keys under the public DEMO
passphrase), then serve it and print the three page URLs and the DEMO
logins. 一键演示：创建演示数据目录并启动服务。

Examples:
  go run ./cmd/zhengxin demo
  zhengxin demo --dir /tmp/zx-demo --addr 127.0.0.1:8090

Exit codes: 0 stopped cleanly; 1 failure.
`

func init() { commands["demo"] = cmdDemo }

func cmdDemo(args []string, c *cli) error {
	fs := newFlags(c, "demo", demoHelp)
	dir := fs.String("dir", c.defaultDir(), "data directory (made if absent)")
	addr := fs.String("addr", "", "listen address (default 127.0.0.1:8080)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("demo", "unexpected argument %q", pos[0])
	}
	if !datadir.Exists(*dir) {
		if err := cmdInit([]string{"--dir", *dir, "--demo"}, c); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.stdout, "使用已有数据目录 Using the data directory %s\n", absDir(*dir))
	}
	return c.serve(*dir, *addr, "", false, true)
}
