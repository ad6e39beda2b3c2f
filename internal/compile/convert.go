package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Tuples of one map or variable can have different layouts at different
// uses: ("b", 1) is a string[2] and an int64, and stored in a map that
// also holds ("aaaaaaaaaaaa", 2) its int64 moves from offset 8 to 16; a
// key written @m[$t] with $t = ((int8)-4, 5) has the layout of the
// map's joined key types. Copying the bytes would misplace every element
// after the first that grew, so a tuple whose layout differs from the
// one it is stored as is rebuilt element by element.

// sameLayout reports whether values of a and b have the same bytes: the
// same size and, for tuples, elements of the same layout at the same
// offsets.
func sameLayout(a, b *types.Type) bool {
	if a.Size != b.Size {
		return false
	}
	if a.Kind != types.Tuple || b.Kind != types.Tuple {
		return a.Kind == b.Kind || a.IsInt() && b.IsInt()
	}
	if len(a.Elems) != len(b.Elems) {
		return false
	}
	la, lb := types.TupleLayout(a.Elems), types.TupleLayout(b.Elems)
	for i := range a.Elems {
		if la.Offsets[i] != lb.Offsets[i] || !sameLayout(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

// storeTuple writes the tuple value of x as the tuple type t at slot,
// converting its layout when it differs; it reports false when x is not
// a tuple or needs no conversion, for the caller's plain copy.
func (g *gen) storeTuple(x ast.Expr, t *types.Type, slot int16) bool {
	xt := g.typeOf(x)
	if t.Kind != types.Tuple || xt.Kind != types.Tuple || len(xt.Elems) != len(t.Elems) || sameLayout(xt, t) {
		return false
	}
	if lit, ok := x.(*ast.Tuple); ok {
		// A literal is built in the stored layout directly.
		g.tuple(lit, t, slot, t.Size)
		return true
	}
	mark := g.mark()
	tmp := g.alloc(x, xt.Size)
	g.memExpr(x, tmp, xt.Size)
	g.convertMem(tmp, xt, slot, t)
	g.release(mark)
	return true
}

// convertMem rewrites a value of type from at src as type to at dst, both
// on the stack: integers are extended (by from's sign) or cut, strings
// and other bytes copied and zero-padded, tuples element by element.
func (g *gen) convertMem(src int16, from *types.Type, dst int16, to *types.Type) {
	switch {
	case from.Kind == types.Tuple && to.Kind == types.Tuple && len(from.Elems) == len(to.Elems):
		if needsZero(to) {
			g.zero(dst, to.Size)
		}
		lf, lt := types.TupleLayout(from.Elems), types.TupleLayout(to.Elems)
		for i := range to.Elems {
			g.convertMem(src+int16(lf.Offsets[i]), from.Elems[i], dst+int16(lt.Offsets[i]), to.Elems[i])
		}
	case (from.IsInt() || from.Kind == types.Bool) && (to.IsInt() || to.Kind == types.Bool) && to.Size <= 8:
		g.loadSized(asm.R1, asm.RFP, src, from)
		g.emit(asm.StoreMem(asm.RFP, dst, asm.R1, sizeOf(to.Size)))
	default:
		n := min(from.Size, to.Size)
		g.copyMem(asm.RFP, dst, asm.RFP, src, n)
		g.zeroTail(dst, n, to.Size)
	}
}
