package kernellab

import (
	"bytes"
	"debug/elf"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestInitramfsHostFiles checks that host files keep the links along
// their paths, and that the image's own directories win over host links.
func TestInitramfsHostFiles(t *testing.T) {
	tmp, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, data string) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ln := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}
	initBin := mk("init", "INIT")
	own := mk("own", "OWN")
	mk("host/usr/lib/x86/libfoo.so.1", "FOO")
	mk("host/usr/lib/x86/ld.so", "LD")
	mk("host/usr/bin/tool", "TOOL")
	ln("usr/lib", "host/lib")
	ln("usr/bin", "host/bin")
	if err := os.MkdirAll(filepath.Join(tmp, "host/lib64"), 0o755); err != nil {
		t.Fatal(err)
	}
	ln(filepath.Join(tmp, "host/lib/x86/ld.so"), "host/lib64/ld.so")

	g := strings.TrimPrefix(tmp, "/") // the temporary directory's name in the image
	ir := Initramfs{
		Init: initBin,
		// The image has a directory of its own where the host has the
		// link host/bin.
		Files: []GuestFile{{HostPath: own, GuestPath: "/" + g + "/host/bin/own"}},
		HostFiles: []string{
			filepath.Join(tmp, "host/lib/x86/libfoo.so.1"),
			filepath.Join(tmp, "host/lib64/ld.so"),
			filepath.Join(tmp, "host/bin/tool"),
			filepath.Join(tmp, "host/usr/lib/x86/libfoo.so.1"), // again, by its real name
		},
		Links: []GuestLink{
			{GuestPath: "/bin/sh", Target: "/bin/busybox"},
			{GuestPath: "/init", Target: "/bin/busybox"},                        // exists: left alone
			{GuestPath: "/" + g + "/host/lib/x86/alias", Target: "libfoo.so.1"}, // written through the link
		},
		Dirs: []string{"/" + g + "/host/lib/extra"},
	}
	var buf bytes.Buffer
	if err := ir.Write(&buf); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadCPIO(&buf)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]CPIOEntry{}
	for _, e := range entries {
		if _, dup := byName[e.Name]; dup {
			t.Errorf("%s added twice", e.Name)
		}
		if d := path.Dir(e.Name); d != "." && !byName[d].IsDir() {
			t.Errorf("%s comes before its directory (or its directory is not one)", e.Name)
		}
		byName[e.Name] = e
	}
	want := map[string]string{ // name: "file:DATA" or "link:TARGET" or "dir"
		g + "/host/usr/lib/x86/libfoo.so.1": "file:FOO",
		g + "/host/usr/lib/x86/ld.so":       "file:LD",
		g + "/host/usr/bin/tool":            "file:TOOL",
		g + "/host/lib":                     "link:usr/lib",
		g + "/host/lib64":                   "dir",
		g + "/host/lib64/ld.so":             "link:" + filepath.Join(tmp, "host/lib/x86/ld.so"),
		g + "/host/bin":                     "dir",
		g + "/host/bin/own":                 "file:OWN",
		g + "/host/bin/tool":                "link:" + filepath.Join(tmp, "host/usr/bin/tool"),
		g + "/host/usr/lib/x86/alias":       "link:libfoo.so.1",
		g + "/host/usr/lib/extra":           "dir",
		"bin/sh":                            "link:/bin/busybox",
		"init":                              "file:INIT",
	}
	for name, w := range want {
		e, ok := byName[name]
		var got string
		switch {
		case !ok:
			got = "missing"
		case e.IsDir():
			got = "dir"
		case e.Mode&0o170000 == modeLink:
			got = "link:" + string(e.Data)
		case e.Mode&0o170000 == modeFile:
			got = "file:" + string(e.Data)
		}
		if got != w {
			t.Errorf("%s: %s, want %s", name, got, w)
		}
	}
	for _, name := range []string{g + "/host/lib/x86/libfoo.so.1", g + "/host/lib/extra"} {
		if _, ok := byName[name]; ok {
			t.Errorf("%s written through a link", name)
		}
	}
}

func TestInitramfsHostFileErrors(t *testing.T) {
	dir := t.TempDir()
	initBin := filepath.Join(dir, "init")
	if err := os.WriteFile(initBin, []byte("INIT"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{"relative/path", "not an absolute path"},
		{filepath.Join(dir, "missing"), "no such file"},
		{dir, "not a regular file"},
	} {
		ir := Initramfs{Init: initBin, HostFiles: []string{tc.file}}
		if err := ir.Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("host file %s: %v, want an error with %q", tc.file, err, tc.want)
		}
	}
}

// TestSharedLibraries finds what a dynamically linked host program loads.
func TestSharedLibraries(t *testing.T) {
	bash := testutil.RequireTool(t, "bash", "bash")
	f, err := elf.Open(bash)
	if err != nil {
		t.Fatal(err)
	}
	interp, needed, _, err := dynamicInfo(f, bash)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if interp == "" || len(needed) == 0 {
		t.Skipf("%s is not dynamically linked", bash)
	}
	libs, err := sharedLibraries([]string{bash})
	if err != nil {
		t.Fatal(err)
	}
	var haveInterp, haveLibc bool
	for _, l := range libs {
		haveInterp = haveInterp || l == interp
		haveLibc = haveLibc || path.Base(l) == "libc.so.6"
		if !isFile(l) {
			t.Errorf("%s is not a file", l)
		}
	}
	if !haveInterp || !haveLibc {
		t.Errorf("libraries of %s: %q, want its interpreter %s and libc.so.6", bash, libs, interp)
	}
	if _, err := sharedLibraries([]string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("no error for a missing program")
	}
}

func TestFindLibrary(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libktracetest.so.9")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := findLibrary("libktracetest.so.9", []string{filepath.Join(dir, "none"), dir}); err != nil || got != lib {
		t.Errorf("findLibrary in a run path: %q, %v", got, err)
	}
	if _, err := findLibrary("libktracetest-nowhere.so.9", nil); err == nil {
		t.Error("findLibrary found a library that does not exist")
	}
	if got, err := findLibrary("/abs/lib.so", nil); err != nil || got != "/abs/lib.so" {
		t.Errorf("findLibrary of a path: %q, %v", got, err)
	}
}

// TestUserlandLibraries ships a library by name with what it loads, as
// DefaultUserland does for libpthread.so.0.
func TestUserlandLibraries(t *testing.T) {
	testutil.RequireFile(t, "/etc/ld.so.cache", "libc-bin")
	b := Builder{OutDir: t.TempDir()}
	img, err := b.BuildUserland(t.Context(), Userland{Libraries: []string{"libpthread.so.0"}})
	if err != nil {
		t.Fatal(err)
	}
	var haveLib, haveLibc bool
	for _, p := range img.hostFiles {
		haveLib = haveLib || path.Base(p) == "libpthread.so.0"
		haveLibc = haveLibc || path.Base(p) == "libc.so.6"
	}
	if !haveLib || !haveLibc {
		t.Errorf("userland files %q: want libpthread.so.0 and the libc.so.6 it loads", img.hostFiles)
	}
	if _, err := b.BuildUserland(t.Context(), Userland{Libraries: []string{"libktrace-nowhere.so.1"}}); err == nil {
		t.Error("a missing library was accepted")
	}
}
