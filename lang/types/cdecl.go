package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
)

// Resolving the script's C definitions (ast.CDecl) into types: names are
// looked up in the whole script first, in any order, then in the
// kernel's BTF; structs and unions are laid out as the x86-64 System V
// ABI lays them out (clayout.go).

// cdecls resolves the definitions of one script.
type cdecls struct {
	c *checker
	s *scriptTypes

	// records holds the type of every struct and union specifier with a
	// body; tagDefs the specifiers that define each tag, in order.
	records  map[*ast.CTypeSpec]*Type
	specOf   map[*Type]*ast.CTypeSpec
	tagDefs  map[string][]*ast.CTypeSpec
	state    map[*Type]resolveState
	enums    map[*ast.CTypeSpec]*scriptEnum
	consts   map[string]*enumConst // every enumerator of the script
	typedefs map[string]*typedefDecl
}

// maxCSize bounds the size of a C type, so sizes never overflow.
const maxCSize = 1 << 30

type resolveState int

const (
	unresolved resolveState = iota
	resolving
	resolved
)

// scriptEnum is one enum specifier with a body.
type scriptEnum struct {
	spec  *ast.CTypeSpec
	typ   *Type
	state resolveState
	vals  []int64
	done  int // how many of vals are known
}

type enumConst struct {
	enum  *scriptEnum
	index int
}

type typedefDecl struct {
	decl  *ast.CDecl
	name  *ast.CDeclarator
	typ   *Type
	state resolveState
}

// declareCTypes makes the script's C definitions a TypeSource over the
// kernel's, reporting what is wrong with them.
func (c *checker) declareCTypes() {
	if len(c.prog.CDecls) == 0 {
		return
	}
	r := &cdecls{
		c: c, s: newScriptTypes(c.info.Config.Types),
		records: map[*ast.CTypeSpec]*Type{}, specOf: map[*Type]*ast.CTypeSpec{}, tagDefs: map[string][]*ast.CTypeSpec{},
		state: map[*Type]resolveState{}, enums: map[*ast.CTypeSpec]*scriptEnum{},
		consts: map[string]*enumConst{}, typedefs: map[string]*typedefDecl{},
	}
	for _, d := range c.prog.CDecls {
		r.collectSpec(d.Spec)
		if d.Typedef {
			for _, n := range d.Names {
				r.collectDeclarator(n)
				if prev := r.typedefs[n.Name]; prev != nil {
					// Resolved and compared with the first below.
					continue
				}
				r.typedefs[n.Name] = &typedefDecl{decl: d, name: n}
			}
		}
	}
	for _, d := range c.prog.CDecls {
		r.declare(d)
	}
	c.script = r.s
	c.info.Config.Types = r.s
}

// collectSpec registers the structs, unions and enums a specifier
// defines, nested ones included: C gives them all file scope.
func (r *cdecls) collectSpec(spec *ast.CTypeSpec) {
	if !spec.Body {
		return
	}
	switch spec.Kind {
	case ast.CStruct, ast.CUnion:
		rec := &scriptRecord{union: spec.Kind == ast.CUnion, defined: true, at: spec.Sp}
		t := &Type{Kind: Struct, Name: recordName(spec), Source: rec}
		r.records[spec] = t
		r.specOf[t] = spec
		if spec.Name != "" {
			key := specKey(spec)
			r.tagDefs[key] = append(r.tagDefs[key], spec)
			if len(r.tagDefs[key]) == 1 {
				r.s.tags[key] = t
			}
		}
		for _, f := range spec.Fields {
			r.collectSpec(f.Spec)
			if f.Decl != nil {
				r.collectDeclarator(f.Decl)
			}
		}
	case ast.CEnum:
		e := &scriptEnum{spec: spec}
		r.enums[spec] = e
		if spec.Name != "" {
			r.tagDefs[specKey(spec)] = append(r.tagDefs[specKey(spec)], spec)
		}
		for i, en := range spec.Enumerators {
			if prev, ok := r.consts[en.Name]; ok {
				r.c.errorAt(en.Sp, "enumerator %s is already defined at %s", en.Name, r.position(prev.enum.spec.Enumerators[prev.index].Sp))
				continue
			}
			r.consts[en.Name] = &enumConst{enum: e, index: i}
		}
	}
}

// collectDeclarator registers the types defined in function parameters.
func (r *cdecls) collectDeclarator(d *ast.CDeclarator) {
	for _, op := range d.Ops {
		for _, p := range op.Params {
			r.collectSpec(p.Spec)
			r.collectDeclarator(p.Decl)
		}
	}
}

func (r *cdecls) position(sp lang.Span) string {
	p := r.c.file.Position(sp.Pos)
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// specKey is the name a tagged specifier is looked up by.
func specKey(spec *ast.CTypeSpec) string {
	switch spec.Kind {
	case ast.CStruct:
		return "struct " + spec.Name
	case ast.CUnion:
		return "union " + spec.Name
	case ast.CEnum:
		return "enum " + spec.Name
	}
	return spec.Name
}

func recordName(spec *ast.CTypeSpec) string {
	kind := "struct"
	if spec.Kind == ast.CUnion {
		kind = "union"
	} else if spec.Kind == ast.CEnum {
		kind = "enum"
	}
	if spec.Name == "" {
		return kind + " (anonymous)"
	}
	return kind + " " + spec.Name
}

// declare resolves one top-level declaration, so that its errors are
// reported even when nothing uses it.
func (r *cdecls) declare(d *ast.CDecl) {
	r.spec(d.Spec, false)
	r.defineAll(d.Spec)
	for _, n := range d.Names {
		td := r.typedefs[n.Name]
		if td.name != n {
			r.redefinedTypedef(td, d, n)
			continue
		}
		t := r.typedef(td, n.NameSp)
		if t != nil && d.Spec.Body && len(n.Ops) == 0 && d.Spec.Name == "" && t.Kind == Struct {
			// typedef struct { ... } name_t: the struct is known by the
			// typedef's name.
			t.Name = n.Name
		}
	}
}

// defineAll lays out every struct and union a specifier defines and
// resolves every enum, nested ones included.
func (r *cdecls) defineAll(spec *ast.CTypeSpec) {
	if !spec.Body {
		return
	}
	switch spec.Kind {
	case ast.CStruct, ast.CUnion:
		t := r.records[spec]
		r.layout(t, spec, spec.Sp)
		for _, f := range spec.Fields {
			r.defineAll(f.Spec)
		}
		if defs := r.tagDefs[specKey(spec)]; spec.Name != "" && len(defs) > 1 && defs[0] != spec {
			r.compareDefinitions(defs[0], spec)
		}
	case ast.CEnum:
		r.enum(r.enums[spec])
		if defs := r.tagDefs[specKey(spec)]; spec.Name != "" && len(defs) > 1 && defs[0] != spec {
			r.compareEnums(defs[0], spec)
		}
	}
}

// compareEnums accepts a second definition of an enum only when it names
// the same constants with the same values.
func (r *cdecls) compareEnums(first, again *ast.CTypeSpec) {
	a, b := r.enum(r.enums[first]), r.enum(r.enums[again])
	if a == nil || b == nil {
		return
	}
	same := len(a.Enum) == len(b.Enum) && a.Size == b.Size && a.Signed == b.Signed
	for v, n := range a.Enum {
		same = same && b.Enum[v] == n
	}
	if !same {
		r.c.errorAt(again.Sp, "%s is redefined with different constants (first defined at %s)", specKey(again), r.position(first.Sp))
	}
}

// compareDefinitions accepts a second definition of a tag only when it
// lays out the same as the first.
func (r *cdecls) compareDefinitions(first, again *ast.CTypeSpec) {
	a, b := r.records[first], r.records[again]
	if r.state[a] != resolved || r.state[b] != resolved {
		return
	}
	if !sameLayout(r.s, a, b) {
		r.c.errorAt(again.Sp, "%s is redefined with a different layout (first defined at %s)", specKey(again), r.position(first.Sp))
	}
}

func sameLayout(s *scriptTypes, a, b *Type) bool {
	if a.Size != b.Size || s.alignOf(a) != s.alignOf(b) {
		return false
	}
	ma, _ := s.Members(a)
	mb, _ := s.Members(b)
	if len(ma) != len(mb) {
		return false
	}
	for i := range ma {
		x, y := ma[i], mb[i]
		if x.Name != y.Name || x.Offset != y.Offset || x.BitOffset != y.BitOffset || x.BitSize != y.BitSize || x.Type.String() != y.Type.String() {
			return false
		}
	}
	return true
}

func (r *cdecls) redefinedTypedef(first *typedefDecl, d *ast.CDecl, n *ast.CDeclarator) {
	a := r.typedef(first, first.name.NameSp)
	b := r.declType(d.Spec, n.Ops, false, n.NameSp)
	if a == nil || b == nil {
		return
	}
	if a.String() != b.String() || a.Size != b.Size {
		r.c.errorAt(n.NameSp, "typedef %s is redefined as %s (first defined as %s at %s)", n.Name, describeC(b), describeC(a), r.position(first.name.NameSp))
	}
}

// typedef resolves a typedef name (nil after an error).
func (r *cdecls) typedef(td *typedefDecl, at lang.Span) *Type {
	switch td.state {
	case resolved:
		return td.typ
	case resolving:
		r.c.errorAt(at, "typedef %s refers to itself", td.name.Name)
		return nil
	}
	td.state = resolving
	td.typ = r.declType(td.decl.Spec, td.name.Ops, false, td.name.NameSp)
	td.state = resolved
	if td.typ != nil {
		r.s.typedefs[td.name.Name] = td.typ
	}
	return td.typ
}

// spec resolves a specifier; complete asks for a type that can be held by
// value (laid out, not only declared). It returns nil after an error.
func (r *cdecls) spec(spec *ast.CTypeSpec, complete bool) *Type {
	switch spec.Kind {
	case ast.CBase:
		return cBaseType(spec.Name)
	case ast.CNamed:
		if td := r.typedefs[spec.Name]; td != nil {
			t := r.typedef(td, spec.Sp)
			if t != nil && complete && !r.complete(t, spec.Sp) {
				return nil
			}
			return t
		}
		if t := cBaseType(spec.Name); t != nil {
			return t
		}
		if t := r.s.kernelType(spec.Name); t != nil {
			return t
		}
		r.c.errorAt(spec.Sp, "unknown type '%s': not defined in the script and not in the kernel's BTF", spec.Name)
		return nil
	case ast.CEnum:
		return r.enumSpec(spec)
	}
	return r.recordSpec(spec, complete)
}

func (r *cdecls) recordSpec(spec *ast.CTypeSpec, complete bool) *Type {
	var t *Type
	if spec.Body {
		t = r.records[spec]
	} else if t = r.s.tags[specKey(spec)]; t == nil {
		if t = r.s.kernelType(specKey(spec)); t == nil {
			t = r.declaredOnly(spec, complete)
			if t == nil {
				return nil
			}
		}
	}
	if complete && !r.complete(t, spec.Sp) {
		return nil
	}
	return t
}

// declaredOnly is a struct or union neither the script nor BTF defines:
// usable through pointers, as in C.
func (r *cdecls) declaredOnly(spec *ast.CTypeSpec, complete bool) *Type {
	key := specKey(spec)
	if t := r.s.declared[key]; t != nil {
		return t
	}
	if complete {
		r.c.errorAt(spec.Sp, "unknown type '%s': not defined in the script and not in the kernel's BTF", key)
		return nil
	}
	t := &Type{Kind: Struct, Name: key, Source: &scriptRecord{union: spec.Kind == ast.CUnion, at: spec.Sp}}
	r.s.declared[key] = t
	return t
}

// complete checks that t can be held by value, laying it out if need be.
func (r *cdecls) complete(t *Type, at lang.Span) bool {
	switch t.Kind {
	case Array:
		return r.complete(t.Elem, at)
	case None:
		r.c.errorAt(at, "void cannot be held by value")
		return false
	case Struct:
	default:
		return true
	}
	rec, ok := t.Source.(*scriptRecord)
	if !ok {
		return true
	}
	if !rec.defined {
		r.c.errorAt(at, "incomplete type '%s' used by value: the script declares it without members, and the kernel's BTF has no such type", t.Name)
		return false
	}
	switch r.state[t] {
	case resolving:
		r.c.errorAt(at, "%s contains itself", t.Name)
		return false
	case unresolved:
		r.layout(t, r.specOf[t], at)
	}
	return r.state[t] == resolved && t.Size >= 0
}

// declType applies a declarator's derivations to a specifier's type.
func (r *cdecls) declType(spec *ast.CTypeSpec, ops []*ast.CTypeOp, complete bool, at lang.Span) *Type {
	// The specifier's type must be complete unless a pointer (or a
	// function) comes between it and the declared name; an array's
	// elements always must be.
	baseComplete := complete
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Kind != ast.CArray {
			baseComplete = false
			break
		}
		baseComplete = true
	}
	t := r.spec(spec, baseComplete)
	if t == nil {
		return nil
	}
	for i, op := range ops {
		switch op.Kind {
		case ast.CPointer:
			switch t.Kind {
			case None:
				t = &Type{Kind: Pointer, Size: 8, Elem: TypU8, Name: "void"}
			default:
				if t == typFunction {
					t = &Type{Kind: Pointer, Size: 8, Elem: t, Name: "function"}
				} else {
					t = &Type{Kind: Pointer, Size: 8, Elem: t}
				}
			}
		case ast.CArray:
			if t == typFunction {
				r.c.errorAt(op.Sp, "an array of functions is not a C type; use function pointers, (*name[N])(...)")
				return nil
			}
			if i > 0 && !r.complete(t, op.Sp) {
				return nil
			}
			n := int64(0)
			if op.Len != nil {
				v, ok := r.constExpr(op.Len)
				if !ok {
					return nil
				}
				if v < 0 || v > 1<<24 {
					r.c.errorAt(op.Len.Span(), "array length %d is out of range (0 to %d)", v, 1<<24)
					return nil
				}
				n = v
			}
			if t.Size > 0 && n > maxCSize/int64(t.Size) {
				r.c.errorAt(op.Sp, "array of %d elements of %d bytes is too large (at most %d bytes)", n, t.Size, maxCSize)
				return nil
			}
			t = r.array(t, int(n), op.Len == nil)
		case ast.CFunc:
			for _, p := range op.Params {
				// Parameters do not matter to a function pointer's
				// layout, but a misspelled type should still be caught.
				if p.Spec.Kind == ast.CBase && p.Spec.Name == "void" && len(p.Decl.Ops) == 0 {
					continue
				}
				r.declType(p.Spec, p.Decl.Ops, false, p.Sp)
			}
			t = typFunction
		}
	}
	return t
}

// array makes an array type; char arrays are strings, as BTF's are.
func (r *cdecls) array(elem *Type, n int, flexible bool) *Type {
	if elem == typChar && !flexible {
		return StringType(n)
	}
	return &Type{Kind: Array, Size: n * elem.Size, Elem: elem, Len: n}
}

func (r *cdecls) enumSpec(spec *ast.CTypeSpec) *Type {
	if spec.Body {
		return r.enum(r.enums[spec])
	}
	key := specKey(spec)
	if defs := r.tagDefs[key]; len(defs) > 0 {
		return r.enum(r.enums[defs[0]])
	}
	if t := r.s.kernelType(key); t != nil {
		return t
	}
	r.c.errorAt(spec.Sp, "unknown type '%s': not defined in the script and not in the kernel's BTF", key)
	return nil
}

// enum computes an enum's constants and its type: int, or unsigned int
// when no constant is negative, or their 64-bit versions when a constant
// needs them, as gcc chooses.
func (r *cdecls) enum(e *scriptEnum) *Type {
	switch e.state {
	case resolved:
		return e.typ
	case resolving:
		r.c.errorAt(e.spec.Sp, "%s is defined in terms of itself", recordName(e.spec))
		return nil
	}
	e.state = resolving
	if e.spec.Packed || e.spec.Aligned != nil {
		// gcc shrinks a packed enum; ktrace would get its size wrong.
		r.c.errorAt(e.spec.Sp, "attributes on enums are not supported")
	}
	e.vals = make([]int64, len(e.spec.Enumerators))
	next := int64(0)
	for i, en := range e.spec.Enumerators {
		if en.Value != nil {
			v, ok := r.constExpr(en.Value)
			if ok {
				next = v
			}
		}
		e.vals[i] = next
		e.done = i + 1
		next++
	}
	lo, hi := int64(0), int64(0)
	for _, v := range e.vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var t Type
	switch {
	case lo >= 0 && hi <= 1<<32-1:
		t = *TypU32
	case lo >= -1<<31 && hi <= 1<<31-1:
		t = *TypS32
	case lo >= 0:
		t = *TypU64
	default:
		t = *TypS64
	}
	t.Name = recordName(e.spec)
	t.Enum = map[int64]string{}
	for i, en := range e.spec.Enumerators {
		if _, dup := t.Enum[e.vals[i]]; !dup {
			t.Enum[e.vals[i]] = en.Name
		}
		if c := r.consts[en.Name]; c != nil && c.enum == e {
			r.s.enumerators[en.Name] = scriptConst{value: e.vals[i], typ: &t}
		}
	}
	e.typ = &t
	e.state = resolved
	if e.spec.Name != "" {
		if _, ok := r.s.tags[specKey(e.spec)]; !ok {
			r.s.tags[specKey(e.spec)] = e.typ
		}
	}
	return e.typ
}

// constExpr evaluates an integer constant expression of a C definition:
// an array length, a bitfield width, an enumerator's value.
func (r *cdecls) constExpr(x ast.Expr) (int64, bool) {
	switch x := x.(type) {
	case *ast.IntLit:
		return int64(x.Value), true
	case *ast.BoolLit:
		return boolInt(x.Value), true
	case *ast.Ident:
		return r.constIdent(x)
	case *ast.Unary:
		v, ok := r.constExpr(x.X)
		if !ok {
			return 0, false
		}
		switch x.Op {
		case "-":
			return -v, true
		case "~":
			return ^v, true
		case "!":
			return boolInt(v == 0), true
		}
	case *ast.Binary:
		return r.constBinary(x)
	case *ast.Ternary:
		cv, ok := r.constExpr(x.Cond)
		if !ok {
			return 0, false
		}
		if cv != 0 {
			return r.constExpr(x.A)
		}
		return r.constExpr(x.B)
	case *ast.Sizeof:
		if x.Type != nil {
			return r.constSizeof(x.Type)
		}
	case *ast.Cast:
		v, ok := r.constExpr(x.X)
		if !ok {
			return 0, false
		}
		if t := cBaseType(x.Type.Name); t != nil && t.Kind == Int && x.Type.Stars == 0 {
			return truncate(v, t), true
		}
		return v, true
	}
	r.c.errorAt(x.Span(), "a C definition needs an integer constant here")
	return 0, false
}

func (r *cdecls) constIdent(x *ast.Ident) (int64, bool) {
	if c := r.consts[x.Name]; c != nil {
		e := c.enum
		if e.state == resolving && c.index >= e.done {
			r.c.errorAt(x.Sp, "enumerator %s is used before its value is defined", x.Name)
			return 0, false
		}
		if e.state != resolving && r.enum(e) == nil {
			return 0, false
		}
		return e.vals[c.index], true
	}
	if r.s.base != nil {
		if v, _, ok := r.s.base.Enumerator(x.Name); ok {
			return v, true
		}
	}
	r.c.errorAt(x.Sp, "unknown constant '%s': not an enumerator of the script or of the kernel's BTF", x.Name)
	return 0, false
}

func (r *cdecls) constBinary(x *ast.Binary) (int64, bool) {
	a, ok := r.constExpr(x.X)
	if !ok {
		return 0, false
	}
	// && and || do not evaluate the right side when the left decides.
	if x.Op == "&&" && a == 0 || x.Op == "||" && a != 0 {
		return boolInt(x.Op == "||"), true
	}
	b, ok := r.constExpr(x.Y)
	if !ok {
		return 0, false
	}
	switch x.Op {
	case "+":
		return a + b, true
	case "-":
		return a - b, true
	case "*":
		return a * b, true
	case "/", "%":
		if b == 0 {
			r.c.errorAt(x.Y.Span(), "division by zero in a C definition")
			return 0, false
		}
		if x.Op == "/" {
			return a / b, true
		}
		return a % b, true
	case "<<", ">>":
		if b < 0 || b > 63 {
			r.c.errorAt(x.Y.Span(), "shift count %d is out of range (0 to 63)", b)
			return 0, false
		}
		if x.Op == "<<" {
			return a << uint(b), true
		}
		return a >> uint(b), true
	case "&":
		return a & b, true
	case "|":
		return a | b, true
	case "^":
		return a ^ b, true
	case "&&", "||":
		return boolInt(b != 0), true
	case "==":
		return boolInt(a == b), true
	case "!=":
		return boolInt(a != b), true
	case "<":
		return boolInt(a < b), true
	case "<=":
		return boolInt(a <= b), true
	case ">":
		return boolInt(a > b), true
	case ">=":
		return boolInt(a >= b), true
	}
	r.c.errorAt(x.Sp, "operator '%s' is not allowed in a C constant", x.Op)
	return 0, false
}

// constSizeof is sizeof(type) inside a C definition.
func (r *cdecls) constSizeof(tn *ast.TypeName) (int64, bool) {
	if tn.Stars > 0 {
		return 8, true
	}
	spec := &ast.CTypeSpec{Sp: tn.Sp, Kind: ast.CNamed, Name: tn.Name}
	for _, k := range []struct {
		prefix string
		kind   ast.CSpecKind
	}{{"struct ", ast.CStruct}, {"union ", ast.CUnion}, {"enum ", ast.CEnum}} {
		if strings.HasPrefix(tn.Name, k.prefix) {
			spec.Kind, spec.Name = k.kind, strings.TrimPrefix(tn.Name, k.prefix)
		}
	}
	if cBaseType(tn.Name) != nil {
		spec.Kind = ast.CBase
	}
	t := r.spec(spec, true)
	if t == nil {
		return 0, false
	}
	n := int64(t.Size)
	if tn.Array > 0 {
		n *= int64(tn.Array)
	}
	return n, true
}
