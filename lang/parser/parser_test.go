package parser_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
)

// sexpr prints a tree compactly, so tests can state its shape.
func sexpr(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Program:
		var parts []string
		for _, imp := range n.Imports {
			kind := "import"
			if imp.Statement {
				kind = "import-in-probe"
			}
			parts = append(parts, fmt.Sprintf("(%s %q)", kind, imp.Path))
		}
		for _, c := range n.Config {
			parts = append(parts, fmt.Sprintf("(config %s %s)", c.Key, sexpr(c.Value)))
		}
		for _, d := range n.MapDecls {
			parts = append(parts, fmt.Sprintf("(let @%s %s %s)", d.Name, d.Kind, sexprOpt(d.Size)))
		}
		for _, m := range n.Macros {
			parts = append(parts, fmt.Sprintf("(macro %s %s)", m.Name, sexpr(m.Body)))
		}
		for _, p := range n.Probes {
			parts = append(parts, sexpr(p))
		}
		return strings.Join(parts, " ")
	case *ast.Probe:
		var aps []string
		for _, ap := range n.AttachPoints {
			aps = append(aps, ap.Raw)
		}
		return fmt.Sprintf("(probe [%s] %s %s)", strings.Join(aps, " "), sexprOpt(n.Predicate), sexpr(n.Body))
	case *ast.Block:
		var parts []string
		for _, s := range n.Stmts {
			parts = append(parts, sexpr(s))
		}
		if n.Value != nil {
			parts = append(parts, "=> "+sexpr(n.Value))
		}
		return "{" + strings.Join(parts, "; ") + "}"
	case *ast.ExprStmt:
		return sexpr(n.X)
	case *ast.AssignStmt:
		return fmt.Sprintf("(%s %s %s)", n.Op, sexpr(n.Target), sexpr(n.Value))
	case *ast.LetStmt:
		t := "_"
		if n.Type != nil {
			t = sexpr(n.Type)
		}
		return fmt.Sprintf("(let %s %s %s)", sexpr(n.Var), t, sexprOpt(n.Value))
	case *ast.IfStmt:
		if n.Else == nil {
			return fmt.Sprintf("(if %s %s)", sexpr(n.Cond), sexpr(n.Then))
		}
		return fmt.Sprintf("(if %s %s %s)", sexpr(n.Cond), sexpr(n.Then), sexpr(n.Else))
	case *ast.WhileStmt:
		return fmt.Sprintf("(while %s %s)", sexpr(n.Cond), sexpr(n.Body))
	case *ast.ForRangeStmt:
		return fmt.Sprintf("(for %s %s %s %s)", sexpr(n.Var), sexpr(n.Start), sexpr(n.End), sexpr(n.Body))
	case *ast.ForMapStmt:
		return fmt.Sprintf("(for %s %s %s)", sexpr(n.Var), sexpr(n.Map), sexpr(n.Body))
	case *ast.UnrollStmt:
		return fmt.Sprintf("(unroll %s %s)", sexpr(n.Count), sexpr(n.Body))
	case *ast.JumpStmt:
		if n.Value != nil {
			return fmt.Sprintf("(%s %s)", n.Kind, sexpr(n.Value))
		}
		return n.Kind
	case *ast.IntLit:
		return fmt.Sprint(n.Value)
	case *ast.StringLit:
		return fmt.Sprintf("%q", n.Value)
	case *ast.BoolLit:
		return fmt.Sprint(n.Value)
	case *ast.Ident:
		return n.Name
	case *ast.Variable:
		return "$" + n.Name
	case *ast.Positional:
		if n.Index == 0 {
			return "$#"
		}
		return fmt.Sprintf("$%d", n.Index)
	case *ast.MapRef:
		if n.Keys == nil {
			return "@" + n.Name
		}
		var ks []string
		for _, k := range n.Keys {
			ks = append(ks, sexpr(k))
		}
		return fmt.Sprintf("@%s[%s]", n.Name, strings.Join(ks, " "))
	case *ast.Call:
		var as []string
		for _, a := range n.Args {
			as = append(as, sexpr(a))
		}
		bang := ""
		if n.Bang {
			bang = "!"
		}
		return fmt.Sprintf("(%s%s %s)", n.Name, bang, strings.Join(as, " "))
	case *ast.Binary:
		return fmt.Sprintf("(%s %s %s)", n.Op, sexpr(n.X), sexpr(n.Y))
	case *ast.Unary:
		return fmt.Sprintf("(%s %s)", n.Op, sexpr(n.X))
	case *ast.Postfix:
		return fmt.Sprintf("(post%s %s)", n.Op, sexpr(n.X))
	case *ast.Ternary:
		return fmt.Sprintf("(? %s %s %s)", sexpr(n.Cond), sexprOpt(n.A), sexpr(n.B))
	case *ast.Field:
		op := "."
		if n.Arrow {
			op = "->"
		}
		return fmt.Sprintf("(%s %s %s)", op, sexpr(n.X), n.Name)
	case *ast.TupleIndex:
		return fmt.Sprintf("(. %s %d)", sexpr(n.X), n.Index)
	case *ast.Index:
		return fmt.Sprintf("([] %s %s)", sexpr(n.X), sexpr(n.I))
	case *ast.Tuple:
		var es []string
		for _, e := range n.Elems {
			es = append(es, sexpr(e))
		}
		return "(tuple " + strings.Join(es, " ") + ")"
	case *ast.Cast:
		return fmt.Sprintf("(cast %s %s)", sexpr(n.Type), sexpr(n.X))
	case *ast.TypeName:
		s := n.Name + strings.Repeat("*", n.Stars)
		if n.Array > 0 {
			s += fmt.Sprintf("[%d]", n.Array)
		}
		return s
	case *ast.Sizeof:
		if n.Type != nil {
			return "(sizeof " + sexpr(n.Type) + ")"
		}
		return "(sizeof " + sexpr(n.X) + ")"
	case *ast.BlockExpr:
		return sexpr(n.Block)
	}
	return fmt.Sprintf("<%T>", n)
}

func sexprOpt(x ast.Expr) string {
	if x == nil {
		return "_"
	}
	return sexpr(x)
}

func TestParse(t *testing.T) {
	cases := []struct{ src, want string }{
		{`BEGIN { printf("hi\n"); exit(); }`, `(probe [BEGIN] _ {(printf "hi\n"); (exit )})`},
		{`tracepoint:skb:kfree_skb { @[pid, comm] = count(); }`, `(probe [tracepoint:skb:kfree_skb] _ {(= @[pid comm] (count ))})`},
		{"t:skb:kfree_skb,\nk:vfs_read /pid == 1/ { @x = 1 }", `(probe [t:skb:kfree_skb k:vfs_read] (== pid 1) {(= @x 1)})`},
		{`kprobe:f/pid/{}`, `(probe [kprobe:f] pid {})`},
		{`uprobe:/bin/bash:readline { }`, `(probe [uprobe:/bin/bash:readline] _ {})`},
		{`uprobe:/bin/bash:readline/arg0/ { }`, `(probe [uprobe:/bin/bash:readline] arg0 {})`},
		{`uprobe:./bin/app:main { }`, `(probe [uprobe:./bin/app:main] _ {})`},
		{`uprobe:../app:main/arg0/ { }`, `(probe [uprobe:../app:main] arg0 {})`},
		{`uprobe:bin/app:main/arg0/ { }`, `(probe [uprobe:bin/app:main] arg0 {})`},
		{`uprobe:/usr/lib/*/libc.so.6:malloc { }`, `(probe [uprobe:/usr/lib/*/libc.so.6:malloc] _ {})`},
		{`usdt:/tmp/*/prog:* /arg0/ { }`, `(probe [usdt:/tmp/*/prog:*] arg0 {})`},
		// The "/*" of a path is no comment, the "*/" of a later one no
		// comment's end.
		{"uprobe:a/*/x:f { } /* c */ usdt:/b/*/y:p {}\nu:./*:g { } // d", `(probe [uprobe:a/*/x:f] _ {}) (probe [usdt:/b/*/y:p] _ {}) (probe [u:./*:g] _ {})`},
		{`uprobe:"/a b":"ns::f(int)", usdt:x:"p":"\"q\"" { }`, `(probe [uprobe:"/a b":"ns::f(int)" usdt:x:"p":"\"q\""] _ {})`},
		{`U:a/b*:p, ur:x/y:f { }`, `(probe [U:a/b*:p ur:x/y:f] _ {})`},
		{`tracepoint:syscalls:sys_enter_* { }`, `(probe [tracepoint:syscalls:sys_enter_*] _ {})`},
		{`interval:s:1 { print(@x); clear(@x); }`, `(probe [interval:s:1] _ {(print @x); (clear @x)})`},
		{`BEGIN { $x = 1 + 2 * 3 - 4 / 2 % 3; }`, `(probe [BEGIN] _ {(= $x (- (+ 1 (* 2 3)) (% (/ 4 2) 3)))})`},
		{`BEGIN { $x = 1 << 2 + 1 < 3 == 1 & 2 ^ 3 | 4 && 5 || 6; }`, `(probe [BEGIN] _ {(= $x (|| (&& (| (^ (& (== (< (<< 1 (+ 2 1)) 3) 1) 2) 3) 4) 5) 6))})`},
		{`BEGIN { $x = -1; $y = !$x; $z = ~$x; }`, `(probe [BEGIN] _ {(= $x (- 1)); (= $y (! $x)); (= $z (~ $x))})`},
		{`BEGIN { $x = $a ? 1 : $b ? 2 : 3; }`, `(probe [BEGIN] _ {(= $x (? $a 1 (? $b 2 3)))})`},
		{`BEGIN { $x = $a ?: $b ?: 3; }`, `(probe [BEGIN] _ {(= $x (? $a _ (? $b _ 3)))})`},
		{`BEGIN { if (1) { } else if (2) { } else { } }`, `(probe [BEGIN] _ {(if 1 {} (if 2 {} {}))})`},
		{`BEGIN { @x++; --$y; @m[1] += 5; $s <<= 2; }`, `(probe [BEGIN] _ {(post++ @x); (-- $y); (+= @m[1] 5); (<<= $s 2)})`},
		{`t:a:b { @[args.x, args->y] = sum(args.z); }`, `(probe [t:a:b] _ {(= @[(. args x) (-> args y)] (sum (. args z)))})`},
		{`BEGIN { $t = (1, "a", (2, 3)); print($t.0); print($t.2.1); }`, `(probe [BEGIN] _ {(= $t (tuple 1 "a" (tuple 2 3))); (print (. $t 0)); (print (. (. $t 2) 1))})`},
		{`BEGIN { $x = (uint32)arg0; $y = (struct sock *)arg1; $z = (int8[4])$a; }`, `(probe [BEGIN] _ {(= $x (cast uint32 arg0)); (= $y (cast struct sock* arg1)); (= $z (cast int8[4] $a))})`},
		{`BEGIN { $x = ($y); $z = (a) + 1; }`, `(probe [BEGIN] _ {(= $x $y); (= $z (+ a 1))})`},
		{`BEGIN { let $y: typeof($x) = 1; $z = (typeof(struct sock) *)arg0; $s = sizeof(typeof($x)); }`, `(probe [BEGIN] _ {(let $y typeof 1); (= $z (cast typeof* arg0)); (= $s (sizeof typeof))})`},
		{`BEGIN { $x = sizeof(uint64) + sizeof($y); }`, `(probe [BEGIN] _ {(= $x (+ (sizeof uint64) (sizeof $y)))})`},
		{`BEGIN { $x = 0x1F + 010 + 0b101 + 1_000 + 2e3 + 10u + 5ull + 1ms; }`, `(probe [BEGIN] _ {(= $x (+ (+ (+ (+ (+ (+ (+ 31 8) 5) 1000) 2000) 10) 5) 1000000))})`},
		{`BEGIN { $s = "a\tb\x41\101\"\\"; }`, `(probe [BEGIN] _ {(= $s "a\tbAA\"\\")})`},
		{"#!/usr/bin/env ktrace\n// comment\nBEGIN /* c */ { }", `(probe [BEGIN] _ {})`},
		{"#include <linux/skbuff.h>\nBEGIN { }", `(probe [BEGIN] _ {})`},
		{"#define N 5\n#define SQ(x) ((x) * (x))\n#ifdef BPFTRACE_HAVE_BTF\nstruct s { int a; };\n#endif\nBEGIN { $x = SQ(N); }", `(probe [BEGIN] _ {(= $x (* 5 5))})`},
		{`BEGIN { if $x > 1 && $y { } else if !$z { } while $i < 3 { $i++ } }`, `(probe [BEGIN] _ {(if (&& (> $x 1) $y) {} (if (! $z) {})); (while (< $i 3) {(post++ $i)})})`},
		{`BEGIN { if ($a) || ($b) { } }`, `(probe [BEGIN] _ {(if (|| $a $b) {})})`},
		{`BEGIN { for $i : 0..3 { } for $kv : @m { } for ($j : 1..2) { } }`, `(probe [BEGIN] _ {(for $i 0 3 {}); (for $kv @m {}); (for $j 1 2 {})})`},
		{`config = { max_strlen = 32; stack_mode = perf } BEGIN { }`, `(config max_strlen 32) (config stack_mode perf) (probe [BEGIN] _ {})`},
		{`let @a = hash(100); BEGIN { }`, `(let @a hash 100) (probe [BEGIN] _ {})`},
		{`macro add(x) { x + 1 } BEGIN { print(add!(1)); }`, `(macro add {=> (+ x 1)}) (probe [BEGIN] _ {(print (add! 1))})`},
		{`BEGIN { while ($i < 10) { $i++; if ($i == 5) { break; } continue; } }`, `(probe [BEGIN] _ {(while (< $i 10) {(post++ $i); (if (== $i 5) {break}); continue})})`},
		{`BEGIN { for ($i : 0..10) { } for ($kv : @m) { } unroll(3) { } return; }`, `(probe [BEGIN] _ {(for $i 0 10 {}); (for $kv @m {}); (unroll 3 {}); return})`},
		{`BEGIN { let $x: uint32 = 5; let $y; }`, `(probe [BEGIN] _ {(let $x uint32 5); (let $y _ _)})`},
		{`BEGIN { $x = $1 + $#; }`, `(probe [BEGIN] _ {(= $x (+ $1 $#))})`},
		{`BEGIN { $a = { let $b = 1; $b } }`, `(probe [BEGIN] _ {(= $a {(let $b _ 1); => $b})})`},
		{`import "a.bt"; import "lib"; BEGIN { import "t.h"; exit(); }`, `(import "a.bt") (import "lib") (import-in-probe "t.h") (probe [BEGIN] _ {(exit )})`},
		{`import "only.bt";`, `(import "only.bt")`},
		{`BEGIN { @x[1] = 1 } END { delete(@x[1]); delete(@x, 2) }`, `(probe [BEGIN] _ {(= @x[1] 1)}) (probe [END] _ {(delete @x[1]); (delete @x 2)})`},
	}
	for _, c := range cases {
		prog, err := parser.Parse(lang.NewFile("test.bt", []byte(c.src)))
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if got := sexpr(prog); got != c.want {
			t.Errorf("%s\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}

// TestParseErrors checks every syntax error message verbatim: position,
// message, source line and caret.
func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`BEGIN { printf("x") exit(); }`, "test.bt:1:21: ERROR: expected ';' or '}' after statement, found 'exit'\nBEGIN { printf(\"x\") exit(); }\n                    ^~~~"},
		{`BEGIN { $x = ; }`, "test.bt:1:14: ERROR: expected an expression, found ';'\nBEGIN { $x = ; }\n             ^"},
		{`import "a.bt" BEGIN { }`, "test.bt:1:15: ERROR: syntax: expected ';' after import\nimport \"a.bt\" BEGIN { }\n              ^~~~~"},
		{`import 0; BEGIN { }`, "test.bt:1:8: ERROR: syntax: expected string after 'import'\nimport 0; BEGIN { }\n       ^"},
		{`macro m() { 1 } import "a.bt";`, "test.bt:1:17: ERROR: import must come before the probes, macros and map declarations of the script\nmacro m() { 1 } import \"a.bt\";\n                ^~~~~~"},
		{"BEGIN { exit(); }\nconfig = { max_strlen = 8 }", "test.bt:2:1: ERROR: the config block must come before the first probe\nconfig = { max_strlen = 8 }\n^~~~~~"},
		{`BEGIN { $x = (1 + 2; }`, "test.bt:1:20: ERROR: expected ')', found ';'\nBEGIN { $x = (1 + 2; }\n                   ^"},
		{"BEGIN {\n  @x = 1;\n", "test.bt:1:7: ERROR: unclosed '{': expected '}' before end of file\nBEGIN {\n      ^"},
		{`BEGIN { @x = "abc }`, "test.bt:1:14: ERROR: unterminated string\nBEGIN { @x = \"abc }\n             ^~~~~~"},
		{`BEGIN { $x = 1 € 2; }`, "test.bt:1:16: ERROR: unexpected character \"€\"\nBEGIN { $x = 1 € 2; }\n               ^~~"},
		{`BEGIN { $x = 0x; }`, "test.bt:1:14: ERROR: invalid integer literal 0x\nBEGIN { $x = 0x; }\n             ^~"},
		{`BEGIN { $x = 99999999999999999999; }`, "test.bt:1:14: ERROR: integer literal 99999999999999999999 is too large for 64 bits\nBEGIN { $x = 99999999999999999999; }\n             ^~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { $x = 10q; }`, "test.bt:1:14: ERROR: invalid integer literal 10q: unknown suffix \"q\"\nBEGIN { $x = 10q; }\n             ^~~"},
		{`BEGIN { $x = "\q"; }`, "test.bt:1:15: ERROR: invalid escape sequence '\\q'\nBEGIN { $x = \"\\q\"; }\n              ^~"},
		{`BEGIN { 1 = 2; }`, "test.bt:1:9: ERROR: cannot assign to this expression: only maps and $variables can be assigned\nBEGIN { 1 = 2; }\n        ^"},
		{`BEGIN { @x[] = 1; }`, "test.bt:1:12: ERROR: empty map key: write @x without brackets for a map with no key\nBEGIN { @x[] = 1; }\n           ^"},
		{`kprobe:f /pid == 1 { }`, "test.bt:1:20: ERROR: expected '/' to end the predicate, found '{'\nkprobe:f /pid == 1 { }\n                   ^"},
		{`kprobe:f printf("x"); `, "test.bt:1:10: ERROR: expected '{' to start the probe's action block, found 'printf'\nkprobe:f printf(\"x\"); \n         ^~~~~~"},
		{`{ printf("x"); }`, "test.bt:1:1: ERROR: expected a probe before '{', e.g. BEGIN { ... }\n{ printf(\"x\"); }\n^"},
		{`// only a comment`, "test.bt:1:18: ERROR: no probes: a program needs at least one probe, e.g. BEGIN { printf(\"hello\\n\"); }\n// only a comment\n                 ^"},
		{`BEGIN { $ = 1; }`, "test.bt:1:9: ERROR: '$' must be followed by a variable name or a parameter number\nBEGIN { $ = 1; }\n        ^"},
		{`BEGIN { $x = $0; }`, "test.bt:1:14: ERROR: invalid positional parameter $0: parameters are numbered from $1\nBEGIN { $x = $0; }\n             ^~"},
		{`BEGIN { /* open`, "test.bt:1:9: ERROR: unterminated comment\nBEGIN { /* open\n        ^~"},
		{"BEGIN {} #define X 1\nEND {}", "test.bt:1:10: ERROR: a preprocessor directive must begin a line\nBEGIN {} #define X 1\n         ^~~~~~~~~~~"},
		{"BEGIN { if $x > 1 $y = 1; }", "test.bt:1:19: ERROR: expected '{' after the condition, found $y\nBEGIN { if $x > 1 $y = 1; }\n                  ^~"},
		{`BEGIN { for (i : 0..1) {} }`, "test.bt:1:14: ERROR: expected a $variable after 'for', found 'i'\nBEGIN { for (i : 0..1) {} }\n             ^"},
		{"BEGIN {\n\t$x = 1 +;\n}", "test.bt:2:10: ERROR: expected an expression, found ';'\n\t$x = 1 +;\n\t        ^"},
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

func TestParseNeverPanicsOnDeepNesting(t *testing.T) {
	src := "BEGIN { $x = " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + "; }"
	_, err := parser.Parse(lang.NewFile("deep.bt", []byte(src)))
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("got %v", err)
	}
}

func TestParseErrorLimit(t *testing.T) {
	src := strings.Repeat("BEGIN { $x = ; }\n", 50)
	_, err := parser.Parse(lang.NewFile("many.bt", []byte(src)))
	if n := len(err.(lang.ErrorList)); n != parser.MaxErrors {
		t.Fatalf("got %d errors, want the limit %d", n, parser.MaxErrors)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`BEGIN { printf("%d\n", 1); exit(); }`,
		`tracepoint:skb:kfree_skb /pid == 1/ { @[pid, comm] = count(); }`,
		`kprobe:f { $x = (uint8)arg0 + 1 << 2; if ($x) { @m[$x, "s"]++; } else { delete(@m[1]); } }`,
		`config = { max_strlen = 8 } let @a = hash(10); macro m($a) { $a } BEGIN { for ($i : 0..3) { } }`,
		"#!x\n#include <a>\nBEGIN { $t = (1, (2, 3)); print($t.1.0); }",
		`uprobe:/bin/bash:readline/arg0/{ $s = str(arg0, 8); }`,
	} {
		f.Add(s)
	}
	for _, s := range conformanceScripts(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		file := lang.NewFile("fuzz.bt", []byte(src))
		prog, err := parser.Parse(file)
		if err == nil && prog == nil {
			t.Fatal("no program and no error")
		}
		if err == nil {
			return
		}
		var list lang.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("%q: error %T is not a list of diagnostics: %v", src, err, err)
		}
		if len(list) > parser.MaxErrors {
			t.Fatalf("%q: %d diagnostics, more than the limit %d", src, len(list), parser.MaxErrors)
		}
		for _, e := range list {
			if e.File != file || !withinFile(e.Span, len(src)) {
				t.Fatalf("%q: diagnostic %q at [%d, %d) is not within the file (%d bytes)", src, e.Msg, e.Span.Pos, e.Span.End, len(src))
			}
		}
		_ = err.Error()
	})
}

// conformanceScripts returns the programs of the conformance cases: real
// scripts, as seeds.
func conformanceScripts(tb testing.TB) []string {
	cases, err := conformance.LoadDir("../../conformance")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, c := range cases {
		if strings.TrimSpace(c.Prog) != "" {
			out = append(out, c.Prog)
		}
	}
	return out
}

// withinFile reports whether a diagnostic's span lies within a file of n
// bytes. A diagnostic at the end of the file is one column wide, so that
// its caret shows: it may end one byte past the last.
func withinFile(sp lang.Span, n int) bool {
	pos, end := int(sp.Pos)-1, int(sp.End)-1
	return sp.Pos.IsValid() && pos <= n && end >= pos && end <= max(n, pos+1)
}
