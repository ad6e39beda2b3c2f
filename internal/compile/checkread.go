package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
)

// probeReads names the helpers that read memory the program does not own,
// as bpftrace's -k warnings name them.
var probeReads = map[asm.BuiltinFunc]string{
	asm.FnProbeRead:          "probe_read",
	asm.FnProbeReadStr:       "probe_read_str",
	asm.FnProbeReadKernel:    "probe_read_kernel",
	asm.FnProbeReadKernelStr: "probe_read_kernel_str",
	asm.FnProbeReadUser:      "probe_read_user",
	asm.FnProbeReadUserStr:   "probe_read_user_str",
}

// checkRead follows a probe read that just returned: when it failed, a
// warning record carrying its error goes to user space, which reports it
// with the script's line (bpftrace's -k). R0 keeps the helper's result
// for the code after; R1–R5 are clobbered, as by the call.
func (g *gen) checkRead(fn asm.BuiltinFunc) {
	if g.src == nil {
		return
	}
	n := &ast.BlockExpr{Block: &ast.Block{Sp: g.src.Span}}
	ok := g.newLabel("read_ok")
	g.emit(asm.JSGE.Imm(asm.R0, 0, ok))
	mark := g.mark()
	ret := g.alloc(n, 8)
	g.emit(asm.StoreMem(asm.RFP, ret, asm.R0, asm.DWord))
	w := abi.Warning{Helper: probeReads[fn], RetcodeInRecord: true}
	id := g.warningEvent(n, w)
	g.sendEvent(n, id, abi.HeaderSize+8, func(rec int16) {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, ret, asm.DWord))
		g.emit(asm.StoreMem(asm.RFP, rec+abi.HeaderSize, asm.R1, asm.DWord))
	})
	g.emit(asm.LoadMem(asm.R0, asm.RFP, ret, asm.DWord))
	g.release(mark)
	g.place(ok)
}
