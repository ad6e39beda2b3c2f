package verify

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// corpusCase is one hand-written program of the differential corpus: the
// kernel must give the expected verdict, and so must this package.
type corpusCase struct {
	name  string
	opts  Options
	insns asm.Instructions
	want  Category // "" when the program is valid
	// userOnly marks cases the kernel cannot be asked about (for example
	// references to maps that do not exist); only this package is checked.
	userOnly bool
}

const (
	R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = asm.R0, asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R6, asm.R7, asm.R8, asm.R9, asm.R10
	DW, W, H, B                                 = asm.DWord, asm.Word, asm.Half, asm.Byte
)

func corpus() []corpusCase {
	var cs []corpusCase
	add := func(name string, o Options, want Category, parts ...any) {
		cs = append(cs, corpusCase{name: name, opts: o, insns: prog(parts...), want: want})
	}

	// ---- 1. Instruction encoding ----
	add("opcode/valid-alu", optsTP(), "", asm.Mov.Imm(R0, 1), asm.Add.Imm(R0, 2), asm.Return())
	add("opcode/unknown-alu-op-0xe", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0xe7, R0, 0, 0, 0), asm.Return())
	add("opcode/unknown-alu32-op-0xf", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0xf4, R0, 0, 0, 0), asm.Return())
	add("opcode/unknown-ld-mode", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0x00, R0, 0, 0, 0), asm.Return())
	add("opcode/ld-abs-not-allowed", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0x20, R0, 0, 0, 0), asm.Return())
	add("opcode/ldx-reserved-mode", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0x41, R0, R1, 0, 0), asm.Return())
	add("opcode/ldx-reserved-imm", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0x79, R0, R10, -8, 1), asm.Return())
	add("opcode/ldx-memsx-dw", optsTP(), CatOpcode, asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), raw(0x99, R0, R10, -8, 0), asm.Return())
	add("opcode/ldx-memsx-w-ok", optsTP(), "", asm.StoreImm(R10, -8, 0, W), raw(0x81, R0, R10, -8, 0), asm.Return())
	add("opcode/st-reserved-src", optsTP(), CatOpcode, raw(0x62, R10, R1, -8, 0), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/st-ok", optsTP(), "", raw(0x62, R10, 0, -8, 0), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/stx-reserved-imm", optsTP(), CatOpcode, asm.Mov.Imm(R1, 0), raw(0x7b, R10, R1, -8, 5), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/st-dw-ok", optsTP(), "", raw(0x7a, R10, 0, -8, 7), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/register-11", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), asm.Instruction{OpCode: asm.Mov.Op(asm.RegSource), Dst: 11, Src: 1}, asm.Return())
	add("opcode/src-register-12", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), asm.Instruction{OpCode: asm.Add.Op(asm.RegSource), Dst: 0, Src: 12}, asm.Return())
	add("opcode/shift-64-out-of-range", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), asm.LSh.Imm(R0, 64), asm.Return())
	add("opcode/shift-63-ok", optsTP(), "", asm.Mov.Imm(R0, 1), asm.LSh.Imm(R0, 63), asm.Return())
	add("opcode/shift32-32-out-of-range", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), asm.RSh.Imm32(R0, 32), asm.Return())
	add("opcode/shift32-negative", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), asm.ArSh.Imm32(R0, -1), asm.Return())
	add("opcode/end-bad-width", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0xd4, R0, 0, 0, 8), asm.Return())
	add("opcode/end-16-ok", optsTP(), "", asm.Mov.Imm(R0, 1), raw(0xdc, R0, 0, 0, 16), asm.Return())
	add("opcode/bswap64-ok", optsTP(), "", asm.Mov.Imm(R0, 1), raw(0xd7, R0, 0, 0, 64), asm.Return())
	add("opcode/neg-reserved", optsTP(), CatOpcode, asm.Mov.Imm(R0, 1), raw(0x87, R0, 0, 0, 3), asm.Return())
	add("opcode/neg-ok", optsTP(), "", asm.Mov.Imm(R0, 1), raw(0x87, R0, 0, 0, 0), asm.Return())
	add("opcode/mov-reserved-src", optsTP(), CatOpcode, raw(0xb7, R0, R1, 0, 0), asm.Return())
	add("opcode/movsx-ok", optsTP(), "", asm.Mov.Imm(R1, -3), asm.Instruction{OpCode: asm.MovSX8.Op(asm.RegSource), Dst: R0, Src: R1}, asm.Return())
	add("opcode/call-reserved-dst", optsTP(), CatOpcode, raw(0x85, R1, 0, 0, int64(asm.FnKtimeGetNs)), asm.Return())
	add("opcode/exit-reserved-imm", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), raw(0x95, 0, 0, 0, 1))
	add("opcode/ja-reserved-dst", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), raw(0x05, R1, 0, 0, 0), asm.Return())
	add("opcode/ja-ok", optsTP(), "", asm.Mov.Imm(R0, 0), raw(0x05, 0, 0, 0, 0), asm.Return())
	add("opcode/jmp-reserved-imm", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), raw(0x1d, R0, R0, 0, 4), asm.Return())
	add("opcode/jmp-reserved-src", optsTP(), CatOpcode, asm.Mov.Imm(R0, 0), raw(0x15, R0, R1, 0, 4), asm.Return())
	add("opcode/call-jmp32", optsTP(), CatOpcode, raw(0x86, 0, 0, 0, 5), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/atomic-byte-size", optsTP(), CatOpcode, asm.StoreImm(R10, -8, 0, W), asm.Mov.Imm(R1, 1), asm.Instruction{OpCode: asm.OpCode(0xd3), Dst: R10, Src: R1, Offset: -8}, asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/atomic-add-ok", optsTP(), "", asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), asm.Mov.Imm(R1, 1), asm.AddAtomic.Mem(R10, R1, DW, -8), asm.Mov.Imm(R0, 0), asm.Return())
	add("opcode/sdiv-ok", optsTP(), "", asm.Mov.Imm(R0, -9), asm.SDiv.Imm(R0, 2), asm.Return())

	// ---- 2. 64-bit immediate loads ----
	add("ldimm64/const-ok", optsTP(), "", asm.LoadImm(R0, 1<<40, DW), asm.Return())
	add("ldimm64/map-ok", optsTP(), "", asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Mov.Imm(R0, 0), asm.Return())
	add("ldimm64/asm-encodes-both-halves-ok", optsTP(), "", asm.Mov.Imm(R0, 0), raw(0x18, R0, 0, 0, 5), raw(0xb7, R0, 0, 0, 0), asm.Return())
	add("ldimm64/last-insn", optsTP(), CatCFG, asm.Mov.Imm(R0, 0), asm.Return(), raw(0x18, R0, 0, 0, 5))
	add("ldimm64/bad-pseudo-kind", optsTP(), CatLdImm64, asm.Instruction{OpCode: asm.LoadImmOp(DW), Dst: R0, Src: 9, Constant: 1}, asm.Return())
	add("ldimm64/map-value-ok", optsTP(), "", asm.LoadMapValue(R1, 0, 8).WithReference("single"), asm.LoadMem(R0, R1, 0, DW), asm.Return())
	add("ldimm64/map-value-multi-entry-array", optsTP(), CatLdImm64, asm.LoadMapValue(R1, 0, 8).WithReference("arr"), asm.Mov.Imm(R0, 0), asm.Return())
	add("ldimm64/map-value-hash", optsTP(), CatLdImm64, asm.LoadMapValue(R1, 0, 0).WithReference("hash"), asm.Mov.Imm(R0, 0), asm.Return())
	add("ldimm64/map-value-off-oob", optsTP(), CatLdImm64, asm.LoadMapValue(R1, 0, 64).WithReference("single"), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 3. Jumps ----
	add("jump/out-of-range-forward", optsTP(), CatJump, asm.Mov.Imm(R0, 0), raw(0x15, R0, 0, 5, 0), asm.Return())
	add("jump/out-of-range-backward", optsTP(), CatJump, asm.Mov.Imm(R0, 0), raw(0x05, 0, 0, -3, 0), asm.Return())
	add("jump/into-ldimm64", optsTP(), CatJump, asm.Mov.Imm(R0, 0), raw(0x15, R0, 0, 1, 0), asm.LoadImm(R1, 7, DW), asm.Return())
	add("jump/onto-ldimm64-ok", optsTP(), "", asm.Mov.Imm(R0, 0), raw(0x15, R0, 0, 0, 0), asm.LoadImm(R1, 7, DW), asm.Return())
	add("jump/forward-ok", optsTP(), "", asm.Mov.Imm(R0, 0), asm.JEq.Imm(R1, 0, "out"), asm.Mov.Imm(R0, 1), asm.Return().WithSymbol("out"))
	add("jump/jmp32-ok", optsTP(), "", unknownInto(R6), asm.Mov.Imm(R0, 0), asm.JGT.Imm32(R6, 5, "out"), asm.Mov.Imm(R0, 1), asm.Return().WithSymbol("out"))

	// ---- 4. Reachability and the last instruction ----
	add("cfg/unreachable-after-exit", optsTP(), CatUnreach, asm.Mov.Imm(R0, 0), asm.Return(), asm.Mov.Imm(R0, 1), asm.Return())
	add("cfg/unreachable-jumped-over", optsTP(), CatUnreach, asm.Mov.Imm(R0, 0), asm.Ja.Label("out"), asm.Mov.Imm(R0, 1), asm.Return().WithSymbol("out"))
	add("cfg/both-branches-reach-ok", optsTP(), "", asm.Mov.Imm(R0, 0), asm.JEq.Imm(R1, 0, "l"), asm.Mov.Imm(R0, 1), asm.Return().WithSymbol("l"))
	add("cfg/falls-off-end", optsTP(), CatCFG, asm.Mov.Imm(R0, 0))
	add("cfg/last-is-alu", optsTP(), CatCFG, asm.Mov.Imm(R0, 0), asm.Return(), asm.Mov.Imm(R0, 0))
	add("cfg/last-is-ja-ok", optsTP(), "", asm.Mov.Imm(R0, 0).WithSymbol("top"), asm.JEq.Imm(R0, 0, "exit"), asm.Ja.Label("top"), asm.Return().WithSymbol("exit"))

	// ---- 5. Loops ----
	add("loop/bounded-up", optsTP(), "", asm.Mov.Imm(R0, 0), asm.Add.Imm(R0, 1).WithSymbol("l"), asm.JLT.Imm(R0, 10, "l"), asm.Return())
	add("loop/bounded-down", optsTP(), "", asm.Mov.Imm(R1, 50), asm.Sub.Imm(R1, 1).WithSymbol("l"), asm.JNE.Imm(R1, 0, "l"), asm.Mov.Imm(R0, 0), asm.Return())
	add("loop/bounded-1000", optsTP(), "", asm.Mov.Imm(R0, 0), asm.Add.Imm(R0, 1).WithSymbol("l"), asm.JLT.Imm(R0, 1000, "l"), asm.Mov.Imm(R0, 0), asm.Return())
	add("loop/infinite-same-state", optsTP(), CatLoop, asm.Mov.Imm(R0, 0), asm.Mov.Imm(R1, 1).WithSymbol("l"), asm.JEq.Imm(R1, 1, "l"), asm.Return())
	add("loop/infinite-ja", optsTP(), CatLoop, asm.Mov.Imm(R0, 0), asm.JEq.Imm(R1, 0, "out"), asm.Ja.Label("l").WithSymbol("l"), asm.Return().WithSymbol("out"))
	add("loop/unbounded-counter", optsTP(), CatLoop, unknownInto(R1), asm.Add.Imm(R1, 1).WithSymbol("l"), asm.JNE.Imm(R1, 0, "l"), asm.Mov.Imm(R0, 0), asm.Return())
	add("loop/nested-bounded", optsTP(), "",
		asm.Mov.Imm(R1, 0), asm.Mov.Imm(R2, 0).WithSymbol("outer"), asm.Add.Imm(R2, 1).WithSymbol("inner"), asm.JLT.Imm(R2, 5, "inner"),
		asm.Add.Imm(R1, 1), asm.JLT.Imm(R1, 5, "outer"), asm.Mov.Imm(R0, 0), asm.Return())
	add("loop/stack-counter-bounded", optsTP(), "",
		asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W),
		asm.LoadMem(R1, R10, -8, DW).WithSymbol("l"), asm.Add.Imm(R1, 1), asm.StoreMem(R10, -8, R1, DW), asm.JLT.Imm(R1, 20, "l"),
		asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 6. Uninitialized registers ----
	add("uninit/r0-at-exit", optsTP(), CatUninit, asm.Return())
	add("uninit/r0-one-path", optsTP(), CatUninit, asm.JEq.Imm(R1, 0, "out"), asm.Mov.Imm(R0, 0), asm.Return().WithSymbol("out"))
	add("uninit/r2-read", optsTP(), CatUninit, asm.Mov.Reg(R0, R2), asm.Return())
	add("uninit/r1-after-call", optsTP(), CatUninit, asm.FnKtimeGetNs.Call(), asm.Mov.Reg(R0, R1), asm.Return())
	add("uninit/r6-after-call-ok", optsTP(), "", asm.Mov.Reg(R6, R1), asm.FnKtimeGetNs.Call(), asm.Mov.Reg(R0, R6), asm.Return())
	add("uninit/helper-arg", optsTP(), CatUninit, asm.FnKtimeGetNs.Call(), asm.FnGetCurrentComm.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("uninit/store-src", optsTP(), CatUninit, asm.StoreMem(R10, -8, R3, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("uninit/jump-operand", optsTP(), CatUninit, asm.Mov.Imm(R0, 0), asm.JEq.Reg(R0, R7, "out"), asm.Return().WithSymbol("out"))

	// ---- 7. Frame pointer ----
	add("fp/mov-to-r10", optsTP(), CatFramePtr, asm.Mov.Imm(R10, 0), asm.Mov.Imm(R0, 0), asm.Return())
	add("fp/add-to-r10", optsTP(), CatFramePtr, asm.Add.Imm(R10, -8), asm.Mov.Imm(R0, 0), asm.Return())
	add("fp/load-into-r10", optsTP(), CatFramePtr, asm.StoreImm(R10, -8, 0, W), asm.LoadMem(R10, R10, -8, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("fp/copy-ok", optsTP(), "", asm.Mov.Reg(R1, R10), asm.Add.Imm(R1, -8), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 8. NULL checks ----
	add("null/lookup-deref", optsTP(), CatNull, lookup("hash"), asm.LoadMem(R0, R0, 0, DW), asm.Return())
	add("null/lookup-checked-ok", optsTP(), "", lookupChecked("hash"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))
	add("null/checked-wrong-branch", optsTP(), CatMem, lookup("hash"), asm.JNE.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))
	add("null/copy-checked-ok", optsTP(), "", lookup("hash"), asm.Mov.Reg(R6, R0), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R6, 8, DW), retAt("out"))
	add("null/store-through", optsTP(), CatNull, lookup("hash"), asm.StoreImm(R0, 0, 1, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/arith-before-check", optsTP(), CatNull, lookup("hash"), asm.Add.Imm(R0, 8), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/ringbuf-deref", optsTP(), CatNull, reserve(16), asm.StoreImm(R0, 0, 1, W), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/helper-arg", optsTP(), CatNull, lookup("hash"), asm.Mov.Reg(R3, R0), asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -4), asm.Mov.Imm(R4, 0), asm.FnMapUpdateElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/spilled-copy-checked-ok", optsTP(), "", lookup("hash"), asm.StoreMem(R10, -16, R0, DW), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R10, -16, DW), asm.LoadMem(R1, R1, 0, W), retAt("out"))
	add("null/array-const-key-needs-no-check", optsTP(), "", lookup("arr"), asm.LoadMem(R1, R0, 0, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/array-key-out-of-range", optsTP(), CatNull, asm.StoreImm(R10, -4, 4, W), asm.LoadMapPtr(R1, 0).WithReference("arr"), stackPtr(R2, -4), asm.FnMapLookupElem.Call(), asm.LoadMem(R1, R0, 0, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/array-spilled-key-ok", optsTP(), "", asm.Mov.Imm(R1, 3), asm.StoreMem(R10, -8, R1, W), asm.LoadMapPtr(R1, 0).WithReference("arr"), stackPtr(R2, -8), asm.FnMapLookupElem.Call(), asm.LoadMem(R1, R0, 0, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/array-variable-key", optsTP(), CatNull, unknownInto(R1), asm.StoreMem(R10, -8, R1, W), asm.LoadMapPtr(R1, 0).WithReference("arr"), stackPtr(R2, -8), asm.FnMapLookupElem.Call(), asm.LoadMem(R1, R0, 0, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/hash-const-key-needs-check", optsTP(), CatNull, lookup("hash"), asm.LoadMem(R1, R0, 0, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("null/map-value-nonnull-compare", optsTP(), "", lookupChecked("hash"), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, W), retAt("out"))

	// ---- 9. Stack ----
	add("stack/write-below-frame", optsTP(), CatStack, asm.StoreImm(R10, -520, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/write-at-512-ok", optsTP(), "", asm.StoreImm(R10, -512, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/write-above-fp", optsTP(), CatStack, asm.StoreImm(R10, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/read-above-fp", optsTP(), CatStack, asm.LoadMem(R0, R10, 8, DW), asm.Return())
	add("stack/misaligned-write", optsTP(), CatStack, asm.Mov.Imm(R1, 0), asm.StoreMem(R10, -6, R1, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/misaligned-read", optsTP(), CatStack, asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMem(R0, R10, -7, H), asm.Return())
	add("stack/uninit-read-privileged-ok", optsTP(), "", asm.LoadMem(R0, R10, -8, DW), asm.Return())
	add("stack/spill-fill-ok", optsTP(), "", asm.StoreMem(R10, -8, R1, DW), asm.LoadMem(R1, R10, -8, DW), asm.LoadMem(R0, R1, 8, DW), asm.Return())
	add("stack/partial-spill-of-pointer", optsTP(), CatStack, asm.StoreMem(R10, -8, R1, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/partial-fill-of-pointer", optsTP(), CatStack, asm.StoreMem(R10, -8, R1, DW), asm.LoadMem(R0, R10, -8, W), asm.Return())
	add("stack/var-offset-ok", optsTP(), "", unknownInto(R1), asm.And.Imm(R1, 7), asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -16), asm.Add.Reg(R2, R1),
		asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W), asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMem(R0, R2, 0, B), asm.Return())
	add("stack/var-offset-oob", optsTP(), CatStack, unknownInto(R1), asm.And.Imm(R1, 15), asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -8), asm.Add.Reg(R2, R1),
		asm.LoadMem(R0, R2, 0, B), asm.Return())
	add("stack/ptr-from-deep-offset", optsTP(), CatStack, stackPtr(R1, -600), asm.StoreImm(R1, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("stack/spilled-scalar-bounds-ok", optsTP(), "", lookupChecked("arr"), asm.Mov.Reg(R6, R0), asm.Mov.Imm(R1, 40), asm.StoreMem(R10, -16, R1, DW),
		asm.LoadMem(R1, R10, -16, DW), asm.Add.Reg(R6, R1), asm.LoadMem(R0, R6, 0, DW), retAt("out"))

	add("stack/narrow-spills-read-whole-ok", optsTP(), "", asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 1, W), asm.LoadMem(R0, R10, -8, DW), asm.Return())
	add("stack/narrow-spill-read-back-ok", optsTP(), "", asm.Mov.Imm(R1, 1), asm.StoreMem(R10, -8, R1, W), asm.LoadMem(R0, R10, -8, W), asm.Return())
	add("stack/overwritten-pointer-spill-ok", optsTP(), "", asm.StoreMem(R10, -8, R1, DW), asm.StoreImm(R10, -4, 1, W), asm.LoadMem(R0, R10, -8, DW), asm.Return())
	add("stack/overwritten-pointer-not-a-pointer", optsTP(), CatMem, asm.StoreMem(R10, -8, R1, DW), asm.StoreImm(R10, -1, 1, B), asm.LoadMem(R2, R10, -8, DW), asm.LoadMem(R0, R2, 0, DW), asm.Return())
	add("stack/byte-of-scalar-spill-ok", optsTP(), "", asm.FnKtimeGetNs.Call(), asm.StoreMem(R10, -8, R0, DW), asm.LoadMem(R0, R10, -5, B), asm.Return())

	// ---- 10. Map values ----
	add("mapvalue/read-in-bounds", optsTP(), "", lookupChecked("hash"), asm.LoadMem(R1, R0, 8, DW), retAt("out"))
	add("mapvalue/read-past-end", optsTP(), CatMapValue, lookupChecked("hash"), asm.LoadMem(R1, R0, 12, DW), retAt("out"))
	add("mapvalue/write-past-end", optsTP(), CatMapValue, lookupChecked("hash"), asm.StoreImm(R0, 16, 1, B), retAt("out"))
	add("mapvalue/negative-offset", optsTP(), CatMapValue, lookupChecked("hash"), asm.LoadMem(R1, R0, -1, B), retAt("out"))
	add("mapvalue/bounded-index-ok", optsTP(), "", lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.And.Imm(R1, 63), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, B), retAt("out"))
	add("mapvalue/bounded-index-too-big", optsTP(), CatMapValue, lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.And.Imm(R1, 63), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, H), retAt("out"))
	add("mapvalue/unbounded-index", optsTP(), CatPtrArith, lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, B), retAt("out"))
	add("mapvalue/index-checked-ok", optsTP(), "", lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.JGT.Imm(R1, 56, "out"), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, DW), retAt("out"))
	add("mapvalue/index-checked-off-by-one", optsTP(), CatMapValue, lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.JGT.Imm(R1, 57, "out"), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, DW), retAt("out"))
	add("mapvalue/signed-index-negative", optsTP(), CatMapValue, lookupChecked("arr"), asm.Mov.Reg(R6, R0), unknownInto(R1), asm.JSGT.Imm(R1, 56, "out"), asm.JSLT.Imm(R1, -8, "out"), asm.Add.Reg(R6, R1), asm.LoadMem(R1, R6, 0, DW), retAt("out"))
	add("mapvalue/readonly-write", optsTP(), CatMapValue, lookupChecked("ro"), asm.StoreImm(R0, 0, 1, W), retAt("out"))
	add("mapvalue/readonly-read-ok", optsTP(), "", lookupChecked("ro"), asm.LoadMem(R1, R0, 0, W), retAt("out"))
	add("mapvalue/percpu-ok", optsTP(), "", lookupChecked("pcpu"), asm.LoadMem(R1, R0, 24, DW), retAt("out"))
	add("mapvalue/store-pointer-privileged-ok", optsTP(), "", lookupChecked("hash"), asm.StoreMem(R0, 0, R10, DW), retAt("out"))
	add("mapvalue/direct-value-oob", optsTP(), CatMapValue, asm.LoadMapValue(R1, 0, 60).WithReference("single"), asm.LoadMem(R0, R1, 0, DW), asm.Return())

	// ---- 11. Context ----
	add("ctx/tp-read-ok", optsTP(), "", asm.LoadMem(R0, R1, 8, DW), asm.Return())
	add("ctx/tp-common-fields", optsTP(), CatCtx, asm.LoadMem(R0, R1, 4, W), asm.Return())
	add("ctx/tp-past-limit", optsTP(), CatCtx, asm.LoadMem(R0, R1, 8192, B), asm.Return())
	add("ctx/tp-misaligned", optsTP(), CatCtx, asm.LoadMem(R0, R1, 12, DW), asm.Return())
	add("ctx/tp-write", optsTP(), CatCtx, asm.StoreMem(R1, 8, R1, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("ctx/kprobe-last-reg-ok", optsKprobe(), "", asm.LoadMem(R0, R1, 160, DW), asm.Return())
	add("ctx/kprobe-past-pt-regs", optsKprobe(), CatCtx, asm.LoadMem(R0, R1, 168, DW), asm.Return())
	add("ctx/kprobe-narrow-ok", optsKprobe(), "", asm.LoadMem(R0, R1, 112, W), asm.Return())
	add("ctx/modified-pointer", optsKprobe(), CatCtx, asm.Add.Imm(R1, 8), asm.LoadMem(R0, R1, 0, DW), asm.Return())
	add("ctx/var-offset", optsKprobe(), CatCtx, asm.Mov.Reg(R6, R1), unknownInto(R2), asm.And.Imm(R2, 8), asm.Add.Reg(R6, R2), asm.LoadMem(R0, R6, 0, DW), asm.Return())
	add("ctx/rawtp-arg-ok", optsRawTP(), "", asm.LoadMem(R0, R1, 88, DW), asm.Return())
	add("ctx/rawtp-past-args", optsRawTP(), CatCtx, asm.LoadMem(R0, R1, 96, DW), asm.Return())
	add("ctx/perf-reg-ok", optsPerf(), "", asm.LoadMem(R0, R1, 0, DW), asm.Return())
	add("ctx/perf-reg-narrow", optsPerf(), CatCtx, asm.LoadMem(R0, R1, 8, W), asm.Return())
	add("ctx/perf-sample-period-narrow-ok", optsPerf(), "", asm.LoadMem(R0, R1, 172, W), asm.Return())
	add("ctx/perf-past-end", optsPerf(), CatCtx, asm.LoadMem(R0, R1, 184, DW), asm.Return())
	add("ctx/tpbtf-arg-ok", optsTPBTF(), "", asm.LoadMem(R0, R1, 24, DW), asm.Return())
	add("ctx/tpbtf-past-args", optsTPBTF(), CatCtx, asm.LoadMem(R0, R1, 32, DW), asm.Return())
	add("ctx/tpbtf-pointer-narrow", optsTPBTF(), CatCtx, asm.LoadMem(R0, R1, 8, W), asm.Return())
	add("ctx/tpbtf-deref-task-ok", optsTPBTF(), "", asm.LoadMem(R2, R1, 8, DW), asm.LoadMem(R0, R2, 0, DW), asm.Return())
	// bpf_get_socket_cookie in a tracing program takes a BTF socket
	// pointer (inet_sock_set_state's first argument) or NULL, nothing else.
	add("helper/socket-cookie-btf-sock-ok", optsSockTPBTF(), "", asm.LoadMem(R1, R1, 0, DW), asm.FnGetSocketCookie.Call(), asm.Return())
	add("helper/socket-cookie-null-ok", optsSockTPBTF(), "", asm.Mov.Imm(R1, 0), asm.FnGetSocketCookie.Call(), asm.Return())
	add("helper/socket-cookie-task", optsSockTPBTF(), CatHelperArg, asm.FnGetCurrentTaskBtf.Call(), asm.Mov.Reg(R1, R0), asm.FnGetSocketCookie.Call(), asm.Return())
	add("helper/socket-cookie-scalar", optsSockTPBTF(), CatHelperArg, asm.LoadMem(R1, R1, 8, DW), asm.FnGetSocketCookie.Call(), asm.Return())
	add("ctx/tpbtf-task-write", optsTPBTF(), CatMem, asm.LoadMem(R2, R1, 8, DW), asm.StoreImm(R2, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("ctx/tpbtf-task-past-end", optsTPBTF(), CatMem, asm.LoadMem(R2, R1, 8, DW), asm.LoadMem(R0, R2, 32000, DW), asm.Return())

	// ---- 12. Helpers ----
	add("helper/unknown-id", optsTP(), CatHelper, asm.BuiltinFunc(10000).Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-func-ip-in-tracepoint", optsTP(), CatHelper, asm.FnGetFuncIp.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-func-ip-in-kprobe-ok", optsKprobe(), "", asm.FnGetFuncIp.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/perf-prog-read-value-in-kprobe", optsKprobe(), CatHelper, asm.FnPerfProgReadValue.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/sk-storage-in-kprobe", optsKprobe(), CatHelper, asm.FnSkStorageGet.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/no-arg-helpers-ok", optsTP(), "", asm.FnKtimeGetNs.Call(), asm.FnGetPrandomU32.Call(), asm.FnGetSmpProcessorId.Call(), asm.FnJiffies64.Call(),
		asm.FnGetCurrentUidGid.Call(), asm.FnGetCurrentTask.Call(), asm.FnGetCurrentCgroupId.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/lookup-scalar-map", optsTP(), CatHelperArg, asm.Mov.Imm(R1, 0), stackPtr(R2, -4), asm.StoreImm(R10, -4, 0, W), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/lookup-key-scalar", optsTP(), CatHelperArg, asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Mov.Imm(R2, 0), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/lookup-key-past-stack", optsTP(), CatStack, asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -2), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/lookup-key-uninit-privileged-ok", optsTP(), "", asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -8), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/lookup-ringbuf-map", optsTP(), CatHelperArg, asm.LoadMapPtr(R1, 0).WithReference("rb"), asm.StoreImm(R10, -4, 0, W), stackPtr(R2, -4), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/update-ok", optsTP(), "", asm.StoreImm(R10, -4, 0, W), asm.StoreImm(R10, -24, 0, W), asm.StoreImm(R10, -20, 0, W), asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), stackPtr(R3, -24), asm.Mov.Imm(R4, 0), asm.FnMapUpdateElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/update-value-too-small", optsTP(), CatStack, asm.StoreImm(R10, -4, 0, W),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), stackPtr(R3, -8), asm.Mov.Imm(R4, 0), asm.FnMapUpdateElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/delete-ok", optsTP(), "", asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), asm.FnMapDeleteElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-ok", optsTP(), "", stackPtr(R1, -16), asm.Mov.Imm(R2, 16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-size-zero-ok", optsTP(), "", stackPtr(R1, -16), asm.Mov.Imm(R2, 0), asm.Mov.Imm(R3, 0), asm.FnProbeReadUser.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-too-big", optsTP(), CatStack, stackPtr(R1, -16), asm.Mov.Imm(R2, 17), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-unbounded-size", optsTP(), CatHelperArg, unknownInto(R2), stackPtr(R1, -16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-bounded-size-ok", optsTP(), "", unknownInto(R2), asm.And.Imm(R2, 15), stackPtr(R1, -16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-negative-size", optsTP(), CatHelperArg, unknownInto(R2), asm.JSGT.Imm(R2, 8, "out"), stackPtr(R1, -16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), retAt("out"))
	add("helper/probe-read-into-map-value-ok", optsTP(), "", lookupChecked("hash"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), retAt("out"))
	add("helper/probe-read-into-readonly-map", optsTP(), CatMapValue, lookupChecked("ro"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 8), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), retAt("out"))
	add("helper/probe-read-into-ctx", optsTP(), CatHelperArg, asm.Mov.Imm(R2, 8), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/comm-ok", optsTP(), "", stackPtr(R1, -16), asm.Mov.Imm(R2, 16), asm.FnGetCurrentComm.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/comm-size-zero", optsTP(), CatHelperArg, stackPtr(R1, -16), asm.Mov.Imm(R2, 0), asm.FnGetCurrentComm.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/comm-size-pointer", optsTP(), CatHelperArg, stackPtr(R1, -16), asm.Mov.Reg(R2, R10), asm.FnGetCurrentComm.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/trace-printk-ok", optsTP(), "", asm.StoreImm(R10, -8, 0x0a6968, W), asm.StoreImm(R10, -4, 0, W), stackPtr(R1, -8), asm.Mov.Imm(R2, 8), asm.FnTracePrintk.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/perf-output-ok", optsTP(), "", asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R2, 0).WithReference("perf"), asm.LoadImm(R3, 0xffffffff, DW), stackPtr(R4, -8), asm.Mov.Imm(R5, 8), asm.FnPerfEventOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/perf-output-wrong-map", optsTP(), CatHelperArg, asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R2, 0).WithReference("hash"), asm.LoadImm(R3, 0xffffffff, DW), stackPtr(R4, -8), asm.Mov.Imm(R5, 8), asm.FnPerfEventOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/perf-output-ctx-modified", optsTP(), CatCtx, asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.Add.Imm(R1, 8), asm.LoadMapPtr(R2, 0).WithReference("perf"), asm.LoadImm(R3, 0xffffffff, DW), stackPtr(R4, -8), asm.Mov.Imm(R5, 8), asm.FnPerfEventOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/stackid-ok", optsKprobe(), "", asm.LoadMapPtr(R2, 0).WithReference("stack"), asm.Mov.Imm(R3, 0), asm.FnGetStackid.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/stackid-wrong-map", optsKprobe(), CatHelperArg, asm.LoadMapPtr(R2, 0).WithReference("arr"), asm.Mov.Imm(R3, 0), asm.FnGetStackid.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-stack-ok", optsKprobe(), "", stackPtr(R2, -64), asm.Mov.Imm(R3, 64), asm.Mov.Imm(R4, 0), asm.FnGetStack.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-stack-scalar-ctx", optsKprobe(), CatHelperArg, asm.Mov.Imm(R1, 0), stackPtr(R2, -64), asm.Mov.Imm(R3, 64), asm.Mov.Imm(R4, 0), asm.FnGetStack.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/send-signal-ok", optsKprobe(), "", asm.Mov.Imm(R1, 0), asm.FnSendSignal.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/task-btf-comm-ok", optsTP(), "", asm.FnGetCurrentTaskBtf.Call(), asm.Mov.Reg(R6, R0), asm.LoadMem(R0, R6, int16(taskCommOffset()), DW), asm.LoadMem(R1, R6, int16(taskCommOffset()+8), DW), asm.Return())
	add("helper/ringbuf-output-ok", optsTP(), "", asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R1, 0).WithReference("rb"), stackPtr(R2, -8), asm.Mov.Imm(R3, 8), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/ringbuf-output-hash-map", optsTP(), CatHelperArg, asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -8), asm.Mov.Imm(R3, 8), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/ringbuf-reserve-var-size", optsTP(), CatHelperArg, unknownInto(R2), asm.And.Imm(R2, 63), asm.LoadMapPtr(R1, 0).WithReference("rb"), asm.Mov.Imm(R3, 0), asm.FnRingbufReserve.Call(), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 13. Ring buffer references ----
	add("ref/reserve-submit-ok", optsTP(), "", reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.StoreImm(R0, 0, 1, W), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), retAt("out"))
	add("ref/reserve-discard-ok", optsTP(), "", reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufDiscard.Call(), retAt("out"))
	add("ref/leak", optsTP(), CatReference, reserve(16), asm.Mov.Imm(R0, 0), asm.Return())
	add("ref/leak-on-one-path", optsTP(), CatReference, reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.Mov.Reg(R6, R0), asm.FnGetPrandomU32.Call(), asm.JEq.Imm(R0, 0, "out"),
		asm.Mov.Reg(R1, R6), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), retAt("out"))
	add("ref/write-past-record", optsTP(), CatMem, reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.StoreImm(R0, 16, 1, W), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), retAt("out"))
	add("ref/use-after-submit", optsTP(), CatMem, reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.Mov.Reg(R6, R0), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), asm.StoreImm(R6, 0, 1, W), retAt("out"))
	add("ref/submit-offset-pointer", optsTP(), CatHelperArg, reserve(16), asm.JEq.Imm(R0, 0, "out"), asm.Mov.Reg(R1, R0), asm.Add.Imm(R1, 8), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), retAt("out"))
	add("ref/submit-unchecked", optsTP(), CatNull, reserve(16), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("ref/submit-stack-pointer", optsTP(), CatHelperArg, stackPtr(R1, -8), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 14. Pointer arithmetic ----
	add("ptr/mul", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.Mul.Imm(R2, 2), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/and", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.And.Imm(R2, -8), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/ptr-plus-ptr", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.Add.Reg(R2, R1), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/ptr-minus-ptr-ok", optsTP(), "", asm.Mov.Reg(R2, R10), asm.Mov.Reg(R3, R10), asm.Add.Imm(R3, -8), asm.Sub.Reg(R2, R3), asm.Mov.Reg(R0, R2), asm.Return())
	add("ptr/scalar-minus-ptr", optsTP(), CatPtrArith, asm.Mov.Imm(R2, 100), asm.Sub.Reg(R2, R10), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/scalar-plus-ptr-ok", optsTP(), "", asm.Mov.Imm(R2, -8), asm.Add.Reg(R2, R10), asm.StoreImm(R2, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/add32", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.Add.Imm32(R2, -8), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/map-ptr-arith", optsTP(), CatPtrArith, asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Add.Imm(R1, 8), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/unbounded-add-to-stack", optsTP(), CatPtrArith, unknownInto(R1), asm.Mov.Reg(R2, R10), asm.Add.Reg(R2, R1), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/huge-constant", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.LoadImm(R3, 1<<30, DW), asm.Add.Reg(R2, R3), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/sub-const-from-stack", optsTP(), CatPtrArith, asm.Mov.Reg(R2, R10), asm.Sub.Imm(R2, 8), asm.StoreImm(R2, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	add("ptr/neg-pointer-becomes-scalar-ok", optsTP(), "", asm.Mov.Reg(R0, R10), asm.Neg.Imm(R0, 0), asm.Return())
	add("ptr/deref-scalar", optsTP(), CatMem, asm.Mov.Imm(R1, 4096), asm.LoadMem(R0, R1, 0, DW), asm.Return())
	add("ptr/deref-neg-pointer", optsTP(), CatMem, asm.Mov.Reg(R2, R10), asm.Neg.Imm(R2, 0), asm.LoadMem(R0, R2, 0, DW), asm.Return())
	add("ptr/deref-map-ptr", optsTP(), CatMem, asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.StoreImm(R1, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 15. Division ----
	add("div/by-zero-imm", optsTP(), CatDivZero, asm.Mov.Imm(R0, 1), asm.Div.Imm(R0, 0), asm.Return())
	add("div/mod-zero-imm32", optsTP(), CatDivZero, asm.Mov.Imm(R0, 1), asm.Mod.Imm32(R0, 0), asm.Return())
	add("div/by-register-zero-ok", optsTP(), "", asm.Mov.Imm(R0, 1), asm.Mov.Imm(R1, 0), asm.Div.Reg(R0, R1), asm.Return())
	add("div/by-one-ok", optsTP(), "", asm.Mov.Imm(R0, 1), asm.Div.Imm(R0, 1), asm.Return())

	// ---- 16. Return values ----
	add("ret/tpbtf-any-ok", optsTPBTF(), "", asm.Mov.Imm(R0, 5), asm.Return())
	add("ret/kprobe-pointer-ok", optsKprobe(), "", asm.Mov.Reg(R0, R10), asm.Return())
	add("ret/tp-uninit", optsTP(), CatUninit, asm.Mov.Imm(R1, 0), asm.Return())

	// A join point that has seen six states merges the next one: R7, a
	// stack pointer on some paths and 0 on others, is read after the join
	// and must survive the merge (the states are kept apart), and R9,
	// different on every path, keeps the states from covering each other.
	var merge []any
	merge = append(merge, unknownInto(R8), asm.Mov.Imm(R9, 0), asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W), asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W))
	for _, bit := range []int32{1, 2, 4, 8} {
		l := fmt.Sprintf("bit%d", bit)
		merge = append(merge, asm.Mov.Reg(R1, R8), asm.And.Imm(R1, bit), asm.JEq.Imm(R1, 0, l), asm.Add.Imm(R9, bit), asm.Mov.Imm(R2, 0).WithSymbol(l))
	}
	merge = append(merge, asm.Mov.Reg(R1, R8), asm.And.Imm(R1, 16), asm.Mov.Imm(R7, 0), asm.JEq.Imm(R1, 0, "join"), stackPtr(R7, -16),
		asm.Mov.Imm(R0, 0).WithSymbol("join"), asm.JEq.Imm(R7, 0, "out"), asm.LoadMem(R0, R7, 0, DW),
		stackPtr(R1, -16), asm.Add.Reg(R1, R9), asm.LoadMem(R0, R1, 0, B), asm.Mov.Imm(R0, 0).WithSymbol("out"), asm.Return())
	add("prune/merge-keeps-live-pointer-ok", optsTP(), "", merge...)

	// ---- 17. bpf-to-bpf calls and callbacks ----
	add("call/subprog-ok", optsTP(), "", asm.Mov.Imm(R1, 3), asm.Call.Label("f"), asm.Return(), asm.Mov.Reg(R0, R1).WithSymbol("f"), asm.Add.Imm(R0, 1), asm.Return())
	add("call/callee-reads-r6", optsTP(), CatUninit, asm.Mov.Imm(R6, 3), asm.Call.Label("f"), asm.Return(), asm.Mov.Reg(R0, R6).WithSymbol("f"), asm.Return())
	add("call/caller-r1-clobbered", optsTP(), CatUninit, asm.Mov.Imm(R1, 3), asm.Call.Label("f"), asm.Mov.Reg(R0, R1), asm.Return(), asm.Mov.Imm(R0, 0).WithSymbol("f"), asm.Return())
	add("call/caller-r6-preserved-ok", optsTP(), "", asm.Mov.Imm(R6, 3), asm.Call.Label("f"), asm.Mov.Reg(R0, R6), asm.Return(), asm.Mov.Imm(R6, 9).WithSymbol("f"), asm.Mov.Imm(R0, 0), asm.Return())
	add("call/recursion", optsTP(), CatCall, asm.Call.Label("f"), asm.Return(), asm.Call.Label("f").WithSymbol("f"), asm.Mov.Imm(R0, 0), asm.Return())
	add("call/return-own-stack", optsTP(), CatCall, asm.Call.Label("f"), asm.Mov.Imm(R0, 0), asm.Return(), asm.StoreImm(R10, -8, 0, W).WithSymbol("f"), asm.Mov.Reg(R0, R10), asm.Add.Imm(R0, -8), asm.Return())
	add("call/return-caller-stack", optsTP(), CatCall, asm.StoreImm(R10, -8, 7, W), asm.StoreImm(R10, -4, 0, W), stackPtr(R1, -8), asm.Call.Label("f"), asm.Return(),
		asm.Mov.Reg(R0, R1).WithSymbol("f"), asm.Return())
	add("call/pass-caller-stack-ok", optsTP(), "", asm.StoreImm(R10, -8, 7, W), asm.StoreImm(R10, -4, 0, W), stackPtr(R1, -8), asm.Call.Label("f"), asm.Return(),
		asm.LoadMem(R0, R1, 0, DW).WithSymbol("f"), asm.Return())
	add("call/callee-missing-exit-value", optsTP(), CatUninit, asm.Call.Label("f"), asm.Return(), asm.Mov.Imm(R1, 0).WithSymbol("f"), asm.Return())
	add("callback/loop-ok", optsTP(), "", asm.Mov.Imm(R1, 10), asm.LoadImm(R2, 0, DW), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return(),
		asm.Mov.Imm(R0, 0).WithSymbol("cb"), asm.Return())
	add("callback/bad-return", optsTP(), CatReturn, asm.Mov.Imm(R1, 10), asm.LoadImm(R2, 0, DW), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return(),
		asm.Mov.Imm(R0, 2).WithSymbol("cb"), asm.Return())
	add("callback/ctx-on-stack-ok", optsTP(), "", asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), asm.Mov.Imm(R1, 10), asm.LoadImm(R2, 0, DW), stackPtr(R3, -8), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return(),
		asm.LoadMem(R3, R2, 0, DW).WithSymbol("cb"), asm.Add.Imm(R3, 1), asm.StoreMem(R2, 0, R3, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("callback/ctx-overflow", optsTP(), CatStack, asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), asm.Mov.Imm(R1, 10), asm.LoadImm(R2, 0, DW), stackPtr(R3, -8), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return(),
		asm.LoadMem(R3, R2, 8, DW).WithSymbol("cb"), asm.Mov.Imm(R0, 0), asm.Return())
	add("callback/no-btf-func-info", optsTP(), CatCFG, asm.Mov.Imm(R1, 10), asm.Instruction{OpCode: asm.LoadImmOp(DW), Dst: R2, Src: asm.PseudoFunc, Constant: -1}.WithReference("f"), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return(),
		asm.Mov.Imm(R0, 0).WithSymbol("f"), asm.Return())
	add("callback/not-a-function", optsTP(), CatHelperArg, asm.Mov.Imm(R1, 10), asm.Mov.Imm(R2, 0), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return())

	cs = append(cs, compilerCorpus()...)
	cs = append(cs, ksymCorpus()...)

	// Fix up the callback references: LoadImm(R2, 0) placeholders become
	// function pointers to "cb".
	for i := range cs {
		for j := range cs[i].insns {
			ins := &cs[i].insns[j]
			if ins.OpCode.IsDWordLoad() && ins.Dst == R2 && ins.Constant == 0 && ins.Src == 0 && hasSymbol(cs[i].insns, "cb") {
				ins.Src = asm.PseudoFunc
				ins.Constant = -1
				*ins = ins.WithReference("cb")
			}
		}
	}
	for i := range cs {
		if hasSymbol(cs[i].insns, "cb") {
			addFuncInfo(cs[i].insns)
		}
		if strings.HasSuffix(cs[i].name, "-global-linkage") {
			// The kernel refuses callbacks that are not static functions.
			for j, ins := range cs[i].insns {
				if fn := btf.FuncMetadata(&ins); fn != nil && ins.Symbol() == "cb" {
					g := *fn
					g.Linkage = btf.GlobalFunc
					cs[i].insns[j] = btf.WithFuncMetadata(ins, &g)
				}
			}
		}
	}
	return cs
}

// addFuncInfo attaches BTF function information to the first instruction
// of the program and of every function (needed for callbacks): labels that
// a call or a function pointer refers to.
func addFuncInfo(insns asm.Instructions) {
	i64 := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	u64 := &btf.Int{Name: "u64", Size: 8}
	vp := &btf.Pointer{Target: &btf.Void{}}
	insns[0] = btf.WithFuncMetadata(insns[0], &btf.Func{Name: "prog", Linkage: btf.GlobalFunc,
		Type: &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Params: []btf.FuncParam{{Name: "ctx", Type: vp}}}})
	funcs := map[string]bool{}
	for _, ins := range insns {
		if ins.IsFunctionReference() || ins.IsLoadOfFunctionPointer() {
			funcs[ins.Reference()] = true
		}
	}
	for j := 1; j < len(insns); j++ {
		if s := insns[j].Symbol(); funcs[s] {
			insns[j] = btf.WithFuncMetadata(insns[j], &btf.Func{Name: s, Linkage: btf.StaticFunc,
				Type: &btf.FuncProto{Return: i64, Params: []btf.FuncParam{{Name: "index", Type: u64}, {Name: "ctx", Type: vp}}}})
		}
	}
}

func hasSymbol(insns asm.Instructions, s string) bool {
	for _, ins := range insns {
		if ins.Symbol() == s {
			return true
		}
	}
	return false
}
