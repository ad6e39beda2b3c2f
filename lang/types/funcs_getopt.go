package types

import (
	"strconv"

	"github.com/ktrace/ktrace/lang/ast"
)

// getopt(): named program options.

// checkGetopt folds getopt("name"[, default]) into a constant: the value
// of --name=value on the command line, else the default (false when there
// is none). The default's type is the parameter's type.
func checkGetopt(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	lit, ok := x.Args[0].(*ast.StringLit)
	if !ok {
		c.errorf(x.Args[0], "First argument to 'getopt' must be a string literal.")
		return TypInvalid
	}
	c.expr(lit)
	name := lit.Value
	var def ast.Expr
	if len(x.Args) >= 2 {
		def = x.Args[1]
		if !isGetoptDefault(def) {
			c.errorf(def, "Second argument to 'getopt' must be a string literal, integer literal, or a boolean literal.")
			return TypInvalid
		}
		c.expr(def)
	}
	if len(x.Args) == 3 {
		if _, ok := x.Args[2].(*ast.StringLit); !ok {
			c.errorf(x.Args[2], "Third argument to 'getopt' must be a string literal (a description).")
			return TypInvalid
		}
		c.expr(x.Args[2])
	}
	// Every use of a parameter must have the same default.
	if first := firstGetopt(c.prog, name); first != nil && first != x && getoptDefault(first) != getoptDefault(x) {
		c.errorf(x, "Command line option '%s' needs to have the same default value in all places it is used. Previous default value: %s", name, getoptDefault(first))
		return TypInvalid
	}
	value, given := c.info.Config.NamedParams[name]
	switch d := def.(type) {
	case nil, *ast.BoolLit:
		v := d != nil && d.(*ast.BoolLit).Value
		if given {
			b, ok := ParseBoolParam(value)
			if !ok {
				c.errorf(x, "program option --%s expects a boolean (true, false, 1 or 0), not %q", name, value)
				return TypInvalid
			}
			v = b
		}
		c.info.Consts[x] = boolInt(v)
		return TypBool
	case *ast.StringLit:
		v := d.Value
		if given {
			v = value
		}
		c.info.StrConsts[x] = v
		return StringType(len(v) + 1)
	default:
		v := c.info.Consts[def]
		if given {
			n, ok := parseParamInt(value)
			if !ok {
				c.errorf(x, "program option --%s expects an integer, not %q", name, value)
				return TypInvalid
			}
			v = n
		}
		c.info.Consts[x] = v
		return TypS64
	}
}

func isGetoptDefault(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.IntLit, *ast.StringLit, *ast.BoolLit:
		return true
	case *ast.Unary:
		_, ok := x.X.(*ast.IntLit)
		return x.Op == "-" && ok
	}
	return false
}

// getoptDefault is a getopt() call's default as bpftrace prints it.
func getoptDefault(x *ast.Call) string {
	if len(x.Args) < 2 {
		return "false"
	}
	switch d := x.Args[1].(type) {
	case *ast.IntLit:
		return strconv.FormatUint(d.Value, 10)
	case *ast.StringLit:
		return d.Value
	case *ast.BoolLit:
		return strconv.FormatBool(d.Value)
	case *ast.Unary:
		if lit, ok := d.X.(*ast.IntLit); ok {
			return "-" + strconv.FormatUint(lit.Value, 10)
		}
	}
	return ""
}

// firstGetopt finds the first getopt() of a parameter in the program.
func firstGetopt(prog *ast.Program, name string) *ast.Call {
	var first *ast.Call
	ast.Inspect(prog, func(n ast.Node) bool {
		if first != nil {
			return false
		}
		if call, ok := n.(*ast.Call); ok && call.Name == "getopt" && len(call.Args) > 0 {
			if lit, ok := call.Args[0].(*ast.StringLit); ok && lit.Value == name {
				first = call
			}
		}
		return true
	})
	return first
}

// GetoptNames lists the parameters a program reads with getopt().
func GetoptNames(prog *ast.Program) map[string]bool {
	names := map[string]bool{}
	ast.Inspect(prog, func(n ast.Node) bool {
		if call, ok := n.(*ast.Call); ok && call.Name == "getopt" && len(call.Args) > 0 {
			if lit, ok := call.Args[0].(*ast.StringLit); ok {
				names[lit.Value] = true
			}
		}
		return true
	})
	return names
}

// ParseBoolParam parses a boolean program option: a bare --name, true or
// 1 is true, false or 0 false.
func ParseBoolParam(s string) (bool, bool) {
	switch s {
	case "", "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}
