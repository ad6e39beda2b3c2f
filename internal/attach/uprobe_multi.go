package attach

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/probe"
)

// Group attaches a group of Plan: one probe as Probe does, or the uprobes
// (or uretprobes) of one binary that share a uprobe_multi program with a
// single uprobe_multi link, the kernel setting every uprobe in one system
// call instead of one perf event per function.
func Group(group []*compile.Probe, prog *ebpf.Program, opts Options, multi bool) (io.Closer, error) {
	if !multi {
		return Probe(group[0], prog, opts)
	}
	l, err := uprobeMulti(group, prog, opts.PID)
	if err != nil {
		return nil, groupError(group, err)
	}
	return l, nil
}

// uprobeMulti attaches prog to the file offset of every probe of group,
// all of one kind in one binary.
func uprobeMulti(group []*compile.Probe, prog *ebpf.Program, pid int) (link.Link, error) {
	first := group[0].Point.User
	ex, err := link.OpenExecutable(first.Path)
	if err != nil {
		return nil, err
	}
	opts := &link.UprobeMultiOptions{PID: uint32(pid)}
	for _, p := range group {
		t := p.Point.User
		if t == nil || t.Path != first.Path {
			return nil, fmt.Errorf("internal error: %s is not a uprobe of %s", p.Point.Name, first.Path)
		}
		opts.Addresses = append(opts.Addresses, t.Offset)
	}
	var l link.Link
	if group[0].Kind == probe.Uretprobe {
		l, err = ex.UretprobeMulti(nil, prog, opts)
	} else {
		l, err = ex.UprobeMulti(nil, prog, opts)
	}
	if err != nil && pid > 0 && errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("process %d does not exist", pid)
	}
	return l, err
}

// groupError names the group's first attach point, and how many more
// the link covered.
func groupError(group []*compile.Probe, err error) error {
	p := *group[0]
	if len(group) > 1 {
		pt := *p.Point
		pt.Name = fmt.Sprintf("%s and %d more", pt.Name, len(group)-1)
		p.Point = &pt
	}
	return attachError(&p, err)
}
