package imports_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/imports"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/preprocessor"
)

// writeTree creates files (path → content) under dir; a path ending in
// "/" is a directory.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// resolve parses src as the script dir/main.bt and runs its imports.
func resolve(t *testing.T, dir, src string) (probes, macros []string, err error) {
	t.Helper()
	f := lang.NewFile("main.bt", []byte(src))
	prog, err := parser.ParseWith(f, preprocessor.Config{})
	if err != nil {
		return nil, nil, err
	}
	if err := imports.Resolve(prog, imports.Config{Dir: dir}); err != nil {
		return nil, nil, err
	}
	for _, p := range prog.Probes {
		probes = append(probes, prog.File.Position(p.Sp.Pos).String())
	}
	for _, m := range prog.Macros {
		macros = append(macros, m.Name)
	}
	return probes, macros, nil
}

func TestResolve(t *testing.T) {
	files := map[string]string{
		"a.bt":         "import \"b.bt\";\nmacro fa() { 1 }\nBEGIN { }\n",
		"b.bt":         "import \"a.bt\";\nmacro fb() { 2 }\n", // a cycle: each file is read once
		"lib/x.bt":     "macro fx() { 3 }\ntracepoint:syscalls:sys_enter_read { }\n",
		"lib/y.h":      "struct y { int v; };\n",
		"lib/skip.txt": "skipped\n",
		"lib/sub/z.bt": "macro fz() { 4 }\n", // not imported: directories are not recursed
	}
	dir := t.TempDir()
	writeTree(t, dir, files)
	tests := []struct {
		src            string
		probes, macros string
	}{
		{`import "a.bt"; END { }`, "a.bt:3:1 main.bt:1:16", "fb fa"},
		{`import "lib"; import "lib/x.bt"; END { }`, "lib/x.bt:2:1 main.bt:1:34", "fx"},
		{`import "stdlib"; END { }`, "main.bt:1:18", ""},
	}
	for _, tt := range tests {
		probes, macros, err := resolve(t, dir, tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		// Imported files are named by their path from the script's
		// directory.
		got := strings.ReplaceAll(strings.Join(probes, " "), dir+"/", "")
		if got != tt.probes {
			t.Errorf("%s: probes at %q, want %q", tt.src, got, tt.probes)
		}
		if got := strings.Join(macros, " "); got != tt.macros {
			t.Errorf("%s: macros %q, want %q", tt.src, got, tt.macros)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"only.bt":   "macro m() { 1 }\n",
		"open/a.bt": "macro m() { 1 }\n",
		"wide.bt":   "macro w() { 1 }\n",
		"cfg.bt":    "config = { max_strlen = 8 }\n",
		"obj.bpf.o": "",
	})
	if err := os.Chmod(filepath.Join(dir, "open"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "wide.bt"), 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src, want string
	}{
		{`import "only.bt";`,
			"main.bt:1:18: ERROR: " + parser.NoProbes + "\nimport \"only.bt\";\n                 ^"},
		{`import "open/a.bt"; BEGIN { }`,
			"main.bt:1:1: ERROR: cowardly refusing to import from a directory with global write permissions: \"DIR/open\"\nimport \"open/a.bt\"; BEGIN { }\n^~~~~~~~~~~~~~~~~~"},
		{`import "wide.bt"; BEGIN { }`,
			"main.bt:1:1: ERROR: cowardly refusing to import from a directory with global write permissions: \"DIR/wide.bt\"\nimport \"wide.bt\"; BEGIN { }\n^~~~~~~~~~~~~~~~"},
		{`import "open"; BEGIN { }`,
			"main.bt:1:1: ERROR: cowardly refusing to import from a directory with global write permissions: \"DIR/open\"\nimport \"open\"; BEGIN { }\n^~~~~~~~~~~~~"},
		{`import "obj.bpf.o"; BEGIN { }`,
			"main.bt:1:1: ERROR: cannot import obj.bpf.o: importing BPF C sources and objects needs a C compiler, and ktrace compiles scripts without one\nimport \"obj.bpf.o\"; BEGIN { }\n^~~~~~~~~~~~~~~~~~"},
		{`import "missing"; BEGIN { }`,
			"main.bt:1:1: ERROR: Unable to find suitable path for import: DIR/missing does not exist\nimport \"missing\"; BEGIN { }\n^~~~~~~~~~~~~~~~"},
		{`import "cfg.bt"; BEGIN { }`,
			"DIR/cfg.bt:1:12: ERROR: invalid `config` within import: only the script that is run may have a config block\nconfig = { max_strlen = 8 }\n           ^~~~~~~~~~~~~~"},
		{`BEGIN { import "only.bt"; }`,
			"main.bt:1:9: ERROR: an import inside a probe can only import a C header (.h), not only.bt\nBEGIN { import \"only.bt\"; }\n        ^~~~~~~~~~~~~~~~"},
	}
	for _, tt := range tests {
		_, _, err := resolve(t, dir, tt.src)
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.src, tt.want)
			continue
		}
		if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != tt.want {
			t.Errorf("%s:\n got: %q\nwant: %q", tt.src, got, tt.want)
		}
	}
}
