package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Loops and block expressions. The checker's statement switch calls these.
//
// Loop variables (`for ($i : ...)`, `for ($kv : @m)`) are declared in a
// scope of their own that covers only the loop body, as in bpftrace, and
// may not shadow a variable that is already visible: the compiler gives
// every variable one stack slot, and bpftrace rejects the same programs.

// MaxUnroll is the largest count unroll(n) accepts, bpftrace's limit.
const MaxUnroll = 100

func (c *checker) whileStmt(s *ast.WhileStmt) {
	t := c.expr(s.Cond)
	c.wantCondition(s.Cond, t, "while condition")
	c.loops++
	c.block(s.Body)
	c.loops--
}

func (c *checker) forRangeStmt(s *ast.ForRangeStmt) {
	// Both bounds are evaluated once, before the first iteration, in the
	// enclosing scope: the loop variable is not visible to them.
	ts, te := c.expr(s.Start), c.expr(s.End)
	vt := TypInvalid
	ok := true
	for _, b := range []struct {
		x    ast.Expr
		t    *Type
		what string
	}{{s.Start, ts, "start"}, {s.End, te, "end"}} {
		if b.t.Kind != Invalid && !b.t.IsInt() {
			c.errorf(b.x, "for loop range %s must be an integer, not %s", b.what, b.t)
			ok = false
		}
	}
	if ok && ts.Kind != Invalid && te.Kind != Invalid {
		vt = storedType(arith(ts, te))
		if ts.Kind == Int && ts.Signed || te.Kind == Int && te.Signed {
			vt = TypS64
		}
	}
	c.loopVar(s.Var, vt)
	c.loops++
	c.block(s.Body)
	c.loops--
	c.pop()
}

func (c *checker) forMapStmt(s *ast.ForMapStmt) {
	kv := c.iterableMap(s.Map)
	c.loopVar(s.Var, kv)
	c.loops++
	c.block(s.Body)
	c.loops--
	c.pop()
}

// loopVar opens the loop's scope and declares its variable there; the
// caller pops the scope after the body.
func (c *checker) loopVar(v *ast.Variable, t *Type) {
	if c.lookupVar(v.Name) != nil {
		c.errorf(v, "loop variable $%s shadows an existing variable $%s; use another name", v.Name, v.Name)
	}
	c.push()
	if c.pass == 2 && c.varTypes[v] != nil && c.varTypes[v].Kind == Invalid {
		// Pass one may not have known the type yet (a map assigned
		// textually later); the loop variable's type is exactly the
		// range's or the map's, so pass two's is authoritative.
		delete(c.varTypes, v)
	}
	c.declareVar(v, t)
	c.record(v, t)
}

// iterableMap checks the map of `for ($kv : @m)` and returns the type of
// $kv: (key, value), the key a tuple for a multi-key map. count() and
// sum() maps iterate with their value summed over all CPUs, as bpftrace
// does.
func (c *checker) iterableMap(ref *ast.MapRef) *Type {
	c.record(ref, TypNone)
	mi := c.info.maps[ref.Name]
	if mi == nil {
		learned := c.learnedMaps[ref.Name]
		switch {
		case c.pass == 1:
			mi = c.useMap(ref, nil, nil, false)
			mi.keysSet = false
		case learned == nil || learned.Value == nil:
			c.errorf(ref, "Undefined map: @%s; it is iterated over but never assigned", ref.Name)
			return TypInvalid
		default:
			keyed := &ast.MapRef{Sp: ref.Sp, Name: ref.Name, Keys: make([]ast.Expr, len(learned.Keys))}
			mi = c.useMap(keyed, learned.Keys, nil, false)
		}
	}
	if mi.Value == nil || mi.Value.Kind == Invalid {
		if c.pass == 2 {
			c.errorf(ref, "Undefined map: @%s; it is iterated over but never assigned", ref.Name)
		}
		return TypInvalid
	}
	if len(mi.Keys) == 0 {
		c.errorf(ref, "cannot iterate over @%s: it has no keys; for loops iterate over maps like @%s[key]", ref.Name, ref.Name)
		return TypInvalid
	}
	val := mi.Value
	switch {
	case val.Kind == Count:
		val = TypU64
	case val.Kind == Sum:
		val = IntType(8, val.Signed)
	case val.IsAggregation():
		c.notSupported(ref, fmt.Sprintf("iterating over a map of %s() values", strings.TrimSuffix(val.String(), "_t")))
		return TypInvalid
	}
	for _, k := range mi.Keys {
		if k.Kind == Invalid {
			return TypInvalid
		}
	}
	return TupleType([]*Type{mi.KeyType(), val})
}

func (c *checker) unrollStmt(s *ast.UnrollStmt) {
	t := c.expr(s.Count)
	n, ok := c.info.Consts[s.Count]
	switch {
	case t.Kind == Invalid:
	case !t.IsInt() || !ok:
		c.errorf(s.Count, "unroll count must be an integer constant")
	case n < 1:
		c.errorf(s.Count, "unroll count must be at least 1, not %d", n)
	case n > MaxUnroll:
		c.errorf(s.Count, "unroll count %d is too large: at most %d", n, MaxUnroll)
	}
	// unroll repeats its body; it is not a loop for break and continue,
	// as in bpftrace.
	c.block(s.Body)
}

// blockExpr checks `{ stmts; value }` used as a value. Its statements get
// a scope of their own; macro expansions and macro arguments are checked
// in the scopes hygiene gives them (see macro.go).
func (c *checker) blockExpr(x *ast.BlockExpr) *Type {
	if a := c.macroArg(x); a != nil {
		return c.checkMacroArg(x, a, false)
	}
	if e := c.expansion(x); e != nil {
		return c.checkExpansion(x, e, false)
	}
	c.push()
	defer c.pop()
	return c.blockValue(x)
}

// blockValue checks a block's statements and value in the current scope.
func (c *checker) blockValue(x *ast.BlockExpr) *Type {
	for _, s := range x.Block.Stmts {
		c.stmt(s)
	}
	if x.Block.Value == nil {
		return TypNone
	}
	t := c.expr(x.Block.Value)
	if len(x.Block.Stmts) == 0 {
		// `{ 1 }` and a macro like `macro one() { 1 }` stay constants,
		// so they work where a constant is needed (unroll, str lengths).
		c.copyConst(x, x.Block.Value)
	}
	return t
}

// blockStmt checks a block expression whose value is discarded: a macro
// call used as a statement. Its last expression is then checked as an
// expression statement, so calls get their statement form and a value
// nobody uses gets the usual warning.
func (c *checker) blockStmt(x *ast.BlockExpr) {
	if a := c.macroArg(x); a != nil {
		c.checkMacroArg(x, a, true)
		return
	}
	if e := c.expansion(x); e != nil {
		c.checkExpansion(x, e, true)
		return
	}
	c.push()
	defer c.pop()
	c.blockStmtBody(x)
}

func (c *checker) blockStmtBody(x *ast.BlockExpr) {
	for _, s := range x.Block.Stmts {
		c.stmt(s)
	}
	if x.Block.Value != nil {
		c.exprStmt(&ast.ExprStmt{X: x.Block.Value})
	}
	c.record(x, TypNone)
}
