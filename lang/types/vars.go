package types

import "github.com/ktrace/ktrace/lang/ast"

// Scratch variables: scopes, declarations and the type that every
// assignment joins into.

func (c *checker) push() { c.scopes = append(c.scopes, map[string]*Var{}) }
func (c *checker) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

func (c *checker) lookupVar(name string) *Var {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v := c.scopes[i][name]; v != nil {
			return v
		}
	}
	return nil
}

func (c *checker) declareVar(v *ast.Variable, t *Type) *Var {
	if learned := c.varTypes[v]; learned != nil && learned.Kind != Invalid && c.pass == 2 {
		t = learned
	}
	nv := &Var{Name: v.Name, Type: t, Decl: v, ID: c.nextVarID}
	c.nextVarID++
	c.scopes[len(c.scopes)-1][v.Name] = nv
	c.info.Vars[v] = nv
	if c.pass == 1 {
		c.varTypes[v] = t
	}
	return nv
}

func (c *checker) let(s *ast.LetStmt) {
	var t *Type
	if s.Type != nil {
		t = c.typeName(s.Type)
	}
	if s.Value != nil {
		vt := c.expr(s.Value)
		// As for `$x = value`: a call without a value (exit(), print())
		// or an aggregation is no initial value.
		switch {
		case vt.Kind == None:
			c.errorf(s.Value, "%s does not return a value", describe(s.Value))
			vt = TypInvalid
		case vt.IsAggregation():
			c.errorf(s.Value, "aggregations can only be assigned to maps")
			vt = TypInvalid
		}
		if t == nil {
			t = varType(vt)
		} else if !assignable(t, vt) && vt.Kind != Invalid {
			c.errorf(s.Value, "Type mismatch for $%s: trying to assign value of type '%s' when variable already has a type '%s'", s.Var.Name, vt, t)
		}
	}
	if t == nil {
		// A declaration without type or value takes its type from the
		// first assignment, as in bpftrace; pass one learns it. One that
		// is never assigned holds the integer 0.
		t = TypInvalid
		if c.pass == 2 {
			t = TypS64
		}
	}
	if c.scopes[len(c.scopes)-1][s.Var.Name] != nil {
		c.errorf(s.Var, "Variable $%s was already declared in this scope", s.Var.Name)
	}
	if s.Type != nil {
		if c.typedVars == nil {
			c.typedVars = map[*ast.Variable]bool{}
		}
		c.typedVars[s.Var] = true
	}
	c.declareVar(s.Var, t)
}

func (c *checker) assignVar(s *ast.AssignStmt, v *ast.Variable) {
	vt := c.expr(s.Value)
	if vt.Kind == None {
		c.errorf(s.Value, "%s does not return a value", describe(s.Value))
		return
	}
	if vt.IsAggregation() {
		c.errorf(s.Value, "aggregations can only be assigned to maps")
		return
	}
	existing := c.lookupVar(v.Name)
	if s.Op != "=" {
		c.opAssignVar(s, v, existing, vt)
		return
	}
	if existing == nil {
		c.declareVar(v, varType(vt))
		return
	}
	c.reassignVar(s, v, existing, vt)
}

// opAssignVar checks `$x op= value`, which may widen $x as `$x = $x op
// value` would.
func (c *checker) opAssignVar(s *ast.AssignStmt, v *ast.Variable, existing *Var, vt *Type) {
	if existing == nil {
		c.errorf(v, "Undefined or undeclared variable: $%s", v.Name)
		return
	}
	c.info.Vars[v] = existing
	if !existing.Type.IsInt() && existing.Type.Kind != Invalid || !vt.IsInt() && vt.Kind != Invalid {
		c.errorf(s, "operator '%s' needs integers", s.Op)
		return
	}
	if existing.Type.Kind == Invalid && vt.Kind != Invalid {
		// `let $x;` holds 0 until assigned: `$x += 1` makes it an
		// integer.
		existing.Type = storedType(vt)
		if c.pass == 1 {
			c.varTypes[existing.Decl] = existing.Type
		}
	} else if c.pass == 1 && existing.Type.Kind == Int && vt.Kind != Invalid && !c.typedVars[existing.Decl] {
		// `$x += v` is `$x = $x + v`: the 64-bit result widens $x.
		if j := join(existing.Type, arith(existing.Type, vt)); j != nil {
			existing.Type = j
			c.varTypes[existing.Decl] = j
		}
	}
}

// reassignVar checks `$x = value` for a declared $x: pass one widens $x
// to hold the value, unless its type was written.
func (c *checker) reassignVar(s *ast.AssignStmt, v *ast.Variable, existing *Var, vt *Type) {
	c.info.Vars[v] = existing
	if existing.Type.Kind == Invalid {
		// Declared with `let $x;` and assigned now.
		if c.pass == 1 {
			c.varTypes[existing.Decl] = varType(vt)
		}
		existing.Type = varType(vt)
		return
	}
	j := join(existing.Type, vt)
	if j == nil {
		c.errorf(s.Value, "Type mismatch for $%s: trying to assign value of type '%s' when variable already has a type '%s'", v.Name, vt, existing.Type)
		return
	}
	if c.typedVars[existing.Decl] {
		// A written type stays: the value is converted to it.
		if !assignable(existing.Type, vt) {
			c.errorf(s.Value, "Type mismatch for $%s: trying to assign value of type '%s' when variable already has a type '%s'", v.Name, vt, existing.Type)
		}
		return
	}
	if c.pass == 1 {
		existing.Type = j
		c.varTypes[existing.Decl] = j
	}
}

func (c *checker) variable(x *ast.Variable) *Type {
	v := c.lookupVar(x.Name)
	if v == nil {
		c.errorf(x, "Undefined or undeclared variable: $%s", x.Name)
		return TypInvalid
	}
	c.info.Vars[x] = v
	return v.Type
}
