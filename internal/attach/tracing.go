package attach

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// tracing attaches an fentry, fexit or tp_btf program, which names its
// function or tracepoint itself (ProgramSpec.AttachTo, resolved through
// BTF at load).
func tracing(prog *ebpf.Program) (link.Link, error) {
	return link.AttachTracing(link.TracingOptions{Program: prog})
}
