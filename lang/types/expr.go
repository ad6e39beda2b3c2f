package types

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

func (c *checker) record(x ast.Expr, t *Type) *Type {
	c.info.Types[x] = t
	if t.Kind == Struct && t.Members == nil {
		c.completeStruct(t, 0)
	}
	return t
}

// completeStruct fills in the members of a struct used as a value (and of
// structs nested in it by value), so it can be copied and printed.
func (c *checker) completeStruct(t *Type, depth int) {
	if c.info.Config.Types == nil || depth > 8 {
		return
	}
	ms, err := c.info.Config.Types.Members(t)
	if err != nil {
		return
	}
	t.Members = ms
	for _, m := range ms {
		if m.Type.Kind == Struct && m.Type.Members == nil {
			c.completeStruct(m.Type, depth+1)
		}
	}
}

// expr checks an expression and returns its type (TypInvalid after an
// error, so callers do not report follow-on errors).
func (c *checker) expr(x ast.Expr) *Type {
	return c.record(x, c.expr1(x))
}

func (c *checker) expr1(x ast.Expr) *Type {
	switch x := x.(type) {
	case *ast.IntLit:
		c.info.Consts[x] = int64(x.Value)
		if x.Value > math.MaxInt64 || strings.Contains(x.Suffix, "u") {
			return TypU64
		}
		return TypS64
	case *ast.BoolLit:
		if x.Value {
			c.info.Consts[x] = 1
		} else {
			c.info.Consts[x] = 0
		}
		return TypBool
	case *ast.StringLit:
		c.info.StrConsts[x] = x.Value
		return StringType(len(x.Value) + 1)
	case *ast.Ident:
		return c.ident(x)
	case *ast.Variable:
		v := c.lookupVar(x.Name)
		if v == nil {
			c.errorf(x, "undefined variable $%s", x.Name)
			return TypInvalid
		}
		c.info.Vars[x] = v
		return v.Type
	case *ast.Positional:
		return c.positionalExpr(x)
	case *ast.MapRef:
		return c.mapRead(x)
	case *ast.Call:
		return c.call(x, false)
	case *ast.Binary:
		return c.binary(x)
	case *ast.Unary:
		return c.unary(x)
	case *ast.Postfix:
		return c.incDec(x, x.X, x.Op)
	case *ast.Ternary:
		ct := c.expr(x.Cond)
		c.wantCondition(x.Cond, ct, "condition")
		a, b := c.expr(x.A), c.expr(x.B)
		if a.Kind == Invalid || b.Kind == Invalid {
			return TypInvalid
		}
		if a.Kind == None && b.Kind == None {
			return TypNone
		}
		j := join(a, b)
		if j == nil {
			c.errorf(x, "the branches of '?:' have different types: %s and %s", a, b)
			return TypInvalid
		}
		if cv, ok := c.info.Consts[x.Cond]; ok {
			if cv != 0 {
				c.copyConst(x, x.A)
			} else {
				c.copyConst(x, x.B)
			}
		}
		return j
	case *ast.Field:
		return c.field(x)
	case *ast.TupleIndex:
		t := c.expr(x.X)
		if t.Kind == Invalid {
			return t
		}
		if t.Kind != Tuple {
			c.errorf(x, "'.%d' needs a tuple, not %s", x.Index, t)
			return TypInvalid
		}
		if x.Index < 0 || x.Index >= len(t.Elems) {
			c.errorf(x, "tuple index %d out of range: the tuple has %d elements", x.Index, len(t.Elems))
			return TypInvalid
		}
		return t.Elems[x.Index]
	case *ast.Index:
		t := c.expr(x.X)
		it := c.expr(x.I)
		if t.Kind == Invalid || it.Kind == Invalid {
			return TypInvalid
		}
		if !it.IsInt() {
			c.errorf(x.I, "an index must be an integer, not %s", it)
			return TypInvalid
		}
		if t.Kind == Tuple {
			iv, ok := c.info.Consts[x.I]
			switch {
			case !ok:
				c.errorf(x.I, "a tuple index must be a constant integer")
				return TypInvalid
			case iv < 0 || iv >= int64(len(t.Elems)):
				c.errorf(x, "tuple index %d out of range: the tuple has %d elements", iv, len(t.Elems))
				return TypInvalid
			}
			return t.Elems[iv]
		}
		if t.Kind == Pointer {
			// p[i] reads the i-th element after p, as in C.
			return c.inAddressSpace(t.Elem, t)
		}
		if t.Kind != Array {
			c.errorf(x, "cannot index a value of type %s", t)
			return TypInvalid
		}
		iv, ok := c.info.Consts[x.I]
		if !ok {
			if _, isField := x.X.(*ast.Field); isField {
				// A variable index into a struct's array member: the
				// compiler checks the bounds at run time.
				return t.Elem
			}
			c.notSupported(x.I, "an array index that is not a constant")
			return TypInvalid
		}
		if iv < 0 || iv >= int64(t.Len) {
			c.errorf(x.I, "index %d out of bounds for an array of %d elements", iv, t.Len)
			return TypInvalid
		}
		return t.Elem
	case *ast.Tuple:
		elems := make([]*Type, len(x.Elems))
		for i, e := range x.Elems {
			t := c.expr(e)
			switch {
			case t.Kind == Invalid:
				return TypInvalid
			case t.Kind == None:
				c.errorf(e, "%s does not return a value", describe(e))
				return TypInvalid
			case t.IsAggregation():
				c.errorf(e, "a tuple cannot hold an aggregation")
				return TypInvalid
			}
			elems[i] = storedType(t)
		}
		return TupleType(elems)
	case *ast.Cast:
		t := c.typeName(x.Type)
		v := c.expr(x.X)
		if t.Kind == Invalid || v.Kind == Invalid {
			return TypInvalid
		}
		if !v.IsInt() || !(t.Kind == Int || t.Kind == Bool || t.Kind == Pointer) {
			c.errorf(x, "cannot cast %s to %s", v, t)
			return TypInvalid
		}
		if cv, ok := c.info.Consts[x.X]; ok && t.Kind == Int {
			c.info.Consts[x] = truncate(cv, t)
		}
		if t.Kind == Pointer && c.userProbe() {
			// A pointer made from a uprobe's argument points into the
			// traced process.
			nt := *t
			nt.UserSpace = true
			t = &nt
		}
		return t
	case *ast.Sizeof:
		var t *Type
		if x.Type != nil {
			t = c.sizedType(x.Type)
		} else {
			t = c.expr(x.X)
		}
		if t.Kind == Invalid {
			return TypInvalid
		}
		c.info.Consts[x] = int64(t.Size)
		return TypU64
	case *ast.Offsetof:
		var t *Type
		if x.Type != nil {
			t = c.sizedType(x.Type)
		} else {
			t = c.expr(x.X)
			if t.Kind == Pointer {
				t = t.Elem
			}
		}
		if t.Kind == Invalid {
			return TypInvalid
		}
		off := 0
		for _, name := range x.Fields {
			if t.Kind != Struct {
				c.errorf(x, "offsetof: %s has no member %q", t, name)
				return TypInvalid
			}
			m, err := c.info.Config.Types.Member(t, name)
			if err != nil {
				c.errorf(x, "offsetof: %s", err)
				return TypInvalid
			}
			off += m.Offset
			t = m.Type
		}
		c.info.Consts[x] = int64(off)
		return TypU64
	case *ast.BlockExpr:
		return c.blockExpr(x)
	}
	c.errorf(x, "unexpected expression")
	return TypInvalid
}

func (c *checker) copyConst(dst, src ast.Expr) {
	if v, ok := c.info.Consts[src]; ok {
		c.info.Consts[dst] = v
	}
	if v, ok := c.info.StrConsts[src]; ok {
		c.info.StrConsts[dst] = v
	}
}

// truncate converts a constant to the width and signedness of t.
func truncate(v int64, t *Type) int64 {
	if t.Kind == Bool {
		if v != 0 {
			return 1
		}
		return 0
	}
	bits := uint(t.Size * 8)
	if bits >= 64 {
		return v
	}
	u := uint64(v) & (1<<bits - 1)
	if t.Signed && u&(1<<(bits-1)) != 0 {
		return int64(u | ^uint64(0)<<bits)
	}
	return int64(u)
}

func (c *checker) positionalExpr(x *ast.Positional) *Type {
	if x.Index == 0 {
		c.info.Consts[x] = int64(len(c.info.Config.Params))
		return TypS64
	}
	s, ok := c.positional(x.Index)
	if !ok {
		c.info.Consts[x] = 0
		return TypS64
	}
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		c.info.Consts[x] = v
		return TypS64
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		// Beyond INT64_MAX the parameter is unsigned, as in bpftrace.
		c.info.Consts[x] = int64(v)
		return TypU64
	}
	c.info.StrConsts[x] = s
	return StringType(len(s) + 1)
}

func (c *checker) mapRead(x *ast.MapRef) *Type {
	keys := c.mapKeys(x)
	m := c.useMap(x, keys, nil, false)
	if m.Value == nil || m.Value.Kind == Invalid {
		if c.pass == 2 && c.learnedMaps[x.Name] == nil || c.pass == 2 && c.learnedMaps[x.Name].Value == nil {
			c.errorf(x, "undefined map @%s: it is read but never assigned", x.Name)
		}
		return TypInvalid
	}
	if len(x.Keys) == 0 && len(m.Keys) > 0 {
		c.errorf(x, "@%s needs %d key%s here, e.g. @%s[...]", x.Name, len(m.Keys), plural(len(m.Keys)), x.Name)
		return TypInvalid
	}
	if m.Value.IsAggregation() {
		// Reading an aggregation combines every CPU's value, as bpftrace
		// does for count, sum, min, max and avg.
		switch m.Value.Kind {
		case Count:
			return TypU64
		case Sum, Min, Max:
			return IntType(8, m.Value.Signed)
		case Avg:
			return TypS64
		}
		c.errorf(x, "the value of a %s() map can only be printed", strings.TrimSuffix(m.Value.String(), "_t"))
		return TypInvalid
	}
	return m.Value
}

// Binary operators.

// positionalOffset folds `$1 + n` on a string parameter to the string
// without its first n bytes: bpftrace treats the parameter as a pointer to
// its text, so str($1 + 1) of "hello" is "ello".
func (c *checker) positionalOffset(x *ast.Binary, a *Type) *Type {
	if _, ok := x.X.(*ast.Positional); !ok || x.Op != "+" || a.Kind != String {
		return nil
	}
	s, ok := c.info.StrConsts[x.X]
	n, nok := c.info.Consts[x.Y]
	if !ok || !nok {
		return nil
	}
	if n < 0 || n > int64(len(s)) {
		c.errorf(x, "offset %d is outside the parameter %q (%d bytes)", n, s, len(s))
		return TypInvalid
	}
	c.info.StrConsts[x] = s[n:]
	return StringType(len(s) - int(n) + 1)
}

func (c *checker) binary(x *ast.Binary) *Type {
	a, b := c.expr(x.X), c.expr(x.Y)
	if a.Kind == Invalid || b.Kind == Invalid {
		return TypInvalid
	}
	if t := c.positionalOffset(x, a); t != nil {
		return t
	}
	switch x.Op {
	case "&&", "||":
		c.wantCondition(x.X, a, "operand of '"+x.Op+"'")
		c.wantCondition(x.Y, b, "operand of '"+x.Op+"'")
		av, aok := c.info.Consts[x.X]
		bv, bok := c.info.Consts[x.Y]
		switch {
		case x.Op == "&&" && aok && av == 0, x.Op == "||" && aok && av != 0:
			c.info.Consts[x] = boolInt(x.Op == "||")
		case aok && bok:
			c.info.Consts[x] = boolInt(bv != 0)
		}
		return TypBool
	case "==", "!=":
		if a.Kind == String || b.Kind == String {
			if a.Kind != String || b.Kind != String {
				c.errorf(x, "cannot compare %s with %s", a, b)
				return TypInvalid
			}
			as, aok := c.info.StrConsts[x.X]
			bs, bok := c.info.StrConsts[x.Y]
			if aok && bok {
				c.info.Consts[x] = boolInt((as == bs) == (x.Op == "=="))
			}
			return TypBool
		}
		if a.Kind == Tuple || b.Kind == Tuple {
			// Tuples compare element by element; the compiler compares
			// them as bytes in their common layout.
			switch {
			case join(a, b) == nil:
				c.errorf(x, "cannot compare %s with %s", a, b)
				return TypInvalid
			case !Equal(storedType(a), storedType(b)):
				c.notSupported(x, fmt.Sprintf("comparing tuples of different element types (%s and %s)", a, b))
				return TypInvalid
			}
			return TypBool
		}
	}
	if !a.IsInt() || !b.IsInt() {
		bad, bt := x.X, a
		if a.IsInt() {
			bad, bt = x.Y, b
		}
		c.errorf(bad, "operator '%s' needs integer operands, not %s", x.Op, bt)
		return TypInvalid
	}
	rt := arith(a, b)
	switch x.Op {
	case "<", "<=", ">", ">=", "==", "!=":
		c.foldCompare(x, rt.Signed)
		return TypBool
	case "<<", ">>":
		rt = IntType(8, a.Kind == Int && a.Signed)
	}
	if x.Op == "/" || x.Op == "%" {
		if bv, ok := c.info.Consts[x.Y]; ok && bv == 0 {
			c.warnf(x.Y, "Divide or modulo by 0 detected. This can lead to unexpected results. 1 is being used as the result.")
		}
	}
	c.foldArith(x, rt)
	return rt
}

// arith is the type of integer arithmetic, as bpftrace computes it: 64
// bits whatever the operands' widths ((uint8)255 + 1 is 256), and unsigned
// when either operand is.
func arith(a, b *Type) *Type {
	return IntType(8, a.Kind == Int && a.Signed && b.Kind == Int && b.Signed)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *checker) foldCompare(x *ast.Binary, signed bool) {
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	if !aok || !bok {
		return
	}
	var r bool
	if signed {
		switch x.Op {
		case "<":
			r = av < bv
		case "<=":
			r = av <= bv
		case ">":
			r = av > bv
		case ">=":
			r = av >= bv
		case "==":
			r = av == bv
		case "!=":
			r = av != bv
		}
	} else {
		ua, ub := uint64(av), uint64(bv)
		switch x.Op {
		case "<":
			r = ua < ub
		case "<=":
			r = ua <= ub
		case ">":
			r = ua > ub
		case ">=":
			r = ua >= ub
		case "==":
			r = ua == ub
		case "!=":
			r = ua != ub
		}
	}
	c.info.Consts[x] = boolInt(r)
}

func (c *checker) foldArith(x *ast.Binary, rt *Type) {
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	if !aok || !bok {
		return
	}
	if v, ok := EvalBinary(x.Op, av, bv, rt.Signed); ok {
		c.info.Consts[x] = truncate(v, rt)
	}
}

// EvalBinary computes an integer operator the way the generated code
// does, including bpftrace's rule that division by zero yields 1.
func EvalBinary(op string, a, b int64, signed bool) (int64, bool) {
	ua, ub := uint64(a), uint64(b)
	switch op {
	case "+":
		return int64(ua + ub), true
	case "-":
		return int64(ua - ub), true
	case "*":
		return int64(ua * ub), true
	case "/":
		if b == 0 {
			return 1, true
		}
		if signed {
			if a == math.MinInt64 && b == -1 {
				return a, true
			}
			return a / b, true
		}
		return int64(ua / ub), true
	case "%":
		if b == 0 {
			return 1, true
		}
		if signed {
			if b == -1 {
				return 0, true
			}
			return a % b, true
		}
		return int64(ua % ub), true
	case "&":
		return a & b, true
	case "|":
		return a | b, true
	case "^":
		return a ^ b, true
	case "<<":
		return int64(ua << (ub & 63)), true
	case ">>":
		if signed {
			return a >> (ub & 63), true
		}
		return int64(ua >> (ub & 63)), true
	}
	return 0, false
}

func (c *checker) unary(x *ast.Unary) *Type {
	switch x.Op {
	case "++", "--":
		return c.incDec(x, x.X, x.Op)
	case "*":
		t := c.expr(x.X)
		if t.Kind == Invalid {
			return t
		}
		if t.Kind != Pointer {
			c.errorf(x, "cannot dereference %s: '*' needs a pointer", t)
			return TypInvalid
		}
		if t.Elem.Kind == Struct && t.Elem.Size > maxStructCopy {
			c.errorf(x, "%s is %d bytes, too large to copy (at most %d); read its members instead", t.Elem, t.Elem.Size, maxStructCopy)
			return TypInvalid
		}
		return c.inAddressSpace(t.Elem, t)
	case "&":
		// &$var points at the variable's stack slot: a kernel address
		// whatever the probe, read back with '*'.
		v, ok := x.X.(*ast.Variable)
		if !ok {
			c.errorf(x, "the address-of operator '&' takes a variable ($x)")
			return TypInvalid
		}
		t := c.expr(v)
		if t.Kind == Invalid {
			return t
		}
		return &Type{Kind: Pointer, Size: 8, Elem: t}
	}
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if !t.IsInt() {
		c.errorf(x.X, "operator '%s' needs an integer, not %s", x.Op, t)
		return TypInvalid
	}
	v, ok := c.info.Consts[x.X]
	switch x.Op {
	case "!":
		if ok {
			c.info.Consts[x] = boolInt(v == 0)
		}
		return TypBool
	case "-":
		rt := IntType(max(t.Size, 1), true)
		if t.Kind != Int {
			rt = TypS64
		}
		if ok {
			c.info.Consts[x] = truncate(-v, rt)
		}
		return rt
	case "~":
		rt := t
		if t.Kind != Int {
			rt = TypU64
		}
		if ok {
			c.info.Consts[x] = truncate(^v, rt)
		}
		return rt
	}
	c.errorf(x, "unknown operator '%s'", x.Op)
	return TypInvalid
}

// incDec checks ++/-- on a variable or a map entry.
func (c *checker) incDec(x ast.Expr, target ast.Expr, op string) *Type {
	switch t := target.(type) {
	case *ast.Variable:
		v := c.lookupVar(t.Name)
		if v == nil {
			c.errorf(t, "undefined variable $%s: initialise it before using '%s'", t.Name, op)
			return TypInvalid
		}
		c.info.Vars[t] = v
		if v.Type.Kind == Invalid {
			// `let $x;` then `$x++`: an integer starting at 0.
			v.Type = TypS64
			if c.pass == 1 {
				c.varTypes[v.Decl] = v.Type
			}
		}
		c.record(t, v.Type)
		if !v.Type.IsInt() {
			c.errorf(x, "operator '%s' needs an integer variable, not %s", op, v.Type)
			return TypInvalid
		}
		return v.Type
	case *ast.MapRef:
		keys := c.mapKeys(t)
		// Maps are implicitly initialised to 0, as in bpftrace.
		m := c.useMap(t, keys, TypS64, true)
		c.record(t, m.Value)
		if m.Value != nil && m.Value.Kind != Invalid && !m.Value.IsInt() {
			c.errorf(x, "operator '%s' needs an integer map, but @%s holds %s", op, t.Name, m.Value)
			return TypInvalid
		}
		return TypS64
	}
	c.errorf(x, "operator '%s' needs a $variable or a map entry", op)
	return TypInvalid
}

// Fields.

func (c *checker) field(x *ast.Field) *Type {
	if id, ok := x.X.(*ast.Ident); ok && id.Name == "args" {
		return c.argsField(x, id)
	}
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if t.Kind == Tuple {
		c.errorf(x, "tuples have no field %q: use .0, .1, ...", x.Name)
		return TypInvalid
	}
	// bpftrace 0.25 semantics: '.' dereferences pointers, '->' is an alias.
	st := t
	if t.Kind == Pointer {
		st = t.Elem
	}
	if st.Kind != Struct {
		c.errorf(x, "%s has no fields: '%s%s' needs a struct or a pointer to one", t, map[bool]string{true: "->", false: "."}[x.Arrow], x.Name)
		return TypInvalid
	}
	m, err := c.info.Config.Types.Member(st, x.Name)
	if err != nil {
		c.errorf(x, "%s", err)
		return TypInvalid
	}
	c.info.Members[x] = m
	mt := m.Type
	if mt.Kind == Int && m.BitSize > 0 {
		mt = IntType(mt.Size, mt.Signed)
	}
	if mt.Kind == Invalid {
		c.notSupported(x, fmt.Sprintf("reading member %s of type %s", x.Name, mt.Name))
		return TypInvalid
	}
	return c.inAddressSpace(mt, t)
}

// inAddressSpace gives pointers read from memory the address space of the
// pointer they were read through.
func (c *checker) inAddressSpace(t, via *Type) *Type {
	if t.Kind != Pointer || t.UserSpace == via.UserSpace {
		return t
	}
	nt := *t
	nt.UserSpace = via.UserSpace
	return &nt
}

func (c *checker) argsField(x *ast.Field, id *ast.Ident) *Type {
	c.record(id, TypNone)
	var out *Type
	for _, ap := range c.probe.Points {
		switch ap.Kind {
		case probe.Tracepoint, probe.Fentry, probe.Fexit, probe.RawTracepoint, probe.Kprobe:
		case probe.Uprobe, probe.Uretprobe:
			c.notSupported(x, "args in "+ap.Kind.String()+" probes (DWARF argument types)")
			return TypInvalid
		case probe.Kretprobe:
			c.errorf(id, "args is not available in kretprobe probes: the arguments are gone when the function returns; use fexit, or save them in a map in a kprobe")
			return TypInvalid
		default:
			c.errorf(id, "args is not available in %s probes", ap.Kind)
			return TypInvalid
		}
		if ap.Kind != probe.Tracepoint && ap.LoadArgs == nil && ap.Fields == nil {
			c.errorf(id, "%s: argument names and types come from the kernel's BTF, which is not available; use arg0..arg5", ap.Name)
			return TypInvalid
		}
		fields, err := ap.Args()
		if err != nil {
			c.errorf(id, "%s: %v", ap.Name, err)
			return TypInvalid
		}
		f := ap.Field(x.Name)
		if f == nil {
			var names []string
			for _, f := range fields {
				if !strings.HasPrefix(f.Name, "common_") {
					names = append(names, f.Name)
				}
			}
			msg := fmt.Sprintf("%s has no field %q", ap.Name, x.Name)
			if ap.Kind != probe.Tracepoint {
				msg = fmt.Sprintf("%s has no argument %q", ap.Name, x.Name)
			}
			if s := suggest.Closest(x.Name, names, 1); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			} else if len(names) > 0 {
				msg += "; its fields are: " + strings.Join(names, ", ")
			}
			c.errorf(x, "%s", msg)
			return TypInvalid
		}
		if f.Type.Kind == Invalid {
			c.notSupported(x, fmt.Sprintf("argument %s passed as %s", x.Name, f.Type.Name))
			return TypInvalid
		}
		if out == nil {
			out = f.Type
		} else if !Equal(out, f.Type) {
			c.errorf(x, "args.%s has type %s in one probe and %s in another", x.Name, out, f.Type)
			return TypInvalid
		}
	}
	if out == nil {
		return TypInvalid
	}
	if out.Kind == Pointer && c.userProbe() && !out.UserSpace {
		nt := *out
		nt.UserSpace = true
		out = &nt
	}
	return out
}

// userProbe reports whether the probe's pointers point into user memory
// by default: uprobes, and syscall tracepoints' arguments.
func (c *checker) userProbe() bool {
	for _, ap := range c.probe.Points {
		if ap.Kind.IsUser() || ap.UserArgs {
			return true
		}
	}
	return false
}

// Builtins.

type builtin struct {
	typ func(c *checker) *Type
	// kinds lists where it is valid; nil means everywhere.
	kinds []probe.Kind
	// unsupported marks builtins of bpftrace that ktrace does not compile yet.
	unsupported bool
	// hidden keeps a builtin out of the list error messages show
	// (arg6..arg11, which only USDT probes have).
	hidden bool
	// check, when set, is used instead of typ: it may fold the value
	// or report an error at the identifier.
	check func(c *checker, x *ast.Ident) *Type
}

var regKinds = []probe.Kind{probe.Kprobe, probe.Uprobe, probe.USDT}
var retKinds = []probe.Kind{probe.Kretprobe, probe.Uretprobe, probe.Fexit}

func fixed(t *Type) func(*checker) *Type { return func(*checker) *Type { return t } }

var builtins = map[string]builtin{
	"pid":               {typ: fixed(TypU32)},
	"tid":               {typ: fixed(TypU32)},
	"uid":               {typ: fixed(TypU32)},
	"gid":               {typ: fixed(TypU32)},
	"comm":              {typ: fixed(StringType(16))},
	"nsecs":             {typ: fixed(TypU64)},
	"cpu":               {typ: fixed(TypU32)},
	"arg0":              {typ: fixed(TypU64), kinds: regKinds},
	"arg1":              {typ: fixed(TypU64), kinds: regKinds},
	"arg2":              {typ: fixed(TypU64), kinds: regKinds},
	"arg3":              {typ: fixed(TypU64), kinds: regKinds},
	"arg4":              {typ: fixed(TypU64), kinds: regKinds},
	"arg5":              {typ: fixed(TypU64), kinds: regKinds},
	"retval":            {typ: retvalType, kinds: retKinds},
	"func":              {typ: funcType, kinds: funcKinds},
	"probe":             {typ: fixed(TypProbe)},
	"args":              {typ: fixed(TypNone)},
	"elapsed":           {unsupported: true},
	"jiffies":           {unsupported: true},
	"rand":              {unsupported: true},
	"cgroup":            {unsupported: true},
	"ncpus":             {unsupported: true},
	"cpid":              {unsupported: true},
	"ppid":              {unsupported: true},
	"username":          {unsupported: true},
	"curtask":           {typ: func(c *checker) *Type { return c.kernelPointer("struct task_struct") }},
	"kstack":            {unsupported: true},
	"ustack":            {unsupported: true},
	"sarg0":             {unsupported: true},
	"numaid":            {unsupported: true},
	"ctx":               {unsupported: true},
	"usermode":          {unsupported: true},
	"__builtin_elapsed": {unsupported: true},
}

// BuiltinNames lists the builtins ktrace compiles, sorted; error messages
// for unknown identifiers show this list.
func BuiltinNames() []string { return builtinNames() }

func builtinNames() []string {
	var names []string
	for n, b := range builtins {
		if !b.unsupported && !b.hidden && !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (c *checker) ident(x *ast.Ident) *Type {
	b, ok := builtins[x.Name]
	if !ok && c.info.Config.Types != nil && isUpperIdent(x.Name) {
		// An enum constant from the kernel's BTF: SKB_DROP_REASON_NO_SOCKET.
		if v, t, found := c.info.Config.Types.Enumerator(x.Name); found {
			c.info.Consts[x] = v
			return t
		}
	}
	if !ok {
		msg := fmt.Sprintf("unknown identifier '%s'", x.Name)
		if s := suggest.Best(x.Name, builtinNames(), 2); len(s) > 0 {
			msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
		}
		msg += " Builtins are: " + strings.Join(builtinNames(), ", ")
		c.errorf(x, "%s", msg)
		return TypInvalid
	}
	if b.unsupported {
		c.notSupported(x, "builtin "+x.Name)
		return TypInvalid
	}
	if x.Name == "args" {
		c.errorf(x, "args must be followed by a field, e.g. args.%s", c.someField())
		return TypInvalid
	}
	if b.kinds != nil {
		for _, ap := range c.probe.Points {
			if !kindIn(ap.Kind, b.kinds) {
				c.errorf(x, "%s is not available in %s probes%s", x.Name, ap.Kind, builtinHint(x.Name, ap.Kind))
				return TypInvalid
			}
		}
	}
	if b.check != nil {
		return b.check(c, x)
	}
	return b.typ(c)
}

func builtinHint(name string, k probe.Kind) string {
	switch {
	case strings.HasPrefix(name, "arg") && k == probe.Tracepoint:
		return "; tracepoints have named fields: use args.FIELD"
	case strings.HasPrefix(name, "arg") && k.IsReturn():
		return "; return probes only see retval"
	case name == "retval" && (k == probe.Kprobe || k == probe.Uprobe):
		return "; use a kretprobe/uretprobe to see the return value"
	}
	return ""
}

func (c *checker) someField() string {
	for _, ap := range c.probe.Points {
		for _, f := range ap.Fields {
			if !strings.HasPrefix(f.Name, "common_") {
				return f.Name
			}
		}
	}
	return "FIELD"
}

func kindIn(k probe.Kind, ks []probe.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// isUpperIdent reports whether a name looks like a C constant (only upper
// case letters, digits and underscores), the only names looked up as enum
// constants: a typo in a builtin must not cost a BTF load.
func isUpperIdent(s string) bool {
	hasLetter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			hasLetter = true
		case c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
	}
	return hasLetter
}

// kernelPointer returns a pointer to the named kernel type, or Invalid
// (with an error on the current node) when BTF lacks it.
func (c *checker) kernelPointer(name string) *Type {
	if c.info.Config.Types == nil {
		return TypInvalid
	}
	t, err := c.info.Config.Types.Type(name)
	if err != nil {
		return TypInvalid
	}
	return &Type{Kind: Pointer, Size: 8, Elem: t}
}

// maxStructCopy bounds whole-struct values (print(*p), $s = *p): they are
// copied onto the 512-byte BPF stack.
const maxStructCopy = 256

// sizedType resolves a type for sizeof/offsetof, where a struct by value
// is what is meant.
func (c *checker) sizedType(tn *ast.TypeName) *Type {
	if tn.Stars == 0 && c.info.Config.Types != nil && (strings.HasPrefix(tn.Name, "struct ") || strings.HasPrefix(tn.Name, "union ")) {
		t, err := c.info.Config.Types.Type(tn.Name)
		if err != nil {
			c.errorf(tn, "%s", err)
			return TypInvalid
		}
		return t
	}
	return c.typeName(tn)
}

// retvalType is the traced function's return type where BTF knows it
// (fexit), else a 64-bit integer.
func retvalType(c *checker) *Type {
	var t *Type
	for _, ap := range c.probe.Points {
		if ap.Kind != probe.Fexit {
			return TypU64
		}
		if _, err := ap.Args(); err != nil || ap.Ret == nil || ap.Ret.Kind == Invalid || ap.Ret.Kind == None {
			return TypU64
		}
		if t != nil && !Equal(t, ap.Ret) {
			return TypU64
		}
		t = ap.Ret
	}
	if t == nil {
		return TypU64
	}
	return t
}
