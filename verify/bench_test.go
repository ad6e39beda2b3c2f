package verify

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// typicalProgram builds a tracing program shaped like ktrace's output:
// blocks that key a hash map by pid, count with an atomic add or insert,
// and emit a ring buffer event with the task's comm.
func typicalProgram(blocks int) asm.Instructions {
	var out asm.Instructions
	out = append(out, asm.Mov.Reg(R9, R1))
	for b := 0; b < blocks; b++ {
		l := func(s string) string { return fmt.Sprintf("%s%d", s, b) }
		out = append(out,
			asm.FnGetCurrentPidTgid.Call(), asm.RSh.Imm(R0, 32), asm.StoreMem(R10, -4, R0, W),
			asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -4), asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(R0, 0, l("init")),
			asm.Mov.Imm(R1, 1), asm.AddAtomic.Mem(R0, R1, DW, 0), asm.Ja.Label(l("event")),
			asm.StoreImm(R10, -24, 1, W).WithSymbol(l("init")), asm.StoreImm(R10, -20, 0, W), asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W),
			asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -4), asm.Mov.Reg(R3, R10), asm.Add.Imm(R3, -24), asm.Mov.Imm(R4, 0), asm.FnMapUpdateElem.Call(),
			asm.LoadMapPtr(R1, 0).WithReference("rb").WithSymbol(l("event")), asm.Mov.Imm(R2, 32), asm.Mov.Imm(R3, 0), asm.FnRingbufReserve.Call(),
			asm.JEq.Imm(R0, 0, l("next")), asm.Mov.Reg(R7, R0),
			asm.LoadMem(R1, R9, 16, DW), asm.StoreMem(R7, 0, R1, DW),
			asm.Mov.Reg(R1, R7), asm.Add.Imm(R1, 16), asm.Mov.Imm(R2, 16), asm.FnGetCurrentComm.Call(),
			asm.Mov.Reg(R1, R7), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(),
			asm.Mov.Imm(R0, 0).WithSymbol(l("next")),
		)
	}
	out = append(out, asm.Mov.Imm(R0, 0), asm.Return())
	return out
}

// largeProgram builds n instructions of independent branches: each
// 14-instruction block tests a random value and updates registers
// differently on each side, so the number of paths doubles with every
// block (about 7,000 of them; the kernel allows 8,192 pending branches).
func largeProgram(n int) asm.Instructions {
	out := asm.Instructions{asm.Mov.Imm(R6, 0), asm.Mov.Imm(R7, 0), asm.Mov.Imm(R8, 0)}
	for b := 0; len(out) < n-12; b++ {
		l := fmt.Sprintf("j%d", b)
		out = append(out,
			asm.FnGetPrandomU32.Call(),
			asm.JGT.Imm(R0, int32(b%1000), l),
			asm.Add.Imm(R6, 1),
			asm.Mov.Reg(R7, R0),
			asm.And.Imm(R7, 63),
			asm.Xor.Reg(R8, R7).WithSymbol(l),
			asm.StoreMem(R10, -8, R8, DW),
			asm.Mov.Reg(R9, R8), asm.LSh.Imm(R9, 3), asm.Add.Reg(R9, R6), asm.RSh.Imm(R9, 1),
			asm.StoreMem(R10, -16, R9, DW), asm.LoadMem(R1, R10, -16, DW), asm.Add.Reg(R8, R1),
		)
	}
	out = append(out, asm.LoadMem(R0, R10, -8, DW), asm.Mov.Imm(R0, 0), asm.Return())
	return out
}

func TestBenchmarkProgramsAreValid(t *testing.T) {
	oracleAvailable(t)
	for name, insns := range map[string]asm.Instructions{"typical": typicalProgram(5), "large": largeProgram(100000)} {
		rep := Program(insns, optsTP())
		if !rep.OK() {
			t.Fatalf("%s: %s", name, rep)
		}
		t.Logf("%s: %d insns, %d processed, %d states, %d merges", name, rep.Insns, rep.Processed, rep.States, rep.Merges)
		if k := kernelCheck(t, insns, optsTP()); !k.OK {
			t.Errorf("%s: the kernel rejects the benchmark program: %s", name, k.Reason)
		}
	}
}

// BenchmarkTypical verifies a typical ~200-instruction tracing program.
func BenchmarkTypical(b *testing.B) {
	insns := typicalProgram(5)
	o := optsTP()
	b.ReportMetric(float64(len(insns)), "insns")
	for b.Loop() {
		if rep := Program(insns, o); !rep.OK() {
			b.Fatal(rep)
		}
	}
}

// BenchmarkLarge verifies a 100,000-instruction program with a branch
// every seven instructions.
func BenchmarkLarge(b *testing.B) {
	insns := largeProgram(100000)
	o := optsTP()
	for b.Loop() {
		if rep := Program(insns, o); !rep.OK() {
			b.Fatal(rep)
		}
	}
}

// BenchmarkLoop verifies a program whose bounded loop runs 1000 times.
func BenchmarkLoop(b *testing.B) {
	insns := prog(asm.Mov.Imm(R0, 0), asm.Add.Imm(R0, 1).WithSymbol("l"), asm.JLT.Imm(R0, 1000, "l"), asm.Mov.Imm(R0, 0), asm.Return())
	o := optsTP()
	for b.Loop() {
		if rep := Program(insns, o); !rep.OK() {
			b.Fatal(rep)
		}
	}
}
