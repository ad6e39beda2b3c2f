package verify

import "regexp"

// kernelReasons maps kernel verifier messages to finding categories. The
// first matching pattern wins.
var kernelReasons = []struct {
	re  *regexp.Regexp
	cat Category
}{
	{regexp.MustCompile(`_or_null expected=|invalid mem access '[a-z_]*_or_null[a-z_]*'|pointer arithmetic on [a-z_]*_or_null prohibited`), CatNull},
	{regexp.MustCompile(`R\d+ !read_ok|!read_ok`), CatUninit},
	{regexp.MustCompile(`frame pointer is read only`), CatFramePtr},
	{regexp.MustCompile(`unknown opcode|uses reserved fields|R\d+ is invalid|invalid BPF_ALU opcode|invalid BPF_JMP|invalid shift|invalid atomic|BPF_ATOMIC uses invalid|invalid BPF_LD mode|BPF_LD_\[ABS\|IND\]|invalid may_goto|unsupported atomic|addr_space_cast|invalid insn code|invalid opcode`), CatOpcode},
	{regexp.MustCompile(`ld_imm64|ldimm64 failed|ldimm64 unable|in ldimm64 isn.t|direct value access|is not pointing to valid bpf_map|invalid access to map value pointer|unrecognized bpf_ld_imm64`), CatLdImm64},
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
	{regexp.MustCompile(`unknown func|invalid func |calling kernel function .* is not allowed|cannot use helper|not supported for program type|supported only for|helper call is not allowed|unknown helper|program of this type cannot use`), CatHelper},
	{regexp.MustCompile(`pointer arithmetic|pointer \S+ pointer prohibited|bitwise operator|subtract pointer from scalar|math between|makes \S+ pointer be out of bounds|32-bit pointer arithmetic|subtraction from stack pointer`), CatPtrArith},
	{regexp.MustCompile(`leaks addr|partial copy of pointer|pointer comparison prohibited|sign-extension part of pointer`), CatPtrLeak},
	{regexp.MustCompile(`recursive call|call stack of \d+ frames is too deep|cannot return stack pointer|caller frame`), CatCall},
	{regexp.MustCompile(`type=\S+ expected=|callback function not allowed for map|expected=|invalid zero-sized read|min value is negative, either use unsigned or|unbounded memory access, use|is not a known constant|cannot pass map_type|must have zero offset|invalid indirect access|R\d+ type=|R\d+ is of type \S+ but \S+ is expected`), CatHelperArg},
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
