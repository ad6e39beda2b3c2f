package types

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
)

// Diagnostics. Pass one learns types and reports nothing; pass two
// reports, once per position.

func (c *checker) errorf(n ast.Node, format string, args ...any) {
	c.errorAt(n.Span(), format, args...)
}

func (c *checker) errorAt(sp lang.Span, format string, args ...any) {
	if c.pass == 1 {
		return
	}
	for _, e := range c.errs {
		if e.Span.Pos == sp.Pos {
			return // one error per position
		}
	}
	c.errs.Add(c.file, sp, format, args...)
}

func (c *checker) warnf(n ast.Node, format string, args ...any) {
	if c.pass == 1 {
		return
	}
	c.info.Warnings.AddWarning(c.file, n.Span(), format, args...)
}

// notSupported reports a construct of bpftrace's language that ktrace does
// not compile yet: an explicit error is better than a silent miscompile.
func (c *checker) notSupported(n ast.Node, what string) {
	c.errorf(n, "%s is not supported yet", what)
}

// describe names an expression for error messages.
func describe(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Call:
		return x.Name + "()"
	case *ast.MapRef:
		return "@" + x.Name
	case *ast.Variable:
		return "$" + x.Name
	case *ast.Ident:
		return x.Name
	}
	return "this expression"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
