package types

import (
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Written types: the type names of casts, `let $x: T`, sizeof and offsetof.

// typeName resolves a written type.
func (c *checker) typeName(tn *ast.TypeName) *Type {
	if tn.Typeof != nil || tn.TypeofType != nil {
		return c.typeofName(tn)
	}
	var base *Type
	switch tn.Name {
	case "int8", "s8", "int8_t", "char", "signed char":
		base = TypS8
	case "uint8", "u8", "uint8_t", "unsigned char":
		base = TypU8
	case "int16", "s16", "int16_t", "short", "signed short":
		base = TypS16
	case "uint16", "u16", "uint16_t", "unsigned short":
		base = TypU16
	case "int32", "s32", "int32_t", "int", "signed int", "signed", "pid_t":
		base = TypS32
	case "uint32", "u32", "uint32_t", "unsigned int", "unsigned":
		base = TypU32
	case "int64", "s64", "int64_t", "long", "long long", "signed long", "long int":
		base = TypS64
	case "uint64", "u64", "uint64_t", "unsigned long", "unsigned long long", "size_t":
		base = TypU64
	case "bool":
		base = TypBool
	case "string":
		base = StringType(c.info.Config.MaxStrlen)
	case "void":
		if tn.Stars == 0 {
			c.errorf(tn, "cannot use void as a value type")
			return TypInvalid
		}
		base = TypU8
	default:
		if ut := c.userType(tn.Name); ut != nil {
			base = ut
			if ut.Kind == Struct && tn.Stars == 0 {
				c.errorf(tn, "cannot cast to %s by value: cast to a pointer, (%s *)", ut, ut)
				return TypInvalid
			}
			break
		}
		if c.info.Config.Types == nil {
			c.errorf(tn, "unknown type %q (kernel types need BTF, which this kernel lacks)", tn.Name)
			return TypInvalid
		}
		kt, err := c.info.Config.Types.Type(tn.Name)
		if err != nil {
			c.errorf(tn, "%s", err)
			return TypInvalid
		}
		if kt.Kind == Struct && tn.Stars == 0 {
			c.errorf(tn, "cannot cast to %s by value: cast to a pointer, (%s *)", kt, kt)
			return TypInvalid
		}
		if kt.Kind == Invalid && tn.Stars == 0 {
			// float, double: C types of a definition, not values.
			c.errorf(tn, "%s values are not supported", kt.Name)
			return TypInvalid
		}
		if kt.Kind == None {
			if tn.Stars == 0 {
				c.errorf(tn, "cannot use void as a value type")
				return TypInvalid
			}
			kt = TypU8
		}
		base = kt
	}
	t := base
	if tn.Stars > 0 {
		for i := 0; i < tn.Stars; i++ {
			t = &Type{Kind: Pointer, Size: 8, Elem: t}
		}
	}
	switch {
	case tn.Array == 0:
	case !t.IsInt():
		c.errorf(tn, "arrays of %s are not supported: an array type holds integers", t)
		return TypInvalid
	case tn.Array == ast.ArrayInferred:
		// A cast fills in the length (castToArray); anywhere else an
		// array needs one.
		return &Type{Kind: Array, Elem: t}
	default:
		return &Type{Kind: Array, Elem: t, Len: tn.Array, Size: tn.Array * t.Size}
	}
	return t
}

// sizedType resolves a type for sizeof/offsetof, where a struct by value
// is what is meant.
func (c *checker) sizedType(tn *ast.TypeName) *Type {
	if tn.Stars == 0 && c.script != nil && tn.Array == 0 {
		// A script typedef may name a struct, or a float.
		if t, err := c.script.Type(tn.Name); err == nil && (t.Kind == Struct || t.Kind == Invalid) {
			return t
		}
	}
	if tn.Stars == 0 && c.info.Config.Types != nil && (strings.HasPrefix(tn.Name, "struct ") || strings.HasPrefix(tn.Name, "union ")) {
		t, err := c.info.Config.Types.Type(tn.Name)
		if err != nil {
			c.errorf(tn, "%s", err)
			return TypInvalid
		}
		return t
	}
	return c.typeName(tn)
}

func (c *checker) cast(x *ast.Cast) *Type {
	t := c.typeName(x.Type)
	v := c.expr(x.X)
	if t.Kind == Invalid || v.Kind == Invalid {
		return TypInvalid
	}
	if t.Kind == Array || v.Kind == Array {
		return c.arrayCast(x, t, v)
	}
	if !v.IsInt() || !(t.Kind == Int || t.Kind == Bool || t.Kind == Pointer) {
		c.errorf(x, "cannot cast %s to %s", v, t)
		return TypInvalid
	}
	if v.StackAddr && t.Kind != Bool {
		if t.Kind == Int && t.Size < 8 {
			c.errorf(x, "cannot cast the address of a variable to %s: BPF lets a program only add to or subtract from a stack address, and compare it", t)
			return TypInvalid
		}
		// Still the stack address, whatever the program calls it.
		nt := *t
		nt.StackAddr = true
		t = &nt
	}
	if cv, ok := c.info.Consts[x.X]; ok && t.Kind == Int {
		c.info.Consts[x] = truncate(cv, t)
	} else if ok && t.Kind == Pointer {
		// A constant address stays one: (struct s *)8 + 1 folds.
		c.info.Consts[x] = cv
	}
	if t.Kind == Pointer && c.userProbe() {
		// A pointer made from a uprobe's argument points into the
		// traced process.
		nt := *t
		nt.UserSpace = true
		t = &nt
	}
	return t
}

// arrayCast checks casts between integer arrays and the values of the
// same size they reinterpret: an integer's bytes (`(uint8[8])12345`), a
// string's (`(int8[])"hello"`, NUL included) or another array's, and an
// array back to an integer (`(uint64)$a`). A cast to `T[]` takes its
// length from the value.
func (c *checker) arrayCast(x *ast.Cast, t, v *Type) *Type {
	switch {
	case t.Kind == Array && (v.IsInt() || v.Kind == String || v.Kind == Array):
		if t.Size == 0 && t.Len == 0 { // T[]
			if v.Size%t.Elem.Size != 0 {
				c.errorf(x, "cannot cast %s to an array of %s: %d bytes are not a whole number of elements", v, t.Elem, v.Size)
				return TypInvalid
			}
			nt := *t
			nt.Len, nt.Size = v.Size/t.Elem.Size, v.Size
			return &nt
		}
	case t.IsInt() && v.Kind == Array:
	default:
		c.errorf(x, "cannot cast %s to %s", v, t)
		return TypInvalid
	}
	if t.Size != v.Size {
		c.errorf(x, "cannot cast %s to %s: the sizes differ (%d and %d bytes)", v, t, v.Size, t.Size)
		return TypInvalid
	}
	return t
}

func (c *checker) sizeof(x *ast.Sizeof) *Type {
	var t *Type
	if x.Type != nil {
		t = c.sizedType(x.Type)
	} else {
		t = c.expr(x.X)
	}
	if t.Kind == Invalid && (x.Type == nil || t.Size == 0) {
		return TypInvalid
	}
	c.info.Consts[x] = int64(t.Size)
	return TypU64
}

func (c *checker) offsetof(x *ast.Offsetof) *Type {
	var t *Type
	if x.Type != nil {
		t = c.sizedType(x.Type)
	} else {
		t = c.expr(x.X)
		if t.Kind == Pointer {
			t = t.Elem
		}
	}
	if t.Kind == Invalid {
		return TypInvalid
	}
	off := 0
	for _, name := range x.Fields {
		if t.Kind != Struct {
			c.errorf(x, "offsetof: %s has no member %q", t, name)
			return TypInvalid
		}
		m, err := c.memberOf(t, name)
		if err != nil {
			c.errorf(x, "offsetof: %s", err)
			return TypInvalid
		}
		off += m.Offset
		t = m.Type
	}
	c.info.Consts[x] = int64(off)
	return TypU64
}

// typeofName is `typeof(expr)` or `typeof(type)`, with any '*' after it:
// the expression is checked for its type only, never evaluated.
func (c *checker) typeofName(tn *ast.TypeName) *Type {
	var t *Type
	if tn.TypeofType != nil {
		// A struct is a type here, not a cast by value: resolve a
		// pointer to it and take what it points at.
		inner := *tn.TypeofType
		inner.Stars++
		if t = c.typeName(&inner); t.Kind == Pointer {
			t = t.Elem
		}
	} else {
		t = c.expr(tn.Typeof)
		if t.Kind == None {
			c.errorf(tn.Typeof, "typeof: %s has no value", describe(tn.Typeof))
			return TypInvalid
		}
	}
	if t.Kind == Invalid {
		return TypInvalid
	}
	for i := 0; i < tn.Stars; i++ {
		t = &Type{Kind: Pointer, Size: 8, Elem: t}
	}
	return t
}
