package ast

import "github.com/ktrace/ktrace/lang"

// C definitions: the struct, union, enum and typedef declarations a script
// may write at top level, as a C compiler reads them. The parser keeps
// them as written; lang/types lays them out and makes them a type source
// that shadows the kernel's BTF.

// CDecl is one top-level C declaration, such as `struct S { int a; };`,
// `enum E { A, B };` or `typedef unsigned long u64_t;`.
type CDecl struct {
	Sp      lang.Span
	Typedef bool
	Spec    *CTypeSpec
	// Names are the declarators of a typedef (`typedef struct s s_t, *s_p;`);
	// a plain struct, union or enum declaration has none.
	Names []*CDeclarator
}

// CSpecKind says what a CTypeSpec names.
type CSpecKind int

// The kinds of type specifiers.
const (
	CBase   CSpecKind = iota // a C base type: "int", "unsigned long long", "_Bool"
	CNamed                   // a typedef name: "u32", "pid_t", a script typedef
	CStruct                  // struct [tag] [{...}]
	CUnion                   // union [tag] [{...}]
	CEnum                    // enum [tag] [{...}]
)

// CTypeSpec is the type a declaration or member starts with.
type CTypeSpec struct {
	Sp   lang.Span
	Kind CSpecKind
	// Name is the base type's canonical spelling ("unsigned long" for
	// `long unsigned int`), the typedef name, or the struct, union or enum
	// tag ("" when anonymous).
	Name string
	// Body is set when the specifier defines its members or enumerators
	// (`struct S { ... }`), not only names the type (`struct S`).
	Body        bool
	Fields      []*CField      // struct and union members
	Enumerators []*CEnumerator // enum constants
	// Packed is __attribute__((packed)); Aligned is
	// __attribute__((aligned(N))) (nil when absent).
	Packed  bool
	Aligned Expr
}

// CField is one member declarator of a struct or union: `int a:3`,
// `char name[16]`, or a nested anonymous `struct { ... };`.
type CField struct {
	Sp   lang.Span
	Spec *CTypeSpec
	// Decl is nil for an anonymous struct or union member and for an
	// unnamed bitfield (`int :4;`).
	Decl *CDeclarator
	// Bits is the width of a bitfield, nil for other members.
	Bits Expr
}

// CDeclarator is the part of a declaration that names something and
// derives its type from the specifier: `*p`, `a[4][2]`, `(*fn)(int)`.
type CDeclarator struct {
	Sp     lang.Span
	Name   string // "" in an abstract declarator (a parameter without a name)
	NameSp lang.Span
	// Ops derive the declared type from the specifier's, applied in
	// order: `*a[3]` is [pointer, array 3] (an array of 3 pointers) and
	// `(*fn)(int)` is [function, pointer] (a pointer to a function).
	Ops []*CTypeOp
}

// COpKind is a type derivation.
type COpKind int

// The type derivations of C declarators.
const (
	CPointer COpKind = iota
	CArray
	CFunc
)

// CTypeOp is one derivation of a CDeclarator.
type CTypeOp struct {
	Sp   lang.Span
	Kind COpKind
	// Len is an array's length; nil for `[]` (a flexible array member).
	Len Expr
	// Params are a function's parameters; Variadic is set for `...`.
	Params   []*CParam
	Variadic bool
}

// CParam is one parameter of a function type.
type CParam struct {
	Sp   lang.Span
	Spec *CTypeSpec
	Decl *CDeclarator // never nil; its Name may be ""
}

// CEnumerator is one enum constant, `A` or `A = 1 << 3`.
type CEnumerator struct {
	Sp    lang.Span
	Name  string
	Value Expr // nil: one more than the previous constant (0 for the first)
}

// Span implements Node.
func (n *CDecl) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CTypeSpec) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CField) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CDeclarator) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CTypeOp) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CParam) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *CEnumerator) Span() lang.Span { return n.Sp }
