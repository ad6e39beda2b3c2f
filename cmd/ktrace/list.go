package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/listing"
)

// ktrace list (and -l): the one place the command reaches into ktrace's
// internals, for the lists of the running kernel's probes and types that
// internal/listing draws up.

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
	return listProbes(pattern, verbose, 0, stdout, stderr)
}

// listProbes prints what bpftrace -l prints for pattern (see
// internal/listing), warnings on stderr.
func listProbes(pattern string, verbose bool, pid int, stdout, stderr io.Writer) int {
	if strings.Contains(pattern, ".") && !strings.ContainsAny(pattern, ":*") {
		fmt.Fprintf(stderr, "WARNING: It appears that '%s' is a filename but the file does not exist. Treating '%s' as a search pattern.\n", pattern, pattern)
	}
	lines, err := listing.List(pattern, listing.Options{
		Verbose: verbose,
		PID:     pid,
		Warn:    func(msg string) { fmt.Fprintln(stderr, "WARNING:", msg) },
	})
	if err != nil {
		fmt.Fprintln(stderr, "ktrace list:", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	for _, l := range lines {
		w.WriteString(l + "\n")
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "ktrace list:", err)
		return 1
	}
	return 0
}

// listProgramProbes prints the attach points of a compiled program as
// bpftrace -l does, one per line; with verbose, each with its arguments.
func listProgramProbes(prog *ktrace.Program, verbose bool, stdout, stderr io.Writer) int {
	seen := map[string]bool{}
	w := bufio.NewWriter(stdout)
	for _, p := range prog.Probes() {
		for _, line := range listing.AttachPoint(p.Name, verbose) {
			// An attach point's arguments follow it once, under it.
			if !strings.HasPrefix(line, " ") {
				if seen[line] {
					break
				}
				seen[line] = true
			}
			w.WriteString(line + "\n")
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "ktrace:", err)
		return 1
	}
	return 0
}
