package verify_test

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/ktrace/ktrace/verify"
)

// pos is a source position as the ktrace compiler attaches it.
type pos struct {
	line int
	text string
}

func (p pos) String() string       { return fmt.Sprintf("count.bt:%d:3", p.line) }
func (p pos) SourceLine() string   { return p.text }
func at(line int, text string) pos { return pos{line, text} }

func Example() {
	l2 := at(2, "  $v = @start[tid];")
	l3 := at(3, "  @lat = $v->ts;")
	insns := asm.Instructions{
		asm.FnGetCurrentPidTgid.Call().WithSource(l2),
		asm.StoreMem(asm.R10, -4, asm.R0, asm.Word).WithSource(l2),
		asm.LoadMapPtr(asm.R1, 0).WithReference("start").WithSource(l2),
		asm.Mov.Reg(asm.R2, asm.R10).WithSource(l2),
		asm.Add.Imm(asm.R2, -4).WithSource(l2),
		asm.FnMapLookupElem.Call().WithSource(l2),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord).WithSource(l3), // no NULL check
		asm.Mov.Imm(asm.R0, 0).WithSource(l3),
		asm.Return().WithSource(l3),
	}
	report := verify.Program(insns, verify.Options{
		Type: ebpf.TracePoint,
		Maps: map[string]*ebpf.MapSpec{
			"start": {Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1024},
		},
	})
	fmt.Println("ok:", report.OK())
	_ = report.WriteText(os.Stdout)
	// Output:
	// ok: false
	// count.bt:3:3: null: R0 may be NULL: the map lookup on line 2 may return NULL; the read through it is not checked (hint: test R0 against 0 (if (p) ...) before reading or writing through it)
	//       @lat = $v->ts;
}
