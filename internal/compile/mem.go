package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// commSize is the size of task_struct.comm (TASK_COMM_LEN).
const commSize = 16

// memExpr evaluates a string, tuple or array expression into size bytes of
// stack at dst; bytes past the value are zeroed so the result can be a map
// key.
func (g *gen) memExpr(x ast.Expr, dst int16, size int) {
	defer g.at(x)()
	t := g.typeOf(x)
	if s, ok := g.c.info.StrConsts[x]; ok {
		if t.Kind == types.Array {
			// Constant bytes (pton): no terminating NUL.
			g.storeBytes(dst, size, []byte(s))
			return
		}
		g.storeString(dst, size, s)
		return
	}
	if t.IsInt() {
		o := g.intExpr(x)
		g.emit(asm.StoreMem(asm.RFP, dst, g.load(o, asm.R0), sizeOf(min(size, 8))))
		g.free(o)
		return
	}
	switch x := x.(type) {
	case *ast.Ident:
		if rec := g.c.info.ArgsRecords[x]; rec != nil {
			// args as a whole: the record of its fields.
			g.memExpr(rec, dst, size)
			return
		}
		if g.memVariable(x, dst, size) {
			return
		}
	case *ast.Variable:
		v := g.c.info.Vars[x]
		n := min(size, g.varSize(v))
		g.copyMem(asm.RFP, dst, g.varBase(), g.vars[v], n)
		g.zeroTail(dst, n, size)
		return
	case *ast.Call:
		if g.memCall(x, dst, size) {
			return
		}
	case *ast.Field:
		if i, ok := g.c.info.RecordFields[x]; ok {
			g.memExpr(g.recordField(x, i), dst, size)
			return
		}
		if g.c.info.Members[x] != nil {
			g.readMem(x, dst, size)
			return
		}
		g.argsString(x, dst, size)
		return
	case *ast.Unary:
		if x.Op == "*" {
			g.readMem(x, dst, size)
			return
		}
	case *ast.BlockExpr:
		g.blockExprMem(x, dst, size)
		return
	case *ast.Tuple:
		g.tuple(x, t, dst, size)
		return
	case *ast.MapRef:
		g.mapReadMem(x, dst, size)
		return
	case *ast.Ternary:
		elseL, endL := g.newLabel("else"), g.newLabel("endif")
		g.cond(x.Cond, elseL, false)
		g.memExpr(x.A, dst, size)
		g.emit(asm.Ja.Label(endL))
		g.place(elseL)
		g.memExpr(x.B, dst, size)
		g.place(endL)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		return
	case *ast.Index:
		if g.typeOf(x.X).Kind == types.Tuple {
			g.memExpr(g.asTupleIndex(x), dst, size)
			return
		}
		g.readMem(x, dst, size)
		return
	case *ast.Cast:
		g.castToArray(x, dst, size)
		return
	case *ast.TupleIndex:
		tt := g.typeOf(x.X)
		mark := g.mark()
		tmp := g.alloc(x, tt.Size)
		g.memExpr(x.X, tmp, tt.Size)
		off := types.TupleLayout(tt.Elems).Offsets[x.Index]
		n := min(size, t.Size)
		g.copyMem(asm.RFP, dst, asm.RFP, tmp+int16(off), n)
		g.zeroTail(dst, n, size)
		g.release(mark)
		return
	}
	g.errorf(x, "internal error: cannot compile %T as a %s value", x, t)
}

// castToArray stores the bytes of the value an array cast reinterprets:
// an integer's, in its width (little-endian, as the kernel holds it), or
// a string's or array's.
func (g *gen) castToArray(x *ast.Cast, dst int16, size int) {
	vt := g.typeOf(x.X)
	n := min(size, vt.Size)
	if vt.IsInt() {
		o := g.intExpr(x.X)
		g.emit(asm.StoreMem(asm.RFP, dst, g.load(o, asm.R0), sizeOf(n)))
		g.free(o)
	} else {
		g.memExpr(x.X, dst, n)
	}
	g.zeroTail(dst, n, size)
}

// storeString writes a constant string, NUL-terminated and zero-padded.
func (g *gen) storeString(dst int16, size int, s string) {
	b := make([]byte, size)
	copy(b[:size-1], s)
	g.storeBytes(dst, size, b)
}

// storeBytes writes b, zero-padded or cut to size bytes, at dst.
func (g *gen) storeBytes(dst int16, size int, b []byte) {
	if len(b) != size {
		nb := make([]byte, size)
		copy(nb, b)
		b = nb
	}
	// Exactly size bytes, in naturally aligned stores: a string inside a
	// record or tuple may start at any offset.
	for i := 0; i < size; {
		n := 8
		for n > size-i || (int(dst)+i)&(n-1) != 0 {
			n /= 2
		}
		var v int64
		for j := n - 1; j >= 0; j-- {
			v = v<<8 | int64(b[i+j])
		}
		switch {
		case n < 8:
			g.emit(storeImm(asm.RFP, dst+int16(i), int32(v), sizeOf(n)))
		case v >= -1<<31 && v < 1<<31:
			g.emit(storeImm(asm.RFP, dst+int16(i), int32(v), asm.DWord))
		default:
			g.emit(asm.LoadImm(asm.R1, v, asm.DWord))
			g.emit(asm.StoreMem(asm.RFP, dst+int16(i), asm.R1, asm.DWord))
		}
		i += n
	}
}

// zeroTail zeroes [dst+from, dst+size) of a stack buffer.
func (g *gen) zeroTail(dst int16, from, size int) {
	for i := from; i < size; {
		n := 8
		for n > size-i || (int(dst)+i)&(n-1) != 0 {
			n /= 2
		}
		g.emit(storeImm(asm.RFP, dst+int16(i), 0, sizeOf(n)))
		i += n
	}
}

// copyMem copies n bytes with naturally aligned loads and stores, through
// R1. The source may be the stack, the context or a map value.
func (g *gen) copyMem(dstBase asm.Register, dst int16, srcBase asm.Register, src int16, n int) {
	tmp := asm.R1
	if srcBase == asm.R1 || dstBase == asm.R1 {
		tmp = asm.R5
	}
	for i := 0; i < n; {
		c := 8
		for c > n-i || int(dst+int16(i))%c != 0 || int(src+int16(i))%c != 0 {
			c /= 2
		}
		g.emit(asm.LoadMem(tmp, srcBase, src+int16(i), sizeOf(c)))
		g.emit(asm.StoreMem(dstBase, dst+int16(i), tmp, sizeOf(c)))
		i += c
	}
}

// comm writes the current task's name. Through bpf_get_current_task_btf()
// it is two 8-byte loads; the helper bpf_get_current_comm() is the
// fallback for kernels without BTF or that helper.
func (g *gen) comm(dst int16, size int) {
	if off := g.c.opts.TaskCommOffset; off > 0 {
		g.call(asm.FnGetCurrentTaskBtf)
		n := min(size, commSize)
		g.copyMem(asm.RFP, dst, asm.R0, int16(off), n)
		g.zeroTail(dst, n, size)
		return
	}
	g.stackPtr(asm.R1, dst)
	g.emit(asm.Mov.Imm(asm.R2, int32(min(size, commSize))))
	g.call(asm.FnGetCurrentComm)
	g.zeroTail(dst, commSize, size)
}

// userPointers reports whether pointers in this probe point to user memory.
func (g *gen) userPointers() bool {
	return g.ap.UserArgs || g.ap.Kind.IsUser()
}

// str reads a NUL-terminated string from memory into a zeroed buffer.
func (g *gen) str(x *ast.Call, dst int16, size int) {
	at := g.typeOf(x.Args[0])
	rt := g.typeOf(x)
	n := min(size, rt.Size)
	if at.Kind == types.String || at.Kind == types.Array {
		// Already a string (or a char array): copy, bounded by the result size.
		mark := g.mark()
		tmp := g.alloc(x, max(at.Size, n))
		g.memExpr(x.Args[0], tmp, max(at.Size, n))
		g.copyMem(asm.RFP, dst, asm.RFP, tmp, n)
		g.release(mark)
		if n == rt.Size && n > 0 {
			g.emit(storeImm(asm.RFP, dst+int16(n-1), 0, asm.Byte))
		}
		g.zeroTail(dst, n, size)
		return
	}
	var length operand // a length known only at run time
	dynamic := false
	if len(x.Args) == 2 {
		if _, ok := g.c.info.Consts[x.Args[1]]; !ok {
			length, dynamic = g.intExpr(x.Args[1]), true
		}
	}
	o := g.intExpr(x.Args[0])
	g.zero(dst, size)
	r := g.load(o, asm.R3)
	if r != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, r))
	}
	g.free(o)
	g.stackPtr(asm.R1, dst)
	if dynamic {
		// n characters and the NUL, clamped to 1..size so that the helper
		// (and the verifier) see a bounded size.
		r := g.load(length, asm.R2)
		if r != asm.R2 {
			g.emit(asm.Mov.Reg(asm.R2, r))
		}
		g.free(length)
		g.emit(asm.Add.Imm(asm.R2, 1))
		hiOK, loOK := g.newLabel("strlenhi"), g.newLabel("strlenlo")
		g.emit(asm.JSLE.Imm(asm.R2, int32(n), hiOK))
		g.emit(asm.Mov.Imm(asm.R2, int32(n)))
		g.place(hiOK)
		g.emit(asm.JSGE.Imm(asm.R2, 1, loOK))
		g.emit(asm.Mov.Imm(asm.R2, 1))
		g.place(loOK)
	} else {
		g.emit(asm.Mov.Imm(asm.R2, int32(n)))
	}
	switch {
	case at.Kind == types.Pointer && at.UserSpace, at.Kind != types.Pointer && g.userPointers():
		g.call(asm.FnProbeReadUserStr)
	case at.Kind == types.Pointer:
		g.call(asm.FnProbeReadKernelStr)
	case g.ap.Kind == probe.Kprobe || g.ap.Kind == probe.Kretprobe:
		// An untyped kprobe argument may point to kernel or user memory;
		// on x86-64 the legacy helper reads both.
		g.call(asm.FnProbeReadStr)
	default:
		g.call(asm.FnProbeReadKernelStr)
	}
}

// argsString copies a char array or __data_loc string field.
func (g *gen) argsString(x *ast.Field, dst int16, size int) {
	f := g.ap.Field(x.Name)
	if f == nil {
		g.errorf(x, "internal error: no field %s", x.Name)
		return
	}
	if f.DataLoc {
		// The u32 holds (length << 16 | offset from the record start).
		g.zero(dst, size)
		g.emit(asm.LoadMem(asm.R3, regCtx, int16(f.Offset), asm.Word))
		g.emit(asm.And.Imm(asm.R3, 0xffff))
		g.emit(asm.Add.Reg(asm.R3, regCtx))
		g.stackPtr(asm.R1, dst)
		g.emit(asm.Mov.Imm(asm.R2, int32(size)))
		g.call(asm.FnProbeReadKernelStr)
		return
	}
	n := min(size, f.Type.Size)
	if f.Offset >= 8 {
		g.copyMem(asm.RFP, dst, regCtx, int16(f.Offset), n)
	} else {
		g.stackPtr(asm.R1, dst)
		g.emit(asm.Mov.Imm(asm.R2, int32(n)))
		g.emit(asm.Mov.Reg(asm.R3, regCtx), asm.Add.Imm(asm.R3, int32(f.Offset)))
		g.call(asm.FnProbeReadKernel)
	}
	g.zeroTail(dst, n, size)
}

// tuple writes a tuple's elements at their layout offsets.
func (g *gen) tuple(x *ast.Tuple, t *types.Type, dst int16, size int) {
	l := types.TupleLayout(t.Elems)
	if needsZero(t) || size > t.Size {
		g.zero(dst, size)
	}
	for i, e := range x.Elems {
		// Elements are evaluated as written; a record's type keeps its
		// fields in name order.
		slot := i
		if x.Names != nil {
			slot = t.FieldIndex(x.Names[i])
		}
		g.storeValue(e, t.Elems[slot], dst+int16(l.Offsets[slot]))
	}
}

// mapReadMem copies a string or tuple map value; a missing key reads as
// zero bytes.
func (g *gen) mapReadMem(x *ast.MapRef, dst int16, size int) {
	m := g.c.maps[x.Name]
	mark := g.mark()
	key := g.mapKey(m, x.Keys)
	g.mapLookup(m, key)
	g.release(mark)
	miss, done := g.newLabel("miss"), g.newLabel("done")
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	n := min(size, int(m.Spec.ValueSize))
	g.copyMem(asm.RFP, dst, asm.R0, 0, n)
	g.zeroTail(dst, n, size)
	g.emit(asm.Ja.Label(done))
	g.place(miss)
	g.zero(dst, size)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}
