package types

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
)

// layoutCases are C definitions whose layout ktrace must compute as gcc
// does on x86-64; names are the types whose size, alignment and member
// offsets are compared.
var layoutCases = []struct {
	name  string
	decls string
	types []string
}{
	{"mixed", `struct Foo {
  int a;
  char name[16];
  unsigned int x:3, y:5;
  struct { long l; union { short s; char c; }; };
  void (*fn)(int, char *);
  struct Foo *next;
  int m[2][3];
};
typedef struct { u32 id; u64 v; } pair_t;`, []string{"struct Foo", "pair_t"}},
	{"bitfields", `struct B { char a; int b:3; int c:30; unsigned d:1; char e; long f:40; long g:30; short h:9; int :0; char i; };`,
		[]string{"struct B"}},
	{"small_bitfields", `struct Z { char a; _Bool b:1; unsigned char c:7; unsigned short d:9; signed char e:2; };`, []string{"struct Z"}},
	{"unnamed_bitfields", `struct UB { char a; int :4; int b:4; unsigned long long c:1; char :0; char d; };
struct OnlyUnnamed { char a; long :3; };`, []string{"struct UB", "struct OnlyUnnamed"}},
	{"union", `union U { int a:3; char b[5]; long c; };
struct HasU { char x; union U u; short tail; };`, []string{"union U", "struct HasU"}},
	{"packed", `struct __attribute__((packed)) P { char a; int b; short c:3; long d:33; char e; };
struct Q { char a; struct P p; int z; };`, []string{"struct P", "struct Q"}},
	{"aligned", `struct __attribute__((aligned(16))) A16 { char a; };
struct HA { char c; struct A16 x; char d; };`, []string{"struct A16", "struct HA"}},
	{"enums", `enum E1 { X1 = -1 };
enum E2 { X2 = 0x100000000 };
enum E3 { X3 = 1 << 3, Y3, Z3 = X3 + Y3 };
struct EE { char c; enum E1 a; char d; enum E2 b; enum E3 e:4; };`, []string{"struct EE"}},
	{"flexible", `struct Flex { int n; char data[]; };
struct Flex2 { short n; long data[]; };`, []string{"struct Flex", "struct Flex2"}},
	{"nested", `struct In { char c; short s; };
struct Out { char a; struct In in[3]; struct In *p; int m[2][3]; double d; long double ld; float f; _Bool b; __int128 big; };`,
		[]string{"struct In", "struct Out"}},
	{"typedefs", `typedef unsigned long u64_t;
typedef struct node { struct node *next; u64_t key; } node_t, *node_p;
typedef node_t nodes_t[4];
struct Holder { char tag; nodes_t all; node_p one; unsigned long long int x; long unsigned y; signed char z; };`,
		[]string{"node_t", "struct Holder"}},
	{"function_pointers", `struct Ops { int (*open)(void *, int); void (*handlers[3])(int); char c; long (*(*get)(void))(int, ...); };`,
		[]string{"struct Ops"}},
	{"anonymous_deep", `struct Deep { char a; union { struct { short x; char y; }; long z; }; struct { char p:3; int q:20; }; };`,
		[]string{"struct Deep"}},
}

// fixedWidth gives gcc the kernel's fixed-width names, which ktrace knows
// without a header.
const fixedWidth = `typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long long u64;
typedef signed char s8; typedef short s16; typedef int s32; typedef long long s64;
`

// TestLayoutMatchesGCC compiles each case's definitions with gcc, which
// prints sizeof, _Alignof and the bit offset of every member, and compares
// with ktrace's layout.
func TestLayoutMatchesGCC(t *testing.T) {
	gcc := testutil.RequireTool(t, "gcc", "gcc")
	dir := t.TempDir()
	for _, tc := range layoutCases {
		t.Run(tc.name, func(t *testing.T) {
			s := layoutOf(t, tc.decls)
			var want strings.Builder
			var c strings.Builder
			c.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n" + fixedWidth + tc.decls + "\n")
			c.WriteString(`static int lowbit(const unsigned char *p, size_t n) {
	for (size_t i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) return (int)i;
	return -1;
}
int main(void) {
`)
			for _, name := range tc.types {
				ty, err := s.Type(name)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&want, "%s %d %d\n", name, ty.Size, s.alignOf(ty))
				fmt.Fprintf(&c, "\t{ %s v; (void)v; printf(\"%s %%zu %%zu\\n\", sizeof(%s), _Alignof(%s));\n", name, name, name, name)
				ms, err := s.Members(ty)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					fmt.Fprintf(&want, "  %s %d\n", m.Name, m.Offset*8+m.BitOffset)
					if m.BitSize > 0 {
						fmt.Fprintf(&c, "\tmemset(&v, 0, sizeof v); v.%s = -1; printf(\"  %s %%d\\n\", lowbit((void *)&v, sizeof v));\n", m.Name, m.Name)
					} else {
						fmt.Fprintf(&c, "\tprintf(\"  %s %%zu\\n\", offsetof(%s, %s) * 8);\n", m.Name, name, m.Name)
					}
				}
				c.WriteString("\t}\n")
			}
			c.WriteString("\treturn 0;\n}\n")
			src := filepath.Join(dir, tc.name+".c")
			bin := filepath.Join(dir, tc.name)
			if err := os.WriteFile(src, []byte(c.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(gcc, "-std=gnu11", "-w", "-o", bin, src).CombinedOutput(); err != nil {
				testutil.BuildFailed(t, fmt.Errorf("gcc %s: %v\n%s\n%s", src, err, out, c.String()))
			}
			got, err := exec.Command(bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want.String() {
				t.Errorf("layout differs from gcc's\nktrace:\n%s\ngcc:\n%s", want.String(), got)
			}
		})
	}
}

// layoutOf checks a script made of decls and returns its script types.
func layoutOf(t *testing.T, decls string) *scriptTypes {
	t.Helper()
	f := lang.NewFile("test.bt", []byte(decls+"\nBEGIN { }\n"))
	prog, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(prog, nil, Config{})
	c.declareCTypes()
	if len(c.errs) > 0 {
		t.Fatal(c.errs.Err())
	}
	return c.script
}
