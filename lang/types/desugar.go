package types

import (
	"fmt"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// desugar rewrites, in place, the forms bpftrace accepts as spellings of
// other forms, so that later stages see one form only:
//
//   - `pid()`, `ncpus()`: a builtin called without arguments is the builtin;
//   - `@m[(1, 2)]`: a map subscripted by one tuple literal is subscripted by
//     its elements, the same key as `@m[1, 2]`;
//   - `c ? print(a) : print(b);`: a ternary whose value is discarded is an
//     if/else of its branches as statements;
//   - `_ = expr;`: the value is discarded on purpose, so no "not used"
//     warning;
//   - the helpers bpftrace's standard library defines as macros over
//     other builtins (desugar_stdlib.go).
//
// It runs before macro expansion; names of macros are left alone.
func (c *checker) desugar() {
	macros := map[string]bool{}
	for _, m := range c.prog.Macros {
		macros[m.Name] = true
	}
	d := &desugarer{macros: macros, cfg: &c.info.Config}
	for _, p := range c.prog.Probes {
		p.Predicate = d.expr(p.Predicate)
		d.block(p.Body)
	}
	for _, m := range c.prog.Macros {
		d.block(m.Body)
	}
}

type desugarer struct {
	macros  map[string]bool
	elvises int     // `?:` rewritten so far, to name their variables
	cfg     *Config // the settings config stands for
}

// elvis rewrites `c ?: b` into `{ let $v = c; $v ? $v : b }`, so that c is
// evaluated once. The variable's name cannot be written in a script.
func (d *desugarer) elvis(t *ast.Ternary) ast.Expr {
	d.elvises++
	name := fmt.Sprintf("elvis.%d", d.elvises)
	v := func() *ast.Variable { return &ast.Variable{Sp: t.Cond.Span(), Name: name} }
	return &ast.BlockExpr{Block: &ast.Block{Sp: t.Sp,
		Stmts: []ast.Stmt{&ast.LetStmt{Sp: t.Cond.Span(), Var: v(), Value: t.Cond}},
		Value: &ast.Ternary{Sp: t.Sp, Cond: v(), A: v(), B: t.B},
	}}
}

func (d *desugarer) block(b *ast.Block) {
	if b == nil {
		return
	}
	for i, s := range b.Stmts {
		b.Stmts[i] = d.stmt(s)
	}
	b.Value = d.expr(b.Value)
}

func (d *desugarer) stmt(s ast.Stmt) ast.Stmt {
	switch s := s.(type) {
	case *ast.Block:
		d.block(s)
	case *ast.ExprStmt:
		s.X = d.expr(s.X)
		if t, ok := s.X.(*ast.Ternary); ok {
			return d.ternaryStmt(t)
		}
		if a := d.assertStmt(s); a != nil {
			return a
		}
	case *ast.AssignStmt:
		s.Target = d.expr(s.Target)
		s.Value = d.expr(s.Value)
		if id, ok := s.Target.(*ast.Ident); ok && id.Name == "_" && s.Op == "=" {
			return &ast.ExprStmt{X: s.Value, Discard: true}
		}
	case *ast.LetStmt:
		s.Value = d.expr(s.Value)
	case *ast.IfStmt:
		s.Cond = d.expr(s.Cond)
		d.block(s.Then)
		if s.Else != nil {
			s.Else = d.stmt(s.Else)
		}
	case *ast.WhileStmt:
		s.Cond = d.expr(s.Cond)
		d.block(s.Body)
	case *ast.ForRangeStmt:
		s.Start = d.expr(s.Start)
		s.End = d.expr(s.End)
		d.block(s.Body)
	case *ast.ForMapStmt:
		d.block(s.Body)
	case *ast.UnrollStmt:
		s.Count = d.expr(s.Count)
		d.block(s.Body)
	case *ast.JumpStmt:
		s.Value = d.expr(s.Value)
	}
	return s
}

// ternaryStmt turns `c ? a : b;` into `if (c) { a; } else { b; }`, so each
// branch is checked as a statement (a call like print() has no value).
func (d *desugarer) ternaryStmt(t *ast.Ternary) ast.Stmt {
	branch := func(x ast.Expr) *ast.Block {
		var s ast.Stmt = &ast.ExprStmt{X: x}
		if nested, ok := x.(*ast.Ternary); ok {
			s = d.ternaryStmt(nested)
		}
		return &ast.Block{Sp: x.Span(), Stmts: []ast.Stmt{s}}
	}
	return &ast.IfStmt{Sp: t.Sp, Cond: t.Cond, Then: branch(t.A), Else: branch(t.B)}
}

func (d *desugarer) exprs(xs []ast.Expr) {
	for i, x := range xs {
		xs[i] = d.expr(x)
	}
}

func (d *desugarer) expr(x ast.Expr) ast.Expr {
	switch x := x.(type) {
	case nil:
		return nil
	case *ast.MapRef:
		d.exprs(x.Keys)
		if len(x.Keys) == 1 {
			if t, ok := x.Keys[0].(*ast.Tuple); ok && t.Names == nil {
				x.Keys = t.Elems
			}
		}
	case *ast.Call:
		d.exprs(x.Args)
		if builtins.Variable(x.Name) != nil && len(x.Args) == 0 && !x.Bang && !d.macros[x.Name] {
			return &ast.Ident{Sp: x.Sp, Name: x.Name}
		}
		if r := d.stdlibCall(x); r != nil {
			return r
		}
	case *ast.Ident:
		if r := d.stdlibIdent(x); r != nil {
			return r
		}
	case *ast.Binary:
		x.X, x.Y = d.expr(x.X), d.expr(x.Y)
	case *ast.Unary:
		x.X = d.expr(x.X)
	case *ast.Postfix:
		x.X = d.expr(x.X)
	case *ast.Ternary:
		x.Cond, x.A, x.B = d.expr(x.Cond), d.expr(x.A), d.expr(x.B)
		if x.A == nil {
			return d.elvis(x)
		}
	case *ast.Field:
		x.X = d.expr(x.X)
	case *ast.TupleIndex:
		x.X = d.expr(x.X)
	case *ast.Index:
		x.X, x.I = d.expr(x.X), d.expr(x.I)
	case *ast.Tuple:
		d.exprs(x.Elems)
	case *ast.Cast:
		x.X = d.expr(x.X)
	case *ast.Sizeof:
		x.X = d.expr(x.X)
	case *ast.Offsetof:
		x.X = d.expr(x.X)
	case *ast.BlockExpr:
		d.block(x.Block)
	}
	return x
}
