package kernellab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// Step is one program built on the host, put into every guest as
// /bin/<Name>, and (when Run is set) run by guest init.
type Step struct {
	// Name is the program's name in /bin and in the lab's output.
	Name string
	// Package is the Go package to build, relative to the module root
	// ("./cmd/ktrace").
	Package string
	// Test builds the package's tests (go test -c) instead of the
	// package itself. A test binary runs with its working directory set
	// to /src/<Package>, where the package's testdata directory (if any)
	// is copied.
	Test bool
	// Run makes guest init run the program. Steps without Run only ship
	// a program that other steps use (ktrace itself).
	Run bool
	// Args are the program's arguments when Run is set.
	Args []string
	// Env holds extra KEY=VALUE pairs for the program.
	Env []string
	// Timeout bounds the program's run time in the guest; 3 minutes when
	// zero.
	Timeout time.Duration
	// Optional skips the step, with a notice, when the package does not
	// exist yet or has no test files, instead of failing the lab.
	Optional bool
	// Files are more files or directories of the module, named relative
	// to its root ("verify/testdata/progs.o"), that a test step reads;
	// each goes to the same place under /src, so that the test finds it
	// by the relative path it uses on the host.
	Files []string
	// HostDirs are host directories outside the module that the step's
	// tests read (a cache filled by a script, such as the tool sets of
	// .ci/bpftrace-tools); each is copied to its guest path.
	HostDirs []HostDir
	// Disk gives the step a disk: the guest gets an ext4 file system on
	// an NVMe drive, mounted on proto.DiskPath, and the step runs with
	// TMPDIR there, so that its temporary files are on a block device
	// (the initramfs and /tmp are in memory).
	Disk bool
}

// HostDir is a host directory outside the module that a step needs in
// the guest.
type HostDir struct {
	// Host is the directory on the host.
	Host string
	// Guest is its absolute path in the guest.
	Guest string
	// Include, when set, lists shell patterns (path.Match) for the names
	// of the files to copy; other files are left out, directories are
	// always walked.
	Include []string
	// Hint says how to make the directory; it is part of the error when
	// the directory is missing.
	Hint string
}

// Binary ships the program built from pkg as /bin/name without running it.
// It is optional: a missing package is skipped.
func Binary(name, pkg string) Step {
	return Step{Name: name, Package: pkg, Optional: true}
}

// GoTest builds pkg's tests with go test -c and runs them verbosely in the
// guest, passing args after the default test flags. The binary is named
// after the package's last element, with ".test" appended. It is optional:
// a package without tests is skipped.
func GoTest(pkg string, args ...string) Step {
	base := path.Base(strings.TrimSuffix(pkg, "/"))
	if base == "." {
		base = "root" // the module's root package
	}
	name := base + ".test"
	return Step{
		Name:     name,
		Package:  pkg,
		Test:     true,
		Run:      true,
		Args:     append([]string{"-test.v", "-test.count=1"}, args...),
		Optional: true,
	}
}

// Command runs a program already in the guest (for example /bin/ktrace
// shipped by a Binary step) with args. Name labels it; the program is
// args[0]. A program under /bin must be shipped by an earlier step; set
// Optional on the returned step to skip it when that step was skipped.
func Command(name string, timeout time.Duration, args ...string) Step {
	return Step{Name: name, Run: true, Args: args, Timeout: timeout}
}

// DefaultSteps is what every guest gets. Order matters: guest init runs the
// Run steps in this order, and ktrace must be shipped before anything uses
// it. To add another privileged test package to the guest run, add one
// line such as
//
//	GoTest("./internal/resolve", "-test.run=Attach"),
//
// and to run a shell-free command, Command("ktrace-info", time.Minute,
// "/bin/ktrace", "info").
//
// guesttest runs first: it measures which attach types work and writes
// $KTRACE_LAB_RESULTS, which cmd/ktrace's TestLabInfo compares `ktrace
// info` with. The privileged suites after it are required: a package that
// loses its tests fails the lab instead of being skipped.
var DefaultSteps = []Step{
	Binary("ktrace", "./cmd/ktrace"),
	Binary("true", "./internal/kernellab/guesttrue"),
	GoTest("./internal/kernellab/guesttest"),
	required(GoTest(".")),
	withFiles(required(GoTest("./cmd/ktrace")), "verify/testdata/progs.o"),
	required(GoTest("./internal/kernel")),
	required(GoTest("./internal/resolve")),
	toolsStep(),
	compatStep(),
}

// toolsStep runs the ready tools whose best probes are kprobes (package
// tools' TestLab tests), with a disk for the page cache tools.
func toolsStep() Step {
	s := required(GoTest("./tools", "-test.run=^TestLab"))
	s.Disk = true
	return s
}

// BpftraceToolsGuest is where the guests get the tool sets that
// .ci/bpftrace-tools fetches.
const BpftraceToolsGuest = "/lab/bpftrace-tools"

// bpftraceTools is the host's cache of .ci/bpftrace-tools, found as the
// script finds it: $KTRACE_BPFTRACE_TOOLS or its default.
func bpftraceTools() string {
	if d := os.Getenv("KTRACE_BPFTRACE_TOOLS"); d != "" {
		return d
	}
	return "/var/cache/ktrace/bpftrace-tools"
}

// compatStep runs bpftrace's own tool scripts (package compat) in the
// guests: those that attach kprobes, which the host cannot run
// (KTRACE_COMPAT_KPROBES=1; the others run on the host). The guests have
// no network, so the tool sets come from the host's cache (only the
// scripts and the VERSION files), and the block I/O tools get a disk.
// Each tool is a run of ktrace under TCG, hence the long time limit.
func compatStep() Step {
	s := required(GoTest("./compat", "-test.run=^(TestTools|TestLabKernels)$"))
	s.Timeout = CompatTimeout
	s.Env = []string{"KTRACE_BPFTRACE_TOOLS=" + BpftraceToolsGuest, "KTRACE_COMPAT_KPROBES=1"}
	s.HostDirs = []HostDir{{
		Host:    bpftraceTools(),
		Guest:   BpftraceToolsGuest,
		Include: []string{"*.bt", "VERSION"},
		Hint:    "bash .ci/bpftrace-tools fetches bpftrace's tool sets there (.ci/kernellab runs it first)",
	}}
	s.Disk = true
	return s
}

// CompatTimeout bounds the compat step in a guest; it takes about a
// minute (32 tool runs) in each of the default kernels.
const CompatTimeout = 8 * time.Minute

// required makes a step fail the lab when its package or tests are
// missing, rather than be skipped with a notice.
func required(s Step) Step {
	s.Optional = false
	return s
}

// withFiles adds module files that the step's tests read to the guest.
func withFiles(s Step, files ...string) Step {
	s.Files = append(s.Files, files...)
	return s
}

// builtStep is a step after building: its binary (if any) and where
// things go in the guest.
type builtStep struct {
	Step
	hostBinary string // "" for Command steps
	guestPath  string
	guestDir   string
	testdata   string      // host testdata directory to copy, or ""
	extra      []GuestFile // the step's Files
}

// Builder compiles the lab's programs.
type Builder struct {
	// ModuleRoot is the directory holding go.mod.
	ModuleRoot string
	// OutDir receives the binaries.
	OutDir string
	// Go is the go command; "go" when empty.
	Go string
	// Log receives progress messages; nil discards them.
	Log func(format string, args ...any)
	// Have holds guest paths that exist besides the steps' programs
	// (the userland's, such as /bin/sh), which command steps may run.
	Have map[string]bool
}

func (b Builder) logf(format string, args ...any) {
	if b.Log != nil {
		b.Log(format, args...)
	}
}

func (b Builder) goCmd() string {
	if b.Go == "" {
		return "go"
	}
	return b.Go
}

// goBuild runs the go command with a static linux/amd64 environment.
func (b Builder) goBuild(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, b.goCmd(), args...)
	cmd.Dir = b.ModuleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return fmt.Errorf("go toolchain not found (%s): %w", b.goCmd(), err)
		}
		return fmt.Errorf("%s %s: %w\n%s", b.goCmd(), strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// BuildInit builds the guest's /init.
func (b Builder) BuildInit(ctx context.Context) (string, error) {
	out := filepath.Join(b.OutDir, "init")
	b.logf("building guest init")
	err := b.goBuild(ctx, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./internal/kernellab/guestinit")
	return out, err
}

// Build builds the steps' programs. Optional steps whose package is
// missing or has no tests are dropped with a notice.
func (b Builder) Build(ctx context.Context, steps []Step) ([]builtStep, error) {
	var built []builtStep
	names := map[string]bool{}
	shipped := map[string]bool{}
	for _, s := range steps {
		if s.Name == "" {
			return nil, errors.New("kernel lab step without a name")
		}
		if names[s.Name] {
			return nil, fmt.Errorf("kernel lab step %q given twice", s.Name)
		}
		names[s.Name] = true
		if s.Package == "" {
			if len(s.Args) == 0 || !path.IsAbs(s.Args[0]) {
				return nil, fmt.Errorf("kernel lab step %q: a command step needs an absolute program path as its first argument", s.Name)
			}
			if strings.HasPrefix(s.Args[0], "/bin/") && !shipped[s.Args[0]] && !b.Have[s.Args[0]] {
				if s.Optional {
					b.logf("skipping %s: no step ships %s", s.Name, s.Args[0])
					continue
				}
				return nil, fmt.Errorf("kernel lab step %s: no earlier step ships %s", s.Name, s.Args[0])
			}
			built = append(built, builtStep{Step: s, guestPath: s.Args[0], guestDir: "/"})
			continue
		}
		pkgDir := filepath.Join(b.ModuleRoot, filepath.FromSlash(s.Package))
		if !hasGoFiles(pkgDir, s.Test) {
			what := "Go files"
			if s.Test {
				what = "test files"
			}
			if s.Optional {
				b.logf("skipping %s: %s has no %s yet", s.Name, s.Package, what)
				continue
			}
			return nil, fmt.Errorf("kernel lab step %s: %s has no %s", s.Name, s.Package, what)
		}
		out := filepath.Join(b.OutDir, s.Name)
		b.logf("building %s from %s", s.Name, s.Package)
		var err error
		if s.Test {
			err = b.goBuild(ctx, "test", "-c", "-trimpath", "-ldflags=-s -w", "-o", out, s.Package)
		} else {
			err = b.goBuild(ctx, "build", "-trimpath", "-ldflags=-s -w", "-o", out, s.Package)
		}
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(out); err != nil {
			if s.Optional {
				b.logf("skipping %s: go built nothing for %s", s.Name, s.Package)
				continue
			}
			return nil, fmt.Errorf("kernel lab step %s: go built nothing for %s", s.Name, s.Package)
		}
		bs := builtStep{Step: s, hostBinary: out, guestPath: "/bin/" + s.Name, guestDir: "/"}
		if s.Test {
			bs.guestDir = path.Join("/src", path.Clean(strings.TrimPrefix(filepath.ToSlash(s.Package), "./")))
			if st, err := os.Stat(filepath.Join(pkgDir, "testdata")); err == nil && st.IsDir() {
				bs.testdata = filepath.Join(pkgDir, "testdata")
			}
		}
		for _, f := range s.Files {
			rel := path.Clean(filepath.ToSlash(f))
			if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
				return nil, fmt.Errorf("kernel lab step %s: file %s is not inside the module", s.Name, f)
			}
			host := filepath.Join(b.ModuleRoot, filepath.FromSlash(rel))
			if _, err := os.Stat(host); err != nil {
				return nil, fmt.Errorf("kernel lab step %s: %w", s.Name, err)
			}
			bs.extra = append(bs.extra, GuestFile{HostPath: host, GuestPath: path.Join("/src", rel)})
		}
		for _, d := range s.HostDirs {
			if !path.IsAbs(d.Guest) {
				return nil, fmt.Errorf("kernel lab step %s: guest path %s of %s is not absolute", s.Name, d.Guest, d.Host)
			}
			if st, err := os.Stat(d.Host); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("kernel lab step %s needs the directory %s: %s", s.Name, d.Host, d.Hint)
			}
			bs.extra = append(bs.extra, GuestFile{HostPath: d.Host, GuestPath: d.Guest, Include: d.Include})
		}
		built = append(built, bs)
		shipped[bs.guestPath] = true
	}
	return built, nil
}

// hasGoFiles reports whether dir has non-test Go files (or, for tests,
// _test.go files).
func hasGoFiles(dir string, tests bool) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") {
			continue
		}
		if strings.HasSuffix(n, "_test.go") == tests {
			return true
		}
	}
	return false
}

// guestFiles lists what the built steps put into the image.
func guestFiles(steps []builtStep) []GuestFile {
	var files []GuestFile
	for _, s := range steps {
		if s.hostBinary != "" {
			files = append(files, GuestFile{HostPath: s.hostBinary, GuestPath: s.guestPath, Mode: 0o755})
		}
		if s.testdata != "" {
			files = append(files, GuestFile{HostPath: s.testdata, GuestPath: path.Join(s.guestDir, "testdata")})
		}
		files = append(files, s.extra...)
	}
	return files
}

// guestDirs lists the working directories the steps need.
func guestDirs(steps []builtStep) []string {
	var dirs []string
	for _, s := range steps {
		if s.guestDir != "" && s.guestDir != "/" {
			dirs = append(dirs, s.guestDir)
		}
	}
	return dirs
}

// needDisk reports whether a step that runs needs the disk.
func needDisk(steps []builtStep) bool {
	for _, s := range steps {
		if s.Run && s.Disk {
			return true
		}
	}
	return false
}

// planCommands turns the Run steps into guest init's commands.
func planCommands(steps []builtStep, runFilter string) []proto.Command {
	var cmds []proto.Command
	for _, s := range steps {
		if !s.Run {
			continue
		}
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = 3 * time.Minute
		}
		args := s.Args
		if s.Package == "" {
			args = s.Args[1:]
		}
		env := s.Env
		if s.Disk {
			env = append([]string{"TMPDIR=" + proto.DiskPath}, env...)
		}
		if s.Test {
			// Let the test binary time out (and print where it
			// hung) shortly before guest init kills it.
			testTimeout := timeout
			if testTimeout > 20*time.Second {
				testTimeout -= 10 * time.Second
			}
			args = append([]string{"-test.timeout=" + testTimeout.String()}, args...)
			if runFilter != "" {
				args = append(args, "-test.run="+runFilter)
			}
		}
		cmds = append(cmds, proto.Command{
			Name:           s.Name,
			Path:           s.guestPath,
			Args:           args,
			Dir:            s.guestDir,
			Env:            env,
			TimeoutSeconds: int(timeout / time.Second),
		})
	}
	return cmds
}
