package attach

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// rawTracepoint attaches a raw tracepoint program to the tracepoint name.
func rawTracepoint(name string, prog *ebpf.Program) (link.Link, error) {
	return link.AttachRawTracepoint(link.RawTracepointOptions{Name: name, Program: prog})
}
