package verify

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Context layouts of the supported program types (x86-64).
const (
	ptRegsSize        = 168  // struct pt_regs
	maxTraceSize      = 8192 // PERF_MAX_TRACE_SIZE
	rawTPArgsSize     = 12 * 8
	perfEventDataSize = ptRegsSize + 16 // regs, sample_period, addr
)

type ctxKind int

const (
	ctxNone ctxKind = iota
	ctxTracepoint
	ctxKprobe
	ctxRawTP
	ctxPerfEvent
	ctxBTF // tp_btf, fentry, fexit: arguments typed by BTF
)

// ctxArg is one argument slot of a BTF-typed context.
type ctxArg struct {
	name string
	typ  btf.Type // the argument's type (nil: unknown scalar)
}

// ctxModel describes what the context pointer R1 points to.
type ctxModel struct {
	kind ctxKind
	size int // readable bytes
	args []ctxArg
	what string
	err  string // why the model could not be built
}

func (v *verifier) buildCtx() *ctxModel {
	o := v.opts
	switch o.Type {
	case ebpf.TracePoint:
		c := &ctxModel{kind: ctxTracepoint, size: maxTraceSize, what: "tracepoint record"}
		if o.CtxSize > 0 {
			c.size = o.CtxSize
			c.what = fmt.Sprintf("%d-byte tracepoint record", o.CtxSize)
		}
		return c
	case ebpf.Kprobe:
		return &ctxModel{kind: ctxKprobe, size: ptRegsSize, what: "struct pt_regs"}
	case ebpf.RawTracepoint:
		return &ctxModel{kind: ctxRawTP, size: rawTPArgsSize, what: "raw tracepoint arguments"}
	case ebpf.PerfEvent:
		return &ctxModel{kind: ctxPerfEvent, size: perfEventDataSize, what: "struct bpf_perf_event_data"}
	case ebpf.Tracing:
		c := &ctxModel{kind: ctxBTF, what: "traced function's arguments"}
		args, err := v.tracingArgs()
		if err != nil {
			c.err = err.Error()
			return c
		}
		c.args = args
		c.size = 8 * len(args)
		return c
	}
	return &ctxModel{kind: ctxNone, what: "context", err: fmt.Sprintf("program type %s is not supported by this verifier", o.Type)}
}

// ctxAccess checks a load or store through the context pointer.
func (v *verifier) ctxAccess(pc int, regno uint8, base reg, off, size int, write bool, signExt bool) (reg, bool) {
	c := v.ctx
	if base.off != 0 {
		v.errorf(pc, CatCtx, fmt.Sprintf("R%d points %d bytes into the context; the context may only be read at a constant offset from its start", regno, base.off),
			"put the offset in the load instruction instead of adding it to the pointer")
		return reg{}, false
	}
	if !base.s.isConst() || base.s.constVal() != 0 {
		v.errorf(pc, CatCtx, fmt.Sprintf("R%d has a variable offset into the context; context fields must be read at constant offsets", regno), "")
		return reg{}, false
	}
	if c.err != "" {
		v.errorf(pc, CatUnsupport, c.err, "")
		return reg{}, false
	}
	bad := func(why string) (reg, bool) {
		v.errorf(pc, CatCtx, fmt.Sprintf("the %d-byte context %s at offset %d is not allowed: %s", size, map[bool]string{true: "write", false: "read"}[write], off, why),
			"read context fields at their offset and size")
		return reg{}, false
	}
	if write {
		return bad("the context of tracing programs is read-only")
	}
	if off%size != 0 {
		return bad(fmt.Sprintf("it is not aligned to %d bytes", size))
	}
	switch c.kind {
	case ctxTracepoint:
		if off < 8 {
			return bad("the first 8 bytes of a tracepoint record (the common fields) are not readable")
		}
		if off+size > c.size {
			if c.size < maxTraceSize {
				return bad(fmt.Sprintf("the %s ends at offset %d (the kernel refuses to attach programs that read past it)", c.what, c.size))
			}
			return bad(fmt.Sprintf("tracepoint records are at most %d bytes", maxTraceSize))
		}
	case ctxKprobe, ctxRawTP:
		if off < 0 || off+size > c.size {
			return bad(fmt.Sprintf("the %s is %d bytes", c.what, c.size))
		}
	case ctxPerfEvent:
		if off < 0 || off+size > c.size {
			return bad(fmt.Sprintf("the %s is %d bytes", c.what, c.size))
		}
		if off < ptRegsSize && size != 8 {
			return bad("registers in the perf event context must be read whole (8 bytes)")
		}
	case ctxBTF:
		if off < 0 || off+size > c.size {
			return bad(fmt.Sprintf("the function has %d arguments (%d bytes)", len(c.args), c.size))
		}
		if off%8 != 0 {
			return bad("arguments are 8-byte slots; read them from their start")
		}
		return v.btfArgValue(pc, c.args[off/8], size, signExt)
	}
	return loadResult(size, signExt), true
}
