package ktrace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// dwarfBuilds are the ways the DWARF tests build their program: with the
// debug information in the binary, and split into a .dwo file beside it.
var dwarfBuilds = []struct {
	name string
	prog cprog.Program
}{
	{"-g", cprog.DwarfArgs},
	{"-gsplit-dwarf", cprog.DwarfArgsSplit},
}

// TestUprobeDWARFArgs reads a uprobe's arguments by name from the traced
// binary's DWARF: integers of each width and signedness, a typedef, an
// enum, strings, a struct pointer's members (nested by value, through a
// pointer, a bitfield, a union, array elements), a cast to the binary's
// struct, and a whole struct copied from user memory.
func TestUprobeDWARFArgs(t *testing.T) {
	testutil.RequireRoot(t)
	for _, b := range dwarfBuilds {
		t.Run(b.name, func(t *testing.T) { testUprobeDWARFArgs(t, b.prog) })
	}
}

func testUprobeDWARFArgs(t *testing.T, prog cprog.Program) {
	bin := testutil.Build(t, prog)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
uprobe:%[1]s:kt_ints /pid == $1/ { printf("ints %%d %%ld %%d %%d %%c %%d\n", args.a, args.b, args.c, args.d, args.e, args.col); }
uprobe:%[1]s:kt_str /pid == $1/ { printf("str %%s %%s\n", str(args.s), str(args.t)); }
uprobe:%[1]s:kt_shape /pid == $1/ {
	printf("shape %%s %%d %%d %%d %%d %%d %%d %%d %%d %%d\n", args.sh->name, args.sh->origin.x, args.sh.origin.y,
		args.sh->next->y, args.sh->color, args.sh->flags, args.sh->kind, args.sh->num.i, args.sh->pts[2], args.scale);
	printf("cast %%d %%d\n", ((struct point *)(arg0 + 16))->y, ((struct shape *)arg0)->next->x);
	$o = args.sh->origin;
	print($o);
}
uprobe:%[1]s:kt_union /pid == $1/ { printf("union %%d\n", args.u->i); }`, bin),
		&ktrace.Options{Params: []string{fmt.Sprint(p.PID)}})
	p.Do(t, "call")
	printed, _ := u.stop(t)
	want := `ints -7 1234567890123 65000 42 x 6
str hello world
shape square 3 4 22 5 5 17 16909060 -3 3
cast 4 11
{ .x = 3, .y = 4 }
union 77
`
	if printed != want {
		t.Errorf("printed\n%s\nwant\n%s", printed, want)
	}
}

// TestUprobeDWARFArgErrors checks what args.NAME refuses, and why.
func TestUprobeDWARFArgErrors(t *testing.T) {
	bin := testutil.Build(t, cprog.DwarfArgs)
	plain := testutil.Build(t, cprog.DwarfArgsNoDebug)
	// A split DWARF binary whose .dwo is gone.
	split := testutil.Build(t, cprog.DwarfArgsSplit)
	dwos := cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(split))
	if len(dwos) != 1 {
		t.Fatalf("DWOFiles = %q, want one", dwos)
	}
	if err := os.Remove(dwos[0]); err != nil {
		t.Fatal(err)
	}
	// Where gcc left it, then next to the binary (where the kernel
	// lab's prebuilt program has it).
	missing := testutil.RecordedDWO(t, split)
	if missing != dwos[0] {
		missing += ", no " + dwos[0]
	}
	tests := []struct{ src, want string }{
		{`uprobe:BIN:kt_ints { print(args.aa); }`, `uprobe:BIN:kt_ints has no argument "aa"; did you mean "a"?`},
		{`uprobe:BIN:kt_point { print(args.p); }`, `argument p passed as by-value struct point is not supported yet`},
		{`uprobe:BIN:kt_float { print(args.x); }`, `argument x passed as floating-point double is not supported yet`},
		{`uprobe:BIN:kt_many { print(args.a); }`, `uprobe:BIN:kt_many: 'args' builtin is not supported for probes with stack-passed arguments`},
		{`uretprobe:BIN:kt_ints { print(args.a); }`, `args is not available in uretprobe probes: the arguments are gone when the function returns; save them in a map in a uprobe`},
		{`uprobe:BIN:kt_shape { print(args.sh->nme); }`, `struct shape has no member "nme"; did you mean "name"?`},
		{`uprobe:PLAIN:kt_ints { print(args.a); }`, `uprobe:PLAIN:kt_ints: no debuginfo found for PLAIN: PLAIN has no DWARF debug info (build it with -g, or install its debug info under /usr/lib/debug)`},
		{`uprobe:SPLIT:kt_ints { print(args.a); }`, `uprobe:SPLIT:kt_ints: SPLIT has split DWARF, but a split unit is missing: no DWOS, no SPLIT.dwp`},
	}
	for _, tt := range tests {
		r := strings.NewReplacer("BIN", bin, "PLAIN", plain, "SPLIT", split, "DWOS", missing)
		src, want := r.Replace(tt.src), r.Replace(tt.want)
		_, err := ktrace.Compile("stdin", []byte(src), nil)
		if err == nil {
			t.Errorf("%s: compiled", src)
			continue
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		if _, msg, _ := strings.Cut(first, "ERROR: "); msg != want {
			t.Errorf("%s:\n got %s\nwant %s", src, first, want)
		}
	}
	// kt_float's int parameter is in the first integer register, the
	// double in an SSE one.
	if _, err := ktrace.Compile("stdin", []byte(fmt.Sprintf(`uprobe:%s:kt_float { print(args.n); }`, bin)), nil); err != nil {
		t.Errorf("args.n after a double: %v", err)
	}
}

// TestUprobeSourceLine attaches at a statement of the binary's source, by
// file and line as a debugger sets a breakpoint: the probe fires once per
// call of the function holding it, inside that function, with the probe
// named as written.
func TestUprobeSourceLine(t *testing.T) {
	testutil.RequireRoot(t)
	for _, b := range dwarfBuilds {
		t.Run(b.name, func(t *testing.T) { testUprobeSourceLine(t, b.prog) })
	}
}

func testUprobeSourceLine(t *testing.T, prog cprog.Program) {
	bin := testutil.Build(t, prog)
	line := markedLine(t, filepath.Join(filepath.Dir(bin), "dwarfargs.c"), "LINE PROBE")
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`uprobe:%s@dwarfargs.c:%d /pid == $1/ { printf("%%s %%s\n", probe, usym(reg("ip"))); @hits = count(); }`, bin, line),
		&ktrace.Options{Params: []string{fmt.Sprint(p.PID)}})
	p.Do(t, "call")
	p.Do(t, "call")
	printed, maps := u.stop(t)
	one := fmt.Sprintf("uprobe:%s@dwarfargs.c:%d kt_shape\n", bin, line)
	if printed != one+one || maps != "@hits: 2\n" {
		t.Errorf("printed\n%s%s\nwant twice\n%s", printed, maps, one)
	}
	ap := fmt.Sprintf("uprobe:%s@dwarfargs.c:9999", bin)
	_, err := ktrace.Compile("line.bt", []byte(ap+" { }"), nil)
	want := fmt.Sprintf("line.bt:1:1: ERROR: %s: unable to map 'dwarfargs.c:9999' to address\n%s { }\n^%s", ap, ap, strings.Repeat("~", len(ap)-1))
	if err == nil || err.Error() != want {
		t.Errorf("a line without code:\ngot  %v\nwant %s", err, want)
	}
}

// markedLine returns the number of the line of file that contains marker.
func markedLine(t *testing.T, file, marker string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line marked %q", file, marker)
	return 0
}
