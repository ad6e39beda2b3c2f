// Package ast declares the syntax tree of a ktrace script.
//
// Every node records the source span it came from, so every later stage can
// point at the user's text: the checker's type errors, the compiler's
// instruction sources, the verifier's findings.
package ast

import (
	"github.com/ktrace/ktrace/lang"
)

// Node is implemented by every syntax tree node.
type Node interface {
	Span() lang.Span
}

// Program is a whole script.
type Program struct {
	File     *lang.File
	Config   []*ConfigItem // from `config = { k = v; ... }`
	MapDecls []*MapDecl    // `let @m = hash(100);` at top level
	Macros   []*Macro
	Probes   []*Probe
	// Warnings are the preprocessor's (#warning lines).
	Warnings lang.ErrorList
	// CDecls are the script's C definitions (cdecl.go), in source order.
	CDecls []*CDecl
	// Imports are the script's `import "path";` statements, in source
	// order; lang/imports reads them and merges what they hold into the
	// program.
	Imports []*Import
}

// Import is `import "path";`: a bpftrace script (.bt), a C header (.h) or
// a directory of them. At the top level it comes before the probes; in a
// probe's body (Statement) only a C header may be imported.
type Import struct {
	Sp        lang.Span
	Path      string
	Statement bool
}

// ConfigItem is one `key = value` of a config block.
type ConfigItem struct {
	Sp    lang.Span
	Key   string
	Value Expr
}

// MapDecl declares a map's kind and size: `let @name = lruhash(1024);`.
type MapDecl struct {
	Sp   lang.Span
	Name string
	Kind string // hash, lruhash, percpuhash, percpulruhash, percpuarray
	Size Expr
}

// Macro is `macro name($a, @b, c) { body }`.
type Macro struct {
	Sp     lang.Span
	Name   string
	Params []Expr // *Variable, *MapRef or *Ident
	Body   *Block
}

// Probe is one action block with its attach points and optional predicate.
type Probe struct {
	Sp           lang.Span
	AttachPoints []*AttachPoint
	Predicate    Expr // nil when absent
	Body         *Block
}

// AttachPoint is the raw text of one probe specification, such as
// `tracepoint:skb:kfree_skb`. The probe package gives it meaning.
type AttachPoint struct {
	Sp  lang.Span
	Raw string
}

// Span implements Node.
func (n *ConfigItem) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *MapDecl) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Macro) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Probe) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *AttachPoint) Span() lang.Span { return n.Sp }

// Stmt is a statement.
type Stmt interface {
	Node
	stmt()
}

// Block is `{ stmt; stmt; }`; it is also a scope for variables.
type Block struct {
	Sp    lang.Span
	Stmts []Stmt
	// Value, when set, makes the block an expression: `{ stmts; expr }`.
	Value Expr
}

// ExprStmt is an expression evaluated for its effect, usually a call.
type ExprStmt struct {
	X Expr
	// Discard is set for `_ = X`: the value is dropped on purpose.
	Discard bool
}

// AssignStmt is `target = value` or a compound form like `target += value`.
// A map assignment from an aggregation call (`@m = count()`) is an
// AssignStmt too; the checker tells them apart.
type AssignStmt struct {
	Sp     lang.Span
	Target Expr   // *MapRef, *Variable, or a field/index of a variable
	Op     string // "=", "+=", "-=", ...
	Value  Expr
}

// LetStmt declares a scratch variable: `let $x;`, `let $x: int32 = 5;`.
type LetStmt struct {
	Sp    lang.Span
	Var   *Variable
	Type  *TypeName // nil when not written
	Value Expr      // nil when not written
}

// IfStmt is `if (cond) { } else { }`; Else is nil, a *Block or an *IfStmt.
type IfStmt struct {
	Sp   lang.Span
	Cond Expr
	Then *Block
	Else Stmt
}

// WhileStmt is `while (cond) { }`.
type WhileStmt struct {
	Sp   lang.Span
	Cond Expr
	Body *Block
}

// ForRangeStmt is `for ($i : start..end) { }`.
type ForRangeStmt struct {
	Sp         lang.Span
	Var        *Variable
	Start, End Expr
	Body       *Block
}

// ForMapStmt is `for ($kv : @map) { }`.
type ForMapStmt struct {
	Sp   lang.Span
	Var  *Variable
	Map  *MapRef
	Body *Block
}

// UnrollStmt is `unroll(n) { }`.
type UnrollStmt struct {
	Sp    lang.Span
	Count Expr
	Body  *Block
}

// JumpStmt is `break`, `continue` or `return`.
type JumpStmt struct {
	Sp    lang.Span
	Kind  string // "break", "continue", "return"
	Value Expr   // only for return; nil when absent
}

func (*Block) stmt()        {}
func (*ExprStmt) stmt()     {}
func (*AssignStmt) stmt()   {}
func (*LetStmt) stmt()      {}
func (*IfStmt) stmt()       {}
func (*WhileStmt) stmt()    {}
func (*ForRangeStmt) stmt() {}
func (*ForMapStmt) stmt()   {}
func (*UnrollStmt) stmt()   {}
func (*JumpStmt) stmt()     {}

// Span implements Node.
func (n *Block) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *ExprStmt) Span() lang.Span { return n.X.Span() }

// Span implements Node.
func (n *AssignStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *LetStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *IfStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *WhileStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *ForRangeStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *ForMapStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *UnrollStmt) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *JumpStmt) Span() lang.Span { return n.Sp }

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// IntLit is an integer literal; Value holds its bits, Suffix its written suffix.
type IntLit struct {
	Sp     lang.Span
	Value  uint64
	Suffix string // "", "u", "l", "ul", "ll", "ull" (lowercased)
}

// StringLit is a string literal, already unescaped.
type StringLit struct {
	Sp    lang.Span
	Value string
}

// BoolLit is `true` or `false`.
type BoolLit struct {
	Sp    lang.Span
	Value bool
}

// Ident is a bare name: a builtin (pid, comm, args), an enum constant, or a
// macro argument.
type Ident struct {
	Sp   lang.Span
	Name string
}

// Variable is a scratch variable `$name`.
type Variable struct {
	Sp   lang.Span
	Name string
}

// Positional is a positional parameter `$1` or the count `$#`.
type Positional struct {
	Sp    lang.Span
	Index int // 0 for $#
}

// MapRef is `@name`, or `@name[k1, k2]` when Keys is non-nil.
type MapRef struct {
	Sp   lang.Span
	Name string
	Keys []Expr
}

// Call is `name(args)`; for a macro call written `name!(args)`, Bang is set.
type Call struct {
	Sp   lang.Span
	Name string
	Args []Expr
	Bang bool
}

// Binary is `X op Y`.
type Binary struct {
	Sp   lang.Span
	Op   string
	X, Y Expr
}

// Unary is a prefix operator: `-x`, `!x`, `~x`, `*p`, `&x`, `++x`, `--x`.
type Unary struct {
	Sp lang.Span
	Op string
	X  Expr
}

// Postfix is `x++` or `x--`.
type Postfix struct {
	Sp lang.Span
	Op string
	X  Expr
}

// Ternary is `cond ? a : b`.
type Ternary struct {
	Sp         lang.Span
	Cond, A, B Expr // A is nil for `Cond ?: B`, which is Cond when it is true
}

// Field is `X.Name` or `X->Name`; Arrow records which was written.
type Field struct {
	Sp    lang.Span
	X     Expr
	Name  string
	Arrow bool
}

// TupleIndex is `X.N` on a tuple.
type TupleIndex struct {
	Sp    lang.Span
	X     Expr
	Index int
}

// Index is `X[I]` on an array or pointer.
type Index struct {
	Sp lang.Span
	X  Expr
	I  Expr
}

// Tuple is `(a, b, ...)` with at least two elements.
type Tuple struct {
	Sp    lang.Span
	Elems []Expr
	// Names, set for a record `(a=1, b="x")`, name the elements.
	Names []string
}

// Cast is `(type)X`.
type Cast struct {
	Sp   lang.Span
	Type *TypeName
	X    Expr
}

// Sizeof is `sizeof(type)` or `sizeof(expr)`; exactly one of Type and X is set.
type Sizeof struct {
	Sp   lang.Span
	Type *TypeName
	X    Expr
}

// Offsetof is `offsetof(type, field.path)`.
type Offsetof struct {
	Sp     lang.Span
	Type   *TypeName
	X      Expr
	Fields []string
}

// TypeExpr is a type where an expression goes: `typeof(uint8)` passed to
// a macro, whose body uses the parameter where a type goes (`(a *)b`,
// `sizeof(a)`). Anywhere else it is an error.
type TypeExpr struct {
	Type *TypeName
}

// BlockExpr is a block used as a value: `$x = { let $y = 1; $y + 1 }`.
type BlockExpr struct {
	Block *Block
}

// TypeName is a written type: `int32`, `struct sock *`, `uint8[4]`, `string`.
type TypeName struct {
	Sp    lang.Span
	Name  string // "int32", "struct sock", "unsigned int", ...
	Stars int    // pointer depth
	Array int    // fixed array length, 0 if none, ArrayInferred for `T[]`
	// Typeof, for `typeof(expr)`, is the expression whose type this is;
	// TypeofType, for `typeof(type)`, the type. Name is then "typeof".
	Typeof     Expr
	TypeofType *TypeName
}

// ArrayInferred is TypeName.Array for `T[]`, an array whose length a cast
// takes from the value cast.
const ArrayInferred = -1

func (*IntLit) expr()     {}
func (*StringLit) expr()  {}
func (*BoolLit) expr()    {}
func (*Ident) expr()      {}
func (*Variable) expr()   {}
func (*Positional) expr() {}
func (*MapRef) expr()     {}
func (*Call) expr()       {}
func (*Binary) expr()     {}
func (*Unary) expr()      {}
func (*Postfix) expr()    {}
func (*Ternary) expr()    {}
func (*Field) expr()      {}
func (*TupleIndex) expr() {}
func (*Index) expr()      {}
func (*Tuple) expr()      {}
func (*Cast) expr()       {}
func (*Sizeof) expr()     {}
func (*Offsetof) expr()   {}
func (*BlockExpr) expr()  {}
func (*TypeExpr) expr()   {}

// Span implements Node.
func (n *IntLit) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *StringLit) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *BoolLit) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Ident) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Variable) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Positional) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *MapRef) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Call) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Binary) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Unary) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Postfix) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Ternary) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Field) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *TupleIndex) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Index) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Tuple) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Cast) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Sizeof) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *Offsetof) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *BlockExpr) Span() lang.Span { return n.Block.Sp }

// Span implements Node.
func (n *TypeName) Span() lang.Span { return n.Sp }

// Span implements Node.
func (n *TypeExpr) Span() lang.Span { return n.Type.Sp }

// Inspect walks the tree rooted at n in depth-first order, calling f for
// each node; when f returns false the node's children are skipped.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	walkList := func(xs []Expr) {
		for _, x := range xs {
			Inspect(x, f)
		}
	}
	opt := func(x Expr) {
		if x != nil {
			Inspect(x, f)
		}
	}
	switch n := n.(type) {
	case *Program:
		for _, p := range n.Probes {
			Inspect(p, f)
		}
	case *Probe:
		opt(n.Predicate)
		Inspect(n.Body, f)
	case *Block:
		for _, s := range n.Stmts {
			Inspect(s, f)
		}
		opt(n.Value)
	case *ExprStmt:
		Inspect(n.X, f)
	case *AssignStmt:
		Inspect(n.Target, f)
		Inspect(n.Value, f)
	case *LetStmt:
		Inspect(n.Var, f)
		opt(n.Value)
	case *IfStmt:
		Inspect(n.Cond, f)
		Inspect(n.Then, f)
		if n.Else != nil {
			Inspect(n.Else, f)
		}
	case *WhileStmt:
		Inspect(n.Cond, f)
		Inspect(n.Body, f)
	case *ForRangeStmt:
		Inspect(n.Var, f)
		Inspect(n.Start, f)
		Inspect(n.End, f)
		Inspect(n.Body, f)
	case *ForMapStmt:
		Inspect(n.Var, f)
		Inspect(n.Map, f)
		Inspect(n.Body, f)
	case *UnrollStmt:
		Inspect(n.Count, f)
		Inspect(n.Body, f)
	case *JumpStmt:
		opt(n.Value)
	case *MapRef:
		walkList(n.Keys)
	case *Call:
		walkList(n.Args)
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Unary:
		Inspect(n.X, f)
	case *Postfix:
		Inspect(n.X, f)
	case *Ternary:
		Inspect(n.Cond, f)
		Inspect(n.A, f)
		Inspect(n.B, f)
	case *Field:
		Inspect(n.X, f)
	case *TupleIndex:
		Inspect(n.X, f)
	case *Index:
		Inspect(n.X, f)
		Inspect(n.I, f)
	case *Tuple:
		walkList(n.Elems)
	case *Cast:
		Inspect(n.X, f)
	case *Sizeof:
		opt(n.X)
	case *Offsetof:
		opt(n.X)
	case *BlockExpr:
		Inspect(n.Block, f)
	}
}

// Span implements Node: a program spans its whole file.
func (n *Program) Span() lang.Span {
	if n.File == nil {
		return lang.Span{}
	}
	return lang.Span{Pos: n.File.Pos(0), End: n.File.Pos(len(n.File.Src))}
}
