package types_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

// FuzzCheck parses and type-checks arbitrary source against the static
// resolver (the tracepoint formats of internal/formats, every function
// and user-space probe taken as existing). The checker must never panic;
// it returns information or a list of diagnostics, and every diagnostic
// and warning points into the file.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`BEGIN { @x = pdi; }`,
		`BEGIN { printf("%d %s %x\n", 1, comm, -1); @m[1, "a"] = (1, "b"); $t = @m[1, "a"]; print($t.1); exit(); }`,
		`tracepoint:skb:kfree_skb /args.reason == 2/ { @r[args.reason, args.protocol] = sum(args.protocol); @h = hist(args.reason, 2); @l = lhist(args.protocol, 0, 100, 10); }`,
		`kprobe:f { @a[tid] = arg0; } kretprobe:f /@a[tid]/ { @r = retval - @a[tid]; delete(@a, tid); }`,
		`config = { max_strlen = 16; print_maps_on_exit = false } let @a = lruhash(10); BEGIN { @a[1] = 1; }`,
		`macro add(x, y) { x + y } macro inc($v, @m) { $v += 1; @m[$v] = add($v, 1); } BEGIN { $x = 1; inc($x, @q); print(add(1, $x)); }`,
		`BEGIN { for ($i : 0..5) { @x[$i] = $i; } for ($kv : @x) { print($kv.1); } $j = 0; while ($j < 3) { $j++; if ($j == 2) { continue; } } unroll(2) { @u++; } }`,
		`usdt:/bin/app:prov:probe { @[arg0, arg1, usym(arg2), ustack(perf, 4)] = count(); } uprobe:/bin/bash:readline { printf("%s\n", str(arg0, 8)); }`,
		`interval:ms:$1 { $s = $2; @t = (nsecs(boot), strftime("%F", nsecs)); let $y: uint8 = 3; $p = &$y; print(*$p); system("echo %d", pid); }`,
		`tracepoint:sched:sched_switch { @[args.prev_comm] = count(); if (strncmp(args.next_comm, "sh", 2) == 0) { print(@, 3, 2); clear(@); } }`,
		`BEGIN { $a = { let $b = 1; $b + 1 }; @s = sizeof($a); @o = offsetof(struct task_struct, comm); $c = (uint16)$a; @z = bswap($c); }`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	for _, s := range conformanceScripts(f) {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, unsafe bool) {
		file := lang.NewFile("fuzz.bt", []byte(src))
		prog, err := parser.Parse(file)
		if err != nil {
			return
		}
		cfg := types.Config{Params: []string{"1", "str"}, Unsafe: unsafe}
		if unsafe {
			cfg.ChildPID = 42
			cfg.NamedParams = map[string]string{"n": "3", "s": "x"}
		}
		info, err := types.Check(prog, resolve.Static(64, formats.All()), cfg)
		if err == nil && info == nil {
			t.Fatal("no information and no error")
		}
		var list lang.ErrorList
		if err != nil && !errors.As(err, &list) {
			t.Fatalf("%q: error %T is not a list of diagnostics: %v", src, err, err)
		}
		if info != nil {
			list = append(list, info.Warnings...)
		}
		for _, e := range list {
			if e.File != file || !withinFile(e.Span, len(src)) {
				t.Fatalf("%q: diagnostic %q at [%d, %d) is not within the file (%d bytes)", src, e.Msg, e.Span.Pos, e.Span.End, len(src))
			}
			_ = e.Error()
		}
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
