package ktrace

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/facts"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/internal/runtime"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/imports"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/preprocessor"
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
	// EventContext makes printf records carry the context of the event
	// that printed them: the time, the attach point (as the probe builtin
	// names it), pid and tid, comm and cgroup id, which
	// StartOptions.Events receives. It costs four helper calls and 48
	// bytes of record and stack per printf, and the attach points of a
	// wildcard probe that printfs no longer share one BPF program. Other
	// records, and programs that never printf, are as without it.
	EventContext bool
	// Includes are headers included before the script's first line, as
	// bpftrace's --include does; like the script's own #include, they
	// define the few macros ktrace knows for them.
	Includes []string
	// CheckProbeReads makes every failed probe read (of a pointer, a
	// string, a kernel or user address) warn at run time with its error
	// and its place in the script, once per place: bpftrace's -k.
	CheckProbeReads bool
	// ImportDir is where the script's relative imports (`import
	// "lib.bt";`) are found: CompileFile sets it to the script's
	// directory; empty means the working directory.
	ImportDir string
	// NoUprobeMulti attaches every uprobe with a perf event of its own,
	// even where the kernel has uprobe_multi links, which ktrace uses for
	// the uprobes of a wildcard that share a program (bpftrace's
	// --no-feature uprobe_multi).
	NoUprobeMulti bool
}

// Program is a compiled script, ready to Start.
type Program struct {
	rt   *runtime.Program
	maps []MapInfo
}

// Compile parses, checks and compiles a script. name is used in error
// positions ("stdin" for -e programs, as bpftrace does). Errors are
// lang.ErrorList values that print file:line:col, the line and a caret.
func Compile(name string, src []byte, opts *Options) (*Program, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := checkSource(name, src); err != nil {
		return nil, err
	}
	file := lang.NewFile(name, src)
	pcfg := preprocessorConfig(opts.Includes)
	tree, err := parser.ParseWith(file, pcfg)
	if err != nil {
		return nil, err
	}
	if err := imports.Resolve(tree, imports.Config{Dir: opts.ImportDir, Preprocessor: pcfg}); err != nil {
		return nil, err
	}
	if err := opts.checkNamedParams(name, tree); err != nil {
		return nil, err
	}
	// BPFTRACE_* environment variables override the config block, as in
	// bpftrace: they are checked as config items that come last.
	tree.Config = append(tree.Config, types.ConfigFromEnv(os.Environ())...)
	maxStrlen := types.ConfiguredMaxStrlen(tree.Config)
	kt := resolve.NewKernelTypes(maxStrlen)
	res := resolve.NewPID(maxStrlen, opts.FilterPID)
	res.Types = kt
	info, err := types.Check(tree, res, types.Config{
		Params: opts.Params, MaxStrlen: maxStrlen, Types: kt,
		Unsafe: opts.Unsafe, ChildPID: opts.ChildPID, NamedParams: opts.NamedParams,
	})
	if err != nil {
		return nil, err
	}
	if opts.Warnings != nil && len(info.Warnings) > 0 {
		fmt.Fprintln(opts.Warnings, info.Warnings.Error())
	}
	copts, err := facts.CompileOptions(file, info, facts.Request{FilterPID: opts.FilterPID, EventContext: opts.EventContext,
		CheckProbeReads: opts.CheckProbeReads, NoUprobeMulti: opts.NoUprobeMulti})
	if err != nil {
		return nil, err
	}
	cp, err := compile.Compile(info, file, copts)
	if err != nil {
		return nil, err
	}
	return &Program{rt: &runtime.Program{
		Compiled: cp, KernelTypes: kt.Decoded, TaskCommOffset: copts.TaskCommOffset, FilterPID: opts.FilterPID,
	}, maps: describeMaps(tree, info)}, nil
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
	if path != "-" && (opts == nil || opts.ImportDir == "") {
		o := Options{}
		if opts != nil {
			o = *opts
		}
		o.ImportDir = filepath.Dir(path)
		opts = &o
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

// checkSource rejects what cannot be a script before parsing it.
func checkSource(name string, src []byte) error {
	switch {
	case len(src) > MaxSourceSize:
		return fmt.Errorf("%s: program is too large (%d bytes, at most %d)", name, len(src), MaxSourceSize)
	case isBlank(src):
		return fmt.Errorf("%s: %w", name, ErrEmptyProgram)
	case !isText(src):
		return fmt.Errorf("%s: this is not a ktrace script: it contains binary data", name)
	}
	return nil
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

// checkNamedParams rejects named parameters that no getopt() reads, as a
// typo in one would otherwise go unnoticed.
func (o *Options) checkNamedParams(name string, tree *ast.Program) error {
	if len(o.NamedParams) == 0 {
		return nil
	}
	used := types.GetoptNames(tree)
	var unknown []string
	for n := range o.NamedParams {
		if !used[n] {
			unknown = append(unknown, "--"+n)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%s: unknown program option %s: the program reads no such getopt() parameter", name, strings.Join(unknown, ", "))
}

// preprocessorConfig predefines what bpftrace predefines for its clang
// run: BPFTRACE_HAVE_BTF when the kernel describes its types in BTF, which
// tools test to skip the #includes and struct copies they need without it,
// and includes what --include names.
func preprocessorConfig(includes []string) preprocessor.Config {
	defines := map[string]string{}
	if _, err := os.Stat(kernel.VmlinuxBTF); err == nil {
		defines["BPFTRACE_HAVE_BTF"] = "1"
	}
	return preprocessor.Config{Defines: defines, Includes: includes}
}
