package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/verify"
)

// isRegularFile reports whether name is a file on disk (a script for -l),
// not a probe pattern.
func isRegularFile(name string) bool {
	fi, err := os.Stat(name)
	return name != "" && err == nil && fi.Mode().IsRegular()
}

// isNegativeNumber reports whether a is a number like -5, which getopt
// would take for an option but is meant as a positional parameter.
func isNegativeNumber(a string) bool {
	_, err := strconv.ParseInt(a, 0, 64)
	return len(a) > 1 && a[0] == '-' && err == nil
}

func scriptCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseScriptArgs(args)
	switch {
	case errors.Is(err, errHelp):
		io.WriteString(stdout, usage)
		return 0
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, "ktrace", version)
		return 0
	case errors.Is(err, errInfo):
		return printInfo(stdout, stderr)
	case err != nil:
		fmt.Fprintln(stderr, "ktrace:", err)
		var usageErr *usageError
		if errors.As(err, &usageErr) {
			io.WriteString(stderr, usage)
		}
		return 1
	}
	if len(o.debugDirs) > 0 {
		ktrace.SetDebugInfoDirs(o.debugDirs)
	}
	if o.traceableFunctions != "" {
		if err := kernel.UseKprobeFunctionsFile(o.traceableFunctions); err != nil {
			fmt.Fprintln(stderr, "ktrace: --traceable-functions:", err)
			return 1
		}
	}
	if o.list && !o.hasProgram && o.file == "" && len(o.params) > 0 && isRegularFile(o.params[0]) {
		// -l FILE lists the probes of the script in FILE.
		o.file, o.params = o.params[0], o.params[1:]
	}
	if o.list && !o.hasProgram && !isRegularFile(o.file) {
		pattern := o.file
		if len(o.params) > 0 {
			pattern = o.params[0]
		}
		return listProbes(pattern, o.verbose, o.pid, stdout, stderr)
	}
	if !o.hasProgram && o.file == "" {
		fmt.Fprint(stderr, "ktrace: no program given: use -e 'PROGRAM' or a file name (see ktrace --help)\n")
		return 1
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		fmt.Fprintln(stderr, "ktrace:", err)
		return 1
	}
	copts := &ktrace.Options{Params: o.params, Warnings: stderr, NamedParams: o.named, Unsafe: o.unsafe, FilterPID: o.pid, Includes: o.includes,
		CheckProbeReads: o.helperWarnings > 0, NoUprobeMulti: o.noUprobeMulti}
	if o.noWarnings {
		copts.Warnings = nil
	}
	if err := o.startChild(stdin, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "ERROR:", err)
		return 1
	}
	if o.childProc != nil {
		defer o.childProc.Terminate()
		copts.ChildPID = o.childProc.PID
	}
	var prog *ktrace.Program
	switch {
	case o.hasProgram:
		prog, err = ktrace.Compile("stdin", []byte(o.program), copts)
	case o.file == "-":
		var src []byte
		src, err = io.ReadAll(io.LimitReader(stdin, ktrace.MaxSourceSize+1))
		if err == nil {
			prog, err = ktrace.Compile("stdin", src, copts)
		}
	default:
		prog, err = ktrace.CompileFile(o.file, copts)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if o.list {
		// -l with a program lists the probes it attaches, wildcards
		// expanded, as bpftrace does.
		return listProgramProbes(prog, o.verbose, stdout, stderr)
	}
	if o.probeFilter != nil && prog.KeepProbes(func(p ktrace.Probe) bool { return o.probeFilter.MatchString(p.Name) }) == 0 {
		fmt.Fprintf(stderr, "ktrace: no probes to attach: none matches --probe-filter '%s'\n", o.probeFilter)
		return 1
	}
	if o.dump {
		dump(prog, stdout)
	}
	if o.dryRun {
		if err := prog.Load(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	out := stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			fmt.Fprintln(stderr, "ktrace:", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	if o.buffering == "full" {
		buf := bufio.NewWriterSize(out, 64<<10)
		defer buf.Flush()
		out = buf
	}
	return runProgram(prog, o, out, stderr)
}

// dump prints each program's instructions with the script lines they
// came from and, under the instructions they concern, the findings of
// ktrace's verifier.
func dump(prog *ktrace.Program, w io.Writer) {
	reports := prog.Verify()
	for _, bp := range prog.BPFPrograms() {
		fmt.Fprintf(w, "; program %s: %s\n", bp.Name, strings.Join(probesOf(prog, bp.Name), ", "))
		fmt.Fprint(w, annotateDisassembly(verify.Disassemble(bp.Spec.Instructions), reports[bp.Name]))
		fmt.Fprintln(w)
	}
}

// probesOf lists the attach points that run a BPF program.
func probesOf(prog *ktrace.Program, name string) []string {
	var points []string
	for _, p := range prog.Probes() {
		if p.Program == name {
			points = append(points, p.Name)
		}
	}
	return points
}

// runProgram runs a compiled program until it calls exit(), or until
// SIGINT or SIGTERM, then prints its maps as bpftrace does.
func runProgram(prog *ktrace.Program, o *scriptOptions, out, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGUSR1 runs the script's self:signal:SIGUSR1 probes; as in
	// bpftrace, it never ends ktrace, with or without such probes.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	sess, err := prog.Start(ctx, &ktrace.StartOptions{Output: out, Errors: stderr, Format: o.format, AnnounceProbes: !o.quiet, Child: o.childProc, NoWarnings: o.noWarnings})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer sess.Close()
	select {
	case <-sess.Done():
	case <-ctx.Done():
	}
	stop()
	code := 0
	if err := sess.Stop(); err != nil {
		fmt.Fprintln(stderr, "ktrace:", err)
		code = 1
	}
	if err := sess.PrintExit(); errors.Is(err, syscall.EPIPE) {
		// The reader of the output has gone (ktrace ... | head): it
		// wants no more, which is no error.
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "ktrace:", err)
		code = 1
	}
	if code == 0 {
		code = sess.ExitCode()
	}
	return code
}
