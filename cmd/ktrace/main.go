// Command ktrace runs bpftrace-style tracing scripts, compiled to BPF in
// process: no LLVM, no kernel headers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ktrace/ktrace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var prog string
	var file string
	var params []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-e" && i+1 < len(args):
			prog = args[i+1]
			i++
		case file == "" && prog == "":
			file = a
		default:
			params = append(params, a)
		}
	}
	var p *ktrace.Program
	var err error
	opts := &ktrace.Options{Params: params, Warnings: stderr}
	if prog != "" {
		p, err = ktrace.Compile("stdin", []byte(prog), opts)
	} else {
		p, err = ktrace.CompileFile(file, opts)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	n := p.AttachPoints()
	if n == 1 {
		fmt.Fprintln(stderr, "Attaching 1 probe...")
	} else {
		fmt.Fprintf(stderr, "Attaching %d probes...\n", n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sess, err := p.Start(ctx, &ktrace.StartOptions{Output: stdout})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	select {
	case <-sess.Done():
	case <-ctx.Done():
	}
	if err := sess.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, err)
	}
	fmt.Fprint(stdout, "\n\n")
	sess.PrintMaps(stdout)
	code := sess.ExitCode()
	sess.Close()
	return code
}
