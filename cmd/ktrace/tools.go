package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"syscall"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/tools"
)

func dropcountCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dropcount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts tools.DropcountOptions
	var interval float64
	fs.StringVar(&opts.Probe, "probe", "tracepoint", "where to count drops: tracepoint, kprobe or kretprobe")
	fs.Float64Var(&interval, "i", 1, "seconds between reports")
	fs.Float64Var(&interval, "interval", 1, "seconds between reports")
	fs.IntVar(&opts.Count, "c", 0, "stop after this many reports (0: run until Ctrl-C)")
	fs.IntVar(&opts.Count, "count", 0, "stop after this many reports (0: run until Ctrl-C)")
	fs.IntVar(&opts.PID, "p", 0, "count only this process")
	fs.IntVar(&opts.PID, "pid", 0, "count only this process")
	fs.BoolVar(&opts.Reasons, "reasons", false, "break the counts down by drop reason")
	fs.BoolVar(&opts.JSON, "j", false, "print one JSON object per row")
	fs.BoolVar(&opts.JSON, "json", false, "print one JSON object per row")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: ktrace dropcount [--probe tracepoint|kprobe|kretprobe] [-i SECONDS] [-c COUNT] [-p PID] [--reasons] [-j]\n\n"+
			"Counts packet drops per process and prints PID COMM DROP_COUNTS every interval.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ktrace dropcount: unexpected argument %q\n", fs.Arg(0))
		return 1
	}
	if interval <= 0 {
		fmt.Fprintln(stderr, "ktrace dropcount: -i needs a positive number of seconds")
		return 1
	}
	if opts.Count < 0 {
		fmt.Fprintln(stderr, "ktrace dropcount: -c needs a positive count")
		return 1
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		fmt.Fprintln(stderr, "ktrace dropcount:", err)
		return 1
	}
	opts.Interval = time.Duration(interval * float64(time.Second))
	opts.Out = stdout
	opts.Started = func(int) {
		fmt.Fprintln(stderr, "Tracing packet drops... Hit Ctrl-C to end.")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := tools.Dropcount(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "ktrace dropcount:", err)
		return 1
	}
	return 0
}

// toolsCmd is `ktrace tools`: every ready tool, a line each.
func toolsCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ktrace tools: unexpected argument %q\n", args[0])
		return 2
	}
	type entry struct{ name, summary string }
	list := []entry{{"dropcount", "Count packet drops per process, by drop reason with --reasons (ktrace dropcount -h)"}}
	for _, t := range tools.All() {
		list = append(list, entry{t.Name, t.Summary})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	width := 0
	for _, e := range list {
		width = max(width, len(e.name))
	}
	for _, e := range list {
		fmt.Fprintf(stdout, "%-*s  %s\n", width, e.name, e.summary)
	}
	fmt.Fprintln(stdout, "\nRun ktrace TOOL -h for a tool's options, ktrace TOOL --script for the script it runs.")
	return 0
}

// toolCmd runs one tool: exit status 2 for a bad command line, 1 for
// other errors.
func toolCmd(t *tools.Tool, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := tools.Run(ctx, t, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, tools.ErrUsage):
		fmt.Fprintf(stderr, "ktrace %s: %v\n", t.Name, err)
		return 2
	}
	fmt.Fprintf(stderr, "ktrace %s: %v\n", t.Name, err)
	return 1
}

// commands are the subcommands other than the tools.
var commands = []string{"dropcount", "list", "info", "verify", "version", "help", "tools", "serve"}

// bareWord matches what can only be a command or tool name: a script file
// is run by its path, and a name without a dot or slash that is not a
// file is a mistyped command.
var bareWord = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// unknownCommand reports whether arg, the first argument, names neither a
// command nor a tool nor an existing script file.
func unknownCommand(arg string) bool {
	if !bareWord.MatchString(arg) {
		return false
	}
	_, err := os.Stat(arg)
	return errors.Is(err, fs.ErrNotExist)
}

// unknownCommandError says so, with the closest names.
func unknownCommandError(arg string) string {
	names := append([]string(nil), commands...)
	for _, t := range tools.All() {
		names = append(names, t.Name)
	}
	msg := fmt.Sprintf("ktrace: %q is not a tool, a command or a script file (ktrace tools lists the tools", arg)
	if s := suggest.Best(arg, names, 3); len(s) > 0 {
		return msg + "; did you mean " + suggest.Phrase("%s", s) + "?)"
	}
	return msg + ")"
}
