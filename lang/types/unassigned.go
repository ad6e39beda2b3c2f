package types

import "github.com/ktrace/ktrace/lang/ast"

// Variables declared without a value.
//
// `let $x;` holds 0 until assigned. As bpftrace does, a read of such a
// variable before any assignment to it, in the order the statements are
// written, warns "Variable used before it was assigned: $x", and a
// declaration that is never assigned warns "Variable $x was never
// assigned to.". Taking the address (&$x) counts as an assignment, since
// the callee may write through it, and so do ++ and --, which read first.

// warnUnassignedVars runs after pass two, whose Info.Vars ties every use
// of a variable to its declaration.
func (c *checker) warnUnassignedVars() {
	for _, pi := range c.info.Probes {
		c.warnUnassignedIn(pi.Node.Body)
	}
}

func (c *checker) warnUnassignedIn(body *ast.Block) {
	// assigned holds the `let $x;` declarations of body, and whether an
	// assignment to each has been seen yet.
	assigned := map[*ast.Variable]bool{}
	var decls []*ast.LetStmt
	// writes are the variables an assignment, ++, -- or & writes, with
	// the operator: "=" and "&" only write, "+=", "++" and the like read
	// first.
	writes := map[*ast.Variable]string{}
	walkBlock(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.LetStmt:
			if n.Value == nil {
				assigned[n.Var] = false
				decls = append(decls, n)
			}
			writes[n.Var] = "let"
		case *ast.AssignStmt:
			if v, ok := n.Target.(*ast.Variable); ok {
				writes[v] = n.Op
			}
		case *ast.Unary:
			if v, ok := n.X.(*ast.Variable); ok && (n.Op == "&" || n.Op == "++" || n.Op == "--") {
				writes[v] = n.Op
			}
		case *ast.Postfix:
			if v, ok := n.X.(*ast.Variable); ok {
				writes[v] = n.Op
			}
		case *ast.Call:
			// find(@m, key, $v) assigns $v when the key is found.
			if v, ok := findTarget(n); ok {
				writes[v] = "="
			}
		}
	})
	if len(decls) == 0 {
		return
	}
	walkBlock(body, func(n ast.Node) {
		v, ok := n.(*ast.Variable)
		if !ok {
			return
		}
		op := writes[v]
		if op == "let" {
			return
		}
		use := c.info.Vars[v]
		if use == nil {
			return
		}
		done, tracked := assigned[use.Decl]
		if !tracked {
			return
		}
		if !done && op != "=" && op != "&" {
			c.info.Warnings.AddWarning(c.file, v.Sp, "Variable used before it was assigned: $%s", v.Name)
		}
		if op != "" {
			assigned[use.Decl] = true
		}
	})
	for _, d := range decls {
		if !assigned[d.Var] {
			c.info.Warnings.AddWarning(c.file, d.Sp, "Variable $%s was never assigned to.", d.Var.Name)
		}
	}
}

// findTarget returns the variable a find(@m, key, $v) call assigns.
func findTarget(x *ast.Call) (*ast.Variable, bool) {
	if x.Name != "find" || len(x.Args) != 3 {
		return nil, false
	}
	v, ok := x.Args[2].(*ast.Variable)
	return v, ok
}
