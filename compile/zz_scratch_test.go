package compile_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/ktrace/ktrace/compile"
)

func TestScratchLog(t *testing.T) {
	src := os.Getenv("SRC")
	if src == "" {
		t.Skip()
	}
	cp, err := compileSource(src, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.Collection.Programs {
		if os.Getenv("DIS") != "" {
			t.Logf("%s", compile.Disassemble(p))
		}
		spec := p.Copy()
		maps := map[string]*ebpf.Map{}
		for name, ms := range cp.Collection.Maps {
			m, err := ebpf.NewMap(ms)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			maps[name] = m
		}
		for i := range spec.Instructions {
			if ref := spec.Instructions[i].Reference(); ref != "" && maps[ref] != nil {
				if err := spec.Instructions[i].AssociateMap(maps[ref]); err != nil {
					t.Fatal(err)
				}
			}
		}
		prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch | ebpf.LogLevelInstruction, LogSizeStart: 1 << 26})
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			l := ve.Log
			n := 60
			if s := os.Getenv("N"); s != "" {
				n = len(l)
			}
			if len(l) > n {
				l = l[len(l)-n:]
			}
			t.Logf("%s", strings.Join(l, "\n"))
		} else if err != nil && os.Getenv("LOGANY") != "" { var ve2 *ebpf.VerifierError; t.Logf("%T %v", err, errors.As(err, &ve2)) } else if err != nil {
			t.Log(err)
		} else {
			t.Log("loaded")
			prog.Close()
		}
	}
}
