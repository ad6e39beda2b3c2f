package runtime

import (
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/compile"
)

// Program is a compiled script with what the runtime needs to know about
// how it was compiled.
type Program struct {
	Compiled *compile.Program
	// KernelTypes returns the kernel's BTF as the script's compilation
	// decoded it, or nil when the script needed none: ktrace's verifier
	// checks BTF pointer accesses with it.
	KernelTypes func() *btf.Spec
	// TaskCommOffset is compile.Options.TaskCommOffset: where comm is
	// read through the task's BTF pointer, if it is.
	TaskCommOffset int
	// FilterPID is bpftrace's -p: probes attach to this process alone,
	// and the session ends when it does.
	FilterPID int
}

// Load loads every map and program into the kernel and releases them
// again: the kernel verifier's verdict, with nothing attached or run.
func (p *Program) Load() error {
	s := &Session{prog: p, cp: p.Compiled}
	defer s.Close()
	return s.load()
}
