package verify

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// KernelReason picks the line of a kernel verifier log that explains why the
// program was rejected (the last line that is not a statistic).
func KernelReason(log []string) string {
	skip := func(l string) bool {
		return l == "" || strings.HasPrefix(l, "processed ") || strings.HasPrefix(l, "verification time") ||
			strings.HasPrefix(l, "stack depth") || strings.HasPrefix(l, "max_states_per_insn") ||
			strings.HasPrefix(l, "cur state:") || strings.HasPrefix(l, "old state:")
	}
	for i := len(log) - 1; i >= 0; i-- {
		l := strings.TrimSpace(log[i])
		if skip(l) {
			continue
		}
		// Bounds errors print the access first and a summary after it.
		if strings.Contains(l, "value is outside of the allowed memory range") ||
			strings.Contains(l, "unbounded memory access, make sure") {
			if i > 0 && strings.HasPrefix(strings.TrimSpace(log[i-1]), "invalid access to") {
				return strings.TrimSpace(log[i-1]) + ": " + l
			}
		}
		return l
	}
	return ""
}

// kernelReasons maps kernel verifier messages to finding categories. The
// first matching pattern wins.
var kernelReasons = []struct {
	re  *regexp.Regexp
	cat Category
}{
	{regexp.MustCompile(`_or_null expected=|invalid mem access '[a-z_]*_or_null'|pointer arithmetic on [a-z_]*_or_null prohibited`), CatNull},
	{regexp.MustCompile(`R\d+ !read_ok|!read_ok`), CatUninit},
	{regexp.MustCompile(`frame pointer is read only`), CatFramePtr},
	{regexp.MustCompile(`unknown opcode|uses reserved fields|R\d+ is invalid|invalid BPF_ALU opcode|invalid BPF_JMP|invalid shift|invalid atomic|BPF_ATOMIC uses invalid|invalid BPF_LD mode|BPF_LD_\[ABS\|IND\]|invalid may_goto|unsupported atomic|addr_space_cast|invalid insn code|invalid opcode`), CatOpcode},
	{regexp.MustCompile(`ld_imm64|direct value access|is not pointing to valid bpf_map|invalid access to map value pointer|unrecognized bpf_ld_imm64`), CatLdImm64},
	{regexp.MustCompile(`jump out of range|jump into the middle|call to invalid destination|jump to out of range`), CatJump},
	{regexp.MustCompile(`unreachable insn`), CatUnreach},
	{regexp.MustCompile(`last insn is not an exit or jmp|missing btf func_info|callback function not static|func info|func_info|empty program|insn_cnt|function call to invalid`), CatCFG},
	{regexp.MustCompile(`back-edge from insn|infinite loop detected|loop is not bounded`), CatLoop},
	{regexp.MustCompile(`program is too large|too complex|sequence of \d+ jumps`), CatTooLarge},
	{regexp.MustCompile(`div by zero`), CatDivZero},
	{regexp.MustCompile(`reference leak|Unreleased reference`), CatReference},
	{regexp.MustCompile(`At program exit the register R0|R0 not a scalar value|At callback return the register R0|R0 leaks addr as return value|should have been in`), CatReturn},
	{regexp.MustCompile(`bpf_context access|stores into R\d+ ctx|negative offset ctx ptr|modified ctx ptr|variable ctx access|dereference of modified`), CatCtx},
	{regexp.MustCompile(`invalid access to memory|misaligned access`), CatMem},
	{regexp.MustCompile(`misaligned value access`), CatMapValue},
	{regexp.MustCompile(`invalid access to map value|invalid access to map key|write into map forbidden|value is outside of the allowed memory range|min value is negative, either use unsigned index|unbounded memory access, make sure to bounds check`), CatMapValue},
	{regexp.MustCompile(`invalid (read|write) from stack R\d+ off=`), CatStack},
	{regexp.MustCompile(`invalid (read|write) from stack|invalid indirect read from stack`), CatStackInit},
	{regexp.MustCompile(`stack off=|invalid stack|stack R\d+ off|misaligned stack|variable-offset|invalid size of register (spill|fill)|stack frame of the caller|combined stack size|corrupt spilled|spilled ptr`), CatStack},
	{regexp.MustCompile(`unknown func|invalid func |cannot use helper|not supported for program type|supported only for|helper call is not allowed|unknown helper|program of this type cannot use`), CatHelper},
	{regexp.MustCompile(`pointer arithmetic|pointer \S+ pointer prohibited|bitwise operator|subtract pointer from scalar|math between|makes \S+ pointer be out of bounds|32-bit pointer arithmetic|subtraction from stack pointer`), CatPtrArith},
	{regexp.MustCompile(`leaks addr|partial copy of pointer|pointer comparison prohibited|sign-extension part of pointer`), CatPtrLeak},
	{regexp.MustCompile(`recursive call|call stack of \d+ frames is too deep|cannot return stack pointer|caller frame`), CatCall},
	{regexp.MustCompile(`type=\S+ expected=|callback function not allowed for map|expected=|invalid zero-sized read|min value is negative, either use unsigned or|unbounded memory access, use|is not a known constant|cannot pass map_type|must have zero offset|invalid indirect access|R\d+ type=`), CatHelperArg},
	{regexp.MustCompile(`write to change key|invalid mem access|only read from|access beyond the end of member|doesn't have field|invalid access to memory|only read is supported|access beyond struct|invalid negative access|invalid variable offset|is ptr_|access is denied|cannot write into`), CatMem},
}

// KernelCategory classifies a kernel verifier message (see KernelReason)
// into the categories this package uses for its own findings, so that the
// two verifiers' verdicts can be compared. Unknown messages give "".
func KernelCategory(reason string) Category {
	for _, k := range kernelReasons {
		if k.re.MatchString(reason) {
			return k.cat
		}
	}
	return ""
}

// KernelLine is one line of a kernel verifier log, mapped back to the
// instruction it is about and, through the instruction's source, to the
// script line.
type KernelLine struct {
	Text string `json:"text"`
	// Insn is the raw instruction index the line is about, or -1.
	Insn int `json:"insn"`
	// Index is the position of that instruction in the asm.Instructions,
	// or -1.
	Index      int    `json:"index"`
	Pos        string `json:"pos,omitempty"`
	SourceLine string `json:"source_line,omitempty"`
}

var (
	insnLine = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\)`)
	fromLine = regexp.MustCompile(`^from \d+ to (\d+):`)
	stateLn  = regexp.MustCompile(`^(\d+): R\d`)
	// insnInReason finds the instruction a structural error names.
	insnInReason = regexp.MustCompile(`insn (\d+)`)
)

// rawIndex maps raw instruction slots to positions in insns and their
// sources.
func rawIndex(insns asm.Instructions) (index []int, srcs []fmt.Stringer) {
	for i, ins := range insns {
		var src fmt.Stringer
		if s := ins.Source(); s != nil {
			if _, c := s.(asm.Comment); !c {
				src = s
			}
		}
		for w := 0; w < int(ins.Width()); w++ {
			index = append(index, i)
			srcs = append(srcs, src)
		}
	}
	return index, srcs
}

// MapKernelLog annotates each line of a kernel verifier log with the
// instruction it refers to and that instruction's source position.
func MapKernelLog(log []string, insns asm.Instructions) []KernelLine {
	index, srcs := rawIndex(insns)
	out := make([]KernelLine, 0, len(log))
	for _, l := range log {
		kl := KernelLine{Text: l, Insn: -1, Index: -1}
		var m []string
		if m = insnLine.FindStringSubmatch(l); m == nil {
			if m = fromLine.FindStringSubmatch(l); m == nil {
				m = stateLn.FindStringSubmatch(l)
			}
		}
		if m != nil {
			n, err := strconv.Atoi(m[1])
			if err == nil && n >= 0 && n < len(index) {
				kl.Insn, kl.Index = n, index[n]
				if s := srcs[n]; s != nil {
					kl.Pos = s.String()
					if sl, ok := s.(interface{ SourceLine() string }); ok {
						kl.SourceLine = sl.SourceLine()
					}
				}
			}
		}
		out = append(out, kl)
	}
	return out
}

// KernelFinding turns a kernel rejection (the error from
// ebpf.NewProgram*, which wraps an *ebpf.VerifierError) into a Finding: the
// kernel's reason, its category, the instruction it was checking and that
// instruction's source. It returns nil if err carries no verifier log.
func KernelFinding(err error, insns asm.Instructions) *Finding {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return nil
	}
	reason := KernelReason(ve.Log)
	f := &Finding{Severity: Error, Category: KernelCategory(reason), Insn: -1, Index: -1, Message: reason}
	mapped := MapKernelLog(ve.Log, insns)
	for i := len(mapped) - 1; i >= 0; i-- {
		if mapped[i].Insn >= 0 {
			f.Insn, f.Index, f.Pos, f.SourceLine = mapped[i].Insn, mapped[i].Index, mapped[i].Pos, mapped[i].SourceLine
			break
		}
	}
	if f.Insn < 0 {
		// Structural errors name the instruction in the message.
		if m := insnInReason.FindStringSubmatch(reason); m != nil {
			n, _ := strconv.Atoi(m[1])
			index, srcs := rawIndex(insns)
			if n < len(index) {
				f.Insn, f.Index = n, index[n]
				if s := srcs[n]; s != nil {
					f.Pos = s.String()
					if sl, ok := s.(interface{ SourceLine() string }); ok {
						f.SourceLine = sl.SourceLine()
					}
				}
			}
		}
	}
	return f
}
