package cprog_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

func TestKey(t *testing.T) {
	base := cprog.Program{Name: "p", Sources: map[string]string{"a.c": "int a;", "b.c": "int b;"}, Flags: []string{"-O2"}}
	same := cprog.Program{Name: "p", Sources: map[string]string{"b.c": "int b;", "a.c": "int a;"}, Flags: []string{"-O2"}}
	if base.Key() != same.Key() {
		t.Error("the key depends on the order of the sources")
	}
	for _, other := range []cprog.Program{
		{Name: "q", Sources: base.Sources, Flags: base.Flags},
		{Name: "p", Sources: base.Sources, Flags: []string{"-O0"}},
		{Name: "p", Sources: base.Sources},
		{Name: "p", Sources: map[string]string{"a.c": "int a;", "b.c": "int c;"}, Flags: base.Flags},
		{Name: "p", Sources: map[string]string{"a.c": "int a;", "c.c": "int b;"}, Flags: base.Flags},
	} {
		if other.Key() == base.Key() {
			t.Errorf("%+v has the key of %+v", other, base)
		}
	}
	keys := map[string]string{}
	for _, p := range cprog.Lab {
		if n, dup := keys[p.Key()]; dup {
			t.Errorf("cprog.Lab lists %s and %s with the same key", n, p.Name)
		}
		keys[p.Key()] = p.Name
	}
	if got, want := base.Prebuilt("/lab/cprogs"), filepath.Join("/lab/cprogs", base.Key(), "p"); got != want {
		t.Errorf("Prebuilt = %s, want %s", got, want)
	}
}

// TestBuildLab builds every program the kernel lab ships, as the lab does.
func TestBuildLab(t *testing.T) {
	gcc := testutil.RequireTool(t, "gcc", "gcc")
	for _, p := range cprog.Lab {
		dir := t.TempDir()
		bin, err := p.Build(gcc, dir)
		if err != nil {
			testutil.BuildFailed(t, err)
		}
		if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s: no executable at %s: %v", p.Name, bin, err)
		}
		for file := range p.Sources {
			if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
				t.Errorf("%s: source %s not written: %v", p.Name, file, err)
			}
		}
		if split, dwos := slices.Contains(p.Flags, "-gsplit-dwarf"), p.DWOFiles(dir); split != (len(dwos) > 0) {
			t.Errorf("%s: built with -gsplit-dwarf %v, DWOFiles %q", p.Name, split, dwos)
		}
	}
}

// TestPrebuilt checks that testutil.Build takes a prebuilt program where
// $KTRACE_TEST_CPROGS is set, as in the kernel lab's guests.
func TestPrebuilt(t *testing.T) {
	pre := t.TempDir()
	p := cprog.Plain
	if err := os.MkdirAll(filepath.Dir(p.Prebuilt(pre)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Prebuilt(pre), []byte("PREBUILT"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cprog.EnvDir, pre)
	t.Setenv("PATH", t.TempDir()) // no gcc
	if _, err := exec.LookPath("gcc"); err == nil {
		t.Fatal("gcc still found")
	}
	bin := testutil.Build(t, p)
	if data, err := os.ReadFile(bin); err != nil || string(data) != "PREBUILT" {
		t.Errorf("%s holds %q, %v; want the prebuilt program", bin, data, err)
	}
	if src, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "plain.c")); err != nil || string(src) != p.Sources["plain.c"] {
		t.Errorf("source next to the binary: %q, %v", src, err)
	}

	// A program with split DWARF comes with its .dwo files.
	split := cprog.DwarfArgsSplit
	dir := filepath.Dir(split.Prebuilt(pre))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, text := range map[string]string{split.Prebuilt(pre): "BIN", filepath.Join(dir, "dwarfargs.dwo"): "DWO"} {
		if err := os.WriteFile(file, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if dwos := split.DWOFiles(dir); len(dwos) != 1 || filepath.Base(dwos[0]) != "dwarfargs.dwo" {
		t.Errorf("DWOFiles = %q, want the one dwarfargs.dwo", dwos)
	}
	bin = testutil.Build(t, split)
	if data, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "dwarfargs.dwo")); err != nil || string(data) != "DWO" {
		t.Errorf(".dwo next to the binary: %q, %v", data, err)
	}
}
