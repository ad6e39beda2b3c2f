package verify

import (
	"cmp"
	"fmt"
	"math"
)

func (v *verifier) stepJump(st *state, pc int, in insn) (int, bool) {
	cls := in.class()
	x := in.srcBit() == srcX
	switch in.op() {
	case jmpJA:
		if x {
			v.errorf(pc, CatUnsupport, "indirect jumps (gotox) are not modelled by this verifier", "use direct jumps")
			return 0, false
		}
		if in.src != 0 || in.dst != 0 || (cls == clsJMP && in.imm != 0) || (cls == clsJMP32 && in.off != 0) {
			return 0, v.reserved(pc, "jump")
		}
		return jumpTarget(pc, in), true
	case jmpCALL:
		if cls == clsJMP32 || x {
			return v.unknownOpcode(pc, in)
		}
		if (in.src != 0 && in.src != pseudoCall && in.src != pseudoKfuncCall) || (in.src != pseudoKfuncCall && in.off != 0) || in.dst != 0 {
			return 0, v.reserved(pc, "call")
		}
		if in.src == pseudoCall {
			return v.callSubprog(st, pc, in)
		}
		if in.src == pseudoKfuncCall {
			return v.callKfunc(st, pc)
		}
		return v.callHelper(st, pc, in)
	case jmpEXIT:
		if cls == clsJMP32 || x {
			return v.unknownOpcode(pc, in)
		}
		if in.imm != 0 || in.src != 0 || in.dst != 0 {
			return 0, v.reserved(pc, "exit")
		}
		return v.exit(st, pc)
	case jmpCOND:
		if cls == clsJMP32 || x {
			return v.unknownOpcode(pc, in)
		}
		v.errorf(pc, CatUnsupport, "may_goto instructions are not modelled by this verifier", "bound the loop with a counter")
		return 0, false
	case 0xf0:
		return v.unknownOpcode(pc, in)
	}
	return v.condJump(st, pc, in)
}

// negate returns the jump condition that holds on the fall-through path.
func negate(op uint8) uint8 {
	switch op {
	case jmpJEQ:
		return jmpJNE
	case jmpJNE:
		return jmpJEQ
	case jmpJGT:
		return jmpJLE
	case jmpJLE:
		return jmpJGT
	case jmpJGE:
		return jmpJLT
	case jmpJLT:
		return jmpJGE
	case jmpJSGT:
		return jmpJSLE
	case jmpJSLE:
		return jmpJSGT
	case jmpJSGE:
		return jmpJSLT
	case jmpJSLT:
		return jmpJSGE
	case jmpJSET:
		return 0xff // "no common bit"
	}
	return op
}

// flip returns the condition with operands swapped.
func flip(op uint8) uint8 {
	switch op {
	case jmpJGT:
		return jmpJLT
	case jmpJLT:
		return jmpJGT
	case jmpJGE:
		return jmpJLE
	case jmpJLE:
		return jmpJGE
	case jmpJSGT:
		return jmpJSLT
	case jmpJSLT:
		return jmpJSGT
	case jmpJSGE:
		return jmpJSLE
	case jmpJSLE:
		return jmpJSGE
	}
	return op
}

func (v *verifier) condJump(st *state, pc int, in insn) (int, bool) {
	x := in.srcBit() == srcX
	is32 := in.class() == clsJMP32
	// The kernel reads the destination first, then checks the reserved
	// field of the source form, then reads the source register.
	d, ok := v.srcReg(st, pc, in.dst)
	if !ok {
		return 0, false
	}
	var src reg
	if x {
		if in.imm != 0 {
			return 0, v.reserved(pc, "conditional jump")
		}
		s, ok := v.srcReg(st, pc, in.src)
		if !ok {
			return 0, false
		}
		if s.isPtr() && v.opts.Unprivileged {
			v.errorf(pc, CatPtrLeak, fmt.Sprintf("R%d is a pointer; comparing pointers is not allowed for unprivileged programs", in.src), "")
			return 0, false
		}
		src = *s
	} else if in.src != 0 {
		return 0, v.reserved(pc, "conditional jump")
	} else if is32 {
		src = constReg(uint64(uint32(in.imm)))
	} else {
		src = constReg(uint64(int64(in.imm)))
	}
	dst := *d
	target := jumpTarget(pc, in)
	op := in.op()

	taken := branchTaken(&dst, &src, op, is32)
	switch taken {
	case 1:
		return target, true
	case 0:
		return pc + 1, true
	}

	other := st.clone()
	// Null checks.
	if !x && in.imm == 0 && !is32 && (op == jmpJEQ || op == jmpJNE) && dst.isNullable() {
		v.markNull(other, dst.id, dst.ref, op == jmpJEQ)
		v.markNull(st, dst.id, dst.ref, op == jmpJNE)
	} else if dst.typ == tScalar && src.typ == tScalar && !(x && in.src == in.dst) {
		v.refineBranch(other, in, op, is32)
		v.refineBranch(st, in, negate(op), is32)
	}
	if !v.push(other, target) {
		return 0, false
	}
	return pc + 1, true
}

// refineBranch narrows the compared registers of st assuming the
// condition op holds.
func (v *verifier) refineBranch(st *state, in insn, op uint8, is32 bool) {
	f := st.cur()
	a := &f.regs[in.dst]
	var b *reg
	var bk reg
	if in.srcBit() == srcX {
		b = &f.regs[in.src]
	} else {
		if is32 {
			bk = constReg(uint64(uint32(in.imm)))
		} else {
			bk = constReg(uint64(int64(in.imm)))
		}
		b = &bk
	}
	refine(&a.s, &b.s, op, is32)
	if !a.s.valid() {
		a.s = unknownScalar()
	}
	if !b.s.valid() {
		b.s = unknownScalar()
	}
	v.syncLinked(st, a)
	if in.srcBit() == srcX {
		v.syncLinked(st, b)
	}
}

// syncLinked copies r's bounds to every register that is a copy of it.
func (v *verifier) syncLinked(st *state, r *reg) {
	if r.id == 0 || r.typ != tScalar {
		return
	}
	id, s := r.id, r.s
	st.forEachReg(func(o *reg) {
		if o.typ == tScalar && o.id == id {
			o.s = s
		}
	})
}

// markNull resolves a NULL check on pointer copies with the given id.
func (v *verifier) markNull(st *state, id, ref uint32, isNull bool) {
	if id == 0 {
		return
	}
	st.forEachReg(func(o *reg) {
		if !o.isPtr() || !o.null || o.id != id {
			return
		}
		if isNull {
			*o = constReg(0)
		} else {
			// As the kernel does: a pointer proven non-NULL no longer
			// needs its id (only the reference, ref, stays), which lets
			// states reached through different lookups compare and merge.
			o.null = false
			o.id = 0
		}
	})
	if isNull && ref != 0 {
		for i, r := range st.refs {
			if r.id == ref {
				st.refs = append(st.refs[:i:i], st.refs[i+1:]...)
				break
			}
		}
	}
}

// branchTaken returns 1 if the jump is always taken, 0 if never, -1 if
// both are possible. It follows the kernel's rules and is never more
// precise than them, so that no path the kernel checks is skipped.
func branchTaken(a, b *reg, op uint8, is32 bool) int {
	if a.isPtr() || b.isPtr() {
		if !b.isScalar() {
			a, b = b, a
			op = flip(op)
		}
		if !b.isScalar() || !a.isPtr() {
			return -1
		}
		if is32 {
			if !b.s.isConst32() || uint32(b.s.t.value) != 0 {
				return -1
			}
		} else if !b.s.isConst() || b.s.constVal() != 0 {
			return -1
		}
		if a.null || !(a.typ == tMapValue || a.typ == tMem || a.typ == tRdonlyMem) {
			return -1
		}
		switch op {
		case jmpJEQ:
			return 0
		case jmpJNE:
			return 1
		}
		return -1
	}
	if a.typ != tScalar || b.typ != tScalar {
		return -1
	}
	if is32 {
		return scalarTaken32(&a.s, &b.s, op)
	}
	return scalarTaken(&a.s, &b.s, op)
}

func scalarTaken(a, b *scalar, op uint8) int {
	switch op {
	case jmpJEQ, jmpJNE:
		r := -1
		if a.isConst() && b.isConst() {
			r = b2i(a.constVal() == b.constVal())
		} else if a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin {
			r = 0
		}
		if r >= 0 && op == jmpJNE {
			r = 1 - r
		}
		return r
	case jmpJSET:
		if !b.isConst() {
			a, b = b, a
		}
		if !b.isConst() {
			return -1
		}
		if a.t.value&b.constVal() != 0 {
			return 1
		}
		if (a.t.value|a.t.mask)&b.constVal() == 0 {
			return 0
		}
	case jmpJGT, jmpJGE, jmpJLT, jmpJLE:
		return rangeTaken(op, a.umin, a.umax, b.umin, b.umax)
	case jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE:
		return rangeTaken(op, a.smin, a.smax, b.smin, b.smax)
	}
	return -1
}

func scalarTaken32(a, b *scalar, op uint8) int {
	au, bu := a.t.low32(), b.t.low32()
	switch op {
	case jmpJEQ, jmpJNE:
		r := -1
		if au.isConst() && bu.isConst() {
			r = b2i(au.value == bu.value)
		} else if a.u32min > b.u32max || a.u32max < b.u32min || a.s32min > b.s32max || a.s32max < b.s32min {
			r = 0
		}
		if r >= 0 && op == jmpJNE {
			r = 1 - r
		}
		return r
	case jmpJSET:
		if !bu.isConst() {
			au, bu = bu, au
		}
		if !bu.isConst() {
			return -1
		}
		if au.value&bu.value != 0 {
			return 1
		}
		if (au.value|au.mask)&bu.value == 0 {
			return 0
		}
	case jmpJGT, jmpJGE, jmpJLT, jmpJLE:
		return rangeTaken(op, a.u32min, a.u32max, b.u32min, b.u32max)
	case jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE:
		return rangeTaken(op, a.s32min, a.s32max, b.s32min, b.s32max)
	}
	return -1
}

// rangeTaken decides an ordered comparison "a op b" from the operands'
// bounds: 1 if it always holds, 0 if it never does, -1 if either can
// happen. Signed and unsigned jumps differ only in which bounds they get.
func rangeTaken[T cmp.Ordered](op uint8, amin, amax, bmin, bmax T) int {
	switch op {
	case jmpJGT, jmpJSGT:
		if amin > bmax {
			return 1
		}
		if amax <= bmin {
			return 0
		}
	case jmpJGE, jmpJSGE:
		if amin >= bmax {
			return 1
		}
		if amax < bmin {
			return 0
		}
	case jmpJLT, jmpJSLT:
		if amax < bmin {
			return 1
		}
		if amin >= bmax {
			return 0
		}
	case jmpJLE, jmpJSLE:
		if amax <= bmin {
			return 1
		}
		if amin > bmax {
			return 0
		}
	}
	return -1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// refine narrows a and b assuming "a op b" holds. op 0xff means
// "a & b == 0".
func refine(a, b *scalar, op uint8, is32 bool) {
	if is32 {
		refine32(a, b, op)
	} else {
		refine64(a, b, op)
	}
	a.sync()
	b.sync()
}

func refine64(a, b *scalar, op uint8) {
	switch op {
	case jmpJEQ:
		umin, umax := max(a.umin, b.umin), min(a.umax, b.umax)
		smin, smax := max(a.smin, b.smin), min(a.smax, b.smax)
		u32min, u32max := max(a.u32min, b.u32min), min(a.u32max, b.u32max)
		s32min, s32max := max(a.s32min, b.s32min), min(a.s32max, b.s32max)
		t := a.t.intersect(b.t)
		for _, x := range []*scalar{a, b} {
			x.umin, x.umax, x.smin, x.smax = umin, umax, smin, smax
			x.u32min, x.u32max, x.s32min, x.s32max = u32min, u32max, s32min, s32max
			x.t = t
		}
	case jmpJNE:
		if b.isConst() {
			excludeConst(a, b.constVal())
		} else if a.isConst() {
			excludeConst(b, a.constVal())
		}
	case jmpJSET:
		if b.isConst() && isPow2(b.constVal()) {
			a.t = a.t.or(tconst(b.constVal()))
		} else if a.isConst() && isPow2(a.constVal()) {
			b.t = b.t.or(tconst(a.constVal()))
		}
	case 0xff:
		if b.isConst() {
			a.t = a.t.and(tconst(^b.constVal()))
		} else if a.isConst() {
			b.t = b.t.and(tconst(^a.constVal()))
		}
	case jmpJGT, jmpJGE:
		d := uint64(0)
		if op == jmpJGT {
			d = 1
		}
		if b.umin <= math.MaxUint64-d {
			a.umin = max(a.umin, b.umin+d)
		}
		if a.umax >= d {
			b.umax = min(b.umax, a.umax-d)
		}
	case jmpJLT, jmpJLE:
		refine64(b, a, flip(op))
	case jmpJSGT, jmpJSGE:
		d := int64(0)
		if op == jmpJSGT {
			d = 1
		}
		if b.smin <= math.MaxInt64-d {
			a.smin = max(a.smin, b.smin+d)
		}
		if a.smax >= math.MinInt64+d {
			b.smax = min(b.smax, a.smax-d)
		}
	case jmpJSLT, jmpJSLE:
		refine64(b, a, flip(op))
	}
}

func refine32(a, b *scalar, op uint8) {
	switch op {
	case jmpJEQ:
		u32min, u32max := max(a.u32min, b.u32min), min(a.u32max, b.u32max)
		s32min, s32max := max(a.s32min, b.s32min), min(a.s32max, b.s32max)
		lo := a.t.low32().intersect(b.t.low32())
		for _, x := range []*scalar{a, b} {
			x.u32min, x.u32max, x.s32min, x.s32max = u32min, u32max, s32min, s32max
			x.t = tnum{(x.t.value &^ 0xffffffff) | lo.value, (x.t.mask &^ 0xffffffff) | lo.mask}
		}
	case jmpJNE:
		if b.isConst32() {
			excludeConst32(a, uint32(b.t.value))
		} else if a.isConst32() {
			excludeConst32(b, uint32(a.t.value))
		}
	case jmpJSET:
		bv := uint32(b.t.value)
		if b.isConst32() && isPow2(uint64(bv)) {
			a.t = a.t.or(tconst(uint64(bv)))
		}
	case 0xff:
		if b.isConst32() {
			a.t = a.t.and(tconst(^uint64(uint32(b.t.value))))
		}
	case jmpJGT, jmpJGE:
		d := uint32(0)
		if op == jmpJGT {
			d = 1
		}
		if b.u32min <= math.MaxUint32-d {
			a.u32min = max(a.u32min, b.u32min+d)
		}
		if a.u32max >= d {
			b.u32max = min(b.u32max, a.u32max-d)
		}
	case jmpJLT, jmpJLE:
		refine32(b, a, flip(op))
	case jmpJSGT, jmpJSGE:
		d := int32(0)
		if op == jmpJSGT {
			d = 1
		}
		if b.s32min <= math.MaxInt32-d {
			a.s32min = max(a.s32min, b.s32min+d)
		}
		if a.s32max >= math.MinInt32+d {
			b.s32max = min(b.s32max, a.s32max-d)
		}
	case jmpJSLT, jmpJSLE:
		refine32(b, a, flip(op))
	}
}

func isPow2(x uint64) bool { return x != 0 && x&(x-1) == 0 }

// excludeConst removes the value c from the edges of a's ranges.
func excludeConst(a *scalar, c uint64) {
	if a.umin == c && a.umin < math.MaxUint64 {
		a.umin++
	} else if a.umax == c && a.umax > 0 {
		a.umax--
	}
	if a.smin == int64(c) && a.smin < math.MaxInt64 {
		a.smin++
	} else if a.smax == int64(c) && a.smax > math.MinInt64 {
		a.smax--
	}
}

func excludeConst32(a *scalar, c uint32) {
	if a.u32min == c && a.u32min < math.MaxUint32 {
		a.u32min++
	} else if a.u32max == c && a.u32max > 0 {
		a.u32max--
	}
	if a.s32min == int32(c) && a.s32min < math.MaxInt32 {
		a.s32min++
	} else if a.s32max == int32(c) && a.s32max > math.MinInt32 {
		a.s32max--
	}
}
