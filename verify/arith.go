package verify

import (
	"fmt"
	"math"
)

// maxVarOff is the kernel's bound on pointer offsets (BPF_MAX_VAR_OFF).
const maxVarOff = 1 << 29

// ptrArith handles an ALU operation between a pointer and a scalar. dst
// receives the result; scalarIsDst is set for "scalar op= pointer".
func (v *verifier) ptrArith(pc int, in insn, dst *reg, ptr, off reg, scalarIsDst, is64 bool) bool {
	op := in.op()
	preg := in.dst
	if scalarIsDst {
		preg = in.src
	}
	if !is64 {
		if op == opSub && !v.opts.Unprivileged {
			*dst = unknownReg()
			return true
		}
		v.errorf(pc, CatPtrArith, fmt.Sprintf("32-bit arithmetic on the pointer in R%d is not allowed", preg),
			"use 64-bit arithmetic on pointers")
		return false
	}
	if ptr.null {
		v.add(Finding{Severity: Error, Category: CatNull, Insn: pc,
			Message: fmt.Sprintf("R%d may be NULL (%s) and arithmetic on it is not allowed before it is checked", preg, v.originText(ptr)),
			Hint:    "test the pointer against 0 before computing with it"})
		return false
	}
	switch ptr.typ {
	case tCtx, tMapValue, tStack, tBTF, tMem, tRdonlyMem, tFunc, tMapKey:
	case tMapPtr:
		if off.s.isConst() && off.s.constVal() == 0 && op == opAdd {
			break
		}
		fallthrough
	default:
		v.errorf(pc, CatPtrArith, fmt.Sprintf("arithmetic on the %s pointer in R%d is not allowed", ptr.typeName(), preg),
			"only pointers to the stack, map values, memory and the context may be offset")
		return false
	}
	switch op {
	case opAdd:
	case opSub:
		if scalarIsDst {
			v.errorf(pc, CatPtrArith, fmt.Sprintf("R%d -= pointer subtracts a pointer from an integer, which is not allowed", in.dst), "")
			return false
		}
		if ptr.typ == tStack {
			v.errorf(pc, CatPtrArith, fmt.Sprintf("subtracting from the stack pointer in R%d is not allowed", preg),
				"add a negative offset instead (r += -8)")
			return false
		}
	case opAnd, opOr, opXor:
		v.errorf(pc, CatPtrArith, fmt.Sprintf("bitwise operation %s on the pointer in R%d is not allowed", aluNames[op], preg),
			"only addition and subtraction of integers are allowed on pointers")
		return false
	default:
		v.errorf(pc, CatPtrArith, fmt.Sprintf("operation %s on the pointer in R%d is not allowed", aluNames[op], preg),
			"only addition and subtraction of integers are allowed on pointers")
		return false
	}
	if !v.saneOffset(pc, off.s, ptr) || !v.saneOffset(pc, ptr.s, ptr) {
		return false
	}
	res := ptr
	res.origin = ptr.origin
	known := off.s.isConst()
	k := int64(off.s.constVal())
	if op == opAdd {
		if known && int64(int32(int64(ptr.off)+k)) == int64(ptr.off)+k {
			res.off = int32(int64(ptr.off) + k)
		} else {
			res.s = scalarAdd(ptr.s, off.s)
		}
	} else {
		if known && int64(int32(int64(ptr.off)-k)) == int64(ptr.off)-k {
			res.off = int32(int64(ptr.off) - k)
		} else {
			res.s = scalarSub(ptr.s, off.s)
		}
	}
	if !v.saneOffset(pc, res.s, ptr) {
		return false
	}
	if v.opts.Unprivileged && ptr.typ == tStack && !res.s.isConst() {
		v.errorf(pc, CatPtrArith, "variable offsets from the stack pointer are not allowed for unprivileged programs", "")
		return false
	}
	*dst = res
	return true
}

// saneOffset applies the kernel's limits on the offset added to a pointer.
func (v *verifier) saneOffset(pc int, s scalar, ptr reg) bool {
	if s.isConst() {
		val := int64(s.constVal())
		if val >= maxVarOff || val <= -maxVarOff {
			v.errorf(pc, CatPtrArith, fmt.Sprintf("adding %d to the %s pointer is not allowed: offsets must stay within ±%d", val, ptr.typeName(), maxVarOff),
				"bound the offset first")
			return false
		}
		return true
	}
	if s.smin == math.MinInt64 {
		v.errorf(pc, CatPtrArith, fmt.Sprintf("the offset added to the %s pointer has no lower bound", ptr.typeName()),
			"bound the offset with a comparison (if (x < N)) or a mask (x &= N) first")
		return false
	}
	if s.smin >= maxVarOff || s.smin <= -maxVarOff {
		v.errorf(pc, CatPtrArith, fmt.Sprintf("the offset added to the %s pointer may put it out of bounds (min %d)", ptr.typeName(), s.smin),
			"bound the offset first")
		return false
	}
	return true
}

// originText describes where a pointer came from, for messages.
func (v *verifier) originText(r reg) string {
	if r.origin < 0 || int(r.origin) >= len(v.p.insns) {
		return "it came from a helper call"
	}
	in := v.p.insns[r.origin]
	name := "the helper call"
	if in.code == clsJMP|jmpCALL && in.src == 0 {
		name = "the " + helperName(in.imm) + " call"
		if in.imm == 1 {
			name = "the map lookup"
		}
	}
	return fmt.Sprintf("%s on %s may return NULL", name, v.where(int(r.origin)))
}
