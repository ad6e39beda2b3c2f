// Package ktrace compiles and runs bpftrace-style tracing scripts in pure
// Go: no LLVM, no kernel headers, no cgo.
//
// A script goes through Compile (parse, type-check, generate BPF) and
// Program.Start (load, attach, run BEGIN). The Session it returns reads the
// script's maps as Go values, delivers its printf output, and Stop
// detaches everything and runs END:
//
//	prog, err := ktrace.Compile("drops.bt", []byte(`tracepoint:skb:kfree_skb { @[pid, comm] = count(); }`), nil)
//	sess, err := prog.Start(ctx, nil)
//	defer sess.Close()
//	time.Sleep(time.Second)
//	m, err := sess.Map("@")
//
// The ktrace command is a thin layer over this package.
package ktrace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

// Options tune compilation.
type Options struct {
	// Params are the positional parameters $1, $2, ...
	Params []string
	// Warnings, if set, receives non-fatal diagnostics.
	Warnings io.Writer
	// NamedParams are the values getopt() reads, by name: bpftrace's
	// "-- --name=value" (a bare --name is "true"). A name no getopt() in
	// the script reads is an error.
	NamedParams map[string]string
	// Unsafe allows functions with side effects beyond tracing: system()
	// and signal() (bpftrace's --unsafe).
	Unsafe bool
	// ChildPID is the value of cpid: the process started for the script,
	// usually with StartChild (bpftrace's -c). Without it, cpid is an
	// error.
	ChildPID int
	// FilterPID, when positive, makes every probe except BEGIN and END
	// fire only in that process; interval probes count that process's CPU
	// time (bpftrace's -p). The session ends when the process does.
	FilterPID int
}

// Program is a compiled script, ready to Start.
type Program struct {
	file     *lang.File
	ast      *ast.Program
	compiled *compile.Program
	opts     Options
	types    *resolve.KernelTypes // kernel BTF, decoded only if the script used it
	commOff  int                  // task_struct.comm offset when comm reads through task BTF
}

// MaxSourceSize bounds the script size; larger input is rejected before
// parsing.
const MaxSourceSize = 1 << 20

// ErrEmptyProgram is returned for a script with nothing in it.
var ErrEmptyProgram = errors.New("empty program: nothing to run")

// Compile parses, checks and compiles a script. name is used in error
// positions ("stdin" for -e programs, as bpftrace does). Errors are
// lang.ErrorList values that print file:line:col, the line and a caret.
func Compile(name string, src []byte, opts *Options) (*Program, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(src) > MaxSourceSize {
		return nil, fmt.Errorf("%s: program is too large (%d bytes, at most %d)", name, len(src), MaxSourceSize)
	}
	if isBlank(src) {
		return nil, fmt.Errorf("%s: %w", name, ErrEmptyProgram)
	}
	if !isText(src) {
		return nil, fmt.Errorf("%s: this is not a ktrace script: it contains binary data", name)
	}
	file := lang.NewFile(name, src)
	tree, err := parser.Parse(file)
	if err != nil {
		return nil, err
	}
	cfg := types.Config{Params: opts.Params}
	if err := opts.funcsConfig(name, tree, &cfg); err != nil {
		return nil, err
	}
	// BPFTRACE_* environment variables override the config block, as in
	// bpftrace: they are checked as config items that come last.
	tree.Config = append(tree.Config, envConfig(os.Environ())...)
	for _, item := range tree.Config {
		if configKey(item.Key) == "max_strlen" {
			if lit, ok := item.Value.(*ast.IntLit); ok && lit.Value > 0 && lit.Value <= 1024 {
				cfg.MaxStrlen = int(lit.Value)
			}
		}
	}
	if cfg.MaxStrlen == 0 {
		cfg.MaxStrlen = 64
	}
	kt := resolve.NewKernelTypes(cfg.MaxStrlen)
	cfg.Types = kt
	res := resolve.New(cfg.MaxStrlen)
	res.Types = kt
	info, err := types.Check(tree, res, cfg)
	if err != nil {
		return nil, err
	}
	if opts.Warnings != nil && len(info.Warnings) > 0 {
		fmt.Fprintln(opts.Warnings, info.Warnings.Error())
	}
	copts := compile.Options{}
	opts.funcsCompileOptions(&copts)
	if n, err := ebpf.PossibleCPU(); err == nil {
		copts.PossibleCPUs = n
	}
	copts.TAIOffset = kernel.TAIOffset()
	if pages := info.Config.RingBufPages; pages > 0 {
		// The ring buffer must be a power-of-two number of pages.
		size := os.Getpagesize()
		for size < pages*os.Getpagesize() {
			size *= 2
		}
		copts.RingBufSize = size
	}
	if usesComm(tree) {
		// Reading comm through the task's BTF pointer is the fastest way;
		// the offset comes from a cached scan of the kernel's BTF.
		if off, err := kernel.StructMemberOffset("task_struct", "comm"); err == nil {
			copts.TaskCommOffset = int(off)
		}
	}
	copts.Stacks = stackOptions(tree)
	var points []*types.AttachPoint
	for _, p := range info.Probes {
		points = append(points, p.Points...)
	}
	copts.KprobesAsFentry, err = kprobeMode(points, runningKernel)
	if err != nil {
		return nil, kprobeError(file, info, err)
	}
	cp, err := compile.Compile(info, file, copts)
	if err != nil {
		return nil, err
	}
	return &Program{file: file, ast: tree, compiled: cp, opts: *opts, types: kt, commOff: copts.TaskCommOffset}, nil
}

// CompileFile compiles a script file; "-" reads standard input.
func CompileFile(path string, opts *Options) (*Program, error) {
	var src []byte
	var err error
	name := path
	if path == "-" {
		src, err = io.ReadAll(io.LimitReader(os.Stdin, MaxSourceSize+1))
		name = "stdin"
	} else {
		src, err = readLimited(path)
	}
	if err != nil {
		return nil, err
	}
	return Compile(name, src, opts)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSourceSize+1))
}

func isBlank(src []byte) bool {
	for _, c := range src {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// isText rejects input with NUL bytes or mostly non-printable bytes, so a
// binary file gets one clear error instead of pages of syntax errors.
func isText(src []byte) bool {
	bad := 0
	for _, c := range src {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' && c != '\f' && c != '\v' {
			bad++
		}
	}
	return bad*20 < len(src)+1
}

func usesComm(tree *ast.Program) bool {
	found := false
	ast.Inspect(tree, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == "comm" {
			found = true
		}
		return !found
	})
	return found
}

// Compiled exposes the compiler's output: maps, programs and events.
func (p *Program) Compiled() *compile.Program { return p.compiled }

// AttachPoints is the number of attach points, BEGIN and END included.
func (p *Program) AttachPoints() int { return len(p.compiled.Probes) }

// configKey normalises a config name: BPFTRACE_MAX_STRLEN, MAX_STRLEN and
// max_strlen are the same setting.
func configKey(k string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(k, "BPFTRACE_"), "bpftrace_"))
}

// envConfig turns BPFTRACE_* environment variables that name config
// settings into config items.
func envConfig(environ []string) []*ast.ConfigItem {
	var items []*ast.ConfigItem
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "BPFTRACE_") || !types.IsConfigKey(configKey(k)) {
			continue
		}
		var val ast.Expr
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			val = &ast.IntLit{Value: n}
		} else if v == "true" || v == "false" {
			val = &ast.BoolLit{Value: v == "true"}
		} else {
			val = &ast.StringLit{Value: v}
		}
		items = append(items, &ast.ConfigItem{Key: k, Value: val})
	}
	return items
}
