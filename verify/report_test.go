package verify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

type testSrc struct {
	line int
	text string
}

func (s testSrc) String() string     { return fmt.Sprintf("t.bt:%d:5", s.line) }
func (s testSrc) SourceLine() string { return s.text }

// nullProgram reads through a map lookup without a NULL check; every
// instruction carries a source position.
func nullProgram() asm.Instructions {
	l1, l2 := testSrc{1, "k = @m[0];"}, testSrc{2, "print(k->x);"}
	var insns asm.Instructions
	for _, ins := range lookup("hash") {
		insns = append(insns, ins.WithSource(l1))
	}
	return append(insns, asm.LoadMem(R1, R0, 0, DW).WithSource(l2), asm.Mov.Imm(R0, 0).WithSource(l2), asm.Return().WithSource(l2))
}

func TestReportText(t *testing.T) {
	rep := Program(nullProgram(), optsTP())
	if rep.OK() {
		t.Fatal("program accepted")
	}
	f := rep.FirstError()
	if f.Category != CatNull || f.Pos != "t.bt:2:5" || f.SourceLine != "print(k->x);" || f.Insn != 6 || f.Index != 5 {
		t.Fatalf("finding %+v", f)
	}
	if !strings.Contains(f.Message, "line 1") {
		t.Errorf("message does not name the lookup's line: %s", f.Message)
	}
	text := rep.String()
	if !strings.HasPrefix(text, "t.bt:2:5: null: ") || !strings.Contains(text, "(hint: ") || !strings.Contains(text, "\n    print(k->x);\n") {
		t.Errorf("text output:\n%s", text)
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) == 0 || back.Findings[0].Category != CatNull || back.Findings[0].Pos != "t.bt:2:5" {
		t.Errorf("JSON round trip: %s", b)
	}
	if rep.Err() == nil || !strings.Contains(rep.Err().Error(), "null") {
		t.Errorf("Err: %v", rep.Err())
	}
	if len(rep.ByInsn()[6]) == 0 {
		t.Errorf("ByInsn misses instruction 6")
	}
}

func TestReportNoSource(t *testing.T) {
	rep := Program(prog(asm.Return()), optsTP())
	if got := rep.String(); !strings.HasPrefix(got, "insn 0: uninit: ") {
		t.Errorf("got %q", got)
	}
	ok := Program(prog(ret0), optsTP())
	if !ok.OK() || !strings.HasPrefix(ok.String(), "ok: ") {
		t.Errorf("got %q", ok.String())
	}
	if b, _ := ok.JSON(); !strings.Contains(string(b), `"findings": []`) {
		t.Errorf("JSON of a clean report: %s", b)
	}
}

func TestLoopFindingNamesLines(t *testing.T) {
	l := func(n int) testSrc { return testSrc{n, ""} }
	insns := prog(asm.Mov.Imm(R0, 0).WithSource(l(1)), unknownInto(R1), asm.Add.Imm(R1, 1).WithSymbol("l").WithSource(l(4)), asm.JNE.Imm(R1, 0, "l").WithSource(l(5)), asm.Mov.Imm(R0, 0).WithSource(l(6)), asm.Return().WithSource(l(6)))
	rep := Program(insns, optsTP())
	f := rep.FirstError()
	if f == nil || f.Category != CatLoop || !strings.Contains(f.Message, "lines 4-5") {
		t.Fatalf("got %v", rep)
	}
	if len(rep.Loops) != 1 || len(rep.Loops[0].Lines) != 2 {
		t.Errorf("loops: %+v", rep.Loops)
	}
}

func TestKernelLogMapping(t *testing.T) {
	oracleAvailable(t)
	insns := nullProgram()
	o := optsTP()
	k := LoadKernel(insns, o)
	if k.Accepted {
		t.Fatal("kernel accepted")
	}
	if k.Finding == nil || k.Finding.Category != CatNull || k.Finding.Pos != "t.bt:2:5" || k.Finding.SourceLine != "print(k->x);" {
		t.Fatalf("kernel finding %+v (reason %s)", k.Finding, k.Reason)
	}
	mapped := 0
	for _, l := range k.Log {
		if l.Pos != "" {
			mapped++
		}
	}
	if mapped == 0 {
		t.Errorf("no log line mapped to a source position: %+v", k.Log)
	}
	if ok := LoadKernel(prog(ret0), o); !ok.Accepted {
		t.Errorf("kernel rejected a trivial program: %s", ok.Reason)
	}
}

func TestKernelCategories(t *testing.T) {
	for reason, want := range map[string]Category{
		"R0 invalid mem access 'map_value_or_null'":             CatNull,
		"R1 type=ringbuf_mem_or_null expected=ringbuf_mem":      CatNull,
		"R1 is of type task_struct but sock_common is expected": CatHelperArg,
		"R3 !read_ok":                             CatUninit,
		"unreachable insn 4":                      CatUnreach,
		"jump out of range from insn 2 to 9":      CatJump,
		"back-edge from insn 5 to 2":              CatLoop,
		"invalid bpf_context access off=4 size=8": CatCtx,
		"invalid access to map value, value_size=16 off=12 size=8: R0 min": CatMapValue,
		"invalid read from stack R10 off=8 size=8":                         CatStack,
		"div by zero":       CatDivZero,
		"unknown opcode 8d": CatOpcode,
		"BPF program is too large. Processed 1000001 insn": CatTooLarge,
	} {
		if got := KernelCategory(reason); got != want {
			t.Errorf("%q: got %q, want %q", reason, got, want)
		}
	}
}

func TestCollection(t *testing.T) {
	spec := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{"hash": corpusMaps["hash"]},
		Programs: map[string]*ebpf.ProgramSpec{
			"good": {Type: ebpf.TracePoint, Instructions: prog(lookupChecked("hash"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))},
			"bad":  {Type: ebpf.Kprobe, Instructions: prog(lookup("hash"), asm.LoadMem(R1, R0, 0, DW), ret0)},
		},
	}
	reps := Collection(spec, nil)
	if len(reps) != 2 || reps[0].Program != "bad" || reps[1].Program != "good" {
		t.Fatalf("reports: %v", reps)
	}
	if reps[0].OK() || !reps[1].OK() {
		t.Errorf("bad: %s\ngood: %s", reps[0], reps[1])
	}
	if _, err := File("testdata/does-not-exist.o"); err == nil {
		t.Error("File accepted a missing file")
	}
}
