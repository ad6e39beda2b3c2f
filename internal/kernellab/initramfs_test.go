package kernellab

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

func TestInitramfs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	initBin := write("init", "INIT", 0o755)
	testBin := write("pkg.test", "TEST", 0o755)
	write("testdata/a.txt", "A", 0o644)
	write("testdata/sub/b.txt", "B", 0o644)
	write("tools/rel/VERSION", "1.0", 0o644)
	write("tools/rel/usr/sbin/x.bt", "X", 0o644)
	write("tools/rel/usr/bin/big", "BIG", 0o755)
	plan := proto.Plan{Token: "tok", Commands: []proto.Command{{Name: "pkg.test", Path: "/bin/pkg.test", Dir: "/src/pkg", TimeoutSeconds: 9}}, Env: []string{"A=1"}, Disk: true}

	for _, gz := range []bool{false, true} {
		ir := Initramfs{
			Init: initBin,
			Files: []GuestFile{
				{HostPath: testBin, GuestPath: "/bin/pkg.test", Mode: 0o755},
				{HostPath: filepath.Join(dir, "testdata"), GuestPath: "/src/pkg/testdata"},
				{HostPath: filepath.Join(dir, "tools"), GuestPath: "/lab/tools", Include: []string{"*.bt", "VERSION"}},
			},
			Dirs: []string{"/src/other"},
			Plan: plan,
			Gzip: gz,
		}
		var buf bytes.Buffer
		if err := ir.Write(&buf); err != nil {
			t.Fatal(err)
		}
		var r io.Reader = &buf
		if gz {
			zr, err := gzip.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		}
		entries, err := ReadCPIO(r)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]CPIOEntry{}
		for _, e := range entries {
			if _, dup := byName[e.Name]; dup {
				t.Errorf("gzip=%v: %s added twice", gz, e.Name)
			}
			// Every parent must come before its contents.
			if d := path.Dir(e.Name); d != "." {
				if p, ok := byName[d]; !ok || !p.IsDir() {
					t.Errorf("gzip=%v: %s comes before its directory", gz, e.Name)
				}
			}
			byName[e.Name] = e
		}
		files := map[string]string{
			"init":                        "INIT",
			"bin/pkg.test":                "TEST",
			"src/pkg/testdata/a.txt":      "A",
			"src/pkg/testdata/sub/b.txt":  "B",
			"lab/tools/rel/VERSION":       "1.0",
			"lab/tools/rel/usr/sbin/x.bt": "X",
		}
		for name, data := range files {
			if e, ok := byName[name]; !ok || string(e.Data) != data {
				t.Errorf("gzip=%v: %s = %+v, want content %q", gz, name, e, data)
			}
		}
		if _, ok := byName["lab/tools/rel/usr/bin/big"]; ok {
			t.Errorf("gzip=%v: a file that Include leaves out was copied", gz)
		}
		if e := byName["init"]; e.Mode != modeFile|0o755 {
			t.Errorf("init mode %#o, want executable file", e.Mode)
		}
		if e := byName["dev/console"]; e.Mode&0o170000 != modeChar || e.Major != 5 || e.Minor != 1 {
			t.Errorf("dev/console = %+v, want char device 5:1", e)
		}
		for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "src/other"} {
			if !byName[d].IsDir() {
				t.Errorf("gzip=%v: no directory %s", gz, d)
			}
		}
		got, err := proto.DecodePlan(byName[strings.TrimPrefix(proto.PlanPath, "/")].Data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, plan) {
			t.Errorf("plan %+v, want %+v", got, plan)
		}
	}
}

func TestInitramfsMissingInit(t *testing.T) {
	ir := Initramfs{Init: filepath.Join(t.TempDir(), "nope")}
	if err := ir.Write(io.Discard); err == nil || !strings.Contains(err.Error(), "init") {
		t.Errorf("Write with a missing init: %v, want an error about init", err)
	}
}
