package facts

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Request is what the caller asks of the compiled code, beyond the
// script itself.
type Request struct {
	// FilterPID is bpftrace's -p (compile.Options.FilterPID).
	FilterPID int
	// EventContext makes printf records carry their event's context
	// (compile.Options.EventContext).
	EventContext bool
	// CheckProbeReads is bpftrace's -k (compile.Options.CheckProbeReads).
	CheckProbeReads bool
	// NoUprobeMulti keeps uprobes on perf events even where the kernel
	// has uprobe_multi links (bpftrace's --no-feature uprobe_multi).
	NoUprobeMulti bool
}

// CompileOptions describes the running kernel as the compiler of a checked
// script needs it, with what req asks for. A kprobe the kernel cannot
// attach, even as fentry, is an error positioned at its attach point.
func CompileOptions(file *lang.File, info *types.Info, req Request) (compile.Options, error) {
	opts := compile.Options{
		FilterPID:       req.FilterPID,
		EventContext:    req.EventContext,
		CheckProbeReads: req.CheckProbeReads,
		MemberOffset: func(structName, member string) (int, error) {
			off, err := kernel.StructMemberOffset(structName, member)
			return int(off), err
		},
	}
	if n, err := ebpf.PossibleCPU(); err == nil {
		opts.PossibleCPUs = n
	}
	opts.TAIOffset = kernel.TAIOffset()
	if pages := info.Config.RingBufPages; pages > 0 {
		// The ring buffer must be a power-of-two number of pages.
		size := os.Getpagesize()
		for size < pages*os.Getpagesize() {
			size *= 2
		}
		opts.RingBufSize = size
	}
	if info.Builtins[builtins.Comm] || info.Builtins[builtins.CommCall] || req.EventContext {
		// Reading comm through the task's BTF pointer is the fastest way;
		// the offset comes from a cached scan of the kernel's BTF.
		if off, err := kernel.StructMemberOffset("task_struct", "comm"); err == nil {
			opts.TaskCommOffset = int(off)
		}
	}
	opts.Stacks = stackOptions(info)
	if info.Builtins[builtins.Override] {
		if err := kernel.HaveHelper(ebpf.Kprobe, asm.FnOverrideReturn); errors.Is(err, ebpf.ErrNotSupported) {
			return opts, callError(file, info, "override", "override(): this kernel has no bpf_override_return (it is built without CONFIG_BPF_KPROBE_OVERRIDE)")
		}
	}
	if info.Builtins[builtins.WriteUser] {
		// The kernel leaves bpf_probe_write_user out of every program
		// type when it refuses it, so the check is not per probe.
		if err := kernel.HaveHelper(ebpf.TracePoint, asm.FnProbeWriteUser); errors.Is(err, ebpf.ErrNotSupported) {
			return opts, callError(file, info, "write_user", "write_user(): this kernel does not offer bpf_probe_write_user to BPF programs (a kernel in lockdown leaves it out)")
		}
	}
	var points []*types.AttachPoint
	for _, p := range info.Probes {
		points = append(points, p.Points...)
	}
	asFentry, err := kprobeMode(points, RunningKernel)
	if err != nil {
		return opts, kprobeError(file, info, err)
	}
	opts.KprobesAsFentry = asFentry
	opts.BTFRawTracepoints = btfRawTracepoints(points, RunningKernel)
	opts.UprobeMulti = !req.NoUprobeMulti && uprobeMulti(points)
	opts.ValueSlots = plainKeyedMaps(info) && kernel.HaveAtomicsCached() == nil
	return opts, nil
}

// plainKeyedMaps reports whether the script has a keyed map of integers
// or pointers, which may keep its entries in value slots.
func plainKeyedMaps(info *types.Info) bool {
	for _, m := range info.Maps {
		if m.Value != nil && len(m.Keys) > 0 && (m.Value.Kind == types.Int || m.Value.Kind == types.Pointer) {
			return true
		}
	}
	return false
}

// stackOptions tells the compiler how this machine's kernel takes stacks,
// when the script takes any.
func stackOptions(info *types.Info) compile.StackOptions {
	var opts compile.StackOptions
	uses := info.Builtins
	kstack := uses[builtins.Kstack] || uses[builtins.KstackCall]
	ustack := uses[builtins.Ustack] || uses[builtins.UstackCall] || uses[builtins.Usym]
	if !kstack && !ustack {
		return opts
	}
	if data, err := os.ReadFile("/proc/sys/kernel/perf_event_max_stack"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
			opts.MaxFrames = n
		}
	}
	if ustack {
		if off, err := kernel.StructMemberOffset("task_struct", "mm"); err == nil {
			opts.TaskMMOffset = int(off)
		}
	}
	return opts
}

// callError positions msg at the first call of the builtin function name.
func callError(file *lang.File, info *types.Info, name, msg string) error {
	var at *ast.Call
	for _, p := range info.Probes {
		ast.Inspect(p.Node, func(n ast.Node) bool {
			if c, ok := n.(*ast.Call); ok && c.Name == name && at == nil {
				at = c
			}
			return at == nil
		})
		if at != nil {
			return lang.ErrorList{{File: file, Span: at.Sp, Msg: msg}}
		}
	}
	return errors.New(msg)
}

// uprobeMulti reports whether the script has several uprobes or
// uretprobes, which may share a program, and the kernel has uprobe_multi
// links (Linux 6.6; cilium/ebpf's probe creates one).
func uprobeMulti(points []*types.AttachPoint) bool {
	n := 0
	for _, ap := range points {
		if ap.Kind == probe.Uprobe || ap.Kind == probe.Uretprobe {
			n++
		}
	}
	return n >= 2 && features.HaveBPFLinkUprobeMulti() == nil
}
