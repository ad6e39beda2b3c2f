package compile

import (
	"math"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
	"github.com/ktrace/ktrace/lang/types"
)

// Kernel (and user) memory reads through typed pointers: struct members,
// *p, p[i], arrays in structs. A read is a bpf_probe_read_kernel (or
// _user) at the member's BTF offset, which works in every program type,
// except through a BTF pointer (below), where it is a plain load.
//
// BTF pointers. In a program whose context is typed by BTF (fentry, fexit,
// tp_btf) the kernel's verifier knows an argument that points to a struct
// as a pointer to that kernel struct, and lets the program load its
// members directly: a load that faults gives zero, as the helper would,
// at a fraction of a helper call's cost. A pointer member loaded that way
// is such a pointer too. Only what the verifier can see to be one gets
// plain loads: an argument, a pointer member read through one on the way
// to a member of its own (args.prev->mm->total_vm), and a variable
// assigned one once, at the top of the probe, before any use of it. A
// pointer member used as a value (kept in a variable or a map, printed,
// computed with) is read with the helper, so the value is a plain number
// to the verifier, as it is in every other program.

// address is where a value lives in traced memory: a pointer in a
// temporary plus a constant offset, in one address space. btf marks a
// BTF pointer base with a constant offset, which plain loads may read.
type address struct {
	base operand
	off  int32
	user bool
	btf  bool
}

// addr computes the address of a member access, dereference or index.
func (g *gen) addr(x ast.Expr) address {
	defer g.at(x)()
	switch x := x.(type) {
	case *ast.Field:
		m := g.c.info.Members[x]
		xt := g.typeOf(x.X)
		if xt.Kind == types.Pointer {
			base, btf := g.pointer(x.X)
			return address{base: base, off: int32(m.Offset), user: xt.UserSpace, btf: btf}
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
			// Elements after the first lie outside the struct the
			// verifier knows: the helper reads them.
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
		// The verifier lets no load through a BTF pointer at a variable
		// offset: this one takes the helper.
		a.btf = false
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
	o, _ := g.readIntAs(x, false)
	return o
}

// readIntAs reads an integer, pointer or bitfield through memory. asBase
// says the value is a pointer about to be read through, which may stay a
// BTF pointer; the result says whether it is one.
func (g *gen) readIntAs(x ast.Expr, asBase bool) (operand, bool) {
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
	if g.plainLoad(a, m, t, asBase) {
		// A NULL pointer reads as 0, as through the helper; the
		// verifier wants the check for pointers that may be NULL
		// (skb->sk), and a faulting load of any other bad pointer
		// reads 0 by itself.
		rb := g.load(a.base, asm.R1)
		g.free(a.base)
		o := g.temp(x)
		r := g.regFor(o, asm.R0)
		isNull, done := g.newLabel("null"), g.newLabel("loaded")
		g.emit(asm.JEq.Imm(rb, 0, isNull))
		g.loadSized(r, rb, int16(a.off), t)
		g.emit(asm.Ja.Label(done))
		g.place(isNull)
		g.emit(asm.Mov.Imm(r, 0))
		g.place(done)
		g.store(o, r)
		return o, t.Kind == types.Pointer
	}
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
	return o, false
}

// plainLoad decides whether a value of type t at a can be read with a
// plain load: a is a BTF pointer at a constant offset, and the value a
// whole integer or bool (a bitfield's bits are not a member the verifier
// lets a load cover), or a pointer to a struct read on the way to a member
// of its own.
func (g *gen) plainLoad(a address, m *types.Member, t *types.Type, asBase bool) bool {
	if !a.btf || a.user || a.off < 0 || a.off > math.MaxInt16 || g.lp.depth > 0 {
		return false
	}
	if m != nil && m.BitSize > 0 {
		return false
	}
	switch t.Kind {
	case types.Int, types.Bool:
		return t.Size == 1 || t.Size == 2 || t.Size == 4 || t.Size == 8
	case types.Pointer:
		return asBase && structPointer(t)
	}
	return false
}

// structPointer reports whether t points to a kernel struct or union.
func structPointer(t *types.Type) bool {
	return t.Kind == types.Pointer && !t.UserSpace && t.Elem != nil && t.Elem.Kind == types.Struct
}

// pointer evaluates x, a pointer about to be read through, and reports
// whether the verifier will know it as a BTF pointer.
func (g *gen) pointer(x ast.Expr) (operand, bool) {
	if !g.btfTyped || g.lp.depth > 0 || !structPointer(g.typeOf(x)) {
		return g.intExpr(x), false
	}
	switch x := x.(type) {
	case *ast.Field:
		if g.c.info.Members[x] != nil {
			return g.readIntAs(x, true)
		}
		return g.evalInt(x), g.btfArg(x)
	case *ast.Variable:
		return g.evalInt(x), g.btfVars[g.c.info.Vars[x]]
	}
	return g.intExpr(x), false
}

// btfArg reports whether x is args.NAME, an argument slot of a BTF-typed
// context that points to a struct.
func (g *gen) btfArg(x ast.Expr) bool {
	f, ok := x.(*ast.Field)
	if !ok || !g.btfTyped || g.c.info.Members[f] != nil || !structPointer(g.typeOf(f)) {
		return false
	}
	if id, ok := f.X.(*ast.Ident); !ok || id.Name != "args" {
		return false
	}
	af := g.ap.Field(f.Name)
	return af != nil && af.Arg > 0
}

// findBTFVars finds the variables that hold BTF pointers: assigned an
// argument that is one (or another such variable) by a statement of the
// probe's body itself, not inside a branch or a loop, and neither
// assigned again nor used before that statement. Their stack slots keep
// the verifier's knowledge of the pointer.
func (g *gen) findBTFVars(p *ast.Probe) {
	g.btfVars = map[*types.Var]bool{}
	if !g.btfTyped {
		return
	}
	assigned := map[*types.Var]int{}
	ast.Inspect(p.Body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.AssignStmt:
			if v, ok := s.Target.(*ast.Variable); ok {
				assigned[g.c.info.Vars[v]]++
			}
		case *ast.LetStmt:
			assigned[g.c.info.Vars[s.Var]]++
		}
		return true
	})
	for _, st := range p.Body.Stmts {
		var target *ast.Variable
		var value ast.Expr
		switch s := st.(type) {
		case *ast.AssignStmt:
			target, _ = s.Target.(*ast.Variable)
			if s.Op != "=" {
				target = nil
			}
			value = s.Value
		case *ast.LetStmt:
			target, value = s.Var, s.Value
		}
		if target == nil || value == nil {
			continue
		}
		tv := g.c.info.Vars[target]
		if tv == nil || assigned[tv] != 1 || !structPointer(tv.Type) {
			continue
		}
		src, isVar := value.(*ast.Variable)
		if !g.btfArg(value) && !(isVar && g.btfVars[g.c.info.Vars[src]]) {
			continue
		}
		if !g.usedBefore(p, tv, target, st.Span().End) {
			g.btfVars[tv] = true
		}
	}
}

// usedBefore reports whether the probe refers to v before the position
// end anywhere but at its assignment target.
func (g *gen) usedBefore(p *ast.Probe, v *types.Var, target *ast.Variable, end lang.Pos) bool {
	used := false
	check := func(n ast.Node) bool {
		if x, ok := n.(*ast.Variable); ok && x != target && g.c.info.Vars[x] == v && x.Sp.Pos < end {
			used = true
		}
		return !used
	}
	if p.Predicate != nil {
		ast.Inspect(p.Predicate, check)
	}
	ast.Inspect(p.Body, check)
	return used
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

// scalarOf evaluates x, which may leave a BTF pointer in a register,
// as a number. The verifier refuses computing with a BTF pointer
// (multiplying, masking, narrowing it; a map key is hashed), so a value
// use copies it through bpf_probe_read_kernel, which makes it a plain
// number to the verifier. Only reading through it (pointer) and keeping
// it in a BTF variable keep the pointer itself.
func (g *gen) scalarOf(x ast.Expr) operand {
	o := g.evalInt(x)
	mark := g.mark()
	slot := g.alloc(x, 8)
	r := g.load(o, asm.R0)
	g.emit(asm.StoreMem(asm.RFP, slot, r, asm.DWord))
	g.stackPtr(asm.R1, slot)
	g.emit(asm.Mov.Imm(asm.R2, 8))
	g.emit(asm.Mov.Reg(asm.R3, asm.R1))
	g.call(asm.FnProbeReadKernel)
	r = g.regFor(o, asm.R0)
	g.emit(asm.LoadMem(r, asm.RFP, slot, asm.DWord))
	g.store(o, r)
	g.release(mark)
	return o
}

// maybeBTFPointer reports whether evaluating x may leave a BTF pointer in
// a register: argN and args.NAME load argument slots as they are, and
// the verifier types a slot that points to a struct as such a pointer.
func (g *gen) maybeBTFPointer(x ast.Expr) bool {
	if !g.btfTyped {
		return false
	}
	switch x := x.(type) {
	case *ast.Ident:
		id := builtins.VariableID(x.Name)
		if id < builtins.Arg0 || id > builtins.Arg5 {
			return false
		}
		// The slot's BTF type decides; unknown, it may be a pointer.
		i := int(id - builtins.Arg0)
		if fields, err := g.ap.Args(); err == nil && i < len(fields) {
			return structPointer(fields[i].Type)
		}
		return true
	case *ast.Field:
		return g.btfArg(x)
	case *ast.Variable:
		return g.btfVars[g.c.info.Vars[x]]
	}
	return false
}

// storeBTFVar assigns a variable that holds a BTF pointer (findBTFVars):
// the pointer itself, not a number made of it.
func (g *gen) storeBTFVar(x ast.Expr, slot int16) {
	o := g.evalInt(x)
	r := g.load(o, asm.R0)
	g.emit(asm.StoreMem(g.varBase(), slot, r, asm.DWord))
	g.free(o)
}
