package parser_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

// cdeclString prints a C declaration compactly; declarators read like C
// spoken aloud, outermost derivation first: `*a[3]` is "a: [3] *", an
// array of 3 pointers.
func cdeclString(d *ast.CDecl) string {
	var names []string
	for _, n := range d.Names {
		names = append(names, declaratorString(n))
	}
	if d.Typedef {
		return fmt.Sprintf("(typedef %s %s)", specString(d.Spec), strings.Join(names, ", "))
	}
	return fmt.Sprintf("(decl %s)", specString(d.Spec))
}

func specString(s *ast.CTypeSpec) string {
	kind := map[ast.CSpecKind]string{ast.CStruct: "struct", ast.CUnion: "union", ast.CEnum: "enum"}[s.Kind]
	if kind == "" {
		return s.Name
	}
	out := kind
	if s.Name != "" {
		out += " " + s.Name
	}
	if s.Packed {
		out += " packed"
	}
	if s.Aligned != nil {
		out += " aligned(" + sexpr(s.Aligned) + ")"
	}
	if !s.Body {
		return out
	}
	var parts []string
	for _, f := range s.Fields {
		part := specString(f.Spec)
		if f.Decl != nil {
			part += " " + declaratorString(f.Decl)
		}
		if f.Bits != nil {
			part += " :" + sexpr(f.Bits)
		}
		parts = append(parts, part)
	}
	for _, e := range s.Enumerators {
		part := e.Name
		if e.Value != nil {
			part += "=" + sexpr(e.Value)
		}
		parts = append(parts, part)
	}
	return "(" + out + " {" + strings.Join(parts, "; ") + "})"
}

func declaratorString(d *ast.CDeclarator) string {
	var ops []string
	for i := len(d.Ops) - 1; i >= 0; i-- {
		op := d.Ops[i]
		switch op.Kind {
		case ast.CPointer:
			ops = append(ops, "*")
		case ast.CArray:
			if op.Len == nil {
				ops = append(ops, "[]")
			} else {
				ops = append(ops, "["+sexpr(op.Len)+"]")
			}
		case ast.CFunc:
			var ps []string
			for _, p := range op.Params {
				ps = append(ps, strings.TrimSpace(specString(p.Spec)+" "+declaratorString(p.Decl)))
			}
			if op.Variadic {
				ps = append(ps, "...")
			}
			ops = append(ops, "fn("+strings.Join(ps, ", ")+")")
		}
	}
	if len(ops) == 0 {
		return d.Name
	}
	if d.Name == "" {
		return strings.Join(ops, " ")
	}
	return d.Name + ": " + strings.Join(ops, " ")
}

func TestParseCDecls(t *testing.T) {
	cases := []struct{ src, want string }{
		{`struct S { int x; };`, `(decl (struct S {int x}))`},
		// bpftrace's documentation leaves out the ';' after the '}'.
		{`struct S { int x; } BEGIN { }`, `(decl (struct S {int x}))`},
		{`struct S { int y[4]; } kprobe:f { }`, `(decl (struct S {int y: [4]}))`},
		{`struct foo;`, `(decl struct foo)`},
		{`union U { long l; char c[8]; };`, `(decl (union U {long l; char c: [8]}))`},
		{`struct B { unsigned int a:3, :2, b:1; int :0; };`, `(decl (struct B {unsigned int a :3; unsigned int :2; unsigned int b :1; int :0}))`},
		{`struct M { char name[16]; int grid[2][3]; char *argv[4]; int (*rows)[3]; };`,
			`(decl (struct M {char name: [16]; int grid: [2] [3]; char argv: [4] *; int rows: * [3]}))`},
		{`struct F { void (*fn)(int, char *); int (*cmp)(const void *a, const void *b); int (*pr)(const char *, ...); long (*(*get)(void))(int); };`,
			`(decl (struct F {void fn: * fn(int, char *); int cmp: * fn(void a: *, void b: *); int pr: * fn(char *, ...); long get: * fn() * fn(int)}))`},
		{`struct N { struct { int a; union { short s; char c; }; }; struct inner { int z; } in; struct path path; };`,
			`(decl (struct N {(struct {int a; (union {short s; char c})}); (struct inner {int z}) in; struct path path}))`},
		{`enum E { A = 1 << 3, B, C = A + 1 };`, `(decl (enum E {A=(<< 1 3); B; C=(+ A 1)}))`},
		{`enum { ONE = 1, TWO, };`, `(decl (enum {ONE=1; TWO}))`},
		{`typedef struct { int a; } pair_t;`, `(typedef (struct {int a}) pair_t)`},
		{`typedef unsigned long u64_t;`, `(typedef unsigned long u64_t)`},
		{`typedef struct node node_t, *node_p, nodes_t[4];`, `(typedef struct node node_t, node_p: *, nodes_t: [4])`},
		{`typedef int (*handler_t)(int);`, `(typedef int handler_t: * fn(int))`},
		{`typedef long unsigned int a_t; typedef long long int b_t; typedef signed char c_t; typedef unsigned d_t; typedef short int e_t; typedef _Bool f_t; typedef long double g_t;`,
			`(typedef unsigned long a_t) (typedef long long b_t) (typedef signed char c_t) (typedef unsigned int d_t) (typedef short e_t) (typedef _Bool f_t) (typedef long double g_t)`},
		{`typedef const volatile u32 q_t;`, `(typedef u32 q_t)`},
		{`struct __attribute__((packed)) P { char a; int b; } __attribute__((aligned(8)));`, `(decl (struct P packed aligned(8) {char a; int b}))`},
		{`struct Flex { int n; char data[]; };`, `(decl (struct Flex {int n; char data: []}))`},
	}
	for _, c := range cases {
		src := c.src
		if !strings.Contains(src, "{ }") {
			src += " BEGIN { }"
		}
		prog, err := parser.Parse(lang.NewFile("test.bt", []byte(src)))
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		var got []string
		for _, d := range prog.CDecls {
			got = append(got, cdeclString(d))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s\ngot  %s\nwant %s", c.src, strings.Join(got, " "), c.want)
		}
		if len(prog.Probes) != 1 {
			t.Errorf("%s: %d probes after the definitions, want 1", c.src, len(prog.Probes))
		}
	}
}

// TestParseCDeclErrors checks the diagnostics of C definitions verbatim.
func TestParseCDeclErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"int f(int x) { return x; }\nBEGIN {}", "test.bt:1:5: ERROR: function definitions are not supported: C definitions in a script may only declare types\nint f(int x) { return x; }\n    ^~~~~~~~"},
		{"int f(a, b) int a; int b; { }\nBEGIN {}", "test.bt:1:5: ERROR: K&R-style function definitions are not supported: C definitions in a script may only declare types\nint f(a, b) int a; int b; { }\n    ^~~~~~~"},
		{"struct S *get(void);\nBEGIN {}", "test.bt:1:10: ERROR: function declarations are not supported: C definitions in a script may only declare types\nstruct S *get(void);\n         ^~~~~~~~~~"},
		{"int x = 5;\nBEGIN {}", "test.bt:1:7: ERROR: initializers are not supported: C definitions in a script may only declare types\nint x = 5;\n      ^"},
		{"struct S { int a; } s;\nBEGIN {}", "test.bt:1:21: ERROR: variable declarations are not supported: C definitions in a script may only declare types; did you mean typedef?\nstruct S { int a; } s;\n                    ^"},
		{"static int x;\nBEGIN {}", "test.bt:1:1: ERROR: the storage class 'static' is not supported: C definitions in a script may only declare types\nstatic int x;\n^~~~~~"},
		{"struct S { static int a; };\nBEGIN {}", "test.bt:1:12: ERROR: the storage class 'static' is not supported: C definitions in a script may only declare types\nstruct S { static int a; };\n           ^~~~~~"},
		{"struct S { int a = 1; };\nBEGIN {}", "test.bt:1:18: ERROR: initializers are not supported: C definitions in a script may only declare types\nstruct S { int a = 1; };\n                 ^"},
		{"struct S { int f(int); };\nBEGIN {}", "test.bt:1:16: ERROR: member f is a function: a struct holds function pointers, (*f)(...)\nstruct S { int f(int); };\n               ^~~~~~"},
		{"struct S { int a }\nBEGIN {}", "test.bt:1:18: ERROR: expected ';', found '}'\nstruct S { int a }\n                 ^"},
		{"struct S { long char a; };\nBEGIN {}", "test.bt:1:12: ERROR: invalid C type 'long char'\nstruct S { long char a; };\n           ^~~~~~~~~"},
		{"struct S { unsigned signed a; };\nBEGIN {}", "test.bt:1:12: ERROR: invalid C type 'unsigned signed'\nstruct S { unsigned signed a; };\n           ^~~~~~~~~~~~~~~"},
		{"struct S { struct T u32 a; };\nBEGIN {}", "test.bt:1:25: ERROR: expected ';', found 'a'\nstruct S { struct T u32 a; };\n                        ^"},
		{"struct S { int; };\nBEGIN {}", "test.bt:1:12: ERROR: member declaration of int declares no member: add a name\nstruct S { int; };\n           ^~~"},
		{"struct { int a; };\nBEGIN {}", "test.bt:1:1: ERROR: an unnamed struct that is not a member or a typedef declares nothing: give it a tag\nstruct { int a; };\n^~~~~~~~~~~~~~~~~"},
		{"typedef struct S;\nBEGIN {}", "test.bt:1:9: ERROR: typedef declares no name: write typedef struct S NAME;\ntypedef struct S;\n        ^~~~~~~~"},
		{"enum E { };\nBEGIN {}", "test.bt:1:10: ERROR: enum E has no enumerators: an enum needs at least one\nenum E { };\n         ^"},
		{"enum E { A = 1, 2 };\nBEGIN {}", "test.bt:1:17: ERROR: expected an enumerator name, found '2'\nenum E { A = 1, 2 };\n                ^"},
		{"struct S { int a; } __attribute__((noinline));\nBEGIN {}", "test.bt:1:36: ERROR: attribute 'noinline' is not supported; only packed and aligned are\nstruct S { int a; } __attribute__((noinline));\n                                   ^~~~~~~~"},
		{"struct S { _Complex double z; };\nBEGIN {}", "test.bt:1:12: ERROR: complex types is not supported: C definitions in a script may only declare types\nstruct S { _Complex double z; };\n           ^~~~~~~~"},
		{"struct S { int a[2; };\nBEGIN {}", "test.bt:1:19: ERROR: expected ']', found ';'\nstruct S { int a[2; };\n                  ^"},
		{"struct S { int a;\nBEGIN {}", "test.bt:2:7: ERROR: expected a name in the declaration, found '{'\nBEGIN {}\n      ^"},
		{"struct 5;\nBEGIN {}", "test.bt:1:8: ERROR: expected a name or '{' after 'struct', found '5'\nstruct 5;\n       ^"},
		// One error per definition: the parser resumes after it.
		{"struct A { int int a; };\nstruct B { x };\nBEGIN {}", "test.bt:2:14: ERROR: expected a name in the declaration, found '}'\nstruct B { x };\n             ^"},
	}
	for _, c := range cases {
		_, err := parser.Parse(lang.NewFile("test.bt", []byte(c.src)))
		if err == nil {
			t.Errorf("%s: parsed without error", c.src)
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

// TestCastToScriptTypedef: a typedef name the script declares casts
// without a '*', as a C type name does.
func TestCastToScriptTypedef(t *testing.T) {
	prog, err := parser.Parse(lang.NewFile("test.bt", []byte("typedef unsigned long u64_t;\nBEGIN { $x = (u64_t)1; $z = sizeof(u64_t); }")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sexpr(prog.Probes[0].Body), `{(= $x (cast u64_t 1)); (= $z (sizeof u64_t))}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// FuzzCDecl parses arbitrary C definitions before a probe and checks the
// script: neither may panic, and every diagnostic points into the file.
func FuzzCDecl(f *testing.F) {
	for _, s := range []string{
		`struct Foo { int a; char name[16]; unsigned int x:3, y:5; struct { long l; union { short s; char c; }; }; void (*fn)(int, char *); struct Foo *next; int m[2][3]; };`,
		`typedef struct { u32 id; u64 v; } pair_t; typedef unsigned long u64_t; typedef pair_t pairs_t[4];`,
		`enum Color { RED, GREEN = 1 << 3, BLUE, WHITE = RED + GREEN + 100 }; enum { ONE = 1, TWO, };`,
		`struct __attribute__((packed)) P { char a; int b; short c:3; long d:33; } __attribute__((aligned(8)));`,
		`struct foo; struct bar { struct foo *f; struct foo g; }; struct baz { struct baz b; };`,
		`int f(a, b) int a; { } static int x = 3; struct S { int a; } s;`,
		`typedef a_t b_t; typedef b_t a_t; struct X { a_t x; int x; };`,
		`struct Flex { int n; char data[]; }; union U { int a:3; char b[5]; long c; }; enum E { A = B, B = A };`,
		`long (*(*get)(void))(int, ...); struct S { int (*rows)[3]; int a[sizeof(struct S *)]; };`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, decls string) {
		src := decls + "\nBEGIN { }\n"
		file := lang.NewFile("fuzz.bt", []byte(src))
		prog, err := parser.Parse(file)
		if err == nil {
			_, err = types.Check(prog, resolve.Static(64, formats.All()), types.Config{})
		}
		if err == nil {
			return
		}
		var list lang.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("%q: error %T is not a list of diagnostics: %v", src, err, err)
		}
		for _, e := range list {
			if e.File != file || !withinFile(e.Span, len(src)) {
				t.Fatalf("%q: diagnostic %q at [%d, %d) is not within the file (%d bytes)", src, e.Msg, e.Span.Pos, e.Span.End, len(src))
			}
		}
		_ = err.Error()
	})
}
