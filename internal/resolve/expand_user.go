package resolve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/internal/dwarfinfo"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/uprobe"
)

// openBinary resolves and reads the binary of a uprobe or usdt spec the
// way bpftrace does (see uprobe.FindBinary): a path as written (made
// absolute when relative), else an executable in $PATH, else a library
// name looked up in /etc/ld.so.cache ("libc" is libc.so.6).
func openBinary(spec probe.Spec) (string, *uprobe.File, error) {
	path, err := uprobe.FindBinary(spec.Path)
	if err != nil {
		return "", nil, binaryNotFound(spec, err)
	}
	f, err := uprobe.Open(path)
	if err != nil {
		if errors.Is(err, uprobe.ErrNotELF) {
			return "", nil, fmt.Errorf("%s target %s is not an ELF binary", spec.Kind, spec.Path)
		}
		return "", nil, err
	}
	return path, f, nil
}

// binaryNotFound words a failed binary lookup. A binary that is not
// there gets bpftrace's phrase, "uprobe target file 'x' does not exist or
// is not executable", with where ktrace looked for a bare name; a file
// that exists but is no binary (a directory, not ELF) says so.
func binaryNotFound(spec probe.Spec, err error) error {
	phrase := fmt.Sprintf("%s target file '%s' does not exist or is not executable", spec.Kind, spec.Path)
	if strings.Contains(spec.Path, "/") {
		if _, statErr := os.Stat(spec.Path); errors.Is(statErr, fs.ErrNotExist) {
			return errors.New(phrase)
		}
		return fmt.Errorf("%s target %w", spec.Kind, err)
	}
	if where, ok := strings.CutPrefix(err.Error(), strconv.Quote(spec.Path)+" not found: "); ok {
		return fmt.Errorf("%s: %s", phrase, where)
	}
	return fmt.Errorf("%s target %w", spec.Kind, err)
}

// expandUprobe checks a uprobe/uretprobe against its binary's symbols and
// expands a wildcard function name into one spec per function, in each
// binary the path names for the process pid (see binaries). Every
// returned spec names its binary as written when that is a path, else by
// its resolved path (shownPath).
func expandUprobe(spec probe.Spec, pid int) ([]probe.Spec, error) {
	return expandEach(spec, pid, expandUprobeIn)
}

// expandEach expands spec in every binary its path names (binaries), or
// in the one binary it names (expand). A binary where nothing matches
// is left out; when every one is, the error is the only binary's own, or
// says that none matched.
func expandEach(spec probe.Spec, pid int, expand func(probe.Spec) ([]probe.Spec, error)) ([]probe.Spec, error) {
	bins, err := binaries(spec, pid)
	if err != nil {
		return nil, err
	}
	if bins == nil {
		return expand(spec)
	}
	if len(bins) == 1 {
		spec.Path = bins[0]
		return expand(spec)
	}
	if spec.Name == "" {
		return nil, fmt.Errorf("%s: an address or a source line is in one binary; name it without wildcards", spec)
	}
	var out []probe.Spec
	for _, b := range bins {
		s := spec
		s.Path = b
		if specs, err := expand(s); err == nil {
			out = append(out, specs...)
		}
	}
	if len(out) == 0 {
		what := "function"
		if spec.Kind == probe.USDT {
			what = "USDT probe"
		}
		return nil, noMatch("%s matches no %s in the %d binaries of %s", spec, what, len(bins), binariesOf(spec, pid))
	}
	return out, nil
}

// binariesOf says where expandEach looked.
func binariesOf(spec probe.Spec, pid int) string {
	if spec.Path == "" || spec.Path == "*" {
		if pid > 0 {
			return fmt.Sprintf("process %d", pid)
		}
		return "the running processes"
	}
	return spec.Path
}

// shownPath is the path the probes of a binary are named by: as written
// when it is a path that resolved to path, else the resolved path (a
// name looked up in $PATH or the library cache, or a compatibility
// library's functions found elsewhere).
func shownPath(written, path string) string {
	if strings.Contains(written, "/") {
		if abs, err := filepath.Abs(written); err == nil && abs == path {
			return written
		}
	}
	return path
}

// expandUprobeIn expands a uprobe in the one binary its path names.
func expandUprobeIn(spec probe.Spec) ([]probe.Spec, error) {
	specs, err := expandUprobeAt(spec)
	for i := range specs {
		specs[i].Path = shownPath(spec.Path, specs[i].Path)
	}
	return specs, err
}

// expandUprobeAt expands a uprobe in its binary, naming it by its
// resolved path.
func expandUprobeAt(spec probe.Spec) ([]probe.Spec, error) {
	path, f, err := openBinary(spec)
	if err != nil {
		return nil, err
	}
	written := spec // suggestions name the binary as the user did
	if spec.Name != "" {
		path, f = forwardStub(path, f, spec.Name)
	}
	spec.Path = path
	if spec.Source.File != "" {
		// A source statement: its address from the DWARF line table.
		addr, err := sourceAddress(path, spec.Source)
		if err != nil {
			return nil, fmt.Errorf("%s:%s@%s: %w", spec.Kind, written.Path, spec.Source, err)
		}
		spec.Address = addr
	}
	if spec.Name == "" {
		if _, err := uprobe.LocateAddress(path, spec.Address, spec.Kind == probe.Uretprobe); err != nil {
			return nil, err
		}
		return []probe.Spec{spec}, nil
	}
	if !spec.IsWildcard() {
		if _, ok := f.Lookup(spec.Name); ok {
			if spec.Offset != 0 {
				if _, err := uprobe.LocateFunc(path, spec.Name, spec.Offset, spec.Kind == probe.Uretprobe); err != nil {
					return nil, err
				}
			}
			return []probe.Spec{spec}, nil
		}
		var sugg []string
		for _, n := range closeNames(spec.Name, f.FunctionNames(), 3) {
			s := written
			s.Name = n
			sugg = append(sugg, s.String())
		}
		if len(sugg) == 0 && f.Stripped {
			known := fmt.Sprintf("only the %d functions it exports are known", len(f.Functions()))
			if len(f.Functions()) == 0 {
				known = "it exports no functions"
			}
			return nil, fmt.Errorf("%s: the binary is stripped and %s (attach by address: %s:%s:0xADDR)",
				noMatchesFor(spec), known, spec.Kind, written.Path)
		}
		return nil, notFound(noMatchesFor(spec), sugg)
	}
	var out []probe.Spec
	for _, n := range f.FunctionNames() {
		if probe.Match(spec.Name, n) {
			s := spec
			s.Name = n
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, noMatch("%s matches no function in %s", written, path)
	}
	return out, nil
}

// forwardStub follows a compatibility stub library to the library its
// functions moved to: uprobe:libpthread:pthread_create, as older tools
// write it, is pthread_create in libc.so.6 on glibc 2.34 and later, where
// libpthread.so.0 is a stub and libc defines pthread_create (versioned
// pthread_create@@GLIBC_2.34, and @GLIBC_2.2.5 for programs linked
// against the old libpthread: one function). The first library the stub
// depends on that has a function matching name is the target; when none
// has one, the stub stays the target and its error names the stub.
func forwardStub(path string, f *uprobe.File, name string) (string, *uprobe.File) {
	if !f.IsCompatStub() {
		return path, f
	}
	for _, soname := range f.Needed {
		p, err := uprobe.FindBinary(soname)
		if err != nil {
			continue
		}
		lib, err := uprobe.Open(p)
		if err != nil {
			continue
		}
		for _, n := range lib.FunctionNames() {
			if probe.Match(name, n) {
				return p, lib
			}
		}
	}
	return path, f
}

// usdtProbes returns the distinct provider:name pairs of a binary's notes.
func usdtProbes(f *uprobe.File) ([][2]string, error) {
	notes, err := f.USDT()
	if err != nil && len(notes) == 0 {
		return nil, err
	}
	var out [][2]string
	for _, n := range notes {
		out = append(out, [2]string{n.Provider, n.Name})
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return slices.Compact(out), nil
}

// expandUSDT checks a usdt spec against the binary's .note.stapsdt notes
// and expands wildcards into one spec per provider:name (a probe with
// several locations stays one spec; the resolver attaches to each). A
// name without a provider must be unique in the binary.
func expandUSDT(spec probe.Spec, pid int) ([]probe.Spec, error) {
	return expandEach(spec, pid, expandUSDTIn)
}

// expandUSDTIn expands a usdt spec in the one binary its path names.
func expandUSDTIn(spec probe.Spec) ([]probe.Spec, error) {
	path, f, err := openBinary(spec)
	if err != nil {
		return nil, err
	}
	written := spec.Path // suggestions name the binary as the user did
	spec.Path = path
	shown := func(specs []probe.Spec) []probe.Spec {
		for i := range specs {
			specs[i].Path = shownPath(written, path)
		}
		return specs
	}
	probes, err := usdtProbes(f)
	if err != nil {
		return nil, fmt.Errorf("reading the probe.USDT notes of %s: %w", path, err)
	}
	if len(probes) == 0 {
		return nil, fmt.Errorf("%s has no probe.USDT probes", path)
	}
	var out []probe.Spec
	for _, p := range probes {
		if (spec.Category == "" || probe.Match(spec.Category, p[0])) && probe.Match(spec.Name, p[1]) {
			s := spec
			s.Category, s.Name = p[0], p[1]
			out = append(out, s)
		}
	}
	if spec.IsWildcard() {
		if len(out) == 0 {
			w := spec
			w.Path = written
			return nil, noMatch("%s matches no USDT probe in %s", w, path)
		}
		return shown(out), nil
	}
	switch len(out) {
	case 1:
		return shown(out), nil
	case 0:
		var all, sugg []string
		for _, p := range probes {
			all = append(all, p[0]+":"+p[1])
		}
		want := spec.Category + ":" + spec.Name
		if spec.Category == "" {
			all = all[:0]
			for _, p := range probes {
				all = append(all, p[1])
			}
			want = spec.Name
		}
		for _, n := range closeNames(want, all, 3) {
			sugg = append(sugg, "usdt:"+written+":"+n)
		}
		return nil, notFound(noMatchesFor(spec), sugg)
	}
	var names []string
	for _, s := range out {
		s.Path = written
		names = append(names, s.String())
	}
	return nil, fmt.Errorf("usdt probe %s is ambiguous in %s: name the provider, as in %s", spec.Name, path, joinOr(names))
}

// listUser lists the functions (uprobe, uretprobe) or probe.USDT probes (usdt)
// of one binary: rest is "PATH:GLOB" or, for usdt, "PATH:PROVIDER:GLOB".
func listUser(t probe.Kind, rest string, pid int) ([]string, error) {
	var spec probe.Spec
	var err error
	if rest == "" || rest == "*" {
		if pid <= 0 {
			return nil, fmt.Errorf("listing %s probes needs a binary, e.g. %s:/bin/bash:*, or -p PID", t, t)
		}
		// -p PID: every file the process maps.
		rest = "*:*"
	}
	if !strings.Contains(rest, ":") {
		rest += ":*"
	}
	spec, err = probe.Parse(t.String() + ":" + rest)
	if err != nil {
		return nil, err
	}
	if t == probe.USDT && spec.Category == "" && spec.Name == "*" {
		spec.Category = "*"
	}
	bins, err := binaries(spec, pid)
	if err != nil {
		return nil, err
	}
	if bins == nil {
		return listUserIn(t, spec)
	}
	// A wildcard path, or the files of a process: each file matched,
	// named by its path.
	var out []string
	for _, b := range bins {
		s := spec
		s.Path = b
		if lines, err := listUserIn(t, s); err == nil {
			out = append(out, lines...)
		}
	}
	return out, nil
}

// listUserIn lists the probes of spec's kind that spec matches in the one
// binary its path names.
func listUserIn(t probe.Kind, spec probe.Spec) ([]string, error) {
	path, f, err := openBinary(spec)
	if err != nil {
		return nil, err
	}
	// The path is shown as written when it is one, as bpftrace does.
	shown := path
	if strings.Contains(spec.Path, "/") {
		shown = spec.Path
	}
	var out []string
	if t == probe.USDT {
		probes, err := usdtProbes(f)
		if err != nil {
			return nil, err
		}
		for _, p := range probes {
			if (spec.Category == "" || probe.Match(spec.Category, p[0])) && probe.Match(spec.Name, p[1]) {
				out = append(out, "usdt:"+shown+":"+p[0]+":"+p[1])
			}
		}
		return out, nil
	}
	if spec.Name == "" {
		return nil, fmt.Errorf("listing %s probes takes a function name or glob, not an address", t)
	}
	for _, n := range f.FunctionNames() {
		if probe.Match(spec.Name, n) {
			out = append(out, t.String()+":"+shown+":"+n)
		}
	}
	return out, nil
}

// sourceAddress finds the address of a source statement of the binary at
// path in its DWARF line table.
func sourceAddress(path string, src probe.SourceLine) (uint64, error) {
	info, err := dwarfinfo.Open(path)
	if err != nil {
		return 0, err
	}
	return info.LineAddress(src.File, src.Line, src.Column)
}
