package types

import "github.com/ktrace/ktrace/lang/ast"

// walkBlock calls visit for every statement and expression of b, nested
// ones included, parents before children, in the order they run (an
// assignment's value before its target). The analyses that only look at
// the program's shape (unused maps, unreachable statements) use it
// instead of hooking into the type checks.
func walkBlock(b *ast.Block, visit func(ast.Node)) {
	if b == nil {
		return
	}
	visit(b)
	for _, s := range b.Stmts {
		walkStmt(s, visit)
	}
	walkExpr(b.Value, visit)
}

func walkStmt(s ast.Stmt, visit func(ast.Node)) {
	if s == nil {
		return
	}
	switch s := s.(type) {
	case *ast.Block:
		walkBlock(s, visit)
		return
	case *ast.ExprStmt:
		visit(s)
		walkExpr(s.X, visit)
		return
	}
	visit(s)
	switch s := s.(type) {
	case *ast.AssignStmt:
		// The value is evaluated before the target is assigned.
		walkExpr(s.Value, visit)
		walkExpr(s.Target, visit)
	case *ast.LetStmt:
		walkExpr(s.Var, visit)
		walkTypeName(s.Type, visit)
		walkExpr(s.Value, visit)
	case *ast.IfStmt:
		walkExpr(s.Cond, visit)
		walkBlock(s.Then, visit)
		walkStmt(s.Else, visit)
	case *ast.WhileStmt:
		walkExpr(s.Cond, visit)
		walkBlock(s.Body, visit)
	case *ast.ForRangeStmt:
		walkExpr(s.Var, visit)
		walkExpr(s.Start, visit)
		walkExpr(s.End, visit)
		walkBlock(s.Body, visit)
	case *ast.ForMapStmt:
		walkExpr(s.Var, visit)
		walkExpr(s.Map, visit)
		walkBlock(s.Body, visit)
	case *ast.UnrollStmt:
		walkExpr(s.Count, visit)
		walkBlock(s.Body, visit)
	case *ast.JumpStmt:
		walkExpr(s.Value, visit)
	}
}

func walkExprs(xs []ast.Expr, visit func(ast.Node)) {
	for _, x := range xs {
		walkExpr(x, visit)
	}
}

func walkExpr(x ast.Expr, visit func(ast.Node)) {
	switch x := x.(type) {
	case nil:
		return
	case *ast.Variable:
		if x == nil {
			return
		}
	case *ast.MapRef:
		if x == nil {
			return
		}
	}
	visit(x)
	switch x := x.(type) {
	case *ast.MapRef:
		walkExprs(x.Keys, visit)
	case *ast.Call:
		walkExprs(x.Args, visit)
	case *ast.Binary:
		walkExpr(x.X, visit)
		walkExpr(x.Y, visit)
	case *ast.Unary:
		walkExpr(x.X, visit)
	case *ast.Postfix:
		walkExpr(x.X, visit)
	case *ast.Ternary:
		walkExpr(x.Cond, visit)
		walkExpr(x.A, visit)
		walkExpr(x.B, visit)
	case *ast.Field:
		walkExpr(x.X, visit)
	case *ast.TupleIndex:
		walkExpr(x.X, visit)
	case *ast.Index:
		walkExpr(x.X, visit)
		walkExpr(x.I, visit)
	case *ast.Tuple:
		walkExprs(x.Elems, visit)
	case *ast.Cast:
		walkTypeName(x.Type, visit)
		walkExpr(x.X, visit)
	case *ast.Sizeof:
		walkTypeName(x.Type, visit)
		walkExpr(x.X, visit)
	case *ast.Offsetof:
		walkTypeName(x.Type, visit)
		walkExpr(x.X, visit)
	case *ast.BlockExpr:
		walkBlock(x.Block, visit)
	case *ast.TypeExpr:
		walkTypeName(x.Type, visit)
	}
}

// walkTypeName visits the expression of a written `typeof(expr)`.
func walkTypeName(t *ast.TypeName, visit func(ast.Node)) {
	if t != nil {
		walkExpr(t.Typeof, visit)
	}
}
