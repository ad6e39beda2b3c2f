package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

func TestZZStates(t *testing.T) {
	f := os.Getenv("DBG_BIN")
	if f == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(f)
	type dins struct {
		Op       uint8
		Dst, Src uint8
		Off      int16
		Const    int64
		Ref, Sym string
		Func     bool
	}
	var dl []dins
	if err := json.Unmarshal(b, &dl); err != nil {
		t.Fatal(err)
	}
	var insns asm.Instructions
	for _, d := range dl {
		ins := asm.Instruction{OpCode: asm.OpCode(d.Op), Dst: asm.Register(d.Dst), Src: asm.Register(d.Src), Offset: d.Off, Constant: d.Const}
		if d.Ref != "" {
			ins = ins.WithReference(d.Ref)
		}
		if d.Sym != "" {
			ins = ins.WithSymbol(d.Sym)
		}
		if d.Func {
			ins = btf.WithFuncMetadata(ins, &btf.Func{Name: "f", Type: &btf.FuncProto{Return: &btf.Int{Size: 8}}})
		}
		insns = append(insns, ins)
	}
	var maps map[string]*ebpf.MapSpec
	mj, _ := os.ReadFile(os.Getenv("DBG_MAPS"))
	json.Unmarshal(mj, &maps)
	// re-bind map refs by order is impossible; give every map load an unnamed spec
	ty, _ := strconv.Atoi(os.Getenv("DBG_TYPE"))
	opts := Options{Type: ebpf.ProgramType(ty), Maps: maps}
	v := &verifier{opts: &opts}
	v.p = link(insns, &opts)
	v.run()
	type pcn struct{ pc, n int }
	var l []pcn
	for pc, c := range v.cps {
		if len(c) > 0 {
			l = append(l, pcn{pc, len(c)})
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n })
	if pcs := os.Getenv("DBG_RANGES"); pcs != "" {
		rs := v.g.computeStackRanges(v.p)
		for _, x := range strings.Split(pcs, ",") {
			pc, _ := strconv.Atoi(x)
			fmt.Printf("ranges@%d: %+v\n", pc, rs[pc])
		}
	}
	fmt.Println("processed", v.processed, "states", v.states, "merges", v.merges, "findings", v.findings)
	for i, x := range l {
		if i > 15 {
			break
		}
		fmt.Printf("pc %d: %d cps rel=%#x srel=%#x live=%#x\n", x.pc, x.n, v.g.relevant[x.pc], v.g.slotRel[x.pc], v.g.live[x.pc])
		if os.Getenv("DBG_PC") == strconv.Itoa(x.pc) {
			for _, cp := range v.cps[x.pc] {
				fmt.Printf("   %v | stack:", cp.st.cur().regs)
				for i, s := range cp.st.cur().stack {
					if s.isSpill() {
						fmt.Printf(" [%d]%v", i, s.spill)
					}
				}
				fmt.Println()
			}
		}
	}
}

func TestZZRanges(t *testing.T) {
	f := os.Getenv("DBG_BIN")
	if f == "" {
		t.Skip()
	}
	_ = f
}
