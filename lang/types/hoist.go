package types

import (
	"slices"

	"github.com/ktrace/ktrace/lang/ast"
)

// Variables assigned in every branch of an if/else.
//
// bpftrace before 0.21 scoped a variable to its probe, and scripts of
// that time (tcpconnect.bt and tcpdrop.bt as Debian bookworm ships them)
// assign a variable in both branches of an if/else and read it after:
//
//	if ($family == AF_INET) { $saddr = ntop(...); } else { $saddr = ntop(...); }
//	printf("%s\n", $saddr);
//
// Current bpftrace scopes variables to blocks and rejects the read. ktrace
// accepts it, because such a variable is assigned whichever branch runs:
// hoistBranchVars declares it (`let $saddr;`) before the if, so the
// branches assign the one variable. Nothing else changes: a variable that
// is in scope already, assigned in only some branches, or not read after
// the if is left alone.

// hoistBranchVars rewrites every probe body, after macro expansion.
func (c *checker) hoistBranchVars() {
	for _, p := range c.prog.Probes {
		hoistBlock(p.Body, nil)
	}
}

// hoistBlock rewrites b; outer holds the names declared around it.
func hoistBlock(b *ast.Block, outer []string) {
	if b == nil {
		return
	}
	scope := slices.Clip(outer)
	var out []ast.Stmt
	for i, s := range b.Stmts {
		if is, ok := s.(*ast.IfStmt); ok && is.Else != nil {
			for _, name := range assignedInEveryBranch(is) {
				if !slices.Contains(scope, name) && mentionsVar(b.Stmts[i+1:], name) {
					decl := &ast.Variable{Sp: is.Sp, Name: name}
					out = append(out, &ast.LetStmt{Sp: is.Sp, Var: decl})
					scope = append(scope, name)
				}
			}
		}
		hoistStmt(s, scope)
		out = append(out, s)
		scope = append(scope, declaredBy(s)...)
	}
	b.Stmts = out
}

func hoistStmt(s ast.Stmt, scope []string) {
	switch s := s.(type) {
	case *ast.Block:
		hoistBlock(s, scope)
	case *ast.IfStmt:
		hoistBlock(s.Then, scope)
		if s.Else != nil {
			hoistStmt(s.Else, scope)
		}
	case *ast.WhileStmt:
		hoistBlock(s.Body, scope)
	case *ast.ForRangeStmt:
		hoistBlock(s.Body, append(slices.Clip(scope), s.Var.Name))
	case *ast.ForMapStmt:
		hoistBlock(s.Body, append(slices.Clip(scope), s.Var.Name))
	case *ast.UnrollStmt:
		hoistBlock(s.Body, scope)
	}
}

// declaredBy returns the variable a statement declares in its block.
func declaredBy(s ast.Stmt) []string {
	switch s := s.(type) {
	case *ast.LetStmt:
		return []string{s.Var.Name}
	case *ast.AssignStmt:
		if v, ok := s.Target.(*ast.Variable); ok && s.Op == "=" {
			return []string{v.Name}
		}
	}
	return nil
}

// assignedInEveryBranch returns the variables that every branch of an
// if/else chain assigns, whichever branch runs.
func assignedInEveryBranch(s *ast.IfStmt) []string {
	names := assignedBy(s.Then)
	switch e := s.Else.(type) {
	case *ast.Block:
		return intersect(names, assignedBy(e))
	case *ast.IfStmt:
		if e.Else == nil {
			return nil
		}
		return intersect(names, assignedInEveryBranch(e))
	}
	return nil
}

// assignedBy returns the variables a block surely assigns: by a plain
// assignment among its statements, or in every branch of an if/else.
func assignedBy(b *ast.Block) []string {
	var names []string
	for _, s := range b.Stmts {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if v, ok := s.Target.(*ast.Variable); ok && s.Op == "=" && !slices.Contains(names, v.Name) {
				names = append(names, v.Name)
			}
		case *ast.IfStmt:
			if s.Else != nil {
				names = append(names, assignedInEveryBranch(s)...)
			}
		case *ast.Block:
			names = append(names, assignedBy(s)...)
		}
	}
	return names
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// mentionsVar reports whether $name appears in the statements.
func mentionsVar(stmts []ast.Stmt, name string) bool {
	found := false
	for _, s := range stmts {
		ast.Inspect(s, func(n ast.Node) bool {
			if v, ok := n.(*ast.Variable); ok && v.Name == name {
				found = true
			}
			return !found
		})
	}
	return found
}
