package verify

import (
	"fmt"
	"math"
)

// aluNames spells operations in messages in the notation of the kernel's
// log (R1 += R2), which users may hold the messages against.
var aluNames = map[uint8]string{opAdd: "+=", opSub: "-=", opMul: "*=", opDiv: "/=", opOr: "|=", opAnd: "&=",
	opLsh: "<<=", opRsh: ">>=", opNeg: "neg", opMod: "%=", opXor: "^=", opMov: "=", opArsh: "s>>=", opEnd: "endian"}

func (v *verifier) stepALU(st *state, pc int, in insn) bool {
	is64 := in.class() == clsALU64
	op := in.op()
	x := in.srcBit() == srcX
	switch op {
	case 0xe0, 0xf0:
		v.unknownOpcode(pc, in)
		return false
	case opNeg:
		if x || in.src != 0 || in.off != 0 || in.imm != 0 {
			return v.reserved(pc, "negation")
		}
	case opEnd:
		if in.src != 0 || in.off != 0 || (in.imm != 16 && in.imm != 32 && in.imm != 64) || (is64 && x) {
			if is64 && x {
				v.unknownOpcode(pc, in)
				return false
			}
			return v.reserved(pc, "byte swap")
		}
	case opMov:
		if x {
			if !is64 {
				if (in.off != 0 && in.off != 8 && in.off != 16) || in.imm != 0 {
					return v.reserved(pc, "move")
				}
			} else if in.off == 1 {
				v.errorf(pc, CatUnsupport, "address-space casts are only valid in programs that use a BPF arena", "")
				return false
			} else if (in.off != 0 && in.off != 8 && in.off != 16 && in.off != 32) || in.imm != 0 {
				return v.reserved(pc, "move")
			}
		} else if in.src != 0 || in.off != 0 {
			return v.reserved(pc, "move")
		}
	default:
		bad := in.off != 0 && in.off != 1 || (in.off == 1 && op != opDiv && op != opMod)
		if x {
			bad = bad || in.imm != 0
		} else {
			bad = bad || in.src != 0
		}
		if bad {
			return v.reserved(pc, "arithmetic")
		}
	}

	f := st.cur()
	if op == opNeg || op == opEnd {
		d, ok := v.srcReg(st, pc, in.dst)
		if !ok {
			return false
		}
		if d.isPtr() && v.opts.Unprivileged {
			v.errorf(pc, CatPtrArith, fmt.Sprintf("R%d holds a pointer; arithmetic on it is not allowed here", in.dst), "")
			return false
		}
		if !v.dstReg(pc, in.dst) {
			return false
		}
		if d.isPtr() {
			*d = unknownReg()
			return true
		}
		d.s = scalarUnary(op, d.s, is64, in.imm, in.srcBit() == srcX)
		d.id = 0
		return true
	}

	if op == opMov {
		var val reg
		if x {
			s, ok := v.srcReg(st, pc, in.src)
			if !ok {
				return false
			}
			val = *s
			if !v.dstReg(pc, in.dst) {
				return false
			}
			if is64 && in.off == 0 {
				if val.typ == tScalar && val.id == 0 && !val.s.isConst() {
					s.id = v.newID()
					val.id = s.id
				}
				f.regs[in.dst] = *s
				return true
			}
			if val.isPtr() {
				if v.opts.Unprivileged {
					v.errorf(pc, CatPtrLeak, fmt.Sprintf("R%d is a pointer; copying part of it is not allowed for unprivileged programs", in.src), "")
					return false
				}
				if is64 {
					f.regs[in.dst] = unknownReg()
				} else {
					f.regs[in.dst] = scalarReg(unknownScalar().zext32())
				}
				return true
			}
			var r scalar
			switch {
			case is64:
				r = val.s.signExtend(int(in.off) / 8)
			case in.off == 0:
				r = val.s.zext32()
			default:
				r = val.s.signExtend(int(in.off) / 8).zext32()
			}
			f.regs[in.dst] = scalarReg(r)
			return true
		}
		if !v.dstReg(pc, in.dst) {
			return false
		}
		if is64 {
			f.regs[in.dst] = constReg(uint64(int64(in.imm)))
		} else {
			f.regs[in.dst] = constReg(uint64(uint32(in.imm)))
		}
		return true
	}

	// Binary operations.
	var src reg
	if x {
		s, ok := v.srcReg(st, pc, in.src)
		if !ok {
			return false
		}
		src = *s
	} else if is64 {
		src = constReg(uint64(int64(in.imm)))
	} else {
		src = constReg(uint64(uint32(in.imm)))
	}
	d, ok := v.srcReg(st, pc, in.dst)
	if !ok {
		return false
	}
	if !x && (op == opDiv || op == opMod) && in.imm == 0 {
		v.errorf(pc, CatDivZero, "the instruction divides by the constant 0", "divide by a non-zero value")
		return false
	}
	if !x && (op == opLsh || op == opRsh || op == opArsh) {
		bitsN := int32(32)
		if is64 {
			bitsN = 64
		}
		if in.imm < 0 || in.imm >= bitsN {
			v.errorf(pc, CatOpcode, fmt.Sprintf("shift by %d is out of range for a %d-bit operation", in.imm, bitsN), "shift by 0 to bits-1")
			return false
		}
	}
	if !v.dstReg(pc, in.dst) {
		return false
	}
	if x && (op == opDiv || op == opMod) && src.typ == tScalar && src.s.hasValue(0) {
		what := "divisor"
		if op == opMod {
			what = "modulus"
		}
		v.warnf(pc, CatDivZero, fmt.Sprintf("the %s in R%d may be zero; BPF then yields %s instead of failing", what, in.src, map[bool]string{true: "0", false: "the dividend"}[op == opDiv]),
			"test the divisor against zero first")
	}
	return v.binop(st, pc, in, d, src, is64)
}

// binop applies a two-operand ALU instruction to dst.
func (v *verifier) binop(st *state, pc int, in insn, dst *reg, src reg, is64 bool) bool {
	op := in.op()
	switch {
	case dst.isPtr() && src.isPtr():
		if op == opSub && !v.opts.Unprivileged {
			*dst = unknownReg()
			return true
		}
		v.errorf(pc, CatPtrArith, fmt.Sprintf("R%d %s R%d combines two pointers, which is not allowed", in.dst, aluNames[op], in.src),
			"only pointer ± integer is allowed; subtract pointers only in privileged programs")
		return false
	case dst.isPtr():
		return v.ptrArith(pc, in, dst, *dst, src, false, is64)
	case src.isPtr():
		return v.ptrArith(pc, in, dst, src, *dst, true, is64)
	}
	a, b := dst.s, src.s
	var r scalar
	if is64 {
		r = scalarBinop(op, in.off == 1, a, b)
	} else {
		r = scalarBinop32(op, in.off == 1, a, b)
	}
	*dst = scalarReg(r)
	return true
}

func scalarBinop(op uint8, _ bool, a, b scalar) scalar {
	switch op {
	case opAdd:
		return scalarAdd(a, b)
	case opSub:
		return scalarSub(a, b)
	case opMul:
		return scalarMul(a, b)
	case opAnd:
		return scalarAnd(a, b)
	case opOr:
		return scalarOr(a, b)
	case opXor:
		return scalarXor(a, b)
	case opLsh, opRsh, opArsh:
		if !b.isConst() || b.constVal() >= 64 {
			return unknownScalar()
		}
		s := uint(b.constVal())
		switch op {
		case opLsh:
			return scalarLsh(a, s)
		case opRsh:
			return scalarRsh(a, s)
		default:
			return scalarArsh(a, s)
		}
	case opDiv, opMod:
		// The kernel does not track division results, even of constants;
		// being more precise here would accept programs it rejects.
		return unknownScalar()
	}
	return unknownScalar()
}

func scalarBinop32(op uint8, _ bool, a, b scalar) scalar {
	a32, b32 := a.zext32(), b.zext32()
	switch op {
	case opAdd, opSub:
		var r scalar
		var s32 [2]int64
		if op == opAdd {
			r = scalarAdd(a32, b32)
			s32 = [2]int64{int64(a.s32min) + int64(b.s32min), int64(a.s32max) + int64(b.s32max)}
		} else {
			r = scalarSub(a32, b32)
			s32 = [2]int64{int64(a.s32min) - int64(b.s32max), int64(a.s32max) - int64(b.s32min)}
		}
		// 32-bit wrap-around: the unsigned view of the 64-bit sum of two
		// zero-extended values may exceed 2^32.
		if op == opAdd {
			r.t = a.t.add(b.t).low32()
		} else {
			r.t = a.t.sub(b.t).low32()
			if a32.umin < b32.umax {
				r = unknownScalar()
				r.t = a.t.sub(b.t).low32()
			}
		}
		return lower32(r, &s32)
	case opMul:
		return lower32(scalarMul(a32, b32), nil)
	case opAnd:
		return lower32(scalarAnd(a32, b32), nil)
	case opOr:
		return lower32(scalarOr(a32, b32), nil)
	case opXor:
		return lower32(scalarXor(a32, b32), nil)
	case opLsh, opRsh, opArsh:
		if !b.isConst32() || uint32(b.t.value) >= 32 {
			return unknownScalar().zext32()
		}
		s := uint(uint32(b.t.value))
		switch op {
		case opLsh:
			r := unknownScalar()
			r.t = a32.t.lsh(s).low32()
			if a32.umax<<s>>s == a32.umax && (a32.umax<<s)>>32 == 0 {
				r.umin, r.umax = a32.umin<<s, a32.umax<<s
			}
			r.sync()
			return lower32(r, nil)
		case opRsh:
			return lower32(scalarRsh(a32, s), nil)
		default:
			r := unknownScalar()
			r.t = a.t.arsh32(s)
			s32 := [2]int64{int64(a.s32min >> s), int64(a.s32max >> s)}
			r.umin, r.umax = 0, math.MaxUint32
			r.sync()
			return lower32(r, &s32)
		}
	case opDiv, opMod:
		return unknownScalar().zext32()
	}
	return unknownScalar().zext32()
}

// scalarUnary handles negation and byte swaps.
func scalarUnary(op uint8, a scalar, is64 bool, imm int32, toBE bool) scalar {
	if op == opNeg {
		if is64 {
			if a.isConst() {
				return constScalar(-a.constVal())
			}
			return unknownScalar()
		}
		if a.isConst32() {
			return constScalar(uint64(uint32(-uint32(a.t.value))))
		}
		return unknownScalar().zext32()
	}
	// Byte swap / endianness conversion of the low imm bits. On this
	// little-endian machine "to LE" only truncates.
	n := int(imm / 8)
	swap := is64 || toBE
	if !swap {
		return a.truncate(n)
	}
	if a.isConst() {
		v := a.constVal()
		var r uint64
		switch n {
		case 2:
			x := uint16(v)
			r = uint64(x>>8 | x<<8)
		case 4:
			x := uint32(v)
			r = uint64(x>>24 | (x>>8)&0xff00 | (x<<8)&0xff0000 | x<<24)
		default:
			for i := 0; i < 8; i++ {
				r = r<<8 | (v>>(8*i))&0xff
			}
		}
		return constScalar(r)
	}
	if n == 8 {
		return unknownScalar()
	}
	return rangeScalar(0, uint64(1)<<(uint(n)*8)-1)
}
