package attach

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Perf-event probes: interval, profile, software and hardware. Each opens
// perf events with perf_event_open and attaches the program to them with a
// BPF link (5.15+) or, on older kernels, the PERF_EVENT_IOC_SET_BPF ioctl.
// interval fires on one CPU, the others on every online CPU, like
// bpftrace; with -p, one event follows the process on every CPU instead.

// perfCounter is a software or hardware event: perf's counter and
// bpftrace's default sample period.
type perfCounter struct{ config, period uint64 }

// softwareEvents maps software: event names (and bpftrace's aliases) to
// their counters.
var softwareEvents = map[string]perfCounter{
	"cpu-clock":        {unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
	"cpu":              {unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
	"task-clock":       {unix.PERF_COUNT_SW_TASK_CLOCK, 1},
	"page-faults":      {unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
	"faults":           {unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
	"context-switches": {unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
	"cs":               {unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
	"cpu-migrations":   {unix.PERF_COUNT_SW_CPU_MIGRATIONS, 1},
	"minor-faults":     {unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
	"major-faults":     {unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
	"alignment-faults": {unix.PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
	"emulation-faults": {unix.PERF_COUNT_SW_EMULATION_FAULTS, 1},
	"dummy":            {unix.PERF_COUNT_SW_DUMMY, 1},
	"bpf-output":       {unix.PERF_COUNT_SW_BPF_OUTPUT, 1},
}

// hardwareEvents is softwareEvents for hardware: events.
var hardwareEvents = map[string]perfCounter{
	"cpu-cycles":          {unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
	"cycles":              {unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
	"instructions":        {unix.PERF_COUNT_HW_INSTRUCTIONS, 1000000},
	"cache-references":    {unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
	"cache-misses":        {unix.PERF_COUNT_HW_CACHE_MISSES, 1000000},
	"branch-instructions": {unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
	"branches":            {unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
	"branch-misses":       {unix.PERF_COUNT_HW_BRANCH_MISSES, 100000},
	"bus-cycles":          {unix.PERF_COUNT_HW_BUS_CYCLES, 100000},
	"frontend-stalls":     {unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
	"backend-stalls":      {unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
	"ref-cycles":          {unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
}

// perfEventAttr describes the perf event of a perf-event probe, and
// whether it is opened on every online CPU (else on CPU 0).
func perfEventAttr(ap *types.AttachPoint) (attr unix.PerfEventAttr, everyCPU bool, err error) {
	attr.Size = uint32(unsafe.Sizeof(attr))
	sp := ap.Spec
	switch ap.Kind {
	case probe.Interval, probe.Profile:
		attr.Type, attr.Config = unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK
		if ap.Kind == probe.Profile && sp.Unit == "hz" {
			// A frequency, which the kernel keeps by adjusting the period.
			attr.Sample = sp.Count
			attr.Bits |= unix.PerfBitFreq
			return attr, true, nil
		}
		period := sp.Period()
		if period <= 0 {
			return attr, false, fmt.Errorf("%s has no period", ap.Name)
		}
		attr.Sample = uint64(period.Nanoseconds())
		return attr, ap.Kind == probe.Profile, nil
	case probe.Software, probe.Hardware:
		table, typ := softwareEvents, uint32(unix.PERF_TYPE_SOFTWARE)
		if ap.Kind == probe.Hardware {
			table, typ = hardwareEvents, unix.PERF_TYPE_HARDWARE
		}
		ev, ok := table[sp.Name]
		if !ok {
			return attr, false, fmt.Errorf("unknown %s event %q", ap.Kind, sp.Name)
		}
		attr.Type, attr.Config, attr.Sample = typ, ev.config, ev.period
		if sp.Count > 0 {
			attr.Sample = sp.Count
		}
		return attr, true, nil
	}
	return attr, false, fmt.Errorf("%s probes are not perf events", ap.Kind)
}

// perfEventProbe opens a probe's perf events and attaches prog to each:
// on the CPUs it asks for, or, with a pid, one event that counts that
// process's time and occurrences alone, as bpftrace's -p does.
func perfEventProbe(ap *types.AttachPoint, prog *ebpf.Program, pid int) (io.Closer, error) {
	attr, everyCPU, err := perfEventAttr(ap)
	if err != nil {
		return nil, err
	}
	var events []perfEvent
	switch {
	case pid > 0:
		events = []perfEvent{{pid: pid, cpu: -1}}
	case everyCPU:
		cpus, err := onlineCPUs()
		if err != nil {
			return nil, err
		}
		for _, cpu := range cpus {
			events = append(events, perfEvent{pid: -1, cpu: cpu})
		}
	default:
		events = []perfEvent{{pid: -1, cpu: 0}}
	}
	var links perfEventLinks
	for _, ev := range events {
		l, err := openPerfEvent(ap, &attr, ev, prog)
		if err != nil {
			links.Close()
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

// perfEvent is where a perf event counts: a process (pid, on any CPU) or
// a CPU (every process, pid -1).
type perfEvent struct{ pid, cpu int }

// openPerfEvent opens one perf event and attaches prog to it: the one
// path every perf-event probe takes.
func openPerfEvent(ap *types.AttachPoint, attr *unix.PerfEventAttr, ev perfEvent, prog *ebpf.Program) (*perfEventLink, error) {
	fd, err := unix.PerfEventOpen(attr, ev.pid, ev.cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, perfEventOpenError(ap, ev, err)
	}
	l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
	if err == nil {
		return &perfEventLink{l: l, fd: fd}, nil
	}
	// Kernels before 5.15 have no perf event links: attach by ioctl. The
	// program then stays attached until the perf event fd is closed, which
	// the kernel also does when the process dies.
	if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); ierr != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attaching to a perf event: %w", errors.Join(err, ierr))
	}
	if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); ierr != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("enabling a perf event: %w", ierr)
	}
	return &perfEventLink{fd: fd}, nil
}

// perfEventOpenError explains a failed perf_event_open.
func perfEventOpenError(ap *types.AttachPoint, ev perfEvent, err error) error {
	if ap.Kind == probe.Hardware && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV)) {
		if !HasHardwarePMU() {
			return fmt.Errorf("this machine has no hardware performance counters (no CPU PMU in /sys/bus/event_source/devices, as in most virtual machines), so hardware events cannot be counted; software:cpu-clock or profile:hz:99 sample without them (%v)", err)
		}
		return fmt.Errorf("the CPU's performance monitoring unit does not support this event: %w", err)
	}
	if ev.pid > 0 {
		return fmt.Errorf("opening a perf event for process %d: %w", ev.pid, err)
	}
	return fmt.Errorf("opening a perf event on CPU %d: %w", ev.cpu, err)
}

// perfEventLink closes the BPF link (if attached by one) and then the
// perf event.
type perfEventLink struct {
	l  *link.RawLink
	fd int
}

func (p *perfEventLink) Close() error {
	var err error
	if p.l != nil {
		err = p.l.Close()
	}
	return errors.Join(err, unix.Close(p.fd))
}

// perfEventLinks closes every event of a probe.
type perfEventLinks []*perfEventLink

func (ls perfEventLinks) Close() error {
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// HasHardwarePMU reports whether the kernel has a performance monitoring
// unit for the CPU, which hardware: probes need: a "cpu" (or, on hybrid
// x86, "cpu_core") event source, or an ARM PMU.
func HasHardwarePMU() bool {
	entries, err := os.ReadDir("/sys/bus/event_source/devices")
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if n == "cpu" || n == "cpu_core" || n == "cpu_atom" || strings.HasPrefix(n, "armv") || strings.Contains(n, "_pmu") {
			return true
		}
	}
	return false
}

// onlineCPUs lists the online CPUs, from /sys/devices/system/cpu/online
// ("0-3,5").
func onlineCPUs() ([]int, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, fmt.Errorf("listing online CPUs: %w", err)
	}
	return parseCPUList(strings.TrimSpace(string(data)))
}

func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("no online CPUs in %q", s)
	}
	return cpus, nil
}
