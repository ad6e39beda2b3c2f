package attach

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/lang/types"
)

// Watchpoints: a hardware breakpoint (perf_event_open's
// PERF_TYPE_BREAKPOINT) on an address, which runs the program each time
// the CPU reads, writes or executes the watched bytes. With a process
// (-p, or the -c child), one breakpoint follows each of its threads and is
// inherited by the threads and children it creates afterwards; without
// one, a breakpoint on every online CPU watches every process (the form
// for kernel addresses), as bpftrace attaches them.

// The hw_breakpoint types of linux/hw_breakpoint.h.
const (
	hwBreakpointR = 1
	hwBreakpointW = 2
	hwBreakpointX = 4
)

// watchpointAttr is the perf event of a watchpoint attach point.
func watchpointAttr(ap *types.AttachPoint, perProcess bool) unix.PerfEventAttr {
	sp := ap.Spec
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_BREAKPOINT, Sample: 1}
	attr.Size = uint32(unsafe.Sizeof(attr))
	for _, c := range sp.Mode {
		switch c {
		case 'r':
			attr.Bp_type |= hwBreakpointR
		case 'w':
			attr.Bp_type |= hwBreakpointW
		case 'x':
			attr.Bp_type |= hwBreakpointX
		}
	}
	attr.Ext1 = sp.Address // bp_addr
	attr.Ext2 = sp.Length  // bp_len
	if attr.Bp_type&hwBreakpointX != 0 {
		// An execution breakpoint covers one instruction; the kernel
		// wants the length of a long for it (perf_event_open(2)).
		attr.Ext2 = uint64(unsafe.Sizeof(uintptr(0)))
	}
	if perProcess {
		attr.Bits |= unix.PerfBitInherit
	}
	return attr
}

// watchpoint attaches prog to the breakpoints of a watchpoint: on pid's
// threads when pid is positive, else on every online CPU.
func watchpoint(ap *types.AttachPoint, prog *ebpf.Program, pid int) (io.Closer, error) {
	attr := watchpointAttr(ap, pid > 0)
	var events []perfEvent
	if pid > 0 {
		tids, err := threadsOf(pid)
		if err != nil {
			return nil, err
		}
		for _, tid := range tids {
			events = append(events, perfEvent{pid: tid, cpu: -1})
		}
	} else {
		cpus, err := onlineCPUs()
		if err != nil {
			return nil, err
		}
		for _, cpu := range cpus {
			events = append(events, perfEvent{pid: -1, cpu: cpu})
		}
	}
	var links perfEventLinks
	for _, ev := range events {
		l, err := openBreakpoint(ap, &attr, ev, prog)
		if errors.Is(err, unix.ESRCH) && ev.pid > 0 {
			continue // the thread exited meanwhile
		}
		if err != nil {
			links.Close()
			return nil, err
		}
		links = append(links, l)
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("process %d has no threads left to watch", pid)
	}
	return links, nil
}

// openBreakpoint is openPerfEvent with the errors a breakpoint has.
func openBreakpoint(ap *types.AttachPoint, attr *unix.PerfEventAttr, ev perfEvent, prog *ebpf.Program) (*perfEventLink, error) {
	l, err := openPerfEvent(ap, attr, ev, prog)
	if err == nil {
		return l, nil
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return nil, err
	}
	sp := ap.Spec
	switch errno {
	case unix.ENOSPC:
		return nil, fmt.Errorf("no hardware breakpoint left: the CPU has few debug registers (four on x86), shared with debuggers and other watchpoints (%w)", err)
	case unix.EINVAL:
		if sp.Address%sp.Length != 0 {
			return nil, fmt.Errorf("the kernel refused the breakpoint: address %#x is not aligned to its length %d, as hardware breakpoints must be (%w)", sp.Address, sp.Length, err)
		}
		return nil, fmt.Errorf("the kernel refused the breakpoint (address %#x, length %d, mode %s) (%w)", sp.Address, sp.Length, sp.Mode, err)
	case unix.ENOENT, unix.EOPNOTSUPP, unix.ENODEV:
		return nil, fmt.Errorf("this kernel offers no hardware breakpoints (it needs CONFIG_HAVE_HW_BREAKPOINT, and a virtual machine must pass the CPU's debug registers through) (%w)", err)
	}
	return nil, err
}

// threadsOf lists a process's threads, from /proc/PID/task.
func threadsOf(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, fmt.Errorf("listing the threads of process %d: %w", pid, err)
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
