package dwarfinfo_test

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/dwarfinfo"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

func TestParams(t *testing.T) {
	forEachBuild(t, testParams)
}

func testParams(t *testing.T, in *dwarfinfo.Info) {
	tests := []struct {
		fn   string
		want []string
	}{
		{"kt_ints", []string{"int a", "long int b", "short unsigned int c", "counter_t d", "char e", "enum color col"}},
		{"kt_str", []string{"const char* s", "char* const t"}},
		{"kt_shape", []string{"struct shape* sh", "int scale"}},
		{"kt_point", []string{"struct point p"}},
		{"kt_float", []string{"double x", "int n"}},
		{"kt_many", []string{"int a", "int b", "int c", "int d", "int e", "int f", "int g"}},
		{"kt_union", []string{"union number* u"}},
		{"main", nil},
	}
	for _, tt := range tests {
		fn, err := in.Func(tt.fn)
		if err != nil {
			t.Errorf("%s: %v", tt.fn, err)
			continue
		}
		var got []string
		for _, p := range fn.Params {
			got = append(got, p.Declaration())
		}
		if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
			t.Errorf("%s params = %q, want %q", tt.fn, got, tt.want)
		}
	}
}

// TestTypes checks the decoded types: sizes, signedness, pointer targets
// and struct members with their offsets.
func TestTypes(t *testing.T) {
	forEachBuild(t, testTypes)
}

func testTypes(t *testing.T, in *dwarfinfo.Info) {
	fn, err := in.Func("kt_ints")
	if err != nil {
		t.Fatal(err)
	}
	kinds := []struct {
		typ    string
		size   int64
		peeled string
	}{
		{"*dwarf.IntType", 4, "int"},
		{"*dwarf.IntType", 8, "long int"},
		{"*dwarf.UintType", 2, "short unsigned int"},
		{"*dwarf.TypedefType", 4, "unsigned int"},
		{"*dwarf.CharType", 1, "char"},
		{"*dwarf.EnumType", 4, "enum color"},
	}
	for i, k := range kinds {
		p := fn.Params[i]
		if got := fmt.Sprintf("%T", p.Type); got != k.typ || p.Type.Size() != k.size || dwarfinfo.TypeName(dwarfinfo.Peel(p.Type)) != k.peeled {
			t.Errorf("kt_ints param %d: %s size %d peeled %q, want %s size %d peeled %q",
				i, got, p.Type.Size(), dwarfinfo.TypeName(dwarfinfo.Peel(p.Type)), k.typ, k.size, k.peeled)
		}
	}
	st, err := in.Type("struct shape")
	if err != nil {
		t.Fatal(err)
	}
	shape := st.(*dwarf.StructType)
	var members []string
	for _, f := range shape.Field {
		m := fmt.Sprintf("%s %s @%d", dwarfinfo.TypeName(f.Type), f.Name, f.ByteOffset)
		if f.BitSize > 0 {
			// gcc's DWARF 5 places a bitfield by its first bit;
			// its DWARF 4 by the bits after it in its storage unit
			// (DW_AT_bit_offset, little-endian here).
			bit := f.DataBitOffset
			if f.BitOffset != 0 {
				bit = f.ByteOffset*8 + f.ByteSize*8 - f.BitOffset - f.BitSize
			}
			m = fmt.Sprintf("%s %s bits %d+%d", dwarfinfo.TypeName(f.Type), f.Name, bit, f.BitSize)
		}
		members = append(members, m)
	}
	want := []string{
		"<unknown type> name @0", // char[16]: an array, which the listing does not name
		"struct point origin @16",
		"struct point* next @24",
		"long int area @32",
		"enum color color @40",
		"unsigned int flags bits 352+3",
		"unsigned int kind bits 355+5",
		"union number num @48",
		"<unknown type> pts @52",
	}
	if strings.Join(members, "; ") != strings.Join(want, "; ") {
		t.Errorf("struct shape members:\n got %q\nwant %q", members, want)
	}
	if shape.ByteSize != 64 {
		t.Errorf("struct shape is %d bytes, want 64", shape.ByteSize)
	}
	if _, err := in.Type("union number"); err != nil {
		t.Error(err)
	}
	if _, err := in.Type("counter_t"); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	bin := testutil.Build(t, cprog.DwarfArgs)
	in, err := dwarfinfo.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Func("no_such_func"); err == nil || err.Error() != "function no_such_func not found in the DWARF debug info of "+bin {
		t.Errorf("missing function: %v", err)
	}
	if _, err := in.Type("struct nope"); err == nil || err.Error() != `unknown type "struct nope": the DWARF debug info of `+bin+" has no such type" {
		t.Errorf("missing type: %v", err)
	}
	if _, err := in.LineAddress("nope.c", 1, 0); err == nil || err.Error() != "no compilation unit matches nope.c" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := in.LineAddress("dwarfargs.c", 9999, 0); err == nil || err.Error() != "unable to map 'dwarfargs.c:9999' to address" {
		t.Errorf("missing line: %v", err)
	}

	plain := testutil.Build(t, cprog.DwarfArgsNoDebug)
	_, err = dwarfinfo.Open(plain)
	if !errors.Is(err, dwarfinfo.ErrNoDWARF) || err.Error() != plain+" has no DWARF debug info" {
		t.Errorf("binary without DWARF: %v", err)
	}
	if _, err := dwarfinfo.Open(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("missing binary: %v", err)
	}
}

// TestLineAddress maps the marked line of kt_shape into the function.
func TestLineAddress(t *testing.T) {
	forEachBuild(t, testLineAddress)
}

func testLineAddress(t *testing.T, in *dwarfinfo.Info) {
	bin := in.Path
	line := MarkedLine(t, filepath.Join(filepath.Dir(bin), "dwarfargs.c"), "LINE PROBE")
	addr, err := in.LineAddress("dwarfargs.c", line, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same location by a longer path suffix, and by its column.
	if a, err := in.LineAddress(filepath.Join(filepath.Base(filepath.Dir(bin)), "dwarfargs.c"), line, 0); err != nil || a != addr {
		t.Errorf("by directory/file: %#x, %v; want %#x", a, err, addr)
	}
	if _, err := in.LineAddress("args.c", line, 0); err == nil {
		t.Errorf("args.c matched dwarfargs.c: a suffix must be whole path components")
	}
	out, err := exec.Command("addr2line", "-e", bin, fmt.Sprintf("%#x", addr)).Output()
	if err != nil {
		t.Skipf("addr2line: %v", err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasSuffix(got, fmt.Sprintf("dwarfargs.c:%d", line)) {
		t.Errorf("addr2line %#x = %s, want dwarfargs.c:%d", addr, got, line)
	}
}

// MarkedLine returns the number of the line of file containing marker.
func MarkedLine(t *testing.T, file, marker string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, marker)
	return 0
}

// TestSeparateDebugFile finds the DWARF of a stripped binary through its
// .gnu_debuglink, and through its build ID under DebugRoot.
func TestSeparateDebugFile(t *testing.T) {
	objcopy := testutil.RequireTool(t, "objcopy", "binutils")
	bin := testutil.Build(t, cprog.DwarfArgs)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
			t.Fatalf("objcopy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	dir := t.TempDir()
	linked := filepath.Join(dir, "linked")
	run("--only-keep-debug", bin, filepath.Join(dir, "linked.debug"))
	run("--strip-debug", "--add-gnu-debuglink="+filepath.Join(dir, "linked.debug"), bin, linked)
	in, err := dwarfinfo.Open(linked)
	if err != nil {
		t.Fatalf("through .gnu_debuglink: %v", err)
	}
	if in.DebugFile != filepath.Join(dir, "linked.debug") {
		t.Errorf("DebugFile = %s", in.DebugFile)
	}
	if _, err := in.Func("kt_shape"); err != nil {
		t.Error(err)
	}

	root := t.TempDir()
	old := dwarfinfo.DebugRoot
	dwarfinfo.DebugRoot = root
	t.Cleanup(func() { dwarfinfo.DebugRoot = old })
	byID := filepath.Join(dir, "byid")
	run("--strip-debug", bin, byID)
	out, err := exec.Command("readelf", "-n", bin).Output()
	if err != nil {
		t.Skipf("readelf: %v", err)
	}
	_, after, ok := strings.Cut(string(out), "Build ID: ")
	if !ok {
		t.Skip("gcc made no build ID")
	}
	id := strings.Fields(after)[0]
	debug := filepath.Join(root, ".build-id", id[:2], id[2:]+".debug")
	if err := os.MkdirAll(filepath.Dir(debug), 0o755); err != nil {
		t.Fatal(err)
	}
	run("--only-keep-debug", bin, debug)
	in, err = dwarfinfo.Open(byID)
	if err != nil {
		t.Fatalf("through the build ID: %v", err)
	}
	if in.DebugFile != debug {
		t.Errorf("DebugFile = %s, want %s", in.DebugFile, debug)
	}
}

// TestDebugDirs finds a stripped binary's DWARF in directories given with
// SetDebugDirs (--debuginfo): relative to the binary, by .gnu_debuglink
// name or build ID, skipping files of another build or, with "+", of
// another CRC32.
func TestDebugDirs(t *testing.T) {
	objcopy := testutil.RequireTool(t, "objcopy", "binutils")
	bin := testutil.Build(t, cprog.DwarfArgs)
	other := testutil.Build(t, cprog.Plain)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
			t.Fatalf("objcopy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	mkdir := func(p string) string {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := dwarfinfo.DebugRoot
	dwarfinfo.DebugRoot = t.TempDir()
	t.Cleanup(func() { dwarfinfo.DebugRoot = old; dwarfinfo.SetDebugDirs(nil) })

	dir := t.TempDir()
	app := mkdir(filepath.Join(dir, "app"))
	good := filepath.Join(mkdir(filepath.Join(app, "dbg")), "app.debug")
	run("--only-keep-debug", bin, good)
	stripped := filepath.Join(app, "app")
	run("--strip-debug", "--add-gnu-debuglink="+good, bin, stripped)
	// Same build, other bytes: the build ID matches, the CRC32 does not.
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mkdir(filepath.Join(app, "changed")), "app.debug"), append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	// Another build under the same name: the build IDs differ.
	run("--only-keep-debug", other, filepath.Join(mkdir(filepath.Join(app, "wrong")), "app.debug"))
	// By build ID in an absolute directory, for a binary without a link.
	byID := filepath.Join(app, "byid")
	run("--strip-debug", bin, byID)
	out, err := exec.Command("readelf", "-n", bin).Output()
	if err != nil {
		t.Fatalf("readelf: %v", err)
	}
	_, after, ok := strings.Cut(string(out), "Build ID: ")
	if !ok {
		t.Fatal("gcc made no build ID")
	}
	id := strings.Fields(after)[0]
	ids := filepath.Join(dir, "ids")
	run("--only-keep-debug", bin, filepath.Join(mkdir(filepath.Join(ids, ".build-id", id[:2])), id[2:]+".debug"))

	tests := []struct {
		binary string
		dirs   []string
		want   string // the debug file found; "" for none
	}{
		{stripped, nil, ""},
		{stripped, []string{"dbg"}, good},
		{stripped, []string{filepath.Join(app, "dbg")}, good},
		{stripped, []string{"wrong", "dbg"}, good},
		{stripped, []string{"changed"}, filepath.Join(app, "changed", "app.debug")},
		{stripped, []string{"+changed", "+dbg"}, good},
		{stripped, []string{"+changed"}, ""},
		{byID, []string{ids}, filepath.Join(ids, ".build-id", id[:2], id[2:]+".debug")},
	}
	for _, tt := range tests {
		dwarfinfo.SetDebugDirs(tt.dirs)
		in, err := dwarfinfo.Open(tt.binary)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s with %q: found %s, want none", filepath.Base(tt.binary), tt.dirs, in.DebugFile)
		case tt.want == "" && !errors.Is(err, dwarfinfo.ErrNoDWARF):
			t.Errorf("%s with %q: %v, want ErrNoDWARF", filepath.Base(tt.binary), tt.dirs, err)
		case tt.want != "" && err != nil:
			t.Errorf("%s with %q: %v", filepath.Base(tt.binary), tt.dirs, err)
		case tt.want != "" && in.DebugFile != tt.want:
			t.Errorf("%s with %q: found %s, want %s", filepath.Base(tt.binary), tt.dirs, in.DebugFile, tt.want)
		}
	}
}
