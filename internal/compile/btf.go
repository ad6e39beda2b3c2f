package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Kernel (and user) memory reads through typed pointers: struct members,
// *p, p[i], arrays in structs. Every read is a bpf_probe_read_kernel (or
// _user) at the member's BTF offset, which works in every program type;
// direct loads would only be allowed through BTF pointers the verifier
// trusts.

// address is where a value lives in traced memory: a pointer in a
// temporary plus a constant offset, in one address space.
type address struct {
	base operand
	off  int32
	user bool
}

// addr computes the address of a member access, dereference or index.
func (g *gen) addr(x ast.Expr) address {
	defer g.at(x)()
	switch x := x.(type) {
	case *ast.Field:
		m := g.c.info.Members[x]
		xt := g.typeOf(x.X)
		if xt.Kind == types.Pointer {
			return address{base: g.intExpr(x.X), off: int32(m.Offset), user: xt.UserSpace}
		}
		a := g.addr(x.X) // a struct reached through an outer access
		a.off += int32(m.Offset)
		return a
	case *ast.Unary: // *p
		xt := g.typeOf(x.X)
		return address{base: g.intExpr(x.X), user: xt.UserSpace}
	case *ast.Index:
		xt := g.typeOf(x.X)
		var a address
		var elem int
		var bound int
		if xt.Kind == types.Pointer {
			a = address{base: g.intExpr(x.X), user: xt.UserSpace}
			elem = xt.Elem.Size
		} else {
			a = g.addr(x.X)
			elem, bound = xt.Elem.Size, xt.Len
		}
		if i, ok := g.c.info.Consts[x.I]; ok {
			a.off += int32(i) * int32(elem)
			return a
		}
		// A variable index: base += i * size, with i checked against the
		// array's length (a pointer has none; the read itself is safe).
		o := g.intExpr(x.I)
		ri := g.load(o, asm.R1)
		if bound > 0 {
			ok := g.newLabel("inbounds")
			g.emit(asm.JLT.Imm(ri, int32(bound), ok))
			g.emit(asm.Mov.Imm(ri, 0)) // out of range reads element 0, not out of bounds
			g.place(ok)
			g.emit(asm.Mov.Reg(ri, ri))
		}
		if ri != asm.R1 {
			g.emit(asm.Mov.Reg(asm.R1, ri))
		}
		g.emit(asm.Mul.Imm(asm.R1, int32(elem)))
		rb := g.load(a.base, asm.R2)
		g.emit(asm.Add.Reg(rb, asm.R1))
		g.store(a.base, rb)
		g.free(o)
		return a
	case *ast.Variable:
		// A struct copied into a variable ($ts = *args.rqtp; $ts.tv_sec):
		// its members are read from the variable's own slot, through the
		// same helper as any other memory (the slot's address is a
		// pointer the helper may read).
		v := g.c.info.Vars[x]
		o := g.temp(x)
		r := g.regFor(o, asm.R0)
		g.emit(asm.Mov.Reg(r, g.varBase()))
		g.emit(asm.Add.Imm(r, int32(g.vars[v])))
		g.store(o, r)
		return address{base: o}
	}
	g.errorf(x, "reading a member of a struct held in %s is not supported yet: read it through a pointer or copy it into a $variable", describeHolder(x))
	return address{base: g.temp(x)}
}

// describeHolder names what holds a struct value, for an error.
func describeHolder(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.MapRef:
		return "a map (@" + x.Name + ")"
	case *ast.Call:
		return "the value of " + x.Name + "()"
	}
	return "this expression"
}

// probeRead copies size bytes from an address to a stack slot.
func (g *gen) probeRead(a address, dst int16, size int) {
	g.stackPtr(asm.R1, dst)
	g.emit(asm.Mov.Imm(asm.R2, int32(size)))
	rb := g.load(a.base, asm.R3)
	if rb != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, rb))
	}
	if a.off != 0 {
		g.emit(asm.Add.Imm(asm.R3, a.off))
	}
	if a.user {
		g.call(asm.FnProbeReadUser)
	} else {
		g.call(asm.FnProbeReadKernel)
	}
}

// readInt reads an integer, pointer or bitfield through memory.
func (g *gen) readInt(x ast.Expr) operand {
	defer g.at(x)()
	t := g.typeOf(x)
	size := t.Size
	var m *types.Member
	if f, ok := x.(*ast.Field); ok {
		m = g.c.info.Members[f]
		if m != nil && m.BitSize > 0 {
			size = m.Type.Size
		}
	}
	a := g.addr(x)
	mark := g.mark()
	slot := g.alloc(x, 8)
	g.emit(storeImm(asm.RFP, slot, 0, asm.DWord))
	g.probeRead(a, slot, max(min(size, 8), 1))
	g.free(a.base)
	g.release(mark)
	o := g.temp(x)
	r := g.regFor(o, asm.R0)
	g.loadSized(r, asm.RFP, slot, &types.Type{Kind: types.Int, Size: max(min(size, 8), 1), Signed: t.Signed})
	if m != nil && m.BitSize > 0 {
		// Bitfields: shift the field down, then keep its bits (sign-extend
		// a signed one).
		g.emit(asm.LoadMem(r, asm.RFP, slot, sizeOf(size)))
		if t.Signed {
			g.emit(asm.LSh.Imm(r, int32(64-m.BitOffset-m.BitSize)))
			g.emit(asm.ArSh.Imm(r, int32(64-m.BitSize)))
		} else {
			g.emit(asm.RSh.Imm(r, int32(m.BitOffset)))
			if m.BitSize < 32 {
				g.emit(asm.And.Imm(r, int32(1<<m.BitSize-1)))
			} else if m.BitSize < 64 {
				g.emit(asm.LSh.Imm(r, int32(64-m.BitSize)), asm.RSh.Imm(r, int32(64-m.BitSize)))
			}
		}
	}
	if t.Kind == types.Bool {
		g.normalize(r, t)
	}
	g.store(o, r)
	return o
}

// readMem copies a string, array or struct through memory into size
// bytes at dst; the tail is zeroed.
func (g *gen) readMem(x ast.Expr, dst int16, size int) {
	defer g.at(x)()
	t := g.typeOf(x)
	n := min(size, t.Size)
	a := g.addr(x)
	g.probeRead(a, dst, n)
	g.free(a.base)
	if t.Kind == types.String && n > 0 {
		// A char array read whole may lack a NUL; the string type
		// promises one within its size.
		g.emit(storeImm(asm.RFP, dst+int16(n-1), 0, asm.Byte))
	}
	g.zeroTail(dst, n, size)
}
