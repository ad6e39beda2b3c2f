package scanner_test

import (
	"strings"
	"testing"

	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// FuzzScan scans arbitrary text, asking for an attach point instead of a
// token wherever a bit of attach is set (the parser asks for them at
// probe headers). Scanning must never panic and must end; every token and
// every error must lie within the source, tokens in order without
// overlapping; a token's text must be what its span holds (decoded for
// strings, variables and maps); and scanning again from the offset a
// token started at (the parser backtracks with Reset) must give the same
// token.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"#!/usr/bin/env ktrace\nBEGIN { printf(\"hi\\n\"); exit(); }",
		`uprobe:"/path with space":"ns::func" /pid/ { @[ustack] = count(); }`,
		`tracepoint:syscalls:sys_enter_* /comm == "sh"/ { @x[$1, $#] = 0x2a + 1_000 + 10u + 1e6; }`,
		"uprobe:./bin/app:main,uprobe:/bin/bash:readline//c\n{ }",
		"/* never closed",
		"\"\\x\\xfg\\400\\777\\e\\q\" \"unterminated\n$ @ $# $12 @_x1 ... ..= ->>>=<<=",
		"#include <linux/sched.h>\r\n#define X 1\nBEGIN{}",
		"kprobe:f { $s = \"\xff\xfe\"; \xe2\x82\xac \xc3 }",
	} {
		f.Add(s, uint64(0))
		f.Add(s, uint64(1))
	}
	for _, s := range conformanceScripts(f) {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, src string, attach uint64) {
		file := lang.NewFile("fuzz.bt", []byte(src))
		sc := scanner.New(file)
		n := len(src)
		within := func(what string, sp lang.Span) {
			t.Helper()
			if !sp.Pos.IsValid() || sp.End < sp.Pos || file.Offset(sp.End) > n {
				t.Fatalf("%q: %s at [%d, %d) outside the source (%d bytes)", src, what, sp.Pos, sp.End, n)
			}
		}
		prevEnd := lang.NoPos
		for i := 0; ; i++ {
			if i > n+66 {
				t.Fatalf("%q: more than %d tokens from %d bytes", src, i, n)
			}
			before := sc.Offset()
			useAttach := i < 64 && attach&(1<<i) != 0
			next := sc.Next
			if useAttach {
				next = sc.AttachPoint
			}
			tok := next()
			within(tok.Kind.String(), lang.Span{Pos: tok.Pos, End: tok.End})
			_ = tok.Describe()
			if tok.Pos < prevEnd {
				t.Fatalf("%q: token %d (%s) starts at %d, before the previous one ended (%d)", src, i, tok.Describe(), tok.Pos, prevEnd)
			}
			if tok.Kind != scanner.EOF && !(useAttach && tok.Kind == scanner.Illegal) {
				if tok.End == tok.Pos {
					t.Fatalf("%q: token %d (%s) is empty", src, i, tok.Describe())
				}
				checkText(t, src, file, tok)
			}
			if file.Offset(tok.End) != sc.Offset() {
				t.Fatalf("%q: token %d (%s) ends at %d but the scanner is at offset %d", src, i, tok.Describe(), tok.End, sc.Offset())
			}

			// Scanning again, from where this token was asked for and
			// from where it starts, gives the same token.
			after := sc.Offset()
			for _, off := range []int{before, file.Offset(tok.Pos)} {
				if tok.Kind == scanner.EOF || useAttach && tok.Kind == scanner.Illegal {
					break
				}
				sc.Reset(off)
				if again := next(); again != tok {
					t.Fatalf("%q: token %d from offset %d: %+v, then %+v", src, i, off, tok, again)
				}
			}
			sc.Reset(after)

			if tok.Kind == scanner.EOF {
				break
			}
			if useAttach && tok.Kind == scanner.Illegal {
				// No attach point here: the parser would report it and
				// move on with Next.
				continue
			}
			prevEnd = tok.End
		}
		for _, e := range sc.Errors {
			within("error "+e.Msg, e.Span)
			_ = e.Error()
		}
	})
}

// checkText compares a token's text with the source its span covers.
func checkText(t *testing.T, src string, file *lang.File, tok scanner.Token) {
	t.Helper()
	raw := src[file.Offset(tok.Pos):file.Offset(tok.End)]
	ok := true
	switch tok.Kind {
	case scanner.Ident, scanner.Int, scanner.Illegal:
		ok = raw == tok.Text
	case scanner.Op:
		ok = raw == tok.Text || strings.HasPrefix(tok.Text, "#") && strings.HasPrefix(raw, tok.Text)
	case scanner.Var, scanner.Positional:
		ok = raw == "$"+tok.Text
	case scanner.Map:
		ok = raw == "@"+tok.Text
	case scanner.String:
		// Escapes only shorten the text; the quotes are in the span.
		ok = raw[0] == '"' && len(tok.Text) < len(raw)
	case scanner.Attach:
		// Quoted parts are decoded; the rest is copied.
		ok = len(tok.Text) <= len(raw) && (strings.Contains(raw, `"`) || raw == tok.Text)
	}
	if !ok {
		t.Fatalf("%q: %s token with text %q spans %q", src, tok.Kind, tok.Text, raw)
	}
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
