package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/zhengxin/zhengxin/datadir"
)

// defaultDir is where commands look without --dir: $ZHENGXIN_DIR, else
// ./zhengxin-data.
func (c *cli) defaultDir() string {
	if d := c.getenv("ZHENGXIN_DIR"); d != "" {
		return d
	}
	return "zhengxin-data"
}

// passphrase returns the key passphrase from ZHENGXIN_PASSPHRASE, or asks
// for it on the terminal. confirm asks twice (for new keys).
func (c *cli) passphrase(confirm bool) ([]byte, error) {
	if p := c.getenv("ZHENGXIN_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, withHint(errors.New("密钥需要口令，但没有终端可以询问 / the keys need a passphrase and there is no terminal to ask for it"),
			"set ZHENGXIN_PASSPHRASE (for a demo: zhengxin init --demo uses a fixed DEMO passphrase)")
	}
	fmt.Fprint(c.stderr, "密钥口令 Key passphrase: ")
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase: the keys must be encrypted")
	}
	if confirm {
		fmt.Fprint(c.stderr, "再输入一次 Again: ")
		q, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, errors.New("the two passphrases differ")
		}
	}
	return p, nil
}

// openDir opens the data directory. sign says whether the command will
// sign (and so needs the passphrase now).
func (c *cli) openDir(ctx context.Context, dir, db string, sign bool) (*datadir.Dir, error) {
	if db == "" {
		db = c.getenv("ZHENGXIN_DB")
	}
	d, err := datadir.Open(ctx, dir, datadir.OpenOptions{DB: db})
	if err != nil {
		return nil, err
	}
	if !testNow.IsZero() {
		d.Now = clock()
	}
	if sign {
		p, err := c.dirPassphrase(d)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.SetPassphrase(p)
	}
	return d, nil
}

// dirPassphrase is the passphrase of an open directory: a demo directory
// made without ZHENGXIN_PASSPHRASE uses the DEMO passphrase.
func (c *cli) dirPassphrase(d *datadir.Dir) ([]byte, error) {
	if p := c.getenv("ZHENGXIN_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	if d.Config.Demo {
		return []byte(datadir.DemoPassphrase), nil
	}
	return c.passphrase(false)
}

// clock is the time commands work at: time.Now, or testNow in the CLI
// tests, so that issuing, signing and verifying share one fixed clock.
func clock() func() time.Time {
	if t := testNow; !t.IsZero() {
		return func() time.Time { return t }
	}
	return time.Now
}

func absDir(d string) string {
	if a, err := filepath.Abs(d); err == nil {
		return a
	}
	return d
}
