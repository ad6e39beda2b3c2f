package verify_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/compile"
	"github.com/ktrace/ktrace/verify"
)

func TestZZDebug(t *testing.T) {
	src := os.Getenv("DBG_SCRIPT")
	if src == "" {
		t.Skip()
	}
	prog, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{Params: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	cp := prog.Compiled()
	reps := prog.Verify()
	if os.Getenv("DBG_KSTATS") != "" {
		coll, err := ebpf.NewCollectionWithOptions(cp.Collection, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
		if err == nil {
			for n, p := range coll.Programs {
				fmt.Printf("kernel %s: %s\n", n, p.VerifierLog)
			}
			coll.Close()
		} else {
			fmt.Println("kernel load:", err)
		}
	}
	var names []string
	for n := range reps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		spec := cp.Collection.Programs[n]
		if os.Getenv("DBG_DIS") != "" {
			fmt.Println(compile.Disassemble(spec))
		}
		fmt.Printf("== %s: user %v processed=%d\n", n, reps[n].OK(), reps[n].Processed)
		if d := os.Getenv("DBG_DUMP"); d != "" {
			type dins struct {
				Op       uint8
				Dst, Src uint8
				Off      int16
				Const    int64
				Ref, Sym string
				Func     bool
			}
			var l []dins
			for _, ins := range spec.Instructions {
				l = append(l, dins{uint8(ins.OpCode), uint8(ins.Dst), uint8(ins.Src), ins.Offset, ins.Constant, ins.Reference(), ins.Symbol(), btf.FuncMetadata(&ins) != nil})
			}
			bj, _ := json.Marshal(l)
			os.WriteFile(d+"/"+n+".bin", bj, 0o644)
			mj, _ := json.Marshal(cp.Collection.Maps)
			os.WriteFile(d+"/maps.json", mj, 0o644)
			os.WriteFile(d+"/"+n+".type", []byte(fmt.Sprint(int(spec.Type))), 0o644)
		}
		for _, f := range reps[n].Findings {
			fmt.Printf("   [insn %d] %s\n", f.Insn, f.String())
		}
		kr := verify.LoadKernel(spec.Instructions, verify.Options{Type: spec.Type, AttachType: spec.AttachType, AttachTo: spec.AttachTo, Maps: cp.Collection.Maps})
		fmt.Printf("   kernel accepted=%v %s\n", kr.Accepted, kr.Reason)
		if os.Getenv("DBG_LOG") != "" {
			for _, l := range kr.Log {
				fmt.Printf("      %v\n", l)
			}
		}
	}
}
