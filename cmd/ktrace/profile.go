package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/tools"
)

// profileCmd is `ktrace profile`: it samples stacks and writes folded
// stacks or an SVG flame graph.
func profileCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts tools.ProfileOptions
	var seconds float64
	var folded bool
	var svg, title string
	fs.IntVar(&opts.Hz, "F", 99, "samples per second on each CPU")
	fs.IntVar(&opts.PID, "p", 0, "sample only this process")
	fs.IntVar(&opts.PID, "pid", 0, "sample only this process")
	fs.Float64Var(&seconds, "d", 0, "seconds to sample (0: until Ctrl-C)")
	fs.BoolVar(&folded, "folded", false, "write folded stacks (the default)")
	fs.StringVar(&svg, "svg", "", "write an interactive SVG flame graph to `FILE`")
	fs.StringVar(&title, "title", "", "the flame graph's title")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: ktrace profile [-F HZ] [-p PID] [-d SECONDS] [--folded | --svg FILE]\n\n"+
			"Samples kernel and user stacks on every CPU and writes them as folded stacks\n"+
			"(comm;frame;...;frame COUNT, outermost frame first; kernel frames end in _[k])\n"+
			"or as a self-contained interactive SVG flame graph.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "ktrace profile: unexpected argument %q\n", fs.Arg(0))
		return 1
	case folded && svg != "":
		fmt.Fprintln(stderr, "ktrace profile: --folded and --svg are alternatives: choose one")
		return 1
	case opts.Hz <= 0:
		fmt.Fprintln(stderr, "ktrace profile: -F needs a positive rate")
		return 1
	case seconds < 0:
		fmt.Fprintln(stderr, "ktrace profile: -d needs a positive number of seconds")
		return 1
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		fmt.Fprintln(stderr, "ktrace profile:", err)
		return 1
	}
	opts.Duration = time.Duration(seconds * float64(time.Second))
	opts.Started = func() {
		what := "every CPU"
		if opts.PID != 0 {
			what = fmt.Sprintf("PID %d", opts.PID)
		}
		if opts.Duration > 0 {
			fmt.Fprintf(stderr, "Sampling %s at %d Hz for %s...\n", what, opts.Hz, opts.Duration)
		} else {
			fmt.Fprintf(stderr, "Sampling %s at %d Hz... Hit Ctrl-C to end.\n", what, opts.Hz)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	samples, err := tools.Profile(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "ktrace profile:", err)
		return 1
	}
	if svg == "" {
		if err := flamegraph.WriteFolded(stdout, samples); err != nil {
			fmt.Fprintln(stderr, "ktrace profile:", err)
			return 1
		}
		return 0
	}
	var total uint64
	for _, s := range samples {
		total += s.Count
	}
	sub := fmt.Sprintf("%d samples at %d Hz", total, opts.Hz)
	if opts.PID != 0 {
		sub += fmt.Sprintf(", PID %d", opts.PID)
	}
	if title == "" {
		title = "ktrace profile"
	}
	f, err := os.Create(svg)
	if err == nil {
		err = flamegraph.WriteSVG(f, samples, flamegraph.SVGOptions{Title: title, Subtitle: sub + ", " + time.Now().Format("2006-01-02 15:04:05")})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ktrace profile:", strings.TrimPrefix(err.Error(), "open "))
		return 1
	}
	fmt.Fprintf(stderr, "Wrote %s (%d distinct stacks).\n", svg, len(samples))
	return 0
}
