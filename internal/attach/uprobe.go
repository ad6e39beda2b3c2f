package attach

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/probe"
)

// uprobe attaches a uprobe, uretprobe or USDT program at its target's
// file offset, through the uprobe PMU (an fd-based perf event: the kernel
// removes the probe when the fd closes, also after SIGKILL). A USDT probe
// with a semaphore passes its file offset as the reference counter, which
// the kernel increments in every process that maps the binary while the
// probe is attached, and decrements on detach. With a pid the probe fires
// only in that process.
func uprobe(p *compile.Probe, prog *ebpf.Program, pid int) (link.Link, error) {
	t := p.Point.User
	if t == nil {
		return nil, fmt.Errorf("internal error: %s has no user-space target", p.Point.Name)
	}
	ex, err := link.OpenExecutable(t.Path)
	if err != nil {
		return nil, err
	}
	opts := &link.UprobeOptions{Address: t.Offset, PID: pid, RefCtrOffset: t.RefCtrOffset}
	var l link.Link
	if p.Kind == probe.Uretprobe {
		l, err = ex.Uretprobe(t.Func, prog, opts)
	} else {
		l, err = ex.Uprobe(t.Func, prog, opts)
	}
	if err != nil && pid > 0 && errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("process %d does not exist", pid)
	}
	return l, err
}
