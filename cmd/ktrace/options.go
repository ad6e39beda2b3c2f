package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ktrace/ktrace"
)

// The options of `ktrace [OPTIONS] FILE|-e PROGRAM`, bpftrace's: each
// with its short and long forms as bpftrace spells them, so that a
// bpftrace command line runs unchanged. Options ktrace cannot honour are
// still known, and refused with the reason rather than as unknown.

// scriptOptions are the parsed options.
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
	// helperWarnings counts -k: bpftrace's warnings for failed probe
	// reads and map lookups.
	helperWarnings int
	// includes are --include's headers; includeDirs -I's directories,
	// which ktrace, reading no header, never searches.
	includes    []string
	includeDirs []string
	// probeFilter is --probe-filter's regular expression.
	probeFilter *regexp.Regexp
	// buffering is -B: "full" holds the output until 64 KiB gather or
	// the program ends; "none" and "line" (the default) write it out as
	// soon as the events that arrived are handled, which is at least at
	// every line.
	buffering string
	// debugDirs are --debuginfo's directories (ktrace.SetDebugInfoDirs).
	debugDirs []string
	// traceableFunctions is --traceable-functions' file.
	traceableFunctions string
	// noUprobeMulti is --no-feature uprobe_multi.
	noUprobeMulti bool
	// -c, -p, --unsafe and named program options (child.go).
	child     string
	hasChild  bool
	childProc *ktrace.Child
	pid       int
	unsafe    bool
	named     map[string]string
}

// scriptOption is one command-line option.
type scriptOption struct {
	short byte   // its one-letter form, 0 if none
	long  string // its --long form, "" if none
	// value says what the option's argument is ("a file name"); "" for
	// a flag.
	value string
	// apply records the option; v is its argument ("" for a flag).
	apply func(o *scriptOptions, v string) error
}

// name is how messages name the option: its short form if it has one.
func (opt *scriptOption) name() string {
	if opt.short != 0 {
		return "-" + string(opt.short)
	}
	return "--" + opt.long
}

var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
	errInfo    = errors.New("info")
)

// usageError is a malformed command line: its message is followed by
// the usage, as bpftrace does.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// notSupported refuses an option of bpftrace that ktrace cannot honour.
func notSupported(why string) func(*scriptOptions, string) error {
	return func(o *scriptOptions, _ string) error { return errors.New(why) }
}

// scriptOptionTable lists bpftrace's options in the order of its usage
// text.
var scriptOptionTable = []scriptOption{
	{short: 'e', value: "a program", apply: func(o *scriptOptions, v string) error {
		o.program, o.hasProgram = v, true
		return nil
	}},
	{short: 'l', long: "list", apply: func(o *scriptOptions, _ string) error { o.list = true; return nil }},
	{short: 'v', long: "verbose", apply: func(o *scriptOptions, _ string) error { o.verbose = true; return nil }},
	{short: 'h', long: "help", apply: func(*scriptOptions, string) error { return errHelp }},
	{short: 'V', long: "version", apply: func(*scriptOptions, string) error { return errVersion }},
	{long: "info", apply: func(*scriptOptions, string) error { return errInfo }},

	{short: 'p', long: "pid", value: "a process id", apply: func(o *scriptOptions, v string) (err error) {
		o.pid, err = parsePid(v)
		return err
	}},
	{short: 'c', long: "cmd", value: "a command", apply: func(o *scriptOptions, v string) error {
		o.child, o.hasChild = v, true
		return nil
	}},
	{long: "dwarf-pid", value: "a process id", apply: notSupported(
		"--dwarf-pid: ktrace has no DWARF stack unwinder (bpftrace's dw_ustack), so there is no process to add to it; ustack is the kernel's frame-pointer walk")},
	{long: "usdt-file-activation", apply: func(*scriptOptions, string) error {
		return nil // ktrace always activates semaphores by file: see usage
	}},

	{short: 'o', long: "output", value: "a file name", apply: func(o *scriptOptions, v string) error { o.output = v; return nil }},
	{short: 'f', value: "a format: text or json", apply: func(o *scriptOptions, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("unknown output format %q: use text or json", v)
		}
		o.format = v
		return nil
	}},
	{short: 'B', value: "a buffering mode", apply: func(o *scriptOptions, v string) error {
		switch v {
		case "none", "line", "full":
			o.buffering = v
			return nil
		}
		return fmt.Errorf("-B: the buffering mode must be none, line or full, not %q", v)
	}},
	{short: 'q', long: "quiet", apply: func(o *scriptOptions, _ string) error { o.quiet = true; return nil }},
	{short: 'k', long: "warnings", apply: func(o *scriptOptions, _ string) error {
		o.helperWarnings++
		if o.helperWarnings > 1 {
			return errors.New("-kk is no longer supported (as in bpftrace): use a single -k")
		}
		return nil
	}},
	{long: "no-warnings", apply: func(o *scriptOptions, _ string) error { o.noWarnings = true; return nil }},

	{short: 'I', value: "a directory", apply: func(o *scriptOptions, v string) error {
		o.includeDirs = append(o.includeDirs, v)
		return nil
	}},
	{long: "include", value: "a header name", apply: func(o *scriptOptions, v string) error {
		o.includes = append(o.includes, v)
		return nil
	}},
	{long: "debuginfo", value: "a directory list", apply: func(o *scriptOptions, v string) error {
		for _, d := range strings.Split(v, ":") {
			if d != "" {
				o.debugDirs = append(o.debugDirs, d)
			}
		}
		return nil
	}},
	{long: "traceable-functions", value: "a file name", apply: func(o *scriptOptions, v string) error {
		o.traceableFunctions = v
		return nil
	}},

	{long: "unsafe", apply: func(o *scriptOptions, _ string) error { o.unsafe = true; return nil }},
	{long: "no-feature", value: "a feature list", apply: func(o *scriptOptions, v string) error {
		// ktrace uses no kprobe_multi or kprobe_session links, so those
		// stay disabled; uprobe_multi links it uses where the kernel has
		// them.
		for _, f := range strings.Split(v, ",") {
			if !slices.Contains([]string{"kprobe_multi", "kprobe_session", "uprobe_multi"}, f) {
				return fmt.Errorf("--no-feature can only have values 'kprobe_multi,kprobe_session,uprobe_multi', not %q", f)
			}
			if f == "uprobe_multi" {
				o.noUprobeMulti = true
			}
		}
		return nil
	}},

	{short: 'b', long: "btf", apply: func(*scriptOptions, string) error {
		return nil // bpftrace ignores it too: BTF is used whenever the kernel has it
	}},

	{long: "probe-filter", value: "a regular expression", apply: func(o *scriptOptions, v string) (err error) {
		if o.probeFilter, err = regexp.Compile(v); err != nil {
			return fmt.Errorf("invalid --probe-filter regex '%s': %v", v, err)
		}
		return nil
	}},
	{long: "mode", value: "a mode", apply: notSupported("--mode: ktrace has no test, bench, codegen or format mode")},
	{long: "test", apply: notSupported("--test: ktrace does not run test: probes")},
	{long: "bench", apply: notSupported("--bench: ktrace does not run bench: probes")},
	{long: "fmt", apply: notSupported("--fmt: ktrace has no script formatter")},

	{long: "dry-run", apply: func(o *scriptOptions, _ string) error { o.dryRun = true; return nil }},
	{short: 'd', apply: func(o *scriptOptions, _ string) error { o.dump = true; return nil }},
	{long: "debug", value: "a stage", apply: notSupported(
		"--debug: ktrace has no debug stages; -d (without a stage) prints the BPF instructions with the verifier's findings")},
	{long: "verify-llvm-ir", apply: notSupported("--verify-llvm-ir: ktrace generates no LLVM IR")},
	{long: "emit-elf", value: "a file name", apply: notSupported("--emit-elf: ktrace does not write ELF files; -d prints the BPF instructions")},
	{long: "emit-llvm", value: "a file name", apply: notSupported("--emit-llvm: ktrace generates no LLVM IR")},
}

// lookupLong finds the option --name, or the one option whose long form
// starts with name, as getopt_long allows.
func lookupLong(name string) (*scriptOption, error) {
	var matches []*scriptOption
	for i := range scriptOptionTable {
		opt := &scriptOptionTable[i]
		if opt.long == "" {
			continue
		}
		if opt.long == name {
			return opt, nil
		}
		if name != "" && strings.HasPrefix(opt.long, name) {
			matches = append(matches, opt)
		}
	}
	switch len(matches) {
	case 0:
		return nil, usagef("unknown option --%s", name)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = "--" + m.long
	}
	return nil, usagef("option --%s is ambiguous: %s", name, strings.Join(names, ", "))
}

func lookupShort(c byte) (*scriptOption, error) {
	for i := range scriptOptionTable {
		if opt := &scriptOptionTable[i]; opt.short == c {
			return opt, nil
		}
	}
	return nil, usagef("unknown option -%c", c)
}

// parseScriptArgs parses bpftrace-style arguments the way getopt_long
// does: short flags may be combined (-lv, -vo FILE, -oFILE), long ones
// take their value as --opt=VALUE or --opt VALUE, and options may come
// anywhere, also after the program (`-e PROG -q 5`); the first other
// argument is the script file unless -e gave the program, and the rest
// are positional parameters, as is everything after "--". A negative
// number is a parameter, not an option.
func parseScriptArgs(args []string) (*scriptOptions, error) {
	o := &scriptOptions{}
	var operands []string
	// takeValue returns the next argument as opt's value.
	i := 0
	takeValue := func(opt *scriptOption) (string, error) {
		if i+1 >= len(args) {
			return "", usagef("option %s needs %s", opt.name(), opt.value)
		}
		i++
		return args[i], nil
	}
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
			continue
		case a == "-" || !strings.HasPrefix(a, "-") || isNegativeNumber(a):
			operands = append(operands, a)
			continue
		case strings.HasPrefix(a, "--"):
			name, v, hasValue := strings.Cut(a[2:], "=")
			opt, err := lookupLong(name)
			if err != nil {
				return nil, err
			}
			switch {
			case opt.value == "" && hasValue:
				return nil, usagef("option --%s takes no value", opt.long)
			case opt.value != "" && !hasValue:
				if v, err = takeValue(opt); err != nil {
					return nil, err
				}
			}
			if err := opt.apply(o, v); err != nil {
				return nil, err
			}
			continue
		}
		flags := a[1:]
		for j := 0; j < len(flags); j++ {
			opt, err := lookupShort(flags[j])
			if err != nil {
				return nil, err
			}
			var v string
			if opt.value != "" {
				// The rest of the cluster is the value (-oFILE), else
				// the next argument.
				if v = flags[j+1:]; v == "" {
					if v, err = takeValue(opt); err != nil {
						return nil, err
					}
				}
				j = len(flags)
			}
			if err := opt.apply(o, v); err != nil {
				return nil, err
			}
		}
	}
	if o.helperWarnings > 0 && o.noWarnings {
		return nil, errors.New("-k (--warnings) conflicts with --no-warnings")
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
