// Package resolve turns the attach points of a script into what the type
// checker needs: concrete attach points (wildcards expanded) with their
// arguments typed, tracepoint fields from the kernel's format files.
package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/uprobe"
)

// Resolver implements types.Resolver against a kernel: by default the
// running one, through the probe and kernel packages.
type Resolver struct {
	// MaxStrlen is the string size of __data_loc fields.
	MaxStrlen int
	// Expand expands a parsed attach point (probe.Expand by default).
	Expand func(probe.Spec) ([]probe.Spec, error)
	// Format reads a tracepoint's format (kernel.TracepointFormat by default).
	Format func(system, event string) (*kernel.Format, error)
	// User locates an expanded uprobe, uretprobe or usdt spec in its
	// binary (nil: read the binary; see user.go).
	User func(probe.Spec) ([]*uprobe.Target, error)
	// Types, when set, types the arguments of kernel functions and raw
	// tracepoints from BTF, on first use.
	Types *KernelTypes

	points map[string][]*types.AttachPoint // cache by raw text
}

// New returns a resolver for the running kernel.
func New(maxStrlen int) *Resolver {
	return &Resolver{MaxStrlen: maxStrlen, Expand: Expand, Format: kernel.TracepointFormat}
}

// NewPID returns a resolver for the running kernel and a script traced
// with -p pid (see ExpandPID); New's when pid is not positive.
func NewPID(maxStrlen, pid int) *Resolver {
	r := New(maxStrlen)
	if pid > 0 {
		r.Expand = func(sp probe.Spec) ([]probe.Spec, error) { return ExpandPID(sp, pid) }
	}
	return r
}

// Static returns a resolver that knows only the given tracepoint formats
// (keyed "system:event", in tracefs format-file syntax) and takes every
// function name as a valid kprobe target, every uprobe and usdt probe
// as existing (see staticUserTargets), and the iterators every kernel
// ktrace supports has (task, task_file, task_vma). Front-end tests use it
// to be independent of the machine they run on.
func Static(maxStrlen int, formats map[string]string) *Resolver {
	parsed := map[string]*kernel.Format{}
	return &Resolver{
		MaxStrlen: maxStrlen,
		User:      staticUserTargets,
		Expand: func(sp probe.Spec) ([]probe.Spec, error) {
			switch sp.Kind {
			case probe.Tracepoint:
				if _, ok := formats[sp.Category+":"+sp.Name]; !ok {
					return nil, errors.New(noMatchesFor(sp) + ".")
				}
			case probe.Iter:
				if !slices.Contains([]string{"task", "task_file", "task_vma"}, sp.Name) {
					return nil, errors.New(noMatchesFor(sp) + ".")
				}
			}
			return []probe.Spec{sp}, nil
		},
		Format: func(system, event string) (*kernel.Format, error) {
			key := system + ":" + event
			if f, ok := parsed[key]; ok {
				return f, nil
			}
			text, ok := formats[key]
			if !ok {
				return nil, fmt.Errorf("tracepoint %s does not exist", key)
			}
			f, err := kernel.ParseFormat([]byte(text))
			if err != nil {
				return nil, err
			}
			parsed[key] = f
			return f, nil
		},
	}
}

// Resolve implements types.Resolver.
func (r *Resolver) Resolve(raw string) ([]*types.AttachPoint, error) {
	if r.points == nil {
		r.points = map[string][]*types.AttachPoint{}
	}
	if pts, ok := r.points[raw]; ok {
		return pts, nil
	}
	pts, err := r.resolve(raw)
	if err != nil {
		return nil, err
	}
	r.points[raw] = pts
	return pts, nil
}

var probeKinds = map[probe.Kind]probe.Kind{
	probe.Begin:         probe.Begin,
	probe.End:           probe.End,
	probe.Tracepoint:    probe.Tracepoint,
	probe.Kprobe:        probe.Kprobe,
	probe.Kretprobe:     probe.Kretprobe,
	probe.RawTracepoint: probe.RawTracepoint,
	probe.Fentry:        probe.Fentry,
	probe.Fexit:         probe.Fexit,
	probe.Uprobe:        probe.Uprobe,
	probe.Uretprobe:     probe.Uretprobe,
	probe.USDT:          probe.USDT,
	probe.Interval:      probe.Interval,
	probe.Profile:       probe.Profile,
	probe.Software:      probe.Software,
	probe.Hardware:      probe.Hardware,
	probe.Watchpoint:    probe.Watchpoint,
	probe.Iter:          probe.Iter,
	probe.Self:          probe.Self,
}

func (r *Resolver) resolve(raw string) ([]*types.AttachPoint, error) {
	spec, err := probe.Parse(raw)
	if err != nil {
		return nil, err
	}
	specs, err := r.Expand(spec)
	if err != nil {
		return nil, err
	}
	var out []*types.AttachPoint
	for _, sp := range specs {
		kind, ok := probeKinds[sp.Kind]
		if !ok {
			return nil, fmt.Errorf("%s probes are not supported yet", sp.Kind)
		}
		ap := &types.AttachPoint{Kind: kind, Name: sp.String(), Spec: sp}
		switch sp.Kind {
		case probe.Uprobe, probe.Uretprobe, probe.USDT:
			pts, err := r.userPoints(sp, kind)
			if err != nil {
				return nil, err
			}
			out = append(out, pts...)
			continue
		case probe.Tracepoint:
			ap, err = r.tracepoint(sp)
			if err != nil {
				return nil, err
			}
		case probe.Kprobe, probe.Kretprobe, probe.Fentry, probe.Fexit, probe.RawTracepoint:
			ap.Target = sp.Name
			r.typeArgs(ap)
		case probe.Interval, probe.Profile:
			ap.Target = fmt.Sprintf("%s:%d", sp.Unit, sp.Count)
		case probe.Iter:
			if sp.Path != "" {
				return nil, fmt.Errorf("%s: pinning an iterator is not supported: ktrace's programs print through its ring buffer, not the iterator's seq_file, so a pinned iterator would print nothing when read; use iter:%s", sp, sp.Name)
			}
			ap.Target = sp.Name
			if kt := r.Types; kt != nil {
				ap.LoadArgs = func() ([]*types.Field, error) { return kt.IterArgs(sp.Name) }
			}
		}
		out = append(out, ap)
	}
	return out, nil
}

func (r *Resolver) tracepoint(sp probe.Spec) (*types.AttachPoint, error) {
	f, err := r.Format(sp.Category, sp.Name)
	if err != nil {
		return nil, err
	}
	ap := &types.AttachPoint{
		Kind:     probe.Tracepoint,
		Name:     sp.String(),
		Target:   sp.Category + ":" + sp.Name,
		UserArgs: sp.Category == "syscalls",
		Spec:     sp,
	}
	for _, fl := range f.Fields {
		ap.Fields = append(ap.Fields, &types.Field{
			Name:    fl.Name,
			Type:    FieldType(f, &fl, r.MaxStrlen),
			Offset:  int(fl.Offset),
			DataLoc: fl.DataLoc,
		})
	}
	return ap, nil
}

// FieldType types a tracepoint field from its format declaration: char
// arrays and __data_loc strings are strings, other arrays arrays, pointers
// pointers, enums with a __print_symbolic table named integers.
func FieldType(f *kernel.Format, fl *kernel.Field, maxStrlen int) *types.Type {
	base := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(fl.Type, "const "), "volatile "))
	switch {
	case fl.DataLoc || fl.RelLoc:
		return types.StringType(maxStrlen)
	case fl.ArrayLen > 0:
		elemSize := int(fl.Size / fl.ArrayLen)
		if elemSize == 1 && (base == "char" || base == "signed char" || base == "unsigned char" && strings.Contains(fl.Name, "name")) {
			return types.StringType(int(fl.Size))
		}
		elem := types.IntType(elemSize, fl.Signed)
		return &types.Type{Kind: types.Array, Size: int(fl.Size), Elem: elem, Len: int(fl.ArrayLen)}
	case fl.Pointer:
		elem := types.TypU8
		if strings.HasPrefix(base, "char") {
			elem = types.TypS8
		}
		// "const char *const *argv" points to pointers: argv[1] is a
		// char *, as in bpftrace.
		for i := strings.Count(fl.Type, "*"); i > 1; i-- {
			elem = &types.Type{Kind: types.Pointer, Size: 8, Elem: elem}
		}
		return &types.Type{Kind: types.Pointer, Size: 8, Elem: elem, Name: strings.TrimSpace(strings.TrimSuffix(base, "*"))}
	case base == "bool" || base == "_Bool":
		return types.TypBool
	}
	size := int(fl.Size)
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return &types.Type{Kind: types.Array, Size: size, Elem: types.TypU8, Len: size}
	}
	t := *types.IntType(size, fl.Signed)
	if names := f.Symbols[fl.Name]; len(names) > 0 {
		t.Enum = names
	}
	if fl.Enum != "" {
		t.Name = "enum " + fl.Enum
	}
	return &t
}

// typeArgs lets a function or raw tracepoint attach point type its args
// from BTF when the script first uses them.
func (r *Resolver) typeArgs(ap *types.AttachPoint) {
	kt := r.Types
	if kt == nil {
		return
	}
	name, module := ap.Target, ap.Spec.Module
	if probe.HasWildcard(module) {
		// Expansion leaves kprobes' module patterns; vmlinux has the
		// prototypes of most functions.
		module = ""
	}
	if ap.Kind == probe.RawTracepoint {
		ap.LoadArgs = func() ([]*types.Field, error) { return kt.ModuleRawTracepointArgs(module, name) }
		return
	}
	ap.LoadArgs = func() ([]*types.Field, error) {
		fields, ret, err := kt.ModuleFuncArgs(module, name)
		if err != nil {
			return nil, err
		}
		ap.Ret = ret
		return fields, nil
	}
}
