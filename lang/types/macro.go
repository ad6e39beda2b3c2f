package types

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// Macros are expanded before checking, as bpftrace does: every call (with
// or without '!', or a bare name for a macro without parameters) becomes
// a block expression holding a copy of the macro's body. The expansion is
// hygienic:
//
//   - a `$x` parameter takes a scratch variable of the caller, by
//     reference: the body reads and writes the caller's variable;
//   - a `@m` parameter takes a map; the body's @m is renamed to it;
//   - an `x` parameter takes any expression, copied wherever the body
//     uses x and evaluated there, in the caller's scope (a variable or map
//     passed this way is read like `{ $v }`);
//   - the body sees no other variable of the caller, and variables it
//     declares do not leak out: the checker checks an expansion in a
//     scope of its own (checkExpansion) and arguments in the caller's
//     (checkMacroArg);
//   - the body may use no map it was not given.
//
// Errors inside an expansion point at the macro's text and name the call
// chain that expanded it.

// maxExpansionNodes bounds the syntax tree macros may produce: macros that
// use an argument several times and call each other grow exponentially.
const maxExpansionNodes = 200000

// macroState is the checker's record of macro expansions.
type macroState struct {
	defs  map[string]*ast.Macro
	exps  map[*ast.BlockExpr]*expansion
	args  map[*ast.BlockExpr]*expansion // argument copy → the expansion it was passed to
	nodes int

	// Checking state: the expansions being checked, innermost last, each
	// with the caller's scopes; and the call chains of errors found in
	// them, attached to the messages when the outermost check ends.
	stack []expFrame
	notes map[*lang.Error][]string
}

// expansion is one macro call, expanded.
type expansion struct {
	macro *ast.Macro
	call  ast.Expr // *ast.Call or *ast.Ident
	vars  []varBinding
}

// varBinding binds a `$param` to the caller's variable.
type varBinding struct {
	param string
	arg   *ast.Variable
}

type expFrame struct {
	exp    *expansion
	caller []map[string]*Var
}

func (c *checker) macroArg(x *ast.BlockExpr) *expansion {
	if c.mx == nil {
		return nil
	}
	return c.mx.args[x]
}

func (c *checker) expansion(x *ast.BlockExpr) *expansion {
	if c.mx == nil {
		return nil
	}
	return c.mx.exps[x]
}

// expandMacros replaces macro calls by their bodies before checking.
func (c *checker) expandMacros() {
	st := &macroState{
		defs:  map[string]*ast.Macro{},
		exps:  map[*ast.BlockExpr]*expansion{},
		args:  map[*ast.BlockExpr]*expansion{},
		notes: map[*lang.Error][]string{},
	}
	c.mx = st
	for _, m := range c.prog.Macros {
		if st.defs[m.Name] != nil {
			c.errs.Add(c.file, m.Sp, "macro '%s' is defined twice", m.Name)
			continue
		}
		seen := map[string]bool{}
		for _, p := range m.Params {
			key := paramName(p)
			if seen[key] {
				c.errs.Add(c.file, p.Span(), "macro '%s' has two parameters named %s", m.Name, key)
			}
			seen[key] = true
		}
		st.defs[m.Name] = m
	}
	e := &expander{c: c, st: st}
	if len(st.defs) == 0 {
		// Nothing to expand; only name!(...) calls need a word.
		for _, p := range c.prog.Probes {
			ast.Inspect(p, func(n ast.Node) bool {
				if call, ok := n.(*ast.Call); ok && call.Bang {
					e.exprAs(call, &env{}, false)
				}
				return true
			})
		}
		return
	}
	top := &env{}
	for _, p := range c.prog.Probes {
		if p.Predicate != nil {
			p.Predicate = e.expr(p.Predicate, top)
		}
		p.Body = e.block(p.Body, top)
	}
}

// paramName is a parameter as written: $x, @m or x.
func paramName(p ast.Expr) string {
	switch p := p.(type) {
	case *ast.Variable:
		return "$" + p.Name
	case *ast.MapRef:
		return "@" + p.Name
	case *ast.Ident:
		return p.Name
	}
	return "?"
}

// expander copies syntax trees, expanding macro calls on the way.
type expander struct {
	c     *checker
	st    *macroState
	stack []*expansion // expansions being built, innermost last
	full  bool         // the node budget is spent
}

// env is what a copy substitutes: nothing at the top level (exp is nil),
// a macro's parameters inside its body. raw copies an argument, which was
// already expanded in its caller's context: nothing is substituted or
// expanded again.
type env struct {
	exp   *expansion
	raw   bool
	vars  map[string]bool     // $params
	maps  map[string]string   // @param → the caller's map
	exprs map[string]ast.Expr // ident param → the argument
}

var rawEnv = &env{raw: true}

func (e *expander) errorf(n ast.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if chain := e.chain(); len(chain) > 0 {
		msg += " (" + strings.Join(chain, ", ") + ")"
	}
	e.c.errs.Add(e.c.file, n.Span(), "%s", msg)
}

// chain describes the expansions being built, innermost first.
func (e *expander) chain() []string {
	var out []string
	for i := len(e.stack) - 1; i >= 0; i-- {
		out = append(out, e.c.callNote(e.stack[i]))
	}
	return out
}

func (c *checker) callNote(x *expansion) string {
	return fmt.Sprintf("in macro '%s' called at %s", x.macro.Name, c.file.Position(x.call.Span().Pos))
}

// count charges a new node inside an expansion against the budget.
func (e *expander) count(n ast.Node) bool {
	if len(e.stack) == 0 {
		return true
	}
	e.st.nodes++
	if e.st.nodes > maxExpansionNodes && !e.full {
		e.full = true
		e.errorf(n, "macro expansion is too large: more than %d syntax nodes", maxExpansionNodes)
	}
	return !e.full
}

func (e *expander) block(b *ast.Block, v *env) *ast.Block {
	nb := &ast.Block{Sp: b.Sp}
	for _, s := range b.Stmts {
		nb.Stmts = append(nb.Stmts, e.stmt(s, v))
	}
	if b.Value != nil {
		nb.Value = e.expr(b.Value, v)
	}
	return nb
}

func (e *expander) exprs(xs []ast.Expr, v *env) []ast.Expr {
	if xs == nil {
		return nil
	}
	out := make([]ast.Expr, len(xs))
	for i, x := range xs {
		out[i] = e.expr(x, v)
	}
	return out
}

func (e *expander) stmt(s ast.Stmt, v *env) ast.Stmt {
	e.count(s)
	switch s := s.(type) {
	case *ast.Block:
		return e.block(s, v)
	case *ast.ExprStmt:
		return &ast.ExprStmt{X: e.exprAs(s.X, v, true), Discard: s.Discard}
	case *ast.AssignStmt:
		e.checkTarget(s.Target, v, "assigns to")
		return &ast.AssignStmt{Sp: s.Sp, Target: e.expr(s.Target, v), Op: s.Op, Value: e.expr(s.Value, v)}
	case *ast.LetStmt:
		if v.vars[s.Var.Name] {
			e.errorf(s.Var, "$%s is a parameter of macro '%s' and cannot be declared again", s.Var.Name, v.exp.macro.Name)
		}
		return &ast.LetStmt{Sp: s.Sp, Var: copyVar(s.Var), Type: e.typeName(s.Type, v), Value: e.opt(s.Value, v)}
	case *ast.IfStmt:
		n := &ast.IfStmt{Sp: s.Sp, Cond: e.expr(s.Cond, v), Then: e.block(s.Then, v)}
		if s.Else != nil {
			n.Else = e.stmt(s.Else, v)
		}
		return n
	case *ast.WhileStmt:
		return &ast.WhileStmt{Sp: s.Sp, Cond: e.expr(s.Cond, v), Body: e.block(s.Body, v)}
	case *ast.ForRangeStmt:
		return &ast.ForRangeStmt{Sp: s.Sp, Var: copyVar(s.Var), Start: e.expr(s.Start, v), End: e.expr(s.End, v), Body: e.block(s.Body, v)}
	case *ast.ForMapStmt:
		return &ast.ForMapStmt{Sp: s.Sp, Var: copyVar(s.Var), Map: e.mapRef(s.Map, v), Body: e.block(s.Body, v)}
	case *ast.UnrollStmt:
		return &ast.UnrollStmt{Sp: s.Sp, Count: e.expr(s.Count, v), Body: e.block(s.Body, v)}
	case *ast.JumpStmt:
		return &ast.JumpStmt{Sp: s.Sp, Kind: s.Kind, Value: e.opt(s.Value, v)}
	}
	return s
}

// checkTarget rejects writing to an expression parameter: only a $param
// refers to something the caller can see change.
func (e *expander) checkTarget(t ast.Expr, v *env, verb string) {
	if id, ok := t.(*ast.Ident); ok && v.exp != nil && !v.raw {
		if _, isParam := v.exprs[id.Name]; isParam {
			e.errorf(id, "macro '%s' %s parameter '%s', which takes an expression; write the parameter as $%s to pass a variable",
				v.exp.macro.Name, verb, id.Name, id.Name)
		}
	}
}

func (e *expander) opt(x ast.Expr, v *env) ast.Expr {
	if x == nil {
		return nil
	}
	return e.expr(x, v)
}

func copyVar(x *ast.Variable) *ast.Variable { n := *x; return &n }

func (e *expander) expr(x ast.Expr, v *env) ast.Expr { return e.exprAs(x, v, false) }

// exprAs copies an expression; asStmt is set for an expression statement,
// where a macro whose body ends with a statement may be called.
func (e *expander) exprAs(x ast.Expr, v *env, asStmt bool) ast.Expr {
	if !e.count(x) {
		return &ast.IntLit{Sp: x.Span()}
	}
	switch x := x.(type) {
	case *ast.IntLit:
		n := *x
		return &n
	case *ast.StringLit:
		n := *x
		return &n
	case *ast.BoolLit:
		n := *x
		return &n
	case *ast.Positional:
		n := *x
		return &n
	case *ast.Variable:
		return copyVar(x)
	case *ast.Ident:
		return e.ident(x, v, asStmt)
	case *ast.MapRef:
		return e.mapRef(x, v)
	case *ast.Call:
		return e.call(x, v, asStmt)
	case *ast.Binary:
		return &ast.Binary{Sp: x.Sp, Op: x.Op, X: e.expr(x.X, v), Y: e.expr(x.Y, v)}
	case *ast.Unary:
		if x.Op == "++" || x.Op == "--" {
			e.checkTarget(x.X, v, "modifies")
		}
		return &ast.Unary{Sp: x.Sp, Op: x.Op, X: e.expr(x.X, v)}
	case *ast.Postfix:
		e.checkTarget(x.X, v, "modifies")
		return &ast.Postfix{Sp: x.Sp, Op: x.Op, X: e.expr(x.X, v)}
	case *ast.Ternary:
		return &ast.Ternary{Sp: x.Sp, Cond: e.expr(x.Cond, v), A: e.expr(x.A, v), B: e.expr(x.B, v)}
	case *ast.Field:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "args" {
			// args.f names a tracepoint field: args is no expression to
			// substitute or expand.
			n := *id
			return &ast.Field{Sp: x.Sp, X: &n, Name: x.Name, Arrow: x.Arrow}
		}
		return &ast.Field{Sp: x.Sp, X: e.expr(x.X, v), Name: x.Name, Arrow: x.Arrow}
	case *ast.TupleIndex:
		return &ast.TupleIndex{Sp: x.Sp, X: e.expr(x.X, v), Index: x.Index}
	case *ast.Index:
		return &ast.Index{Sp: x.Sp, X: e.expr(x.X, v), I: e.expr(x.I, v)}
	case *ast.Tuple:
		return &ast.Tuple{Sp: x.Sp, Elems: e.exprs(x.Elems, v), Names: x.Names}
	case *ast.Cast:
		return &ast.Cast{Sp: x.Sp, Type: e.typeName(x.Type, v), X: e.expr(x.X, v)}
	case *ast.Sizeof:
		if id, ok := x.X.(*ast.Ident); ok && e.typeParam(id.Name, v) != nil {
			// sizeof(T) of a type parameter parses as sizeof of a name.
			return &ast.Sizeof{Sp: x.Sp, Type: e.typeName(&ast.TypeName{Sp: id.Sp, Name: id.Name}, v)}
		}
		return &ast.Sizeof{Sp: x.Sp, Type: e.typeName(x.Type, v), X: e.opt(x.X, v)}
	case *ast.Offsetof:
		return &ast.Offsetof{Sp: x.Sp, Type: e.typeName(x.Type, v), X: e.opt(x.X, v), Fields: x.Fields}
	case *ast.BlockExpr:
		return e.blockExpr(x, v)
	case *ast.TypeExpr:
		return &ast.TypeExpr{Type: e.typeName(x.Type, v)}
	}
	return x
}

// typeParam is the type passed for a macro's parameter, as
// `typeof(T)`; nil when name is no parameter or was passed a value.
func (e *expander) typeParam(name string, v *env) *ast.TypeName {
	if v.raw || v.exp == nil {
		return nil
	}
	if a, ok := v.exprs[name].(*ast.TypeExpr); ok {
		return a.Type
	}
	return nil
}

// typeName copies a written type, substituting a type parameter: in
// `macro p(a, b) { (a *)b }` called as p(typeof(uint8), x), `a *` becomes
// `typeof(uint8) *`.
func (e *expander) typeName(tn *ast.TypeName, v *env) *ast.TypeName {
	if tn == nil {
		return nil
	}
	n := *tn
	if arg := e.typeParam(tn.Name, v); arg != nil {
		n.Name = arg.Name
		n.Stars = tn.Stars + arg.Stars
		n.TypeofType = arg.TypeofType
		n.Typeof = nil
		if arg.Typeof != nil {
			// typeof($x) names the type of the caller's $x: check the
			// expression in the caller's scope.
			n.Typeof = e.argCopy(arg.Typeof, v.exp)
		}
		return &n
	}
	if _, isParam := v.exprs[tn.Name]; isParam && !v.raw && tn.TypeofType == nil && tn.Typeof == nil {
		e.errorf(tn, "macro '%s' uses parameter '%s' as a type, but was passed a value; pass a type as typeof(T)", v.exp.macro.Name, tn.Name)
		return &n
	}
	if tn.Typeof != nil {
		n.Typeof = e.expr(tn.Typeof, v)
	}
	if tn.TypeofType != nil {
		n.TypeofType = e.typeName(tn.TypeofType, v)
	}
	return &n
}

// ident substitutes a macro parameter, or expands a macro used without
// parentheses.
func (e *expander) ident(x *ast.Ident, v *env, asStmt bool) ast.Expr {
	if !v.raw {
		if a, ok := v.exprs[x.Name]; ok {
			return e.argCopy(a, v.exp)
		}
		if m := e.st.defs[x.Name]; m != nil {
			if len(m.Params) > 0 {
				e.errorf(x, "macro '%s' takes %d argument%s: call it as %s(...)", m.Name, len(m.Params), plural(len(m.Params)), m.Name)
				return &ast.IntLit{Sp: x.Sp}
			}
			return e.expand(m, x, nil, asStmt)
		}
	}
	n := *x
	return &n
}

// call expands a macro call; name!(...) must name a macro, or a function
// called with a stray '!', which the checker reports.
func (e *expander) call(x *ast.Call, v *env, asStmt bool) ast.Expr {
	args := e.exprs(x.Args, v)
	if !v.raw {
		if m := e.st.defs[x.Name]; m != nil {
			return e.expand(m, x, args, asStmt)
		}
		if x.Bang {
			if builtins.Function(x.Name) == nil {
				msg := fmt.Sprintf("unknown macro '%s'", x.Name)
				if s := suggest.Best(x.Name, e.macroNames(), 2); len(s) > 0 {
					msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
				}
				e.errorf(x, "%s", msg)
			}
		}
	}
	return &ast.Call{Sp: x.Sp, Name: x.Name, Args: args, Bang: x.Bang}
}

func (e *expander) blockExpr(x *ast.BlockExpr, v *env) ast.Expr {
	n := &ast.BlockExpr{Block: e.block(x.Block, v)}
	// Copies of an expansion or an argument keep their meaning.
	if ex := e.st.exps[x]; ex != nil {
		e.st.exps[n] = ex
	}
	if ex := e.st.args[x]; ex != nil {
		e.st.args[n] = ex
	}
	return n
}

// mapRef renames a map parameter to the caller's map, and rejects maps the
// macro was not given.
func (e *expander) mapRef(x *ast.MapRef, v *env) *ast.MapRef {
	n := &ast.MapRef{Sp: x.Sp, Name: x.Name, Keys: e.exprs(x.Keys, v)}
	if v.exp == nil || v.raw {
		return n
	}
	if name, ok := v.maps[x.Name]; ok {
		n.Name = name
		return n
	}
	e.errorf(x, "macro '%s' uses map @%s, which is not one of its parameters; pass the map as an argument, e.g. macro %s(@%s)",
		v.exp.macro.Name, x.Name, v.exp.macro.Name, x.Name)
	return n
}

// argCopy is one use of an expression parameter: a copy of the argument,
// in a block that the checker checks in the caller's scope.
func (e *expander) argCopy(a ast.Expr, owner *expansion) ast.Expr {
	w := &ast.BlockExpr{Block: &ast.Block{Sp: a.Span(), Value: e.expr(a, rawEnv)}}
	e.st.args[w] = owner
	return w
}

func (e *expander) macroNames() []string {
	var names []string
	for n := range e.st.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// expand builds one macro call's expansion. args were already expanded in
// the caller's context.
func (e *expander) expand(m *ast.Macro, call ast.Expr, args []ast.Expr, asStmt bool) ast.Expr {
	bad := &ast.IntLit{Sp: call.Span()}
	for i, x := range e.stack {
		if x.macro == m {
			var names []string
			for _, y := range e.stack[i:] {
				names = append(names, y.macro.Name)
			}
			e.errorf(call, "recursive macro call: %s > %s", strings.Join(names, " > "), m.Name)
			return bad
		}
	}
	if len(args) != len(m.Params) {
		e.errorf(call, "macro '%s' takes %d argument%s, but %d %s given", m.Name, len(m.Params), plural(len(m.Params)), len(args), wasWere(len(args)))
		return bad
	}
	exp := &expansion{macro: m, call: call}
	inner := &env{exp: exp, vars: map[string]bool{}, maps: map[string]string{}, exprs: map[string]ast.Expr{}}
	ok := true
	for i, p := range m.Params {
		a := args[i]
		switch p := p.(type) {
		case *ast.Variable:
			av, isVar := a.(*ast.Variable)
			if !isVar {
				e.errorf(call.(*ast.Call).Args[i], "macro '%s' expects a scratch variable for $%s, but got %s", m.Name, p.Name, argKind(a))
				ok = false
				continue
			}
			exp.vars = append(exp.vars, varBinding{param: p.Name, arg: av})
			inner.vars[p.Name] = true
		case *ast.MapRef:
			am, isMap := a.(*ast.MapRef)
			if !isMap || len(am.Keys) > 0 {
				e.errorf(call.(*ast.Call).Args[i], "macro '%s' expects a map for @%s, but got %s", m.Name, p.Name, argKind(a))
				ok = false
				continue
			}
			inner.maps[p.Name] = am.Name
		case *ast.Ident:
			inner.exprs[p.Name] = a
		}
	}
	if m.Body.Value == nil && !asStmt {
		e.errorf(call, "macro '%s' has no value: its body ends with a statement; remove the ';' after its last expression to return that value", m.Name)
		ok = false
	}
	if !ok {
		return bad
	}
	e.stack = append(e.stack, exp)
	body := e.block(m.Body, inner)
	e.stack = e.stack[:len(e.stack)-1]
	// The expansion as a whole is the call: a type error about its value
	// points there.
	body.Sp = call.Span()
	be := &ast.BlockExpr{Block: body}
	e.st.exps[be] = exp
	return be
}

func argKind(a ast.Expr) string {
	switch a := a.(type) {
	case *ast.Variable:
		return "a variable"
	case *ast.MapRef:
		if len(a.Keys) == 0 {
			return "a map"
		}
		return "a map element"
	}
	return "an expression"
}

// checkExpansion checks a macro's expanded body. The body sees only its
// $parameters, bound to the caller's variables; whatever it declares is
// its own.
func (c *checker) checkExpansion(x *ast.BlockExpr, e *expansion, asStmt bool) *Type {
	st := c.mx
	caller := c.scopes
	params := map[string]*Var{}
	for _, b := range e.vars {
		v := c.lookupVar(b.arg.Name)
		if v == nil {
			c.errorAt(b.arg.Sp, "Undefined or undeclared variable: $%s; a variable passed to macro '%s' must be assigned first", b.arg.Name, e.macro.Name)
			// The body's uses of the parameter are not errors of their own.
			v = &Var{Name: b.arg.Name, Type: TypInvalid, Decl: b.arg, ID: -1}
		}
		params[b.param] = v
	}
	n0 := len(c.errs)
	st.stack = append(st.stack, expFrame{exp: e, caller: caller})
	c.scopes = []map[string]*Var{params, {}}
	t := TypNone
	if asStmt {
		c.blockStmtBody(x)
	} else {
		t = c.blockValue(x)
	}
	c.scopes = caller
	st.stack = st.stack[:len(st.stack)-1]
	c.noteExpansion(n0, e)
	return t
}

// checkMacroArg checks one copy of an expression argument in the scope of
// the caller that wrote it.
func (c *checker) checkMacroArg(x *ast.BlockExpr, owner *expansion, asStmt bool) *Type {
	st := c.mx
	i := len(st.stack) - 1
	for i >= 0 && st.stack[i].exp != owner {
		i--
	}
	savedStack, savedScopes := st.stack, c.scopes
	if i >= 0 {
		st.stack = append([]expFrame(nil), savedStack[:i]...)
		c.scopes = append([]map[string]*Var(nil), savedStack[i].caller...)
	}
	t := TypNone
	if asStmt {
		c.exprStmt(&ast.ExprStmt{X: x.Block.Value})
		c.record(x, TypNone)
	} else {
		t = c.expr(x.Block.Value)
		c.copyConst(x, x.Block.Value)
	}
	st.stack, c.scopes = savedStack, savedScopes
	return t
}

// noteExpansion names the call in the errors found inside the macro's
// body (not those in arguments, which point at the caller's own text).
// The notes join the messages when the outermost expansion is checked.
func (c *checker) noteExpansion(n0 int, e *expansion) {
	st := c.mx
	sp := e.macro.Sp
	for _, err := range c.errs[n0:] {
		_, nested := st.notes[err]
		if nested || err.Span.Pos >= sp.Pos && err.Span.Pos < sp.End {
			st.notes[err] = append(st.notes[err], c.callNote(e))
		}
	}
	if len(st.stack) > 0 {
		return
	}
	for err, chain := range st.notes {
		err.Msg += " (" + strings.Join(chain, ", ") + ")"
	}
	st.notes = map[*lang.Error][]string{}
}
