package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

// TestCDeclErrors checks the diagnostics of C definitions verbatim: what a
// C compiler would reject, and what ktrace cannot lay out.
func TestCDeclErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"struct foo { int a; struct foo f; };\nBEGIN {}", "test.bt:1:21: ERROR: struct foo contains itself\nstruct foo { int a; struct foo f; };\n                    ^~~~~~~~~~"},
		{"struct a { struct b x; };\nstruct b { struct a y; };\nBEGIN {}", "test.bt:2:12: ERROR: struct a contains itself\nstruct b { struct a y; };\n           ^~~~~~~~"},
		{"struct foo;\nstruct bar { struct foo f; };\nBEGIN {}", "test.bt:2:14: ERROR: incomplete type 'struct foo' used by value: the script declares it without members, and the kernel's BTF has no such type\nstruct bar { struct foo f; };\n             ^~~~~~~~~~"},
		{"struct bar { struct nosuch n; };\nBEGIN {}", "test.bt:1:14: ERROR: unknown type 'struct nosuch': not defined in the script and not in the kernel's BTF\nstruct bar { struct nosuch n; };\n             ^~~~~~~~~~~~~"},
		{"typedef nosuch_t my_t;\nBEGIN {}", "test.bt:1:9: ERROR: unknown type 'nosuch_t': not defined in the script and not in the kernel's BTF\ntypedef nosuch_t my_t;\n        ^~~~~~~~"},
		{"struct s { int a; long b; char a; };\nBEGIN {}", "test.bt:1:32: ERROR: duplicate member a in struct s (first declared at 1:16)\nstruct s { int a; long b; char a; };\n                               ^"},
		{"struct s { int a; union { long a; char c; }; };\nBEGIN {}", "test.bt:1:19: ERROR: duplicate member a in struct s (first declared at 1:16)\nstruct s { int a; union { long a; char c; }; };\n                  ^~~~~~~~~~~~~~~~~~~~~~~~~"},
		{"struct s { int a; };\nstruct s { long a; };\nBEGIN {}", "test.bt:2:1: ERROR: struct s is redefined with a different layout (first defined at 1:1)\nstruct s { long a; };\n^~~~~~~~~~~~~~~~~~~~"},
		{"typedef int t;\ntypedef long t;\nBEGIN {}", "test.bt:2:14: ERROR: typedef t is redefined as int64 (first defined as int32 at 1:13)\ntypedef long t;\n             ^"},
		{"typedef a_t b_t;\ntypedef b_t a_t;\nBEGIN {}", "test.bt:1:9: ERROR: typedef a_t refers to itself\ntypedef a_t b_t;\n        ^~~"},
		{"struct s { int a:33; };\nBEGIN {}", "test.bt:1:18: ERROR: bitfield a is 33 bits wide, wider than its type int32 (32 bits)\nstruct s { int a:33; };\n                 ^~"},
		{"struct s { int a:0; };\nBEGIN {}", "test.bt:1:18: ERROR: bitfield a has zero width: only an unnamed bitfield may\nstruct s { int a:0; };\n                 ^"},
		{"struct s { char *p:3; };\nBEGIN {}", "test.bt:1:17: ERROR: bitfield p has type int8 *: a bitfield must have an integer type\nstruct s { char *p:3; };\n                ^~~~"},
		{"struct s { char d[]; int n; };\nBEGIN {}", "test.bt:1:17: ERROR: flexible array member d must be the last member of a struct with other members\nstruct s { char d[]; int n; };\n                ^~~"},
		{"struct s { void v; };\nBEGIN {}", "test.bt:1:17: ERROR: member v has type void\nstruct s { void v; };\n                ^"},
		{"struct s { int a[-1]; };\nBEGIN {}", "test.bt:1:18: ERROR: array length -1 is out of range (0 to 16777216)\nstruct s { int a[-1]; };\n                 ^~"},
		{"struct s { int a[N]; };\nBEGIN {}", "test.bt:1:18: ERROR: unknown constant 'N': not an enumerator of the script or of the kernel's BTF\nstruct s { int a[N]; };\n                 ^"},
		{"enum E { A = B, B = 2 };\nBEGIN {}", "test.bt:1:14: ERROR: enumerator B is used before its value is defined\nenum E { A = B, B = 2 };\n             ^"},
		{"enum E { A = 1 / 0 };\nBEGIN {}", "test.bt:1:18: ERROR: division by zero in a C definition\nenum E { A = 1 / 0 };\n                 ^"},
		{"enum E { A };\nenum F { A };\nBEGIN {}", "test.bt:2:10: ERROR: enumerator A is already defined at 1:10\nenum F { A };\n         ^"},
		{"enum E { A = \"s\" };\nBEGIN {}", "test.bt:1:14: ERROR: a C definition needs an integer constant here\nenum E { A = \"s\" };\n             ^~~"},
		{"enum __attribute__((packed)) E { A };\nBEGIN {}", "test.bt:1:1: ERROR: attributes on enums are not supported\nenum __attribute__((packed)) E { A };\n^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{"struct __attribute__((aligned(3))) s { int a; };\nBEGIN {}", "test.bt:1:31: ERROR: alignment 3 is not a power of two up to 4096\nstruct __attribute__((aligned(3))) s { int a; };\n                              ^"},
		{"struct foo;\nBEGIN { $x = ((struct foo *)0)->a; }", "test.bt:2:15: ERROR: struct foo is incomplete: the script declares it without members, and the kernel's BTF has no such type\nBEGIN { $x = ((struct foo *)0)->a; }\n              ^~~~~~~~~~~~~~~~~~~"},
		{"struct s { int a; };\nBEGIN { $x = ((struct s *)0)->b; }", "test.bt:2:15: ERROR: struct s has no member \"b\"; did you mean \"a\"?\nBEGIN { $x = ((struct s *)0)->b; }\n              ^~~~~~~~~~~~~~~~~"},
		{"struct s { double d; };\nBEGIN { $x = ((struct s *)0)->d; }", "test.bt:2:15: ERROR: reading member d of type double is not supported yet\nBEGIN { $x = ((struct s *)0)->d; }\n              ^~~~~~~~~~~~~~~~~"},
		{"typedef double d_t;\nBEGIN { $x = (d_t)1; }", "test.bt:2:15: ERROR: double values are not supported\nBEGIN { $x = (d_t)1; }\n              ^~~"},
		{"struct s { int a; };\nBEGIN { $x = (struct s)1; }", "test.bt:2:15: ERROR: cannot cast to struct s by value: cast to a pointer, (struct s *)\nBEGIN { $x = (struct s)1; }\n              ^~~~~~~~"},
	}
	for _, c := range cases {
		_, err := check(t, c.src)
		if err == nil {
			t.Errorf("%s: no error", c.src)
			continue
		}
		found := false
		for _, e := range err.(lang.ErrorList) {
			found = found || e.Error() == c.want
		}
		if !found {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", c.src, err, c.want)
		}
	}
}

// TestCDeclTypes checks how script types type expressions: the constant
// each expression folds to, and its type.
func TestCDeclTypes(t *testing.T) {
	const decls = `struct task { int pid; char comm[16]; struct task *parent; unsigned int flags:3, state:5; };
typedef struct { u32 id; u64 v; } pair_t;
typedef unsigned long u64_t;
enum Color { RED, GREEN = 1 << 3, BLUE, WHITE = RED + GREEN + 100 };
enum { one = 1, two };
enum Big { HUGE = 0x100000000 };
enum Neg { MINUS = -2 };
`
	cases := []struct {
		expr string
		typ  string
		val  int64 // the folded constant, -1000 when there is none
	}{
		{`sizeof(struct task)`, "uint64", 40},
		{`offsetof(struct task, parent)`, "uint64", 24},
		{`sizeof(pair_t)`, "uint64", 16},
		{`offsetof(pair_t, v)`, "uint64", 8},
		{`sizeof(u64_t)`, "uint64", 8},
		{`(u64_t)-1`, "uint64", -1},
		{`BLUE`, "enum Color", 9},
		{`WHITE`, "enum Color", 108},
		{`two`, "enum (anonymous)", 2},
		{`HUGE`, "enum Big", 0x100000000},
		{`MINUS`, "enum Neg", -2},
		{`(enum Color)8`, "enum Color", 8},
		{`((struct task *)0)->comm`, "string[16]", -1000},
		{`((struct task *)0)->parent->pid`, "int32", -1000},
		{`((struct task *)0)->state`, "uint32", -1000},
		{`((pair_t *)0)->v`, "uint64", -1000},
		{`*(struct task *)0`, "struct task", -1000},
		// Pointer arithmetic counts elements, as in C.
		{`(struct task *)8 + 2`, "struct task *", 88},
		{`2 + (pair_t *)8`, "pair_t *", 40},
		{`(pair_t *)40 - 2`, "pair_t *", 8},
		{`(void *)8 + 2`, "uint8 *", 10},
	}
	for _, c := range cases {
		src := decls + "BEGIN { @x = " + c.expr + "; }"
		info, err := check(t, src)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		x := assigned(t, info)
		if got := info.Types[x].String(); got != c.typ {
			t.Errorf("%s: type %s, want %s", c.expr, got, c.typ)
		}
		v, ok := info.Consts[x]
		switch {
		case c.val == -1000 && ok:
			t.Errorf("%s: folded to %d, want no constant", c.expr, v)
		case c.val != -1000 && (!ok || v != c.val):
			t.Errorf("%s: folded to %d (%v), want %d", c.expr, v, ok, c.val)
		}
	}
}

// assigned returns the value of the first probe's first statement.
func assigned(t *testing.T, info *types.Info) ast.Expr {
	t.Helper()
	return info.Probes[0].Node.Body.Stmts[0].(*ast.AssignStmt).Value
}

// TestCDeclOverKernelTypes checks script types against the kernel's BTF:
// members of kernel types, script types shadowing kernel ones, and kernel
// enum constants in script constants.
func TestCDeclOverKernelTypes(t *testing.T) {
	kt := resolve.NewKernelTypes(64)
	if _, err := kt.Type("struct path"); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	kpath, _ := kt.Type("struct path")
	const decls = `struct mine { char c; struct path path; u32 last; };
struct task_struct { int only; };
enum mine_e { FIRST = SKB_DROP_REASON_NOT_SPECIFIED + 1 };
`
	cases := []struct {
		expr string
		typ  string
		val  int64
	}{
		{`sizeof(struct path)`, "uint64", int64(kpath.Size)},
		{`offsetof(struct mine, path)`, "uint64", 8},
		{`offsetof(struct mine, last)`, "uint64", 8 + int64(kpath.Size)},
		{`sizeof(struct task_struct)`, "uint64", 4},
		{`((struct mine *)0)->path.dentry`, "struct dentry *", -1000},
		{`curtask->only`, "int32", -1000},
	}
	for _, c := range cases {
		f := lang.NewFile("test.bt", []byte(decls+"BEGIN { @x = "+c.expr+"; }"))
		prog, err := parser.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := types.Check(prog, resolve.New(64), types.Config{Types: kt})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		x := assigned(t, info)
		if got := info.Types[x].String(); got != c.typ {
			t.Errorf("%s: type %s, want %s", c.expr, got, c.typ)
		}
		if v, ok := info.Consts[x]; c.val != -1000 && (!ok || v != c.val) {
			t.Errorf("%s: folded to %d (%v), want %d", c.expr, v, ok, c.val)
		}
	}
	// The kernel enum constant's value comes from BTF.
	reason, _, ok := kt.Enumerator("SKB_DROP_REASON_NOT_SPECIFIED")
	if !ok {
		t.Fatal("no SKB_DROP_REASON_NOT_SPECIFIED in BTF")
	}
	f := lang.NewFile("test.bt", []byte(decls+"BEGIN { @x = FIRST; }"))
	prog, _ := parser.Parse(f)
	info, err := types.Check(prog, resolve.New(64), types.Config{Types: kt})
	if err != nil {
		t.Fatal(err)
	}
	if v := info.Consts[assigned(t, info)]; v != reason+1 {
		t.Errorf("FIRST = %d, want %d", v, reason+1)
	}
}

// TestCDeclAccepted lists definitions C would accept, or ktrace accepts on
// purpose, each with an expression whose folded value shows the
// definitions were understood.
func TestCDeclAccepted(t *testing.T) {
	cases := []struct {
		src  string
		expr string
		val  int64
	}{
		// The same definition twice, as two headers might give it.
		{"struct s { int a; long b; };\nstruct s { int a; long b; };\ntypedef int i_t;\ntypedef int i_t;", "sizeof(struct s) + sizeof(i_t)", 20},
		// Definitions in any order: a member's type defined later.
		{"struct outer { struct inner in; char c; };\nstruct inner { long x; };", "offsetof(struct outer, c)", 8},
		// A self-referencing struct through a typedef'd pointer.
		{"typedef struct node node_t;\nstruct node { node_t *next; int v; };", "offsetof(node_t, v)", 8},
		// A pointer to a struct defined nowhere, as in C.
		{"struct opaque;\nstruct h { struct opaque *o; struct nowhere *n; };", "sizeof(struct h)", 16},
		// Enum constants in array lengths and other enums.
		{"enum { N = 4 };\nenum E { M = N * 2 };\nstruct a { int v[M]; char c[sizeof(int) * N]; };", "sizeof(struct a)", 48},
		// Lower-case enum constants are constants too.
		{"enum { one = 1, two };", "two", 2},
	}
	for _, c := range cases {
		info, err := check(t, c.src+"\nBEGIN { @x = "+c.expr+"; }")
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if v, ok := info.Consts[assigned(t, info)]; !ok || v != c.val {
			t.Errorf("%s: %s folded to %d (%v), want %d", c.src, c.expr, v, ok, c.val)
		}
	}
}
