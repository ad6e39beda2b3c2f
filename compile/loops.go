package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
)

// Loops, jumps and block expressions. The checker rejects loops for now,
// so only return reaches here.

func (g *gen) jump(s *ast.JumpStmt) {
	if s.Kind == "return" {
		g.emit(asm.Ja.Label(g.exitLabel))
	}
}

func (g *gen) whileStmt(s *ast.WhileStmt) {
	g.errorf(s, "internal error: while loops have no code generator")
}
func (g *gen) forRangeStmt(s *ast.ForRangeStmt) {
	g.errorf(s, "internal error: for loops have no code generator")
}
func (g *gen) forMapStmt(s *ast.ForMapStmt) {
	g.errorf(s, "internal error: for loops have no code generator")
}
func (g *gen) unrollStmt(s *ast.UnrollStmt) {
	g.errorf(s, "internal error: unroll has no code generator")
}

func (g *gen) blockExprInt(x *ast.BlockExpr) operand {
	g.errorf(x, "internal error: block expressions have no code generator")
	return g.temp(x)
}

func (g *gen) blockExprMem(x *ast.BlockExpr, dst int16, size int) {
	g.errorf(x, "internal error: block expressions have no code generator")
}
