package attach

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ktrace/ktrace/lang/probe"
)

// kprobe attaches a kprobe or kretprobe to a kernel function.
func kprobe(kind probe.Kind, function string, prog *ebpf.Program) (link.Link, error) {
	if kind == probe.Kretprobe {
		return link.Kretprobe(function, prog, nil)
	}
	return link.Kprobe(function, prog, nil)
}
