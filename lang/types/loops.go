package types

import "github.com/ktrace/ktrace/lang/ast"

// Loops and block expressions. The checker's statement switch calls these.

func (c *checker) whileStmt(s *ast.WhileStmt) { c.notSupported(s, "while loop") }

func (c *checker) forRangeStmt(s *ast.ForRangeStmt) { c.notSupported(s, "for loop") }

func (c *checker) forMapStmt(s *ast.ForMapStmt) { c.notSupported(s, "for loop over a map") }

func (c *checker) unrollStmt(s *ast.UnrollStmt) { c.notSupported(s, "unroll") }

func (c *checker) blockExpr(x *ast.BlockExpr) *Type {
	c.notSupported(x, "a block used as a value")
	return TypInvalid
}
