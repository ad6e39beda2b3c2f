package verify

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Kernel verifier logs captured from Linux 6.18 (LoadKernel and
// ebpf.NewCollection at the default log level, or LogLevelStats), each
// for the program of the same name below.
var (
	// nullProgram: a map value read without a NULL check (EACCES).
	logNull = []string{
		"0: R1=ctx() R10=fp0",
		"; t.bt:1:5 @ :0",
		"0: (62) *(u32 *)(r10 -4) = 0          ; R10=fp0 fp-8=0000????",
		"1: (18) r1 = 0xffff8881048e2000       ; R1=map_ptr(ks=4,vs=16)",
		"3: (bf) r2 = r10                      ; R2=fp0 R10=fp0",
		"4: (07) r2 += -4                      ; R2=fp-4",
		"5: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,ks=4,vs=16)",
		"6: (79) r1 = *(u64 *)(r0 +0)",
		"R0 invalid mem access 'map_value_or_null'",
		"processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
	}
	// boundsProgram: the access and the bound it breaks on two lines.
	logBounds = []string{
		"0: R1=ctx() R10=fp0",
		"0: (85) call bpf_get_current_pid_tgid#14      ; R0=scalar()",
		"1: (bf) r6 = r0                       ; R0=scalar(id=1) R6=scalar(id=1)",
		"2: (57) r6 &= 255                     ; R6=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
		"3: (62) *(u32 *)(r10 -4) = 0          ; R10=fp0 fp-8=0000????",
		"4: (18) r1 = 0xffff8881048e2000       ; R1=map_ptr(ks=4,vs=64)",
		"6: (bf) r2 = r10                      ; R2=fp0 R10=fp0",
		"7: (07) r2 += -4                      ; R2=fp-4",
		"8: (85) call bpf_map_lookup_elem#1    ; R0=map_value(ks=4,vs=64)",
		"9: (15) if r0 == 0x0 goto pc+2        ; R0=map_value(ks=4,vs=64)",
		"10: (0f) r0 += r6                     ; R0=map_value(ks=4,vs=64,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R6=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
		"11: (79) r1 = *(u64 *)(r0 +0)",
		"invalid access to map value, value_size=64 off=255 size=8",
		"R0 max value is outside of the allowed memory range",
		"processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0",
	}
	// branchProgram: the refused instruction is where a branch resumed.
	logBranch = []string{
		"0: R1=ctx() R10=fp0",
		"0: (85) call bpf_get_current_pid_tgid#14      ; R0=scalar()",
		"1: (bf) r6 = r0                       ; R0=scalar(id=1) R6=scalar(id=1)",
		"2: (15) if r6 == 0x0 goto pc+2 5: R0=scalar(id=1) R6=0 R10=fp0",
		"5: (bf) r0 = r3",
		"R3 !read_ok",
		"processed 6 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
	}
	// loopProgram: an endless loop, found equal at its back-edge; at the
	// statistics log level the log has only the reason and trailers.
	logLoop = []string{
		"0: R1=ctx() R10=fp0",
		"0: (b7) r6 = 0                        ; R6=0",
		"1: (75) if r6 s>= 0xa goto pc+2       ; R6=0",
		"2: (85) call bpf_get_prandom_u32#7    ; R0=scalar()",
		"3: (05) goto pc-3",
		"1: (75) if r6 s>= 0xa goto pc+2       ; R6=0",
		"2: (85) call bpf_get_prandom_u32#7    ; R0=scalar()",
		"3: (05) goto pc-3",
		"1: (75) if r6 s>= 0xa goto pc+2       ; R6=0",
		"2: (85) call bpf_get_prandom_u32#7    ; R0=scalar()",
		"3: (05) goto pc-3",
		"infinite loop detected at insn 1",
		"cur state: R0=scalar() R6=0 R10=fp0",
		"old state: R0=scalar() R6=P0 R10=fp0",
		"processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0",
	}
	logLoopStats = []string{
		"infinite loop detected at insn 1",
		"cur state: R0=0 R1=0 R10=fp0",
		"old state: R0=0 R1=0 R10=fp0",
		"verification time 45 usec",
		"stack depth 0",
		"processed 10 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0",
	}
	// nestedProgram: the endless inner loop of two; the kernel stops in
	// the inner body, on the helper call.
	logNested = []string{
		"0: R1=ctx() R10=fp0",
		"0: (b7) r6 = 0                        ; R6=0",
		"1: (75) if r6 s>= 0xa goto pc+6       ; R6=0",
		"2: (b7) r7 = 0                        ; R7=0",
		"3: (75) if r7 s>= 0xa goto pc+2       ; R7=0",
		"4: (85) call bpf_get_prandom_u32#7    ; R0=scalar()",
		"5: (05) goto pc-3",
		"3: (75) if r7 s>= 0xa goto pc+2       ; R7=0",
		"4: (85) call bpf_get_prandom_u32#7    ; R0=scalar()",
		"5: (05) goto pc-3",
		"3: (75) if r7 s>= 0xa goto pc+2       ; R7=0",
		"4: (85) call bpf_get_prandom_u32#7",
		"infinite loop detected at insn 5",
		"cur state: R0=scalar() R6=0 R7=0 R10=fp0",
		"old state: R0=scalar() R6=0 R7=P0 R10=fp0",
		"processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0",
	}
	// budgetProgram (ktrace's code for "$i = 0; while ($i >= 0) { $i++; }"):
	// the kernel runs out of its budget in the loop's body. The end of a
	// log of a million lines.
	logBudget = []string{
		"4: (c5) if r7 s< 0x0 goto pc+5        ; R7=0x22e07",
		"5: (79) r1 = *(u64 *)(r10 -8)         ; R1=0x22e07 R10=fp0 fp-8=0x22e07",
		"6: (bf) r7 = r1                       ; R1=0x22e07 R7=0x22e07",
		"7: (07) r1 += 1                       ; R1=0x22e08",
		"8: (7b) *(u64 *)(r10 -8) = r1         ; R1=0x22e08 R10=fp0 fp-8=0x22e08",
		"9: (05) goto pc-7",
		"3: (79) r7 = *(u64 *)(r10 -8)         ; R7=0x22e08 R10=fp0 fp-8=0x22e08",
		"4: (c5) if r7 s< 0x0 goto pc+5        ; R7=0x22e08",
		"5: (79) r1 = *(u64 *)(r10 -8)         ; R1=0x22e08 R10=fp0 fp-8=0x22e08",
		"6: (bf) r7 = r1                       ; R1=0x22e08 R7=0x22e08",
		"7: (07) r1 += 1",
		"BPF program is too large. Processed 1000001 insn",
		"processed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 14287 peak_states 14287 mark_read 0",
	}
	// unreachableProgram and jumpOutProgram: structural errors, found
	// before the kernel walks the program.
	logUnreachable = []string{
		"unreachable insn 2",
		"processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
	}
	logJumpOut = []string{
		"jump out of range from insn 1 to 7",
		"processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
	}
)

// src is a source on line n of a t.bt script whose text is "line n".
func src(n int) testSrc { return testSrc{n, fmt.Sprintf("line %d", n)} }

// sourced gives the instructions without a source the source on line n.
// The kernel refuses line information that misses the first instruction.
func sourced(insns asm.Instructions, n int) asm.Instructions {
	for i := range insns {
		if insns[i].Source() == nil {
			insns[i] = insns[i].WithSource(src(n))
		}
	}
	return insns
}

func boundsProgram() asm.Instructions {
	return sourced(prog(unknownInto(R6), asm.And.Imm(R6, 0xff), lookupChecked("arr"), asm.Add.Reg(R0, R6),
		asm.LoadMem(R1, R0, 0, DW).WithSource(src(3)), retAt("out")), 1)
}

func branchProgram() asm.Instructions {
	return sourced(prog(unknownInto(R6), asm.JEq.Imm(R6, 0, "bad"), ret0,
		asm.Mov.Reg(R0, R3).WithSymbol("bad").WithSource(src(4)), asm.Return()), 1)
}

func loopProgram() asm.Instructions {
	return prog(
		asm.Mov.Imm(R6, 0).WithSource(src(1)),
		asm.JSGE.Imm(R6, 10, "out").WithSymbol("l").WithSource(src(2)),
		asm.FnGetPrandomU32.Call().WithSource(src(3)),
		asm.Ja.Label("l").WithSource(src(2)),
		asm.Mov.Imm(R0, 0).WithSymbol("out").WithSource(src(5)), asm.Return().WithSource(src(5)))
}

func nestedProgram() asm.Instructions {
	return prog(
		asm.Mov.Imm(R6, 0).WithSource(src(1)),
		asm.JSGE.Imm(R6, 10, "out").WithSymbol("outer").WithSource(src(2)),
		asm.Mov.Imm(R7, 0).WithSource(src(3)),
		asm.JSGE.Imm(R7, 10, "next").WithSymbol("inner").WithSource(src(4)),
		asm.FnGetPrandomU32.Call().WithSource(src(5)),
		asm.Ja.Label("inner").WithSource(src(4)),
		asm.Add.Imm(R6, 1).WithSymbol("next").WithSource(src(6)),
		asm.Ja.Label("outer").WithSource(src(2)),
		asm.Mov.Imm(R0, 0).WithSymbol("out").WithSource(src(7)), asm.Return().WithSource(src(7)))
}

func budgetProgram() asm.Instructions {
	return prog(
		asm.Mov.Reg(R6, R1).WithSource(src(1)),
		asm.Mov.Imm(R7, 0).WithSource(src(2)),
		asm.StoreMem(R10, -8, R7, DW).WithSource(src(2)),
		asm.LoadMem(R7, R10, -8, DW).WithSymbol("l").WithSource(src(3)),
		asm.JSLT.Imm(R7, 0, "out").WithSource(src(3)),
		asm.LoadMem(R1, R10, -8, DW).WithSource(src(4)),
		asm.Mov.Reg(R7, R1).WithSource(src(4)),
		asm.Add.Imm(R1, 1).WithSource(src(4)),
		asm.StoreMem(R10, -8, R1, DW).WithSource(src(4)),
		asm.Ja.Label("l").WithSource(src(3)),
		asm.Mov.Imm(R0, 0).WithSymbol("out").WithSource(src(1)), asm.Return().WithSource(src(1)))
}

func unreachableProgram() asm.Instructions {
	return prog(asm.Mov.Imm(R0, 0), asm.Return(), asm.Mov.Imm(R0, 1).WithSource(src(2)), asm.Return())
}

func jumpOutProgram() asm.Instructions {
	return prog(asm.Mov.Imm(R0, 0), raw(0x05, R0, R0, 5, 0).WithSource(src(1)), asm.Return())
}

func TestKernelReason(t *testing.T) {
	for _, c := range []struct {
		name string
		log  []string
		want string
	}{
		{"last line before the statistics", logNull, "R0 invalid mem access 'map_value_or_null'"},
		{"bounds error joined with its access", logBounds, "invalid access to map value, value_size=64 off=255 size=8: R0 max value is outside of the allowed memory range"},
		{"after a branch", logBranch, "R3 !read_ok"},
		{"loop: the compared states skipped", logLoop, "infinite loop detected at insn 1"},
		{"verification time and stack depth skipped", logLoopStats, "infinite loop detected at insn 1"},
		{"budget", logBudget, "BPF program is too large. Processed 1000001 insn"},
		{"structural", logUnreachable, "unreachable insn 2"},
		{"only trailers", logLoopStats[1:], ""},
		{"no log", nil, ""},
	} {
		if got := KernelReason(c.log); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestReadRejection maps captured logs back to their programs: the
// reason, the instruction refused (moved to a loop's back-edge for a
// rejection of the loop as a whole) and its source.
func TestReadRejection(t *testing.T) {
	for _, c := range []struct {
		name        string
		insns       asm.Instructions
		log         []string
		reason      string
		cat         Category
		insn, index int
		pos, line   string
	}{
		{"last instruction logged", nullProgram(), logNull, "R0 invalid mem access 'map_value_or_null'", CatNull, 6, 5, "t.bt:2:5", "print(k->x);"},
		{"raw slots after a ld_imm64", boundsProgram(), logBounds, "invalid access to map value, value_size=64 off=255 size=8: R0 max value is outside of the allowed memory range", CatMapValue, 11, 10, "t.bt:3:5", "line 3"},
		{"instruction a branch resumed at", branchProgram(), logBranch, "R3 !read_ok", CatUninit, 5, 5, "t.bt:4:5", "line 4"},
		{"loop refused at its back-edge", loopProgram(), logLoop, "infinite loop detected at insn 1" + loopHint, CatLoop, 3, 3, "t.bt:2:5", "line 2"},
		{"loop refused in its body: the innermost back-edge", nestedProgram(), logNested, "infinite loop detected at insn 5" + loopHint, CatLoop, 5, 5, "t.bt:4:5", "line 4"},
		{"budget exhausted in a loop body", budgetProgram(), logBudget, "BPF program is too large. Processed 1000001 insn" + loopHint, CatTooLarge, 9, 9, "t.bt:3:5", "line 3"},
		{"structural error names the instruction", unreachableProgram(), logUnreachable, "unreachable insn 2", CatUnreach, 2, 2, "t.bt:2:5", "line 2"},
		{"structural error names the jump", jumpOutProgram(), logJumpOut, "jump out of range from insn 1 to 7", CatJump, 1, 1, "t.bt:1:5", "line 1"},
		{"no instruction", ret0, logLoopStats, "infinite loop detected at insn 1", CatLoop, 1, 1, "", ""},
		{"nothing logged", ret0, nil, "", "", -1, -1, "", ""},
	} {
		r := readRejection(c.log, linkForLog(c.insns))
		want := rejection{reason: c.reason, category: c.cat, insn: c.insn, index: c.index, pos: c.pos, sourceLine: c.line}
		if r != want {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c.name, r, want)
		}
	}
}

// TestMapKernelLog checks that every line about an instruction is mapped
// to it and its source, and other lines to nothing.
func TestMapKernelLog(t *testing.T) {
	mapped := MapKernelLog(logBounds, boundsProgram())
	if len(mapped) != len(logBounds) {
		t.Fatalf("%d lines mapped from %d", len(mapped), len(logBounds))
	}
	for i, want := range []struct {
		insn, index int
		pos         string
	}{{0, 0, "t.bt:1:5"}, {0, 0, "t.bt:1:5"}, {1, 1, "t.bt:1:5"}, {2, 2, "t.bt:1:5"}, {3, 3, "t.bt:1:5"}, {4, 4, "t.bt:1:5"},
		{6, 5, "t.bt:1:5"}, {7, 6, "t.bt:1:5"}, {8, 7, "t.bt:1:5"}, {9, 8, "t.bt:1:5"}, {10, 9, "t.bt:1:5"}, {11, 10, "t.bt:3:5"},
		{-1, -1, ""}, {-1, -1, ""}, {-1, -1, ""}} {
		l := mapped[i]
		if l.Text != logBounds[i] || l.Insn != want.insn || l.Index != want.index || l.Pos != want.pos {
			t.Errorf("line %d: got %+v, want %+v", i, l, want)
		}
	}
}

// collectionError is the error ebpf.NewCollection returns when the kernel
// verifier rejects program name with log.
func collectionError(name string, errno unix.Errno, log []string) error {
	return fmt.Errorf("program %s: %w", name, &ebpf.VerifierError{Cause: fmt.Errorf("load program: %w", errno), Log: log})
}

// TestKernelRejectionText checks the runtime's explanation of a rejection
// in each of its forms.
func TestKernelRejectionText(t *testing.T) {
	progs := map[string]*ebpf.ProgramSpec{
		"p0_BEGIN": {Instructions: ret0},
		"p1_loop":  {Instructions: nestedProgram()},
		"p10_raw":  {Instructions: unreachableProgram()},
		"p2_asm":   {Instructions: prog(unknownInto(R6), asm.JEq.Imm(R6, 0, "bad"), ret0, asm.Mov.Reg(R0, R3).WithSymbol("bad"), asm.Return())},
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"at the source line", collectionError("p1_loop", unix.EINVAL, logNested),
			"t.bt:4:5: ERROR: the kernel verifier rejected the code generated for this line (instruction 5): infinite loop detected at insn 5" + loopHint + "\nline 4"},
		{"a program whose name starts another's", collectionError("p10_raw", unix.EINVAL, logUnreachable),
			"t.bt:2:5: ERROR: the kernel verifier rejected the code generated for this line (instruction 2): unreachable insn 2\nline 2"},
		{"no source", collectionError("p2_asm", unix.EACCES, logBranch),
			"the kernel verifier rejected instruction 5 of a generated program: R3 !read_ok"},
		{"unknown program", collectionError("p9_gone", unix.EACCES, logNull),
			"the kernel verifier rejected a generated program: R0 invalid mem access 'map_value_or_null'\n" + collectionError("p9_gone", unix.EACCES, logNull).Error()},
		{"nothing explained", collectionError("p1_loop", unix.EINVAL, logLoopStats[1:]),
			"the kernel verifier rejected a generated program: no reason given\n" + collectionError("p1_loop", unix.EINVAL, logLoopStats[1:]).Error()},
	} {
		ke := KernelRejection(c.err, progs)
		if ke == nil {
			t.Errorf("%s: not explained", c.name)
			continue
		}
		if got := ke.Error(); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
		var ve *ebpf.VerifierError
		if !errors.As(ke, &ve) || !errors.Is(ke, c.err) {
			t.Errorf("%s: the load error is not wrapped", c.name)
		}
	}
	// Without a log the verifier never ran: the caller explains it.
	if ke := KernelRejection(collectionError("p1_loop", unix.EPERM, nil), progs); ke != nil {
		t.Errorf("a load without a log explained as a rejection: %v", ke)
	}
	if ke := KernelRejection(errors.New("creating map: out of memory"), progs); ke != nil {
		t.Errorf("a map error explained as a rejection: %v", ke)
	}
}

// TestKernelRejectionMatchesLoadKernel loads rejected programs twice, as
// the runtime does (ebpf.NewCollection, explained by KernelRejection) and
// as ktrace verify --kernel does (LoadKernel), and checks that both give
// the same reason for the same instruction.
func TestKernelRejectionMatchesLoadKernel(t *testing.T) {
	oracleAvailable(t)
	for _, c := range []struct {
		name  string
		insns asm.Instructions
	}{
		{"null", nullProgram()},
		{"bounds", boundsProgram()},
		{"branch", branchProgram()},
		{"nested loop", nestedProgram()},
	} {
		spec := &ebpf.CollectionSpec{
			Maps: map[string]*ebpf.MapSpec{"hash": corpusMaps["hash"].Copy(), "arr": corpusMaps["arr"].Copy()},
			Programs: map[string]*ebpf.ProgramSpec{
				"p0_ok":  {Type: ebpf.TracePoint, License: "GPL", Instructions: ret0},
				"p1_bad": {Type: ebpf.TracePoint, License: "GPL", Instructions: c.insns},
			},
		}
		coll, err := ebpf.NewCollection(spec)
		if err == nil {
			coll.Close()
			t.Errorf("%s: the kernel accepted the collection", c.name)
			continue
		}
		ke := KernelRejection(err, spec.Programs)
		k := LoadKernel(c.insns, optsTP())
		if ke == nil || k.Accepted || k.Finding == nil || k.Finding.Insn < 0 {
			t.Errorf("%s: runtime %v, LoadKernel %+v", c.name, ke, k)
			continue
		}
		f := k.Finding
		if ke.Program != "p1_bad" || ke.Reason == "" || ke.Reason != k.Reason || ke.Reason != f.Message ||
			ke.Insn != f.Insn || ke.Pos != f.Pos || ke.SourceLine != f.SourceLine {
			t.Errorf("%s: the runtime and LoadKernel disagree:\nruntime    %q (program %s, insn %d, %s)\nLoadKernel %q (finding %q, insn %d, %s)",
				c.name, ke.Reason, ke.Program, ke.Insn, ke.Pos, k.Reason, f.Message, f.Insn, f.Pos)
		}
		if !strings.Contains(ke.Error(), "(instruction "+fmt.Sprint(f.Insn)+"): "+f.Message+"\n"+f.SourceLine) {
			t.Errorf("%s: %q does not carry the reason %q", c.name, ke.Error(), f.Message)
		}
	}
}
