package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/cgroups"
	"github.com/ktrace/ktrace/lang/ast"
)

// The helpers the checker answers alone, from types and constants:
// fail(), static_assert(), the is_*() type predicates, strcap(),
// default_str_length and cgroupid(). None generates code.

// inDeadBranch checks a branch, counting it as one a constant condition
// never takes when dead is set: fail() and static_assert() there do not
// fire, as bpftrace does not visit them (`if ($1 < 2) { fail(...) }`).
func (c *checker) inDeadBranch(dead bool, check func()) {
	if dead {
		c.deadBranches++
		defer func() { c.deadBranches-- }()
	}
	check()
}

// checkFail: fail(fmt, args...) stops the compilation with its formatted
// message where it is reached. Its arguments are literals.
func checkFail(c *checker, x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.wantArgs(x, 1, 1)
		return TypNone
	}
	var args []any
	ok := true
	for i, a := range x.Args {
		t := c.expr(a)
		if s, isStr := c.info.StrConsts[a]; isStr && t.Kind == String {
			args = append(args, s)
			continue
		}
		if v, isConst := c.info.Consts[a]; isConst && i > 0 {
			args = append(args, v)
			continue
		}
		if t.Kind != Invalid {
			if i == 0 {
				c.errorf(a, "first argument to fail() must be a string literal")
			} else {
				c.errorf(a, "fail() arguments need to be literals")
			}
		}
		ok = false
	}
	if ok && c.deadBranches == 0 {
		c.errorf(x, "%s", cFormat(args[0].(string), args[1:]))
	}
	return TypNone
}

// cFormat formats literals with a C format string: Go's verbs, once the
// C length modifiers are gone and %u is %d.
func cFormat(format string, args []any) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		b.WriteByte(format[i])
		if format[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			b.WriteByte(format[j])
			j++
		}
		for j < len(format) && strings.IndexByte("hlzjt", format[j]) >= 0 {
			j++
		}
		if j < len(format) {
			verb := format[j]
			if verb == 'u' || verb == 'i' {
				verb = 'd'
			}
			b.WriteByte(verb)
		}
		i = j
	}
	return strings.TrimSuffix(fmt.Sprintf(b.String(), args...), "\n")
}

// checkStaticAssert: static_assert(cond, msg) is a compile error when the
// constant cond is false.
func checkStaticAssert(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypNone
	}
	c.expr(x.Args[0])
	v, isConst := c.info.Consts[x.Args[0]]
	msg, ok := c.literalArg(x, 1)
	switch {
	case !ok:
	case !isConst:
		c.errorf(x.Args[0], "static_assert() needs a condition known at compile time")
	case v == 0 && c.deadBranches == 0:
		c.errorf(x, "%s", msg)
	}
	return TypNone
}

// checkTypePredicate: is_integer(), is_unsigned_integer(), is_ptr(),
// is_str(), is_array() and is_literal() are constants of their argument's
// type, or form.
func checkTypePredicate(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypBool
	}
	a := x.Args[0]
	t := c.expr(a)
	var is bool
	switch x.Name {
	case "is_integer":
		is = t.IsInt()
	case "is_unsigned_integer":
		is = t.IsInt() && !t.Signed
	case "is_ptr":
		is = t.Kind == Pointer
	case "is_str":
		is = t.Kind == String
	case "is_array":
		is = t.Kind == Array
	case "is_literal":
		is = isLiteral(a)
	}
	c.info.Consts[x] = boolInt(is)
	return TypBool
}

// isLiteral reports whether x is written as a literal: a number, string or
// boolean, a negated number, or a positional parameter (bpftrace folds
// those in before it asks).
func isLiteral(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.IntLit, *ast.StringLit, *ast.BoolLit, *ast.Positional:
		return true
	case *ast.Unary:
		_, isInt := x.X.(*ast.IntLit)
		return x.Op == "-" && isInt
	}
	return false
}

// checkStrcap: the capacity of a string or a char array, a constant.
func checkStrcap(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case t.Kind == String:
		c.info.Consts[x] = int64(t.Size)
	case t.Kind == Array && t.Elem.IsInt() && t.Elem.Size == 1:
		c.info.Consts[x] = int64(t.Len)
	case t.Kind == Pointer:
		c.errorf(x, "strcap() of a pointer is not supported yet: read the string first, strcap(str(p))")
		return TypInvalid
	default:
		c.errorf(x, "strcap() expects a string or a char array (%s provided)", t)
		return TypInvalid
	}
	return TypS64
}

// checkCgroupid: cgroupid(path) is the cgroup v2 id of the directory,
// read when the program is compiled.
func checkCgroupid(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	path, ok := c.literalArg(x, 0)
	if !ok || c.pass == 1 {
		return TypU64
	}
	id, err := cgroups.ID(path)
	if err != nil {
		c.errorf(x, "cgroupid(): %v", err)
		return TypInvalid
	}
	c.info.Consts[x] = int64(id)
	return TypU64
}
