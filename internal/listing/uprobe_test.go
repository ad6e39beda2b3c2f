package listing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// TestUprobeParams lists a binary's functions with their DWARF
// parameters, and one without DWARF with a warning.
func TestUprobeParams(t *testing.T) {
	for _, p := range []cprog.Program{cprog.DwarfArgs, cprog.DwarfArgsSplit} {
		t.Run(strings.Join(p.Flags, " "), func(t *testing.T) { testUprobeParams(t, p) })
	}
}

func testUprobeParams(t *testing.T, p cprog.Program) {
	bin := testutil.Build(t, p)
	var warnings []string
	got, err := List("uprobe:"+bin+":kt_s*", Options{Verbose: true, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"uprobe:" + bin + ":kt_shape",
		"    struct shape* sh",
		"    int scale",
		"uprobe:" + bin + ":kt_str",
		"    const char* s",
		"    char* const t",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	// Without -v, no parameters; uretprobes have none either.
	for _, search := range []string{"uprobe:" + bin + ":kt_str", "uretprobe:" + bin + ":kt_str"} {
		o := Options{Verbose: !strings.HasPrefix(search, "uprobe:")}
		if got, err := List(search, o); err != nil || len(got) != 1 {
			t.Errorf("%s (verbose %v) = %q, %v", search, o.Verbose, got, err)
		}
	}

	plain := testutil.Build(t, cprog.DwarfArgsNoDebug)
	warnings = nil
	got, err = List("uprobe:"+plain+":kt_*t", Options{Verbose: true, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"uprobe:" + plain + ":kt_float", "uprobe:" + plain + ":kt_point"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("without DWARF: %q, want %q", got, want)
	}
	if want := `No DWARF found for "` + plain + `", cannot show parameter info`; len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want one: %s", warnings, want)
	}
}

// TestUprobeParamsSplitMissing lists a binary whose split DWARF is
// missing without parameters, with a warning that says which file.
func TestUprobeParamsSplitMissing(t *testing.T) {
	bin := testutil.Build(t, cprog.DwarfArgsSplit)
	dwos := cprog.DwarfArgsSplit.DWOFiles(filepath.Dir(bin))
	for _, f := range dwos {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	var warnings []string
	got, err := List("uprobe:"+bin+":kt_s*", Options{Verbose: true, Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"uprobe:" + bin + ":kt_shape", "uprobe:" + bin + ":kt_str"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	want := "Cannot show parameter info: " + bin + " has split DWARF, but a split unit is missing: no " + dwos[0] + ", no " + bin + ".dwp"
	if len(dwos) != 1 || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want one: %s", warnings, want)
	}
}
