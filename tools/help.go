package tools

import (
	"fmt"
	"strings"
)

// Synopsis is the tool's usage line: ktrace NAME [OPTIONS] [ARGS].
func (t *Tool) Synopsis() string {
	var b strings.Builder
	b.WriteString("ktrace " + t.Name)
	for _, o := range t.options() {
		if o.long == "help" || o.long == "script" {
			continue
		}
		name := "--" + o.long
		if o.short != "" {
			name = "-" + o.short
		}
		if o.value != "" {
			name += " " + o.value
		}
		b.WriteString(" [" + name + "]")
	}
	switch {
	case t.Positional != "":
		b.WriteString(" " + t.Positional)
	case t.Common&Interval != 0:
		b.WriteString(" [interval [count]]")
	}
	return b.String()
}

// Help is what ktrace NAME -h prints.
func (t *Tool) Help(k *Kernel) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s\n", t.Synopsis(), t.Summary)
	if t.Description != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(t.Description))
	}
	if t.Caveat != nil && k != nil {
		if s := t.Caveat(k); s != "" {
			fmt.Fprintf(&b, "\nNote: %s\n", s)
		}
	}
	b.WriteString("\noptions:\n")
	for _, o := range t.options() {
		name := "    --" + o.long
		switch {
		case o.short != "" && o.long != "":
			name = "-" + o.short + ", --" + o.long
		case o.short != "":
			name = "-" + o.short
		}
		if o.value != "" {
			name += " " + o.value
		}
		fmt.Fprintf(&b, "  %-24s %s\n", name, o.help)
	}
	if t.Common&Interval != 0 && t.Positional == "" {
		fmt.Fprintf(&b, "  %-24s %s\n", "interval", "print a report every interval seconds (default: once, at the end)")
		fmt.Fprintf(&b, "  %-24s %s\n", "count", "stop after this many reports")
	}
	if len(t.Columns) > 0 {
		names, json := t.columnNames()
		fmt.Fprintf(&b, "\ncolumns: %s\n", strings.Join(names, " "))
		if len(json) > 0 {
			fmt.Fprintf(&b, "JSON adds: %s\n", strings.Join(json, " "))
		}
	}
	if len(t.Examples) > 0 {
		b.WriteString("\nexamples:\n")
		width := 0
		for _, e := range t.Examples {
			width = max(width, len(e.Command))
		}
		for _, e := range t.Examples {
			fmt.Fprintf(&b, "  ktrace %-*s  # %s\n", width, e.Command, e.What)
		}
	}
	return b.String()
}
