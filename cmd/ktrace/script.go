package main

import (
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
	"github.com/ktrace/ktrace/verify"
)

// scriptOptions are the flags of `ktrace [OPTIONS] FILE|-e PROGRAM`.
type scriptOptions struct {
	program    string
	hasProgram bool
	file       string
	params     []string
	list       bool
	verbose    bool
	quiet      bool
	output     string
	dump       bool
	dryRun     bool
	format     string
	noWarnings bool // --no-warnings
	// -c, -p, --unsafe and named program options (child.go).
	child     string
	hasChild  bool
	childProc *ktrace.Child
	pid       int
	unsafe    bool
	named     map[string]string
}

// parseScriptArgs parses bpftrace-style arguments the way getopt does:
// short flags may be combined (-lv) and options may come anywhere, also
// after the program (`-e PROG -q 5`); the first other argument is the
// script file unless -e gave the program, and the rest are positional
// parameters, as is everything after "--". A negative number is a
// parameter, not an option.
func parseScriptArgs(args []string) (*scriptOptions, error) {
	o := &scriptOptions{}
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") || isNegativeNumber(a) {
			operands = append(operands, a)
			continue
		}
		if strings.HasPrefix(a, "--") {
			switch name, _, _ := strings.Cut(a[2:], "="); name {
			case "dry-run":
				o.dryRun = true
			case "help":
				return nil, errHelp
			case "version":
				return nil, errVersion
			case "unsafe":
				o.unsafe = true
			case "no-warnings":
				o.noWarnings = true
			default:
				return nil, fmt.Errorf("unknown option %s (see ktrace --help)", a)
			}
			continue
		}
		flags := a[1:]
		for j := 0; j < len(flags); j++ {
			f := flags[j]
			needValue := func(what string) (string, error) {
				if rest := flags[j+1:]; rest != "" {
					j = len(flags)
					return rest, nil
				}
				if i+1 >= len(args) {
					return "", fmt.Errorf("option -%c needs %s", f, what)
				}
				i++
				return args[i], nil
			}
			switch f {
			case 'e':
				v, err := needValue("a program")
				if err != nil {
					return nil, err
				}
				o.program, o.hasProgram = v, true
			case 'o':
				v, err := needValue("a file name")
				if err != nil {
					return nil, err
				}
				o.output = v
			case 'l':
				o.list = true
			case 'v':
				o.verbose = true
			case 'q':
				o.quiet = true
			case 'd':
				o.dump = true
			case 'h':
				return nil, errHelp
			case 'V':
				return nil, errVersion
			case 'f':
				v, err := needValue("a format: text or json")
				if err != nil {
					return nil, err
				}
				if v != "text" && v != "json" {
					return nil, fmt.Errorf("unknown output format %q: use text or json", v)
				}
				o.format = v
			case 'p':
				v, err := needValue("a process id")
				if err != nil {
					return nil, err
				}
				if o.pid, err = parsePid(v); err != nil {
					return nil, err
				}
			case 'c':
				v, err := needValue("a command")
				if err != nil {
					return nil, err
				}
				o.child, o.hasChild = v, true
			default:
				return nil, fmt.Errorf("unknown option -%c (see ktrace --help)", f)
			}
		}
	}
	if len(operands) > 0 && !o.hasProgram && !o.list {
		o.file, operands = operands[0], operands[1:]
	}
	if err := o.programArgs(operands); err != nil {
		return nil, err
	}
	if err := o.checkChildOptions(); err != nil {
		return nil, err
	}
	return o, nil
}

// isRegularFile reports whether name is a file on disk (a script for -l),
// not a probe pattern.
func isRegularFile(name string) bool {
	fi, err := os.Stat(name)
	return name != "" && err == nil && fi.Mode().IsRegular()
}

// listProgramProbes prints the attach points of a compiled program, one
// per line; with verbose, each with its arguments.
func listProgramProbes(prog *ktrace.Program, verbose bool, stdout, stderr io.Writer) int {
	seen := map[string]bool{}
	for _, p := range prog.Probes() {
		name := p.Name
		if seen[name] {
			continue
		}
		seen[name] = true
		if verbose && !p.Kind.RunsOnce() {
			if rc := listProbes(name, true, stdout, stderr); rc != 0 {
				return rc
			}
			continue
		}
		fmt.Fprintln(stdout, name)
	}
	return 0
}

// isNegativeNumber reports whether a is a number like -5, which getopt
// would take for an option but is meant as a positional parameter.
func isNegativeNumber(a string) bool {
	_, err := strconv.ParseInt(a, 0, 64)
	return len(a) > 1 && a[0] == '-' && err == nil
}

var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
)

func scriptCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseScriptArgs(args)
	switch {
	case errors.Is(err, errHelp):
		io.WriteString(stdout, usage)
		return 0
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, "ktrace", version)
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "ktrace:", err)
		return 1
	}
	if o.list && !o.hasProgram && !isRegularFile(o.file) {
		pattern := o.file
		if len(o.params) > 0 {
			pattern = o.params[0]
		}
		return listProbes(pattern, o.verbose, stdout, stderr)
	}
	if !o.hasProgram && o.file == "" {
		fmt.Fprint(stderr, "ktrace: no program given: use -e 'PROGRAM' or a file name (see ktrace --help)\n")
		return 1
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		fmt.Fprintln(stderr, "ktrace:", err)
		return 1
	}
	copts := &ktrace.Options{Params: o.params, Warnings: stderr, NamedParams: o.named, Unsafe: o.unsafe, FilterPID: o.pid}
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
