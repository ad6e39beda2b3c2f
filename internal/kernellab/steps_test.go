package kernellab

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

func TestGoTestStep(t *testing.T) {
	s := GoTest("./probe/", "-test.run=Attach")
	if s.Name != "probe.test" || !s.Test || !s.Run || !s.Optional {
		t.Errorf("GoTest = %+v", s)
	}
	if want := []string{"-test.v", "-test.count=1", "-test.run=Attach"}; !reflect.DeepEqual(s.Args, want) {
		t.Errorf("GoTest args %q, want %q", s.Args, want)
	}
}

func TestPlanCommands(t *testing.T) {
	steps := []builtStep{
		{Step: Binary("ktrace", "./cmd/ktrace"), hostBinary: "x", guestPath: "/bin/ktrace", guestDir: "/"},
		{Step: GoTest("./internal/kernellab/guesttest"), hostBinary: "y", guestPath: "/bin/guesttest.test", guestDir: "/src/internal/kernellab/guesttest"},
		{Step: Command("info", 15*time.Second, "/bin/ktrace", "info"), guestPath: "/bin/ktrace", guestDir: "/"},
	}
	got := planCommands(steps, "Kprobe")
	want := []proto.Command{
		{
			Name:           "guesttest.test",
			Path:           "/bin/guesttest.test",
			Args:           []string{"-test.timeout=2m50s", "-test.v", "-test.count=1", "-test.run=Kprobe"},
			Dir:            "/src/internal/kernellab/guesttest",
			TimeoutSeconds: 180,
		},
		{Name: "info", Path: "/bin/ktrace", Args: []string{"info"}, Dir: "/", TimeoutSeconds: 15},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("planCommands:\ngot  %+v\nwant %+v", got, want)
	}
	if dirs := guestDirs(steps); !reflect.DeepEqual(dirs, []string{"/src/internal/kernellab/guesttest"}) {
		t.Errorf("guestDirs = %q", dirs)
	}
}

func TestHasGoFiles(t *testing.T) {
	dir := t.TempDir()
	if hasGoFiles(dir, false) || hasGoFiles(filepath.Join(dir, "missing"), true) {
		t.Error("empty or missing directory has Go files")
	}
	if err := os.WriteFile(filepath.Join(dir, "a_test.go"), []byte("package a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if hasGoFiles(dir, false) || !hasGoFiles(dir, true) {
		t.Error("test-only directory misjudged")
	}
}

func TestBuildRejectsBadSteps(t *testing.T) {
	b := Builder{ModuleRoot: t.TempDir(), OutDir: t.TempDir()}
	tests := [][]Step{
		{{Package: "./x"}},
		{Binary("a", "./missing"), Binary("a", "./missing")},
		{{Name: "cmd", Run: true, Args: []string{"relative/path"}}},
		{{Name: "req", Package: "./missing", Test: true, Run: true}},
		{Binary("ktrace", "./cmd/ktrace"), Command("info", time.Second, "/bin/ktrace", "info")},
	}
	for _, steps := range tests {
		if _, err := b.Build(t.Context(), steps); err == nil {
			t.Errorf("Build(%+v) succeeded", steps)
		}
	}
	optInfo := Command("info", time.Second, "/bin/ktrace", "info")
	optInfo.Optional = true
	built, err := b.Build(t.Context(), []Step{Binary("ktrace", "./cmd/ktrace"), GoTest("./nothing"), optInfo})
	if err != nil || len(built) != 0 {
		t.Errorf("optional missing steps: %+v, %v; want them skipped", built, err)
	}
}

func TestGoTestStepNames(t *testing.T) {
	for pkg, want := range map[string]string{".": "root.test", "./": "root.test", "./cmd/ktrace": "ktrace.test", "./kernel/": "kernel.test"} {
		if got := GoTest(pkg).Name; got != want {
			t.Errorf("GoTest(%q).Name = %q, want %q", pkg, got, want)
		}
	}
	names := map[string]bool{}
	for _, s := range DefaultSteps {
		if names[s.Name] {
			t.Errorf("DefaultSteps names %s twice", s.Name)
		}
		names[s.Name] = true
	}
}

func TestStepFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b := Builder{ModuleRoot: root, OutDir: t.TempDir()}
	built, err := b.Build(context.Background(), []Step{withFiles(Binary("true", "./internal/kernellab/guesttrue"), "go.mod", "./internal/kernellab/proto")})
	if err != nil {
		t.Fatal(err)
	}
	want := []GuestFile{
		{HostPath: filepath.Join(root, "internal/kernellab/proto"), GuestPath: "/src/internal/kernellab/proto"},
		{HostPath: filepath.Join(root, "go.mod"), GuestPath: "/src/go.mod"},
	}
	got := guestFiles(built)
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g GuestFile) bool { return reflect.DeepEqual(g, w) }) {
			t.Errorf("guest files %+v lack %+v", got, w)
		}
	}
	for _, bad := range []string{"../outside", "/etc/passwd", "no/such/file"} {
		if _, err := b.Build(context.Background(), []Step{withFiles(Binary("true", "./internal/kernellab/guesttrue"), bad)}); err == nil {
			t.Errorf("file %s accepted", bad)
		}
	}
}

func TestStepHostDirs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b := Builder{ModuleRoot: root, OutDir: t.TempDir()}
	cache := t.TempDir()
	step := Binary("true", "./internal/kernellab/guesttrue")
	step.HostDirs = []HostDir{{Host: cache, Guest: "/lab/cache", Include: []string{"*.bt"}, Hint: "run the script"}}
	built, err := b.Build(t.Context(), []Step{step})
	if err != nil {
		t.Fatal(err)
	}
	want := GuestFile{HostPath: cache, GuestPath: "/lab/cache", Include: []string{"*.bt"}}
	if got := guestFiles(built); !slices.ContainsFunc(got, func(g GuestFile) bool { return reflect.DeepEqual(g, want) }) {
		t.Errorf("guest files %+v lack %+v", got, want)
	}
	missing := step
	missing.HostDirs = []HostDir{{Host: filepath.Join(cache, "nope"), Guest: "/lab/cache", Hint: "run the script"}}
	if _, err := b.Build(t.Context(), []Step{missing}); err == nil || !strings.Contains(err.Error(), "run the script") {
		t.Errorf("missing host directory: %v, want an error with the hint", err)
	}
	relative := step
	relative.HostDirs = []HostDir{{Host: cache, Guest: "lab/cache"}}
	if _, err := b.Build(t.Context(), []Step{relative}); err == nil {
		t.Error("a relative guest path was accepted")
	}
}

func TestStepDisk(t *testing.T) {
	disk := GoTest("./compat")
	disk.Disk = true
	disk.Env = []string{"A=1"}
	steps := []builtStep{
		{Step: GoTest("./a"), guestPath: "/bin/a.test", guestDir: "/src/a"},
		{Step: disk, guestPath: "/bin/compat.test", guestDir: "/src/compat"},
	}
	if !needDisk(steps) || needDisk(steps[:1]) {
		t.Errorf("needDisk misjudges %+v", steps)
	}
	cmds := planCommands(steps, "")
	if cmds[0].Env != nil {
		t.Errorf("a step without Disk got env %q", cmds[0].Env)
	}
	if want := []string{"TMPDIR=" + proto.DiskPath, "A=1"}; !reflect.DeepEqual(cmds[1].Env, want) {
		t.Errorf("the disk step's env is %q, want %q", cmds[1].Env, want)
	}
}

func TestCommandStepNeedsItsProgram(t *testing.T) {
	steps := []Step{Command("sh", time.Minute, "/bin/sh", "-c", "true")}
	b := Builder{ModuleRoot: t.TempDir(), OutDir: t.TempDir()}
	if _, err := b.Build(context.Background(), steps); err == nil {
		t.Error("a command step ran a program that nothing ships")
	}
	b.Have = map[string]bool{"/bin/sh": true} // the userland's busybox applet
	built, err := b.Build(context.Background(), steps)
	if err != nil || len(built) != 1 || built[0].guestPath != "/bin/sh" {
		t.Errorf("command step with a userland program: %+v, %v", built, err)
	}
}
