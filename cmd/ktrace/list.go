package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ktrace/ktrace/internal/resolve"
)

// ktrace list (and -l): the one place the command reaches into ktrace's
// internals, for the lists of the running kernel's probes and types that
// internal/resolve keeps.

func listCmd(args []string, stdout, stderr io.Writer) int {
	verbose := false
	pattern := ""
	for _, a := range args {
		switch {
		case a == "-v":
			verbose = true
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(stderr, "ktrace list: unknown option %s\n", a)
			return 1
		case pattern != "":
			fmt.Fprintln(stderr, "ktrace list: only one pattern at a time")
			return 1
		default:
			pattern = a
		}
	}
	return listProbes(pattern, verbose, stdout, stderr)
}

// listProbes prints one type:name per line, like bpftrace -l. With -v, a
// struct prints as C and a kernel function's probes with their
// parameters.
func listProbes(pattern string, verbose bool, stdout, stderr io.Writer) int {
	var lines []string
	var err error
	if verbose {
		if text, handled, err := listKernelTypes(pattern); handled {
			if err != nil {
				fmt.Fprintln(stderr, "ktrace list:", err)
				return 1
			}
			io.WriteString(stdout, text)
			return 0
		}
	}
	if verbose {
		lines, err = resolve.ListVerbose(pattern)
	} else {
		lines, err = resolve.List(pattern)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ktrace list:", err)
		return 1
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return 0
}

// listKernelTypes answers `list -v 'struct X'` and `list -v fentry:FUNC`
// (also fexit and kprobe) from BTF; handled is false for other patterns.
func listKernelTypes(pattern string) (text string, handled bool, err error) {
	kt := resolve.NewKernelTypes(64)
	if strings.HasPrefix(pattern, "struct ") || strings.HasPrefix(pattern, "union ") {
		text, err := kt.FormatStruct(pattern)
		return text, true, err
	}
	kind, fn, ok := strings.Cut(pattern, ":")
	if !ok || strings.ContainsAny(fn, "*?:") {
		return "", false, nil
	}
	var withRet bool
	switch kind {
	case "fentry", "kfunc", "f", "kprobe", "k":
	case "fexit", "kretfunc", "fr":
		withRet = true
	default:
		return "", false, nil
	}
	lines, err := kt.FormatFunc(fn, withRet)
	if err != nil {
		return "", true, err
	}
	var b strings.Builder
	b.WriteString(pattern + "\n")
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String(), true, nil
}
