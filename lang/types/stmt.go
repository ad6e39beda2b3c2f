package types

import "github.com/ktrace/ktrace/lang/ast"

// Statements. Loops and block expressions are in loops.go, assignments
// to maps and variables in maps.go and vars.go.

func (c *checker) block(b *ast.Block) {
	c.push()
	defer c.pop()
	for _, s := range b.Stmts {
		c.stmt(s)
	}
	if b.Value != nil {
		c.expr(b.Value)
	}
}

func (c *checker) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.Block:
		c.block(s)
	case *ast.ExprStmt:
		c.exprStmt(s)
	case *ast.AssignStmt:
		c.assign(s)
	case *ast.LetStmt:
		c.let(s)
	case *ast.IfStmt:
		c.ifStmt(s)
	case *ast.WhileStmt:
		c.whileStmt(s)
	case *ast.ForRangeStmt:
		c.forRangeStmt(s)
	case *ast.ForMapStmt:
		c.forMapStmt(s)
	case *ast.UnrollStmt:
		c.unrollStmt(s)
	case *ast.JumpStmt:
		c.jumpStmt(s)
	default:
		c.errorf(s, "unexpected statement")
	}
}

func (c *checker) ifStmt(s *ast.IfStmt) {
	t := c.expr(s.Cond)
	c.wantCondition(s.Cond, t, "if condition")
	// A branch a constant condition never takes is checked, but fail()
	// and static_assert() in it do not fire (compiletime.go).
	v, isConst := c.info.Consts[s.Cond]
	c.inDeadBranch(isConst && v == 0, func() { c.block(s.Then) })
	if s.Else != nil {
		c.inDeadBranch(isConst && v != 0, func() { c.stmt(s.Else) })
	}
}

// jumpStmt checks return, break and continue.
func (c *checker) jumpStmt(s *ast.JumpStmt) {
	switch s.Kind {
	case "return":
		// bpftrace's `return EXPR` leaves the probe; the value is the
		// program's return code, which no probe kind ktrace attaches
		// gives a meaning, so only its side effects matter.
		if s.Value != nil {
			if t := c.expr(s.Value); t.Kind != Invalid && !t.IsInt() {
				c.errorf(s.Value, "return value must be an integer, not %s", t)
			}
		}
	default:
		if c.loops == 0 {
			c.errorf(s, "'%s' statement is not allowed in a probe outside of a loop", s.Kind)
		}
	}
}

func (c *checker) exprStmt(s *ast.ExprStmt) {
	switch x := s.X.(type) {
	case *ast.Call:
		c.call(x)
		return
	case *ast.BlockExpr:
		c.blockStmt(x)
		return
	case *ast.Postfix, *ast.Unary:
		if u, ok := x.(*ast.Unary); !ok || u.Op == "++" || u.Op == "--" {
			c.expr(x)
			return
		}
	}
	t := c.expr(s.X)
	if t.Kind != Invalid && !s.Discard {
		c.warnf(s.X, "Return value discarded: the value of this expression is not used")
	}
}

func (c *checker) assign(s *ast.AssignStmt) {
	switch target := s.Target.(type) {
	case *ast.MapRef:
		c.assignMap(s, target)
	case *ast.Variable:
		c.assignVar(s, target)
	default:
		c.errorf(s.Target, "cannot assign to this expression: only maps and $variables can be assigned")
		c.expr(s.Value)
	}
}

func (c *checker) wantCondition(x ast.Expr, t *Type, what string) {
	if t.Kind == Invalid {
		return
	}
	if !t.IsInt() {
		c.errorf(x, "%s must be an integer or a boolean, not %s", what, t)
	}
}
