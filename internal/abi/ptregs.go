package abi

import "sort"

// PtRegs gives the offsets of x86-64's struct pt_regs members, the
// context of kprobes and uprobes and the start of a perf event's: the
// registers reg("name") reads, by bpftrace's names for them.
var PtRegs = map[string]int16{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40,
	"r11": 48, "r10": 56, "r9": 64, "r8": 72, "ax": 80, "cx": 88,
	"dx": 96, "si": 104, "di": 112, "orig_ax": 120, "ip": 128, "cs": 136,
	"flags": 144, "sp": 152, "ss": 160,
}

// PtRegsNames lists the register names of PtRegs, sorted.
func PtRegsNames() []string {
	names := make([]string, 0, len(PtRegs))
	for n := range PtRegs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
