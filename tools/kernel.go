package tools

import (
	"fmt"
	"strings"
	"sync"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
)

// Kernel answers what the running kernel has, for tools that pick their
// probes at start: templates call these as {{if .Kernel.Kprobes}}. Answers
// are computed on first use.
type Kernel struct {
	kprobes, fentry func() bool
	// types decodes the kernel's BTF once (about 20 ms) for every raw
	// tracepoint a template asks about.
	types func() *resolve.KernelTypes
}

// NewKernel returns the facts of the running kernel.
func NewKernel() *Kernel {
	return &Kernel{
		kprobes: sync.OnceValue(func() bool { return kernel.HaveKprobes() == nil }),
		fentry:  sync.OnceValue(func() bool { return kernel.HaveFentry() == nil }),
		types:   sync.OnceValue(func() *resolve.KernelTypes { return resolve.NewKernelTypes(64) }),
	}
}

// Kprobes reports whether kprobes and kretprobes can be attached.
func (k *Kernel) Kprobes() bool { return k.kprobes() }

// Fentry reports whether fentry/fexit programs can be attached.
func (k *Kernel) Fentry() bool { return k.fentry() }

// FunctionProbes reports whether a kernel function can be probed at all,
// by a kprobe or by fentry (ktrace falls back from one to the other).
func (k *Kernel) FunctionProbes() bool { return k.Kprobes() || k.Fentry() }

// Tracepoint reports whether tracepoint "system:event" exists.
func (k *Kernel) Tracepoint(name string) bool {
	system, event, ok := strings.Cut(name, ":")
	if !ok {
		return false
	}
	_, err := kernel.TracepointFormat(system, event)
	return err == nil
}

// TracepointField reports whether tracepoint "system:event" has a field.
func (k *Kernel) TracepointField(name, field string) bool {
	system, event, ok := strings.Cut(name, ":")
	if !ok {
		return false
	}
	f, err := kernel.TracepointFormat(system, event)
	if err != nil {
		return false
	}
	for _, fl := range f.Fields {
		if fl.Name == field {
			return true
		}
	}
	return false
}

// Member reports whether struct name has member (a dotted path), by the
// kernel's BTF.
func (k *Kernel) Member(name, member string) bool {
	_, err := kernel.StructMember(name, member)
	return err == nil
}

// Function reports whether the kernel has a function called name.
func (k *Kernel) Function(name string) bool {
	ok, err := kernel.FunctionExists(name)
	return err == nil && ok
}

// RawArg names argument i (from 0) of raw tracepoint event as a script
// writes it after "args.": the parameter's name where the kernel's BTF
// gives one (sched_switch's prev and next), else arg0, arg1, ... (events
// defined from a shared class, such as sched_wakeup, have no named probe
// function in BTF).
func (k *Kernel) RawArg(event string, i int) string {
	args, err := k.types().RawTracepointArgs(event)
	if err != nil || i >= len(args) {
		return fmt.Sprintf("arg%d", i)
	}
	return args[i].Name
}
