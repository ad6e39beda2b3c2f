// Package verify is ktrace's userspace BPF verifier: it checks a program
// before it is loaded and explains every problem in source terms.
//
// The input is a cilium/ebpf asm.Instructions slice plus the program type and
// the maps it references. Verification has two passes:
//
//   - a static pass over the control-flow graph: instruction encodings, the
//     two halves of every ld_imm64, jump targets, unreachable code, the last
//     instruction, subprogram boundaries, loops (back-edges) and the
//     instruction limit;
//   - a dry run, an abstract interpretation of every path that tracks the
//     type of each register and stack slot (integer with known bounds,
//     context, stack, map, map value, map value or NULL, ring buffer record,
//     kernel object, ...) and checks every memory access, helper call,
//     pointer operation and exit. States are pruned when a path reaches a
//     state already proven safe, and merged at join points that see many
//     different states, which keeps large programs fast.
//
// Each problem becomes a Finding with a category, the instruction index,
// the source position the compiler attached (asm.Instruction.WithSource),
// a one-sentence explanation and a hint.
//
// The semantics follow the Linux kernel verifier of the kernel ktrace is
// tested on (6.18), which serves as the oracle of the package's tests. When
// unsure, the package rejects: it may refuse programs the kernel would
// accept (docs/verifier.md lists such cases) but is designed never to
// accept one the kernel rejects for memory safety.
package verify

import (
	"fmt"
	"runtime/debug"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// Options describes the program being verified and the environment it will
// be loaded into.
type Options struct {
	// Type is the program type: Kprobe, TracePoint, RawTracepoint, Tracing
	// or PerfEvent.
	Type ebpf.ProgramType
	// AttachType selects the flavour of Tracing programs
	// (AttachTraceRawTp for tp_btf, AttachTraceFEntry, AttachTraceFExit).
	AttachType ebpf.AttachType
	// AttachTo names the tracepoint (tp_btf) or kernel function (fentry,
	// fexit) of a Tracing program; its BTF types the context.
	AttachTo string
	// Maps holds the specs of the maps the instructions reference, keyed by
	// the reference name (asm.Instruction.Reference) of their ld_imm64.
	// Instructions associated with a live *ebpf.Map need no entry.
	Maps map[string]*ebpf.MapSpec
	// CtxSize is the size of a tracepoint's record (from its format file).
	// Reads beyond it are refused: the kernel accepts them at load time but
	// refuses to attach the program. Zero means the kernel's 8192-byte limit.
	CtxSize int
	// Unprivileged applies the limits of loaders without CAP_BPF and
	// CAP_PERFMON: 4096 instructions, no loops, no pointer leaks, no reads
	// of uninitialized stack.
	Unprivileged bool
	// KernelTypes is the BTF used for Tracing contexts and
	// bpf_get_current_task_btf. Nil loads the running kernel's BTF when
	// needed.
	KernelTypes *btf.Spec
	// TaskStruct, when set, describes struct task_struct for
	// bpf_get_current_task_btf instead of KernelTypes: a partial
	// description (its size and the members the program reads) lets a
	// program that only reads comm be checked without decoding the
	// kernel's whole BTF.
	TaskStruct *btf.Struct
	// KernelSymbol reports whether the kernel can find a symbol's address
	// (it looks variables loaded by BTF id up in kallsyms). Nil reads
	// /proc/kallsyms when needed.
	KernelSymbol func(name string) bool
}

// Program verifies insns and returns the report. It never panics: an
// internal failure is reported as a finding of category CatInternal.
func Program(insns asm.Instructions, opts Options) (report *Report) {
	v := &verifier{opts: &opts}
	report = &Report{Program: insns.Name()}
	defer func() {
		if r := recover(); r != nil {
			report.Findings = append(report.Findings, Finding{Severity: Error, Category: CatInternal, Insn: -1,
				Message: fmt.Sprintf("the verifier failed internally: %v", r),
				Hint:    "please report this bug with the program; " + firstFrames(debug.Stack())})
		}
	}()
	v.p = link(insns, &opts)
	report.Insns = len(v.p.insns)
	for _, f := range v.p.issues {
		v.add(f)
	}
	if v.nerr == 0 {
		v.run()
	}
	v.finalize(report)
	return report
}

func firstFrames(stack []byte) string {
	if len(stack) > 600 {
		stack = stack[:600]
	}
	return string(stack)
}

// run executes both passes.
func (v *verifier) run() {
	v.g = v.staticCheck()
	if v.g == nil || v.nerr > 0 {
		return
	}
	v.ctx = v.buildCtx()
	v.dryRun()
}

// finalize copies the results into the report.
func (v *verifier) finalize(r *Report) {
	for i := range v.findings {
		f := &v.findings[i]
		if f.source != nil {
			f.Pos, f.SourceLine = sourceText(f.source)
		}
	}
	sortFindings(v.findings)
	r.Findings = append(r.Findings, v.findings...)
	r.Processed = v.processed
	r.States = v.states
	r.Merges = v.merges
	if len(v.subDepth) > 0 {
		r.StackDepth = v.subDepth[0]
	}
	if v.g != nil {
		for _, l := range v.g.loops {
			li := LoopInfo{Header: l.header, Latch: l.latch}
			seen := map[int]bool{}
			for _, b := range l.body {
				if ln, ok := v.lineOf(b); ok && !seen[ln] {
					seen[ln] = true
					li.Lines = append(li.Lines, ln)
				}
			}
			r.Loops = append(r.Loops, li)
		}
	}
}
