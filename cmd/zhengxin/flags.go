package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags makes a flag set whose --help prints the command's usage text
// (with examples) to stdout and exits 0.
func newFlags(c *cli, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	h := &helpFlag{c: c, text: help, fs: fs}
	fs.Var(h, "help", "show help")
	fs.Var(h, "h", "show help")
	return fs
}

type helpFlag struct {
	c     *cli
	text  string
	fs    *flag.FlagSet
	shown bool
}

func (*helpFlag) String() string   { return "" }
func (*helpFlag) IsBoolFlag() bool { return true }
func (h *helpFlag) Set(string) error {
	h.shown = true
	fmt.Fprint(h.c.stdout, strings.TrimLeft(h.text, "\n"))
	var flags strings.Builder
	h.fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "help" || f.Name == "h" || f.Usage == "" {
			return // aliases without usage text stay out of the list
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(f.Usage, "(default") {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(&flags, "  --%-14s %s%s\n", f.Name, f.Usage, def)
	})
	if flags.Len() > 0 {
		fmt.Fprintf(h.c.stdout, "\nFlags:\n%s", flags.String())
	}
	return errHelpShown
}

// parseFlags parses args, allowing flags after positional arguments
// ("zhengxin verify x.pdf --json"), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if h, ok := fs.Lookup("help").Value.(*helpFlag); ok && h.shown {
				return nil, errHelpShown
			}
			return nil, withHint(fmt.Errorf("%s: %v", fs.Name(), err), "run \"zhengxin "+fs.Name()+" --help\" for the flags")
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError is a wrong invocation; hint points to --help.
func usageError(cmd, format string, args ...any) error {
	return withHint(fmt.Errorf(format, args...), "run \"zhengxin "+cmd+" --help\" for usage and examples")
}
