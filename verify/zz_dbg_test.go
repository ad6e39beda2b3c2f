package verify_test

import (
	"fmt"
	"os"
	"sort"
	"testing"

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
