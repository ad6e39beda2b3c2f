package types_test

import (
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// TestLoopAndMacroErrors checks the diagnostics of loops, block
// expressions and macros verbatim.
func TestLoopAndMacroErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		// Loops.
		{`BEGIN { for ($i : 0..10) { } $j = $i; }`, "test.bt:1:35: ERROR: Undefined or undeclared variable: $i\nBEGIN { for ($i : 0..10) { } $j = $i; }\n                                  ^~"},
		{`BEGIN { $i = 1; for ($i : 0..10) { } }`, "test.bt:1:22: ERROR: loop variable $i shadows an existing variable $i; use another name\nBEGIN { $i = 1; for ($i : 0..10) { } }\n                     ^~"},
		{`BEGIN { for ($i : "a"..10) { } }`, "test.bt:1:19: ERROR: for loop range start must be an integer, not string[2]\nBEGIN { for ($i : \"a\"..10) { } }\n                  ^~~"},
		{`BEGIN { for ($i : 0..comm) { } }`, "test.bt:1:22: ERROR: for loop range end must be an integer, not string[16]\nBEGIN { for ($i : 0..comm) { } }\n                     ^~~~"},
		{`BEGIN { for ($kv : @nope) { } }`, "test.bt:1:20: ERROR: Undefined map: @nope; it is iterated over but never assigned\nBEGIN { for ($kv : @nope) { } }\n                   ^~~~~"},
		{`BEGIN { @x = 1; for ($kv : @x) { } }`, "test.bt:1:28: ERROR: cannot iterate over @x: it has no keys; for loops iterate over maps like @x[key]\nBEGIN { @x = 1; for ($kv : @x) { } }\n                           ^~"},
		{`BEGIN { for ($kv : @m) { $x = $kv.2; } @m[1] = 2; }`, "test.bt:1:31: ERROR: tuple index 2 out of range: the tuple has 2 elements\nBEGIN { for ($kv : @m) { $x = $kv.2; } @m[1] = 2; }\n                              ^~~~~"},
		{`BEGIN { @m[1] = 1; for ($kv : @m) { $kv = 1; } }`, "test.bt:1:43: ERROR: Type mismatch for $kv: trying to assign value of type 'int64' when variable already has a type '(int64,int64)'\nBEGIN { @m[1] = 1; for ($kv : @m) { $kv = 1; } }\n                                          ^"},
		{`BEGIN { continue; }`, "test.bt:1:9: ERROR: 'continue' statement is not allowed in a probe outside of a loop\nBEGIN { continue; }\n        ^~~~~~~~"},
		{`BEGIN { unroll(3) { break; } }`, "test.bt:1:21: ERROR: 'break' statement is not allowed in a probe outside of a loop\nBEGIN { unroll(3) { break; } }\n                    ^~~~~"},
		{`BEGIN { unroll(0) { } }`, "test.bt:1:16: ERROR: unroll count must be at least 1, not 0\nBEGIN { unroll(0) { } }\n               ^"},
		{`BEGIN { unroll(101) { } }`, "test.bt:1:16: ERROR: unroll count 101 is too large: at most 100\nBEGIN { unroll(101) { } }\n               ^~~"},
		{`BEGIN { unroll(pid) { } }`, "test.bt:1:16: ERROR: unroll count must be an integer constant\nBEGIN { unroll(pid) { } }\n               ^~~"},
		{`BEGIN { return "s"; }`, "test.bt:1:16: ERROR: return value must be an integer, not string[2]\nBEGIN { return \"s\"; }\n               ^~~"},
		{`BEGIN { return $nope; }`, "test.bt:1:16: ERROR: Undefined or undeclared variable: $nope\nBEGIN { return $nope; }\n               ^~~~~"},
		{`BEGIN { while ("s") { } }`, "test.bt:1:16: ERROR: while condition must be an integer or a boolean, not string[2]\nBEGIN { while (\"s\") { } }\n               ^~~"},
		{`BEGIN { while (1) { $x = 1; } $y = $x; }`, "test.bt:1:36: ERROR: Undefined or undeclared variable: $x\nBEGIN { while (1) { $x = 1; } $y = $x; }\n                                   ^~"},
		// Block expressions.
		{`BEGIN { $a = { let $b = 1; $b }; $c = $b; }`, "test.bt:1:39: ERROR: Undefined or undeclared variable: $b\nBEGIN { $a = { let $b = 1; $b }; $c = $b; }\n                                      ^~"},
		{`BEGIN { $a = { printf("x") }; }`, "test.bt:1:14: ERROR: this expression does not return a value\nBEGIN { $a = { printf(\"x\") }; }\n             ^~~~~~~~~~~~~~~"},
		// Macro definitions and calls.
		{`macro m() { 1 } macro m() { 2 } BEGIN { }`, "test.bt:1:17: ERROR: macro 'm' is defined twice\nmacro m() { 1 } macro m() { 2 } BEGIN { }\n                ^~~~~~~~~~~~~~~"},
		{`macro m($a, $a) { 1 } BEGIN { }`, "test.bt:1:13: ERROR: macro 'm' has two parameters named $a\nmacro m($a, $a) { 1 } BEGIN { }\n            ^~"},
		{`macro m(x) { x } BEGIN { $y = m(1, 2); }`, "test.bt:1:31: ERROR: macro 'm' takes 1 argument, but 2 were given\nmacro m(x) { x } BEGIN { $y = m(1, 2); }\n                              ^~~~~~~"},
		{`macro m(a, b) { a + b } BEGIN { $y = m; }`, "test.bt:1:38: ERROR: macro 'm' takes 2 arguments: call it as m(...)\nmacro m(a, b) { a + b } BEGIN { $y = m; }\n                                     ^"},
		{`macro mine() { 1 } BEGIN { $y = mien!(); }`, "test.bt:1:33: ERROR: unknown macro 'mien'; did you mean 'mine'?\nmacro mine() { 1 } BEGIN { $y = mien!(); }\n                                ^~~~~~~"},
		{`BEGIN { $y = nomacro!(); }`, "test.bt:1:14: ERROR: unknown macro 'nomacro'\nBEGIN { $y = nomacro!(); }\n             ^~~~~~~~~~"},
		{`BEGIN { printf!("x"); }`, "test.bt:1:9: ERROR: printf is a function, not a macro: call it without '!'\nBEGIN { printf!(\"x\"); }\n        ^~~~~~~~~~~~"},
		{`macro m() { $x = 1; } BEGIN { $y = m(); }`, "test.bt:1:36: ERROR: macro 'm' has no value: its body ends with a statement; remove the ';' after its last expression to return that value\nmacro m() { $x = 1; } BEGIN { $y = m(); }\n                                   ^~~"},
		// Types passed as typeof(T).
		{`BEGIN { $t = typeof(uint8); }`, "test.bt:1:14: ERROR: typeof(...) names a type, not a value: a type can be passed to a macro, which uses it where a type goes, e.g. (T *)x or sizeof(T)\nBEGIN { $t = typeof(uint8); }\n             ^~~~~~~~~~~~~"},
		{`macro p(a, b) { (a *)b } BEGIN { $y = p(1, 2); }`, "test.bt:1:18: ERROR: macro 'p' uses parameter 'a' as a type, but was passed a value; pass a type as typeof(T) (in macro 'p' called at test.bt:1:39)\nmacro p(a, b) { (a *)b } BEGIN { $y = p(1, 2); }\n                 ^~~"},
		{`macro s(t) { sizeof(t) } BEGIN { $y = s(typeof($nope)); }`, "test.bt:1:48: ERROR: Undefined or undeclared variable: $nope\nmacro s(t) { sizeof(t) } BEGIN { $y = s(typeof($nope)); }\n                                               ^~~~~"},
		// Argument kinds.
		{`macro m($x) { $x++ } BEGIN { @x = 1; m(@x); }`, "test.bt:1:40: ERROR: macro 'm' expects a scratch variable for $x, but got a map\nmacro m($x) { $x++ } BEGIN { @x = 1; m(@x); }\n                                       ^~"},
		{`macro m($x) { $x++ } BEGIN { m(1 + 1); }`, "test.bt:1:32: ERROR: macro 'm' expects a scratch variable for $x, but got an expression\nmacro m($x) { $x++ } BEGIN { m(1 + 1); }\n                               ^~~~~"},
		{`macro m(@x) { @x } BEGIN { $v = 1; $y = m($v); }`, "test.bt:1:43: ERROR: macro 'm' expects a map for @x, but got a variable\nmacro m(@x) { @x } BEGIN { $v = 1; $y = m($v); }\n                                          ^~"},
		{`macro m(@x) { @x } BEGIN { @a[1] = 1; $y = m(@a[1]); }`, "test.bt:1:46: ERROR: macro 'm' expects a map for @x, but got a map element\nmacro m(@x) { @x } BEGIN { @a[1] = 1; $y = m(@a[1]); }\n                                             ^~~~~"},
		{`macro m($a) { $a + 1 } BEGIN { $y = m($nope); }`, "test.bt:1:39: ERROR: Undefined or undeclared variable: $nope; a variable passed to macro 'm' must be assigned first\nmacro m($a) { $a + 1 } BEGIN { $y = m($nope); }\n                                      ^~~~~"},
		// Hygiene.
		{`macro m() { @x++ } BEGIN { m(); }`, "test.bt:1:13: ERROR: macro 'm' uses map @x, which is not one of its parameters; pass the map as an argument, e.g. macro m(@x) (in macro 'm' called at test.bt:1:28)\nmacro m() { @x++ } BEGIN { m(); }\n            ^~"},
		{`macro m() { $v + 1 } BEGIN { $v = 1; $y = m(); }`, "test.bt:1:13: ERROR: Undefined or undeclared variable: $v (in macro 'm' called at test.bt:1:43)\nmacro m() { $v + 1 } BEGIN { $v = 1; $y = m(); }\n            ^~"},
		{`macro m(x) { x = 1; } BEGIN { $v = 1; m($v); }`, "test.bt:1:14: ERROR: macro 'm' assigns to parameter 'x', which takes an expression; write the parameter as $x to pass a variable (in macro 'm' called at test.bt:1:39)\nmacro m(x) { x = 1; } BEGIN { $v = 1; m($v); }\n             ^"},
		{`macro m(x) { x++ } BEGIN { $v = 1; m($v); }`, "test.bt:1:14: ERROR: macro 'm' modifies parameter 'x', which takes an expression; write the parameter as $x to pass a variable (in macro 'm' called at test.bt:1:36)\nmacro m(x) { x++ } BEGIN { $v = 1; m($v); }\n             ^"},
		{`macro m($a) { let $a = 1; $a } BEGIN { $v = 1; $y = m($v); }`, "test.bt:1:19: ERROR: $a is a parameter of macro 'm' and cannot be declared again (in macro 'm' called at test.bt:1:53)\nmacro m($a) { let $a = 1; $a } BEGIN { $v = 1; $y = m($v); }\n                  ^~"},
		{`macro m($i) { for ($i : 0..3) { } } BEGIN { $v = 1; m($v); }`, "test.bt:1:20: ERROR: loop variable $i shadows an existing variable $i; use another name (in macro 'm' called at test.bt:1:53)\nmacro m($i) { for ($i : 0..3) { } } BEGIN { $v = 1; m($v); }\n                   ^~"},
		// Recursion, and errors inside nested expansions name the chain.
		{`macro a() { b() } macro b() { a() } BEGIN { $x = a(); }`, "test.bt:1:31: ERROR: recursive macro call: a > b > a (in macro 'b' called at test.bt:1:13, in macro 'a' called at test.bt:1:50)\nmacro a() { b() } macro b() { a() } BEGIN { $x = a(); }\n                              ^~~"},
		{`macro a() { a!() } BEGIN { a(); }`, "test.bt:1:13: ERROR: recursive macro call: a > a (in macro 'a' called at test.bt:1:28)\nmacro a() { a!() } BEGIN { a(); }\n            ^~~~"},
		{`macro inner(x) { x + "s" } macro outer(y) { inner(y) } BEGIN { $r = outer(1); }`, "test.bt:1:22: ERROR: Type mismatch for '+': comparing int64 with string[2]; operator '+' needs integer operands, not string[2] (in macro 'inner' called at test.bt:1:45, in macro 'outer' called at test.bt:1:69)\nmacro inner(x) { x + \"s\" } macro outer(y) { inner(y) } BEGIN { $r = outer(1); }\n                     ^~~"},
		{`macro inner(x) { x } macro outer() { inner(1, 2) } BEGIN { $r = outer(); }`, "test.bt:1:38: ERROR: macro 'inner' takes 1 argument, but 2 were given (in macro 'outer' called at test.bt:1:65)\nmacro inner(x) { x } macro outer() { inner(1, 2) } BEGIN { $r = outer(); }\n                                     ^~~~~~~~~~~"},
		// An error in an argument points at the caller's text only.
		{`macro m(x) { x + 1 } BEGIN { $r = m("s"); }`, "test.bt:1:37: ERROR: Type mismatch for '+': comparing string[2] with int64; operator '+' needs integer operands, not string[2]\nmacro m(x) { x + 1 } BEGIN { $r = m(\"s\"); }\n                                    ^~~"},
		{`macro m(x) { let $s = "a"; x } BEGIN { $r = m($s); }`, "test.bt:1:47: ERROR: Undefined or undeclared variable: $s\nmacro m(x) { let $s = \"a\"; x } BEGIN { $r = m($s); }\n                                              ^~"},
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

// TestLoopsCheck lists programs that must check cleanly.
func TestLoopsCheck(t *testing.T) {
	for _, src := range []string{
		`BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 5) { break; } } }`,
		`BEGIN { for ($i : 0..10) { if ($i == 2) { continue; } if ($i == 5) { break; } return; } }`,
		`BEGIN { for ($i : 0..3) { } for ($i : 0..3) { } }`,
		`BEGIN { $n = 5; for ($i : $n - 1..$n * 2) { for ($j : 0..$i) { printf("%d %d\n", $i, $j); } } }`,
		`BEGIN { for ($kv : @m) { printf("%d %s %d\n", $kv.0.0, $kv.0.1, $kv.1); } } END { @m[1, "a"] = 2; }`,
		`BEGIN { unroll(5) { @x++; } unroll(1 + 1) { printf("x\n"); } }`,
		`BEGIN { $a = { let $b = 1; $b + 1 }; $s = { "str" }; $t = { $u = 2; ($u, "x") }; }`,
		`macro one() { 1 } BEGIN { unroll(one) { } $x = one + one() + one!(); }`,
		`macro add(x, y) { x + y } macro twice(x) { add(x, x) } BEGIN { $r = twice(add(1, 2)); }`,
		`macro m($a, @b, c) { $a += c; @b[$a] = c; $a } BEGIN { $v = 1; $w = m($v, @map, 2); }`,
		`macro stmt(x) { x; x; } BEGIN { stmt({ printf("hi\n") }); stmt(printf("x\n")); }`,
		`macro m(x) { x } BEGIN { $b = 2; $r = m({ let $a = 1; $a + $b }); }`,
		`macro m() { let $local = 5; $local } BEGIN { $local = "str"; $r = m(); $s = $local; }`,
		`macro m(@m) { for ($kv : @m) { if ($kv.1 > 1) { break; } } } BEGIN { @c[comm] = count(); m(@c); }`,
	} {
		if _, err := check(t, src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestLoopTypes checks the types of loop variables and block expressions.
func TestLoopTypes(t *testing.T) {
	cases := []struct {
		src  string
		vars map[string]string // variable → type
	}{
		{`BEGIN { for ($i : 0..10) { $a = $i; } }`, map[string]string{"i": "int64", "a": "int64"}},
		{`BEGIN { for ($i : (uint8)0..pid) { $a = $i; } }`, map[string]string{"i": "uint64"}},
		{`BEGIN { @c[1, "x"] = count(); for ($kv : @c) { $k = $kv.0; $v = $kv.1; } }`,
			map[string]string{"kv": "((int64,string[2]),uint64)", "k": "(int64,string[2])", "v": "uint64"}},
		{`BEGIN { @s["x"] = sum(-1); for ($kv : @s) { $v = $kv.1; } }`, map[string]string{"kv": "(string[2],int64)"}},
		{`BEGIN { for ($kv : @m) { $v = $kv.1; } } END { @m[comm] = "s"; }`, map[string]string{"kv": "(string[16],string[2])", "v": "string[2]"}},
		{`BEGIN { $a = { let $b = "s"; $b }; }`, map[string]string{"a": "string[2]", "b": "string[2]"}},
		{`macro m(x) { let $l = x; $l } BEGIN { $a = m(comm); }`, map[string]string{"a": "string[16]", "l": "string[16]"}},
	}
	for _, c := range cases {
		info, err := check(t, c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		got := map[string]string{}
		for _, v := range info.Vars {
			got[v.Name] = v.Type.String()
		}
		for name, want := range c.vars {
			if got[name] != want {
				t.Errorf("%s: $%s is %s, want %s", c.src, name, got[name], want)
			}
		}
	}
}

// TestMacroHygiene checks what a macro's variables refer to: a $param is
// the caller's variable, a variable declared in the body is the body's own
// even when the caller has one of the same name, and an expression
// argument is evaluated in the caller's scope.
func TestMacroHygiene(t *testing.T) {
	info, err := check(t, `
macro m($p, x) { let $a = 100; $p = $a + x; $a }
BEGIN { $a = 1; $v = 2; $r = m($v, $a); }`)
	if err != nil {
		t.Fatal(err)
	}
	decls := map[*types.Var]bool{}
	uses := map[string][]*types.Var{} // name as written → what it refers to
	for v, tv := range info.Vars {
		uses[v.Name] = append(uses[v.Name], tv)
		decls[tv] = true
	}
	// $a: the caller's and the macro's are two variables.
	as := map[*types.Var]bool{}
	for _, v := range uses["a"] {
		as[v] = true
	}
	if len(as) != 2 {
		t.Errorf("$a resolves to %d variables, want 2 (the caller's and the macro's own)", len(as))
	}
	// $p is bound to the caller's $v: no variable named p exists.
	for tv := range decls {
		if tv.Name == "p" {
			t.Errorf("$p got a variable of its own; it must be the caller's $v")
		}
	}
	vs := map[*types.Var]bool{}
	for _, v := range uses["v"] {
		vs[v] = true
	}
	for _, v := range uses["p"] {
		if !vs[v] {
			t.Errorf("$p does not resolve to the caller's $v")
		}
	}
}

// TestMacroConstants checks that expansions of constant bodies stay
// constants, so they work where a constant is required.
func TestMacroConstants(t *testing.T) {
	info, err := check(t, `macro n() { 2 + 3 } macro twice(x) { x * 2 } BEGIN { unroll(twice(n)) { } @x = { 7 }; }`)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	ast.Inspect(info.Probes[0].Node.Body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.UnrollStmt:
			got = append(got, info.Consts[s.Count])
		case *ast.AssignStmt:
			got = append(got, info.Consts[s.Value])
		}
		return true
	})
	if len(got) != 2 || got[0] != 10 || got[1] != 7 {
		t.Errorf("constants %v, want [10 7]", got)
	}
}

// TestMacroExpansionBounded checks that a macro tree growing
// exponentially is stopped with an error, not by running out of memory.
func TestMacroExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("macro m0(x) { x + x }\n")
	for i := 1; i < 30; i++ {
		b.WriteString("macro m" + itoa(i) + "(x) { m" + itoa(i-1) + "(x) + m" + itoa(i-1) + "(x) }\n")
	}
	b.WriteString("BEGIN { $r = m29(1); }\n")
	_, err := check(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "macro expansion is too large: more than 200000 syntax nodes") {
		t.Errorf("got %v", err)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
