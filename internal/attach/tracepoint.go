package attach

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ktrace/ktrace/internal/kernel"
)

// tracepoint attaches through a perf event link; tracefs is mounted first
// if needed, because the tracepoint's id lives there.
func tracepoint(target string, prog *ebpf.Program) (link.Link, error) {
	if _, err := kernel.Tracefs(); err != nil {
		return nil, err
	}
	system, event, ok := strings.Cut(target, ":")
	if !ok {
		return nil, fmt.Errorf("bad tracepoint %q", target)
	}
	return link.Tracepoint(system, event, prog, nil)
}
