package kernel

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// ErrNotSupported is matched (errors.Is) by a *FeatureError for a feature
// this kernel does not offer. It is cilium/ebpf's sentinel, so errors from
// that library match it too.
var ErrNotSupported = ebpf.ErrNotSupported

// FeatureError says why an attach type or helper does not work here.
type FeatureError struct {
	// Feature is the attach type or helper, e.g. "kprobe".
	Feature string
	// Reason is a sentence for humans, e.g. "CONFIG_KPROBES is off: no
	// kprobe PMU and no kprobe_events".
	Reason string
	// Unsupported is true when the kernel (or the platform around it)
	// lacks the feature, false when the probe could not tell, e.g. because
	// the process lacks privileges.
	Unsupported bool
	// Err is the underlying error from the attempt, if any.
	Err error
}

// Error is "feature: reason".
func (e *FeatureError) Error() string { return e.Feature + ": " + e.Reason }

// Unwrap returns the underlying error.
func (e *FeatureError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotSupported) true when the feature is
// missing (as opposed to merely untestable).
func (e *FeatureError) Is(target error) bool { return target == ErrNotSupported && e.Unsupported }

// errENOTSUPP is the kernel-internal ENOTSUPP (524) that leaks to user
// space from BPF attach paths; x/sys/unix has no name for it.
const errENOTSUPP = syscall.Errno(524)

// featureErr classifies a failed attempt at feature while doing op, which
// needs caps (CAP_BPF and CAP_PERFMON when none are given).
func featureErr(feature, op string, err error, caps ...Capability) *FeatureError {
	if len(caps) == 0 {
		caps = []Capability{CapBPF, CapPerfmon}
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		var pe *PrivilegeError
		if errors.As(MissingPrivilege(op, err, caps...), &pe) {
			return &FeatureError{Feature: feature, Reason: pe.Error(), Err: pe}
		}
		// Every capability is in effect and the kernel still says no:
		// lockdown, an LSM or the platform forbids this, which for ktrace
		// is the same as the feature being absent.
		return &FeatureError{
			Feature:     feature,
			Reason:      op + ": " + errnoText(err) + " although CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are in effect (refused by lockdown, an LSM or the platform)",
			Unsupported: true,
			Err:         err,
		}
	}
	return &FeatureError{Feature: feature, Reason: op + ": " + errnoText(err), Unsupported: true, Err: err}
}

// errnoText prefers the bare errno text ("operation not permitted") over
// library wrapping ("load program: operation not permitted (MEMLOCK may
// be too low, consider rlimit.RemoveMemlock)") that would mislead here.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if errno == errENOTSUPP {
			return "not supported (ENOTSUPP)"
		}
		return errno.Error() + " (" + errnoName(errno) + ")"
	}
	return err.Error()
}

func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// trivial is the smallest valid program: r0 = 0; exit.
var trivial = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}

func loadProgram(spec *ebpf.ProgramSpec) (*ebpf.Program, error) {
	if spec.Instructions == nil {
		spec.Instructions = trivial
	}
	spec.License = "GPL"
	return ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogDisabled: true})
}

// The probes below are memoized: each runs at most once per process.
var (
	haveKprobes        = sync.OnceValue(func() error { return probeKprobe(false) })
	haveKretprobes     = sync.OnceValue(func() error { return probeKprobe(true) })
	haveTracepoints    = sync.OnceValue(probeTracepoint)
	haveRawTracepoints = sync.OnceValue(probeRawTracepoint)
	haveTPBTF          = sync.OnceValue(func() error { return probeTracing("tp_btf", ebpf.AttachTraceRawTp, "sys_enter") })
	haveFentry         = sync.OnceValue(func() error { return probeTracing("fentry", ebpf.AttachTraceFEntry, "vfs_read") })
	haveFexit          = sync.OnceValue(func() error { return probeTracing("fexit", ebpf.AttachTraceFExit, "vfs_read") })
	haveUprobes        = sync.OnceValue(func() error { return probeUprobe(false) })
	haveUretprobes     = sync.OnceValue(func() error { return probeUprobe(true) })
	havePerfEvents     = sync.OnceValue(probePerfEvent)
	haveRingbuf        = sync.OnceValue(probeRingbuf)
	haveTaskBTF        = sync.OnceValue(probeTaskBTF)
	haveIter           = sync.OnceValue(probeIter)
	haveAtomics        = sync.OnceValue(probeAtomics)
)

// HaveAtomicsCached reports whether BPF programs can use atomic
// compare-and-exchange and exchange (Linux 5.12), which value slots need
// (internal/compile/valueslots.go). As HaveTPBTFCached, a success is
// remembered on disk, so only a kernel's first run loads the probe.
func HaveAtomicsCached() error { return cachedSuccess("have atomics", haveAtomics) }

// cachedSuccess runs probe unless the facts cache remembers it succeeding
// on this kernel, and remembers a success. A failure is not remembered:
// it may be a missing privilege rather than the kernel.
func cachedSuccess(key string, probe func() error) error {
	if v, ok := cachedFact(key); ok && v == "1" {
		return nil
	}
	if err := probe(); err != nil {
		return err
	}
	storeFact(key, "1")
	return nil
}

// atomicInsn is a 64-bit atomic operation with its immediate set by hand:
// cilium/ebpf v0.22's Marshal leaves it 0 (an atomic add) for the others.
func atomicInsn(op asm.AtomicOp, dst, src asm.Register, off int16) asm.Instruction {
	ins := op.Mem(dst, src, asm.DWord, off)
	ins.Constant = int64(op >> 8)
	return ins
}

// probeAtomics loads a program that compare-and-exchanges a stack slot.
func probeAtomics() error {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R1, 1),
		atomicInsn(asm.CmpXchg, asm.RFP, asm.R1, -8),
		atomicInsn(asm.Xchg, asm.RFP, asm.R1, -8),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	p, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns})
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			return &FeatureError{Feature: "BPF atomics", Reason: "the kernel does not know atomic compare-and-exchange (needs 5.12+)", Unsupported: true, Err: err}
		}
		return featureErr("BPF atomics", "loading a program", err, CapBPF)
	}
	return p.Close()
}

// HaveKprobes reports whether a kprobe can be attached here, by attaching
// one to vfs_read. The result is memoized; nil means yes, otherwise a
// *FeatureError explains why not.
func HaveKprobes() error { return haveKprobes() }

// HaveKretprobes is HaveKprobes for kretprobes.
func HaveKretprobes() error { return haveKretprobes() }

// HaveTracepoints reports whether a tracepoint program can be attached
// (to raw_syscalls:sys_enter).
func HaveTracepoints() error { return haveTracepoints() }

// HaveRawTracepoints reports whether a raw tracepoint program can be
// attached (to sys_enter).
func HaveRawTracepoints() error { return haveRawTracepoints() }

// HaveTPBTF reports whether a BTF-enabled raw tracepoint (tp_btf) program
// can be loaded and attached.
func HaveTPBTF() error { return haveTPBTF() }

// HaveTPBTFCached is HaveTPBTF for the startup path: a success is
// remembered on disk with the kernel's BTF facts, so only a kernel's first
// run pays for the probe (loading a tp_btf program makes cilium/ebpf index
// the kernel's BTF). A failure is not remembered: it may be a missing
// privilege rather than the kernel.
func HaveTPBTFCached() error { return cachedSuccess("have tp_btf", haveTPBTF) }

// HaveFentry reports whether an fentry program can be loaded and attached
// (to vfs_read).
func HaveFentry() error { return haveFentry() }

// HaveFexit reports whether an fexit program can be loaded and attached.
func HaveFexit() error { return haveFexit() }

// HaveUprobes reports whether a uprobe can be attached, by attaching one
// to this executable's entry point.
func HaveUprobes() error { return haveUprobes() }

// HaveUretprobes is HaveUprobes for uretprobes.
func HaveUretprobes() error { return haveUretprobes() }

// HavePerfEvents reports whether a BPF program can be attached to a
// software cpu-clock perf event (what profile: and interval: probes use).
func HavePerfEvents() error { return havePerfEvents() }

// HaveRingbuf reports whether BPF ring buffer maps can be created.
func HaveRingbuf() error { return haveRingbuf() }

// HaveTaskBTF reports whether a tracepoint program may call
// bpf_get_current_task_btf() and load task_struct.comm straight from the
// result, which is how ktrace compiles comm.
func HaveTaskBTF() error { return haveTaskBTF() }

var helperCache sync.Map // helperKey → error

type helperKey struct {
	pt ebpf.ProgramType
	fn asm.BuiltinFunc
}

// HaveHelper reports whether programs of type pt may call helper fn, e.g.
// HaveHelper(ebpf.TracePoint, asm.FnGetCurrentTaskBtf). Results are
// memoized per (pt, fn).
func HaveHelper(pt ebpf.ProgramType, fn asm.BuiltinFunc) error {
	k := helperKey{pt, fn}
	if v, ok := helperCache.Load(k); ok {
		err, _ := v.(error)
		return err
	}
	var out error
	if err := features.HaveProgramHelper(pt, fn); err != nil {
		name := fmt.Sprintf("helper %s in %s programs", fn, pt)
		if errors.Is(err, ebpf.ErrNotSupported) {
			out = &FeatureError{Feature: name, Reason: "the kernel does not offer it", Unsupported: true, Err: err}
		} else {
			out = featureErr(name, "probing", err)
		}
	}
	helperCache.Store(k, out)
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func probeKprobe(ret bool) error {
	feature, attach := "kprobe", link.Kprobe
	if ret {
		feature, attach = "kretprobe", link.Kretprobe
	}
	// cilium/ebpf falls back to tracefs kprobe_events when there is no
	// kprobe PMU, and both need tracefs mounted.
	tfs, tfsErr := Tracefs()
	pmu := fileExists("/sys/bus/event_source/devices/kprobe")
	events := tfsErr == nil && fileExists(filepath.Join(tfs, "kprobe_events"))

	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.Kprobe})
	if err != nil {
		return featureErr(feature, "loading a kprobe program", err)
	}
	defer prog.Close()
	l, err := attach("vfs_read", prog, nil)
	if err == nil {
		return l.Close()
	}
	if !pmu && !events {
		if tfsErr != nil && !fileExists("/sys/kernel/tracing") {
			return &FeatureError{Feature: feature, Reason: "no kprobe PMU and tracefs is unavailable: " + tfsErr.Error(), Unsupported: true, Err: err}
		}
		return &FeatureError{Feature: feature, Reason: "CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events", Unsupported: true, Err: err}
	}
	return featureErr(feature, "attaching to vfs_read", err)
}

func probeTracepoint() error {
	if _, err := Tracefs(); err != nil {
		return &FeatureError{Feature: "tracepoint", Reason: err.Error(), Err: err}
	}
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint})
	if err != nil {
		return featureErr("tracepoint", "loading a tracepoint program", err)
	}
	defer prog.Close()
	l, err := link.Tracepoint("raw_syscalls", "sys_enter", prog, nil)
	if err != nil {
		return featureErr("tracepoint", "attaching to raw_syscalls:sys_enter", err)
	}
	return l.Close()
}

func probeRawTracepoint() error {
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint})
	if err != nil {
		return featureErr("raw_tp", "loading a raw tracepoint program", err)
	}
	defer prog.Close()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
	if err != nil {
		return featureErr("raw_tp", "attaching to sys_enter", err)
	}
	return l.Close()
}

// HaveIter reports whether BPF iterators work here, by loading and
// attaching a task iterator program (iter:task).
func HaveIter() error { return haveIter() }

func probeIter() error {
	if !fileExists(VmlinuxBTF) {
		return &FeatureError{Feature: "iter", Reason: "kernel has no BTF (" + VmlinuxBTF + " missing; needs CONFIG_DEBUG_INFO_BTF)", Unsupported: true}
	}
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceIter, AttachTo: "task"})
	if err != nil {
		return featureErr("iter", "loading a task iterator program", err)
	}
	defer prog.Close()
	l, err := link.AttachIter(link.IterOptions{Program: prog})
	if err != nil {
		return featureErr("iter", "attaching a task iterator", err)
	}
	return l.Close()
}

// probeTracing covers the BTF-based tracing program kinds. Loading one
// makes cilium/ebpf parse the kernel's BTF (tens of ms) to find the
// target's type id, which is acceptable for `ktrace info` and the first
// fentry use but is why these are never probed on the startup path.
func probeTracing(feature string, at ebpf.AttachType, target string) error {
	if !fileExists(VmlinuxBTF) {
		return &FeatureError{Feature: feature, Reason: "kernel has no BTF (" + VmlinuxBTF + " missing; needs CONFIG_DEBUG_INFO_BTF)", Unsupported: true}
	}
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: at, AttachTo: target})
	if err != nil {
		return featureErr(feature, "loading "+article(feature)+" "+feature+" program for "+target, err)
	}
	defer prog.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		return featureErr(feature, "attaching to "+target, err)
	}
	return l.Close()
}

func probeUprobe(ret bool) error {
	feature := "uprobe"
	if ret {
		feature = "uretprobe"
	}
	exe, err := os.Executable()
	if err != nil {
		return &FeatureError{Feature: feature, Reason: "cannot find this executable to probe: " + err.Error(), Err: err}
	}
	off, err := entryFileOffset(exe)
	if err != nil {
		return &FeatureError{Feature: feature, Reason: "cannot find the entry point of " + exe + ": " + err.Error(), Err: err}
	}
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.Kprobe})
	if err != nil {
		return featureErr(feature, "loading a uprobe program", err)
	}
	defer prog.Close()
	ex, err := link.OpenExecutable(exe)
	if err != nil {
		return featureErr(feature, "opening "+exe, err)
	}
	attach := ex.Uprobe
	if ret {
		attach = ex.Uretprobe
	}
	// The entry point is used rather than a symbol because a stripped
	// binary (go build -ldflags=-s) has no symbol table. Only in this
	// process, which is long past it: a uretprobe there would take argc,
	// at the top of the stack of any ktrace starting meanwhile, for a
	// return address and overwrite it, and that ktrace would crash.
	l, err := attach("_start", prog, &link.UprobeOptions{Address: off, PID: os.Getpid()})
	if err != nil {
		return featureErr(feature, "attaching to the entry point of "+exe, err)
	}
	return l.Close()
}

// entryFileOffset returns the file offset of an ELF executable's entry
// point, which is what uprobes are placed by.
func entryFileOffset(path string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz {
			return f.Entry - p.Vaddr + p.Off, nil
		}
	}
	return 0, errors.New("entry point is not in an executable segment")
}

func probePerfEvent() error {
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		// One sample a second: the program is trivial, but there is no
		// reason to run it often while probing.
		Sample: 1_000_000_000,
	}
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return featureErr("perf_event", "opening a cpu-clock perf event", err)
	}
	defer unix.Close(fd)
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.PerfEvent})
	if err != nil {
		return featureErr("perf_event", "loading a perf_event program", err)
	}
	defer prog.Close()
	l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
	if err == nil {
		return l.Close()
	}
	// Kernels before 5.15 have no perf_event BPF links; the ioctl is the
	// older way and detaches when fd is closed.
	if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); ierr != nil {
		return featureErr("perf_event", "attaching to a cpu-clock perf event", ierr)
	}
	return nil
}

func probeRingbuf() error {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: uint32(os.Getpagesize())})
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			return &FeatureError{Feature: "ringbuf", Reason: "the kernel does not know ring buffer maps (needs 5.8+)", Unsupported: true, Err: err}
		}
		return featureErr("ringbuf", "creating a ring buffer map", err, CapBPF)
	}
	return m.Close()
}

func probeTaskBTF() error {
	const feature = "bpf_get_current_task_btf"
	off, err := StructMemberOffset("task_struct", "comm")
	if err != nil {
		return &FeatureError{Feature: feature, Reason: "cannot find task_struct.comm in BTF: " + err.Error(), Unsupported: true, Err: err}
	}
	insns := asm.Instructions{
		asm.FnGetCurrentTaskBtf.Call(),
		asm.LoadMem(asm.R1, asm.R0, int16(off), asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	prog, err := loadProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint, Instructions: insns})
	if err != nil {
		return featureErr(feature, "loading a tracepoint program that reads task_struct.comm", err)
	}
	return prog.Close()
}

// FeatureStatus is the outcome of one feature probe.
type FeatureStatus struct {
	// Name is the attach type, e.g. "kprobe", "tp_btf", "ringbuf".
	Name string
	// Supported is true when the probe succeeded.
	Supported bool
	// Err is nil when supported, else usually a *FeatureError whose
	// message is the reason.
	Err error
}

// Features runs (or recalls) every attach-type probe, in the order
// kprobe, kretprobe, tracepoint, raw_tp, tp_btf, fentry, fexit, uprobe,
// uretprobe, perf_event, ringbuf.
func Features() []FeatureStatus {
	probes := []struct {
		name string
		fn   func() error
	}{
		{"kprobe", HaveKprobes},
		{"kretprobe", HaveKretprobes},
		{"tracepoint", HaveTracepoints},
		{"raw_tp", HaveRawTracepoints},
		{"tp_btf", HaveTPBTF},
		{"fentry", HaveFentry},
		{"fexit", HaveFexit},
		{"uprobe", HaveUprobes},
		{"uretprobe", HaveUretprobes},
		{"perf_event", HavePerfEvents},
		{"ringbuf", HaveRingbuf},
	}
	out := make([]FeatureStatus, len(probes))
	for i, p := range probes {
		err := p.fn()
		out[i] = FeatureStatus{Name: p.name, Supported: err == nil, Err: err}
	}
	return out
}

// article picks "a" or "an" for the tracing kinds probed here: "an
// fentry" and "an fexit" (read "ef-entry"), "a tp_btf".
func article(feature string) string {
	if strings.HasPrefix(feature, "f") {
		return "an"
	}
	return "a"
}
