package verify

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// Disassemble lists a program's instructions, numbered as the kernel and
// this package's findings number them (raw instruction slots), each run
// of instructions under the script line it came from: the listing
// `ktrace -d` prints.
func Disassemble(insns asm.Instructions) string {
	var b strings.Builder
	last := ""
	raw := 0
	for _, ins := range insns {
		if src := ins.Source(); src != nil {
			loc, text := sourceText(src)
			if key := loc + "\x00" + text; text != "" && key != last {
				if loc == "" {
					fmt.Fprintf(&b, "; %s\n", strings.TrimSpace(text))
				} else {
					fmt.Fprintf(&b, "; %s: %s\n", loc, strings.TrimSpace(text))
				}
			}
			last = loc + "\x00" + text
		}
		fmt.Fprintf(&b, "%4d: %v\n", raw, ins.WithSource(nil))
		raw += int(ins.Size() / asm.InstructionSize)
	}
	return b.String()
}
