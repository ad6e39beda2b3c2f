package dwarfinfo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/dwarfinfo"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// build is one way of building cprog.DwarfArgs's debug information.
type build struct {
	name string
	// make builds the binary and returns its path with the files its
	// split units must be read from.
	make func(t *testing.T) (bin string, split []string)
}

var builds = []build{
	{"-g", func(t *testing.T) (string, []string) {
		return testutil.Build(t, cprog.DwarfArgs), nil
	}},
	{"DWARF 5 .dwo", func(t *testing.T) (string, []string) {
		bin := testutil.Build(t, cprog.DwarfArgsSplit)
		return bin, cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(bin))
	}},
	{"DWARF 4 .dwo", func(t *testing.T) (string, []string) {
		bin := testutil.Build(t, cprog.DwarfArgsSplit4)
		return bin, cprog.DwarfArgsSplit4.DWOFiles(filepath.Dir(bin))
	}},
	{"DWARF 4 .dwp", func(t *testing.T) (string, []string) {
		bin := testutil.Build(t, cprog.DwarfArgsSplit4)
		return bin, []string{pack(t, bin, cprog.DwarfArgsSplit4)}
	}},
	{"DWARF 5 .dwp", func(t *testing.T) (string, []string) {
		bin := testutil.Build(t, dwarfArgsTwoUnits)
		return bin, []string{packDWARF5(t, bin, dwarfArgsTwoUnits)}
	}},
	{"DWARF 5 .dwo, debug file by .gnu_debuglink", func(t *testing.T) (string, []string) {
		// The skeletons are in the separate debug file; the .dwo is
		// still where gcc left it.
		objcopy := testutil.RequireTool(t, "objcopy", "binutils")
		built := testutil.Build(t, cprog.DwarfArgsSplit)
		bin := built + ".stripped"
		for _, args := range [][]string{
			{"--only-keep-debug", built, built + ".debug"},
			{"--strip-debug", "--add-gnu-debuglink=" + built + ".debug", built, bin},
		} {
			if out, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
				t.Fatalf("objcopy %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return bin, cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(built))
	}},
	{"moved DWARF 5 .dwo", func(t *testing.T) (string, []string) {
		// A build tree copied elsewhere: the .dwo is found next to
		// the binary, not where the skeleton says it was made.
		built := testutil.Build(t, cprog.DwarfArgsSplit)
		// The same directory name, which the line table's paths end
		// with.
		dir := filepath.Join(t.TempDir(), filepath.Base(filepath.Dir(built)))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var dwos []string
		for _, f := range append(cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(built)), built, filepath.Join(filepath.Dir(built), "dwarfargs.c")) {
			to := filepath.Join(dir, filepath.Base(f))
			if err := os.Rename(f, to); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f, ".dwo") {
				dwos = append(dwos, to)
			}
		}
		return filepath.Join(dir, "dwarfargs"), dwos
	}},
}

// forEachBuild runs check on the debug information of each build.
func forEachBuild(t *testing.T, check func(*testing.T, *dwarfinfo.Info)) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			bin, split := b.make(t)
			in, err := dwarfinfo.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(in.SplitFiles, " ") != strings.Join(split, " ") || len(split) == 0 && in.SplitFiles != nil {
				t.Errorf("SplitFiles = %q, want %q", in.SplitFiles, split)
			}
			check(t, in)
		})
	}
}

// pack packs the .dwo files of p's build bin into bin.dwp with binutils'
// dwp, and removes them.
func pack(t *testing.T, bin string, p cprog.Program) string {
	t.Helper()
	dwp := testutil.RequireTool(t, "dwp", "binutils")
	if out, err := exec.Command(dwp, "-e", bin, "-o", bin+".dwp").CombinedOutput(); err != nil {
		t.Fatalf("dwp -e %s: %v\n%s", bin, err, out)
	}
	for _, f := range p.DWOFiles(filepath.Dir(bin)) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	return bin + ".dwp"
}

// TestPackageUnits finds each unit of a package: the first at offset 0
// of every section, the second after it.
func TestPackageUnits(t *testing.T) {
	for _, version := range []struct {
		name string
		pack func(*testing.T, string, cprog.Program) string
		prog cprog.Program
	}{
		{"DWARF 4", pack, cprog.Program{Name: "dwarfargs", Sources: dwarfArgsTwoUnits.Sources, Flags: cprog.DwarfArgsSplit4.Flags}},
		{"DWARF 5", packDWARF5, dwarfArgsTwoUnits},
	} {
		t.Run(version.name, func(t *testing.T) {
			bin := testutil.Build(t, version.prog)
			pkg := version.pack(t, bin, version.prog)
			in, err := dwarfinfo.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(in.SplitFiles, " ") != pkg {
				t.Errorf("SplitFiles = %q, want %s", in.SplitFiles, pkg)
			}
			for fn, want := range map[string]string{"kt_extra": "struct extra* x", "kt_union": "union number* u"} {
				f, err := in.Func(fn)
				if err != nil || len(f.Params) != 1 || f.Params[0].Declaration() != want {
					t.Errorf("%s: %+v, %v; want %s", fn, f, err, want)
				}
			}
			if ty, err := in.Type("struct extra"); err != nil || ty.Size() != 8 {
				t.Errorf("struct extra: %v, %v", ty, err)
			}
		})
	}
}

// TestSplitErrors checks what a binary whose split units are missing or
// stale gets.
func TestSplitErrors(t *testing.T) {
	bin := testutil.Build(t, cprog.DwarfArgsSplit)
	dwos := cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(bin))
	if len(dwos) != 1 {
		t.Fatalf("DWOFiles = %q, want one", dwos)
	}
	dwo := dwos[0]

	// Another build's unit in its place: the DWO IDs differ.
	other := testutil.Build(t, cprog.Program{Name: "dwarfargs", Sources: cprog.DwarfArgs.Sources, Flags: []string{"-O1", "-g", "-gsplit-dwarf"}})
	stale, err := os.ReadFile(cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(other))[0])
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := os.ReadFile(dwo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dwo, stale, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = dwarfinfo.Open(bin)
	if err == nil || !strings.HasPrefix(err.Error(), dwo+" does not belong to the binary: its DWO ID is ") ||
		!strings.HasSuffix(err.Error(), " (was it rebuilt without relinking?)") {
		t.Errorf("stale .dwo: %v", err)
	}

	// The binary is rebuilt: it is read again.
	if err := os.Remove(dwo); err != nil {
		t.Fatal(err)
	}
	touch(t, bin)
	_, err = dwarfinfo.Open(bin)
	if want := bin + " has split DWARF, but a split unit is missing: no " + dwo + ", no " + bin + ".dwp"; err == nil || err.Error() != want {
		t.Errorf("missing .dwo:\n got %v\nwant %s", err, want)
	}

	// Copied elsewhere without its .dwo: both places are named.
	moved := filepath.Join(t.TempDir(), "dwarfargs")
	if err := os.Rename(bin, moved); err != nil {
		t.Fatal(err)
	}
	_, err = dwarfinfo.Open(moved)
	if want := moved + " has split DWARF, but a split unit is missing: no " + dwo + ", no " + filepath.Join(filepath.Dir(moved), filepath.Base(dwo)) + ", no " + moved + ".dwp"; err == nil || err.Error() != want {
		t.Errorf("moved without the .dwo:\n got %v\nwant %s", err, want)
	}
	if err := os.Rename(moved, bin); err != nil {
		t.Fatal(err)
	}

	// A package without the unit.
	if err := os.WriteFile(dwo, fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	other4 := testutil.Build(t, cprog.DwarfArgsSplit4)
	otherPkg := pack(t, other4, cprog.DwarfArgsSplit4)
	if err := os.Rename(otherPkg, bin+".dwp"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dwo); err != nil {
		t.Fatal(err)
	}
	touch(t, bin)
	_, err = dwarfinfo.Open(bin)
	if want := bin + " has split DWARF, but a split unit is missing: no " + dwo + ", and " + bin + ".dwp has no unit with DWO ID "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("package without the unit:\n got %v\nwant %s...", err, want)
	}
	// With the .dwo back, the package's other units do not matter.
	if err := os.WriteFile(dwo, fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, bin)
	if in, err := dwarfinfo.Open(bin); err != nil || strings.Join(in.SplitFiles, " ") != dwo {
		t.Errorf("the .dwo beside a package without its unit: %v", err)
	}

	// Not a package.
	if err := os.WriteFile(bin+".dwp", fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, bin)
	_, err = dwarfinfo.Open(bin)
	if want := bin + ".dwp is not a DWARF package: it has no .debug_cu_index section"; err == nil || err.Error() != want {
		t.Errorf("a .dwo as the package:\n got %v\nwant %s", err, want)
	}
}

// TestTypeUnitsRefused checks that split type units get a clear error,
// in a .dwo file of either DWARF version and in a package.
func TestTypeUnitsRefused(t *testing.T) {
	const refused = ": split type units (-fdebug-types-section) are not read"
	for _, flags := range [][]string{
		{"-O0", "-g", "-gsplit-dwarf", "-fdebug-types-section"},
		{"-O0", "-g", "-gdwarf-4", "-gsplit-dwarf", "-fdebug-types-section"},
	} {
		p := cprog.Program{Name: "dwarfargs", Sources: cprog.DwarfArgs.Sources, Flags: flags}
		bin := testutil.Build(t, p)
		_, err := dwarfinfo.Open(bin)
		if want := p.DWOFiles(filepath.Dir(bin))[0] + refused; err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", strings.Join(flags, " "), err, want)
		}
		if slices.Contains(flags, "-gdwarf-4") {
			// binutils' dwp packs DWARF 4 only.
			pkg := pack(t, bin, p)
			touch(t, bin)
			_, err = dwarfinfo.Open(bin)
			if want := pkg + refused; err == nil || err.Error() != want {
				t.Errorf("%s, packed:\n got %v\nwant %s", strings.Join(flags, " "), err, want)
			}
		}
	}
}

// touch gives the file at path a new modification time, so that Open
// reads it again.
func touch(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	next := st.ModTime().Add(1e9)
	if err := os.Chtimes(path, next, next); err != nil {
		t.Fatal(err)
	}
}
