package tools

import (
	_ "embed"
	"fmt"

	"github.com/ktrace/ktrace/internal/resolve"
)

//go:embed scripts/bashreadline.bt
var bashreadlineScript string

// Bashreadline prints the commands bash reads from its users: BCC's
// bashreadline.
var Bashreadline = &Tool{
	Name:    "bashreadline",
	Summary: "Print the command lines typed into bash, system-wide",
	Description: `Prints each line an interactive bash reads with readline(), as readline
returns it: the time, bash's PID and the command line.`,
	Common: Cgroup,
	Flags: []Flag{
		{Short: "s", Long: "shared", Kind: String, Value: "PATH", Help: "the libreadline.so (or bash binary) that has readline()"},
	},
	Script: bashreadlineScript,
	Header: "Tracing bash commands... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMMAND", Expr: "str(retval, 80)", Kind: Text},
	},
	Check: func(c *Config) error {
		// The time column is always there, as BCC prints it.
		c.Timestamp = "T"
		if p := c.String("shared"); p != "" {
			if !specLibrary.MatchString(p) {
				return fmt.Errorf("-s %s: not a usable path", p)
			}
			if found, err := resolve.List("uprobe:" + p + ":readline"); err != nil || len(found) == 0 {
				return fmt.Errorf("-s %s: no readline() there", p)
			}
			c.Flags["binary"] = p
			return nil
		}
		// Debian's bash has its own readline; other builds link
		// libreadline.
		c.Flags["binary"] = "libreadline"
		if found, err := resolve.List("uprobe:/bin/bash:readline"); err == nil && len(found) > 0 {
			c.Flags["binary"] = "/bin/bash"
		}
		return nil
	},
	Examples: []Example{
		{"bashreadline", "print the commands typed into bash"},
		{"bashreadline -s /usr/lib/x86_64-linux-gnu/libreadline.so.8", "a bash that links this libreadline"},
		{"bashreadline -C", "with each bash's cgroup (its container or service)"},
	},
	Probes:    "uretprobe:/bin/bash:readline, uretprobe:libreadline:readline",
	MinKernel: "4.7",
}
