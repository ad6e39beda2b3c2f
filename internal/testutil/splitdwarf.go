package testutil

import (
	"debug/dwarf"
	"debug/elf"
	"path/filepath"
	"testing"
)

// RecordedDWO returns where the binary at path, built with -gsplit-dwarf
// from one source file, says its .dwo file is: the skeleton unit's
// DW_AT_dwo_name, resolved against its DW_AT_comp_dir. A prebuilt
// program (in the kernel lab) names where it was built, not where the
// test found it.
func RecordedDWO(t testing.TB, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	e, err := d.Reader().Next()
	if err != nil || e == nil {
		t.Fatalf("%s: no first unit: %v", path, err)
	}
	name, ok := e.Val(dwarf.AttrDwoName).(string)
	if !ok {
		t.Fatalf("%s: the first unit is no skeleton (%v)", path, e.Tag)
	}
	if dir, ok := e.Val(dwarf.AttrCompDir).(string); ok && !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	return name
}
