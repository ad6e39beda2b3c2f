package preprocessor_test

import (
	"bytes"
	"testing"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/preprocessor"
	"github.com/ktrace/ktrace/lang/scanner"
)

// FuzzPreprocess runs the directives of arbitrary text and reads every
// token through the Expander. It must never panic and must end; the
// scanner's text must keep every newline where it was (positions are the
// file's); every diagnostic must lie within the file; and an expansion
// must stay within its bound however the macros multiply.
func FuzzPreprocess(f *testing.F) {
	for _, s := range []string{
		"#ifndef BPFTRACE_HAVE_BTF\n#include <linux/sched.h>\nstruct cfs_rq { int x; };\n#else\n#define AF_INET 2 /* IPv4 */\n#endif\nBEGIN { print(AF_INET); }",
		"#define ADD(a, b) ((a) + (b))\n#if defined(ADD) && 3 % 2 == 1 ? 1 : 0\nBEGIN { print(ADD(1, ADD(2, 3))); }\n#elif 1\n#else\n#endif",
		"#define A B\n#define B A\nA",
		"#define LONG 1 + \\\n 2 /* x\n#if */\nLONG",
		"#!/usr/bin/env bpftrace\n#if (1\n#else\n#else\n#endif\n#endif",
		"#define F(x) F(x)\nF(F(1)\n#undef F\n#error x\n#warning y\n#include <sys/socket.h>\nAF_INET6",
		"\"/* s\" #define X\n  # define Y(a,a) #a ## b\n#define Z(...)\nZ()",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, src string, haveBTF bool) {
		file := lang.NewFile("fuzz.bt", []byte(src))
		cfg := preprocessor.Config{}
		if haveBTF {
			cfg.Defines = map[string]string{"BPFTRACE_HAVE_BTF": "1"}
		}
		r, errs := preprocessor.Process(file, cfg)
		if len(r.Text) != len(src) {
			t.Fatalf("%q: text of %d bytes from %d", src, len(r.Text), len(src))
		}
		for i := range len(src) {
			if (src[i] == '\n') != (r.Text[i] == '\n') {
				t.Fatalf("%q: a newline moved at offset %d: %q", src, i, r.Text)
			}
		}
		e := preprocessor.NewExpander(file, r)
		for i := 0; ; i++ {
			if i > 2*len(src)+200_000 {
				t.Fatalf("%q: more than %d tokens", src, i)
			}
			tok := e.Next()
			if tok.Kind == scanner.EOF {
				break
			}
		}
		// Past an unterminated comment everything is the scanner's to
		// report; without comments no directive is left for it.
		if !bytes.Contains([]byte(src), []byte("/*")) && !bytes.HasPrefix([]byte(src), []byte("#!")) && bytes.Contains(r.Text, []byte("\n#define")) {
			t.Fatalf("%q: a directive was left for the scanner: %q", src, r.Text)
		}
		for _, d := range append(append(errs, e.Errors...), r.Warnings...) {
			if !d.Span.Pos.IsValid() || d.Span.End < d.Span.Pos || file.Offset(d.Span.End) > len(src)+1 {
				t.Fatalf("%q: diagnostic %q at [%d, %d) outside the file", src, d.Msg, d.Span.Pos, d.Span.End)
			}
			_ = d.Error()
		}
	})
}
