package compile_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
)

// TestPerCPUFrames checks where probes keep their objects: on the stack
// while they fit, else the large ones in the frame map, one entry per
// probe, with no stack access below R10-512 left in the code.
func TestPerCPUFrames(t *testing.T) {
	long := `"` + strings.Repeat("x", 300) + `"`
	tests := []struct {
		name, src string
		entries   int // frame map entries; 0: no frame map
		minSize   int // the entry holds at least this much
	}{
		{"fits the stack", `BEGIN { $a = "short"; printf("%s\n", $a); }`, 0, 0},
		{"too large for the stack", `BEGIN { $a = ` + long + `; $b = $a; printf("%s %s\n", $a, $b); }`, 1, 3 * 301},
		{"on_stack_limit = 0", `config = { on_stack_limit = 0 } BEGIN { $a = "short"; printf("%s\n", $a); } END { $t = (1, "x"); print($t); }`, 2, 6},
		{"loop bodies", `BEGIN { $a = ` + long + `; $n = 2; for ($i : 0..$n) { printf("%s\n", $a); } }`, 1, 2 * 301},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := compileSource(tt.src, compile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			spec := cp.Collection.Maps[abi.FrameMap]
			if tt.entries == 0 {
				if spec != nil {
					t.Fatalf("frame map with %d entries, want none", spec.MaxEntries)
				}
				return
			}
			if spec == nil {
				t.Fatal("no frame map")
			}
			if int(spec.MaxEntries) != tt.entries || int(spec.ValueSize) < tt.minSize {
				t.Errorf("frame map %d entries of %d bytes, want %d of at least %d", spec.MaxEntries, spec.ValueSize, tt.entries, tt.minSize)
			}
			for name, p := range cp.Collection.Programs {
				for i, ins := range p.Instructions {
					base := ins.Dst
					if ins.OpCode.Class() == asm.LdXClass {
						base = ins.Src
					}
					class := ins.OpCode.Class()
					memory := class == asm.LdXClass || class == asm.StXClass || class == asm.StClass
					if memory && base == asm.RFP && ins.Offset < -512 {
						t.Errorf("%s: instruction %d reaches below the stack: %v", name, i, ins)
					}
				}
			}
		})
	}
}
