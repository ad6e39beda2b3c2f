package types

import "github.com/ktrace/ktrace/lang/ast"

// Unreachable statements.
//
// As bpftrace does, a statement that follows one that always leaves its
// block (return, break, continue, exit(), or an if/else whose branches
// all do) gets the warning "Unreachable statement.", once per block, at
// the first such statement. The statements are still checked and
// compiled: the warning is only a hint that they never run.

// warnUnreachable warns about the first unreachable statement of every
// block of every probe.
func (c *checker) warnUnreachable() {
	for _, pi := range c.info.Probes {
		walkBlock(pi.Node.Body, func(n ast.Node) {
			b, ok := n.(*ast.Block)
			if !ok {
				return
			}
			for i, s := range b.Stmts {
				if !leavesBlock(s) {
					continue
				}
				if i+1 < len(b.Stmts) {
					c.info.Warnings.AddWarning(c.file, b.Stmts[i+1].Span(), "Unreachable statement.")
				}
				return
			}
		})
	}
}

// leavesBlock reports whether s never lets the statement after it run.
func leavesBlock(s ast.Stmt) bool {
	switch s := s.(type) {
	case *ast.JumpStmt:
		return true
	case *ast.ExprStmt:
		switch x := s.X.(type) {
		case *ast.Call:
			return x.Name == "exit" && !x.Bang
		case *ast.BlockExpr:
			return blockLeaves(x.Block)
		}
	case *ast.Block:
		return blockLeaves(s)
	case *ast.IfStmt:
		return s.Else != nil && blockLeaves(s.Then) && leavesBlock(s.Else)
	}
	return false
}

// blockLeaves reports whether one of b's statements always leaves it.
func blockLeaves(b *ast.Block) bool {
	if b == nil {
		return false
	}
	for _, s := range b.Stmts {
		if leavesBlock(s) {
			return true
		}
	}
	return false
}
