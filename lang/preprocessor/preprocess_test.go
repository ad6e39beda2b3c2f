package preprocessor_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/preprocessor"
	"github.com/ktrace/ktrace/lang/scanner"
)

// run preprocesses src and reads every token through the Expander. It
// returns the tokens' texts joined by spaces and the diagnostics.
func run(src string, defines map[string]string) (string, lang.ErrorList) {
	f := lang.NewFile("test.bt", []byte(src))
	r, errs := preprocessor.Process(f, preprocessor.Config{Defines: defines})
	e := preprocessor.NewExpander(f, r)
	var words []string
	for t := e.Next(); t.Kind != scanner.EOF; t = e.Next() {
		words = append(words, t.Text)
	}
	errs = append(errs, e.Errors...)
	_ = errs.Err() // sorts by position
	return strings.Join(words, " "), errs
}

var btf = map[string]string{"BPFTRACE_HAVE_BTF": "1"}

func TestExpansion(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		defines map[string]string
		want    string
	}{
		{"object-like", "#define X 2\nX + X", nil, "2 + 2"},
		{"ifndef with BTF", "#ifndef BPFTRACE_HAVE_BTF\nA\n#else\nB\n#endif\nC", btf, "B C"},
		{"ifndef without BTF", "#ifndef BPFTRACE_HAVE_BTF\nA\n#else\nB\n#endif\nC", nil, "A C"},
		{"ifdef", "#ifdef BPFTRACE_HAVE_BTF\nA\n#endif", btf, "A"},
		{"if expression", "#if 1 + 2 * 3 == 7 && defined(X) && defined Y\nyes\n#else\nno\n#endif", map[string]string{"X": "", "Y": "0"}, "yes"},
		{"if with macros", "#define V 3\n#if V > 2 ? V << 1 == 6 : 0\nyes\n#endif", nil, "yes"},
		{"undefined names are 0", "#if NOPE || !NOPE2 - 1\nyes\n#else\nno\n#endif", nil, "no"},
		{"elif chain", "#if 0\n#if garbage (\n#endif\nA\n#elif 1\nB\n#elif 1\nC\n#else\nD\n#endif", nil, "B"},
		{"else taken", "#if 0\nA\n#elif 0\nB\n#else\nD\n#endif", nil, "D"},
		{"nested skipped groups", "#if 0\n#ifdef X\n#error never\n#else\n#bogus\n#endif\n#endif\nok", nil, "ok"},
		{"function-like", "#define ADD(a, b) ((a) + (b))\nADD(1, f(2, 3))", nil, "( ( 1 ) + ( f ( 2 , 3 ) ) )"},
		{"function-like without call", "#define F(x) x\nF + 1", nil, "F + 1"},
		{"no arguments", "#define ONE() 1\nONE()", nil, "1"},
		{"paren after space is object-like", "#define P (1)\nP", nil, "( 1 )"},
		{"undef", "#define X 1\n#undef X\nX", nil, "X"},
		{"redefine", "#define X 1\nX\n#define X 2\nX", nil, "1 2"},
		{"defined after use", "X\n#define X 1\nX", nil, "X 1"},
		{"nested macros", "#define A B + 1\n#define B 2\nA", nil, "2 + 1"},
		{"macro in argument", "#define TWICE(x) x x\n#define N 7\nTWICE(N)", nil, "7 7"},
		{"continuation", "#define LONG 1 + \\\n 2\nLONG", nil, "1 + 2"},
		{"comments", "#define X 2 /* two */\n/* #define Y 3 */\nX Y // #define Z", nil, "2 Y"},
		{"multi-line comment after directive", "#define X 2 /* a\n#define Y 3 */\nX Y", nil, "2 Y"},
		{"comment marker in string", "\"/* not a comment\" X\n#define X 1\nX", nil, "/* not a comment X 1"},
		{"include gives ABI constants", "#include <sys/socket.h>\nAF_INET AF_INET6", nil, "2 10"},
		{"include of an unknown header", "#include <linux/skbuff.h>\n#include \"local.h\"\nok", nil, "ok"},
		{"script definition stands", "#define AF_INET 99\n#include <linux/socket.h>\nAF_INET", nil, "99"},
		{"task states", "#include <linux/sched.h>\nTASK_RUNNING", nil, "0"},
		{"system call numbers", "#include <sys/syscall.h>\n#include <asm/unistd.h>\n__NR_read SYS_write __NR_nosuch", nil, "0 1 __NR_nosuch"},
		{"pragma and null directive", "#pragma once\n#\nok", nil, "ok"},
		{"shebang", "#!/usr/bin/env bpftrace\n#define X 1\nX", nil, "1"},
		{"bpftrace positional count", "#define X 1\n$# X", nil, "# 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "system call numbers" && runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
				t.Skip("no system call table for " + runtime.GOARCH)
			}
			got, errs := run(c.src, c.defines)
			if len(errs) > 0 {
				t.Fatalf("unexpected errors:\n%s", errs.Error())
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"#if 1\nA", "test.bt:1:1: ERROR: unterminated #if: no #endif before the end of the file\n#if 1\n^~~"},
		{"#ifndef X\n#ifdef Y\n#endif", "test.bt:1:1: ERROR: unterminated #ifndef: no #endif before the end of the file\n#ifndef X\n^~~~~~~"},
		{"#endif", "test.bt:1:1: ERROR: #endif without #if\n#endif\n^~~~~~"},
		{"#else", "test.bt:1:1: ERROR: #else without #if\n#else\n^~~~~"},
		{"#if 1\n#else\n#else\n#endif", "test.bt:3:1: ERROR: #else after #else\n#else\n^~~~~"},
		{"#if 1\n#else\n#elif 1\n#endif", "test.bt:3:1: ERROR: #elif after #else\n#elif 1\n^~~~~"},
		{"#foo bar", "test.bt:1:1: ERROR: unknown preprocessor directive #foo: ktrace supports #include, #define, #undef, #if, #ifdef, #ifndef, #elif, #else, #endif, #error, #warning and #pragma\n#foo bar\n^~~~"},
		{"#define", "test.bt:1:1: ERROR: #define expects a macro name\n#define\n^~~~~~~"},
		{"#define 1 2", "test.bt:1:1: ERROR: #define expects a macro name\n#define 1 2\n^~~~~~~"},
		{"#define defined 1", "test.bt:1:9: ERROR: 'defined' cannot be a macro name\n#define defined 1\n        ^~~~~~~"},
		{"#define F(a, a) a", "test.bt:1:14: ERROR: duplicate parameter a in #define F\n#define F(a, a) a\n             ^"},
		{"#define F(...) 1", "test.bt:1:11: ERROR: variadic macros are not supported (#define F)\n#define F(...) 1\n          ^~~"},
		{"#define F(a b) 1", "test.bt:1:9: ERROR: missing ')' in the parameter list of #define F\n#define F(a b) 1\n        ^"},
		{"#define F(1) 1", "test.bt:1:11: ERROR: expected a parameter name in #define F, found '1'\n#define F(1) 1\n          ^"},
		{"#define S(x) #x", "test.bt:1:14: ERROR: the # and ## operators of C macros are not supported\n#define S(x) #x\n             ^"},
		{"#undef", "test.bt:1:1: ERROR: #undef expects a macro name\n#undef\n^~~~~~"},
		{"#define A B\n#define B A\nBEGIN { A }", "test.bt:3:9: ERROR: macro A refers to itself (A → B → A): recursive macros are not expanded\nBEGIN { A }\n        ^"},
		{"#define X X\nX", "test.bt:2:1: ERROR: macro X refers to itself (X → X): recursive macros are not expanded\nX\n^"},
		{"#define F(a) a\nF(1, 2)", "test.bt:2:1: ERROR: macro F takes 1 argument, 2 given\nF(1, 2)\n^~~~~~~"},
		{"#define F(a, b) a\nF(1)", "test.bt:2:1: ERROR: macro F takes 2 arguments, 1 given\nF(1)\n^~~~"},
		{"#define F(a) a\nF(1", "test.bt:2:1: ERROR: unterminated argument list of macro F\nF(1\n^"},
		{"#define G(a) a\n#define H G(1\nH", "test.bt:3:1: ERROR: unterminated argument list of macro G\nH\n^"},
		{"#if 1 / 0\n#endif", "test.bt:1:7: ERROR: division by zero in #if expression\n#if 1 / 0\n      ^"},
		{"#if (1\n#endif", "test.bt:1:7: ERROR: expected ')' in #if expression\n#if (1\n      ^"},
		{"#if 1 2\n#endif", "test.bt:1:7: ERROR: unexpected '2' in #if expression\n#if 1 2\n      ^"},
		{"#if\n#endif", "test.bt:1:1: ERROR: #if expects an expression\n#if\n^~~"},
		{"#if 1 ? 2\n#endif", "test.bt:1:10: ERROR: expected ':' in #if expression\n#if 1 ? 2\n         ^"},
		{"#if \"s\"\n#endif", "test.bt:1:5: ERROR: unexpected string \"s\" in #if expression\n#if \"s\"\n    ^~~"},
		{"#if defined(\n#endif", "test.bt:1:5: ERROR: defined expects a macro name\n#if defined(\n    ^~~~~~~"},
		{"#if defined(X\n#endif", "test.bt:1:5: ERROR: missing ')' after defined(X\n#if defined(X\n    ^~~~~~~"},
		{"#ifdef\n#endif", "test.bt:1:1: ERROR: #ifdef expects a macro name\n#ifdef\n^~~~~~"},
		{"#ifdef X Y\n#endif", "test.bt:1:10: ERROR: unexpected 'Y' after the macro name of #ifdef\n#ifdef X Y\n         ^"},
		{"#error stop here", "test.bt:1:1: ERROR: #error stop here\n#error stop here\n^~~~~~"},
		{"#include foo", "test.bt:1:1: ERROR: #include expects <FILE> or \"FILE\"\n#include foo\n^~~~~~~~"},
		{"#define A B B\n#define B C C\n#define C D D\n#define D E E\n#define E F F\n#define F G G\n#define G H H\n#define H I I\n#define I J J\n#define J K K\n#define K L L\n#define L M M\n#define M N N\n#define N O O\n#define O P P\n#define P Q Q\n#define Q R R\nA",
			"test.bt:18:1: ERROR: macro A expands to more than 100000 tokens\nA\n^"},
	}
	for _, c := range cases {
		_, errs := run(c.src, nil)
		if len(errs) == 0 {
			t.Errorf("%q: no error, want:\n%s", c.src, c.want)
			continue
		}
		if got := errs[0].Error(); got != c.want {
			t.Errorf("%q:\ngot:\n%s\nwant:\n%s", c.src, got, c.want)
		}
	}
}

// TestPositionsKept checks that the scanner's text has the same lines and
// columns as the file, so a token after a blanked block is where the user
// sees it.
func TestPositionsKept(t *testing.T) {
	src := "#ifndef BPFTRACE_HAVE_BTF\n#include <linux/sched.h>\nstruct x { int a; };\n#endif\n/* c */ BEGIN { @x = TASK; }\n"
	f := lang.NewFile("test.bt", []byte(src))
	r, errs := preprocessor.Process(f, preprocessor.Config{Defines: btf})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(r.Text) != len(src) || strings.Count(string(r.Text), "\n") != strings.Count(src, "\n") {
		t.Fatalf("text moved: %q", r.Text)
	}
	e := preprocessor.NewExpander(f, r)
	tok := e.Next()
	if got := f.Position(tok.Pos).String(); tok.Text != "BEGIN" || got != "test.bt:5:9" {
		t.Errorf("first token %q at %s, want BEGIN at test.bt:5:9", tok.Text, got)
	}
}

// TestBacktracking checks Offset and Reset in the middle of an expansion,
// as the parser uses them to try a cast and go back.
func TestBacktracking(t *testing.T) {
	f := lang.NewFile("test.bt", []byte("#define T (a, b, c)\nT d"))
	r, _ := preprocessor.Process(f, preprocessor.Config{})
	e := preprocessor.NewExpander(f, r)
	e.Next() // (
	e.Next() // a
	h := e.Offset()
	var first []string
	for t := e.Next(); t.Kind != scanner.EOF; t = e.Next() {
		first = append(first, t.Text)
	}
	e.Reset(h)
	var second []string
	for t := e.Next(); t.Kind != scanner.EOF; t = e.Next() {
		second = append(second, t.Text)
	}
	if a, b := strings.Join(first, " "), strings.Join(second, " "); a != ", b , c ) d" || a != b {
		t.Errorf("after Reset: %q, then %q; want \", b , c ) d\" twice", a, b)
	}
}

func TestWarning(t *testing.T) {
	f := lang.NewFile("test.bt", []byte("#warning old kernel\n"))
	r, errs := preprocessor.Process(f, preprocessor.Config{})
	if len(errs) > 0 || len(r.Warnings) != 1 {
		t.Fatalf("errors %v, warnings %v", errs, r.Warnings)
	}
	want := "test.bt:1:1: WARNING: #warning old kernel\n#warning old kernel\n^~~~~~~~"
	if got := r.Warnings[0].Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
