package kernellab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// DefaultKernels are the kernel series the lab boots by default.
var DefaultKernels = []KernelSpec{{Series: "6.1"}, {Series: "6.12"}}

// Config configures a lab run.
type Config struct {
	// Kernels to boot; DefaultKernels when empty.
	Kernels []KernelSpec
	// Steps to build and run; DefaultSteps when empty.
	Steps []Step
	// Userland is what the guests get besides the Steps' programs;
	// DefaultUserland when nil.
	Userland *Userland
	// CacheDir holds downloaded kernels and build output;
	// DefaultCacheDir() when empty.
	CacheDir string
	// Offline uses cached kernels only.
	Offline bool
	// ModuleRoot is the directory with go.mod; found with `go env GOMOD`
	// when empty.
	ModuleRoot string
	// Machine says how to boot the guests.
	Machine Machine
	// Parallel boots all kernels at once instead of one after another.
	Parallel bool
	// RunFilter, when set, is passed to every test step as -test.run.
	RunFilter string
	// Gzip compresses the initramfs.
	Gzip bool
	// Out receives progress and the guests' console output; os.Stdout
	// when nil.
	Out io.Writer
}

// KernelReport is the outcome of one guest.
type KernelReport struct {
	// Spec is what was asked for.
	Spec KernelSpec
	// Kernel is what was booted (zero when fetching failed).
	Kernel Kernel
	// Boot is what the console said.
	Boot BootResult
	// Err is set when the guest gave no verdict or could not be booted.
	Err error
}

// Passed reports whether the guest booted and all its commands passed.
func (k KernelReport) Passed() bool {
	return k.Err == nil && k.Boot.Verdict != nil && k.Boot.Verdict.Exit == 0
}

// Report is the outcome of a lab run.
type Report struct {
	Kernels []KernelReport
	// Wall is the run's total time, builds and downloads included.
	Wall time.Duration
}

// ExitCode is the run's exit status: 0 when every guest passed, the first
// failing guest's verdict when a guest's commands failed, 2 when a guest
// gave no verdict at all.
func (r Report) ExitCode() int {
	code := 0
	for _, k := range r.Kernels {
		switch {
		case k.Err != nil || k.Boot.Verdict == nil:
			return 2
		case k.Boot.Verdict.Exit != 0 && code == 0:
			code = k.Boot.Verdict.Exit
		}
	}
	return code
}

// Summary is a human-readable account of the run.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel lab summary (total %s):\n", r.Wall.Round(time.Second))
	for _, k := range r.Kernels {
		name := k.Kernel.Release
		if name == "" {
			name = k.Spec.Series
		}
		switch {
		case k.Err != nil:
			fmt.Fprintf(&b, "  [%s] %s: ERROR: %v\n", k.Spec.Series, name, k.Err)
		case k.Boot.Verdict.Exit != 0:
			fmt.Fprintf(&b, "  [%s] %s: FAIL (exit %d; failed: %s) in %s\n", k.Spec.Series, name,
				k.Boot.Verdict.Exit, strings.Join(k.Boot.Verdict.Failed, ", "), k.Boot.Duration.Round(100*time.Millisecond))
		default:
			fmt.Fprintf(&b, "  [%s] %s: PASS in %s\n", k.Spec.Series, name, k.Boot.Duration.Round(100*time.Millisecond))
		}
		for _, c := range k.Boot.Commands {
			status := "ok"
			if c.Exit != 0 {
				status = fmt.Sprintf("exit %d", c.Exit)
			}
			if c.Note != "" {
				status += " (" + c.Note + ")"
			}
			fmt.Fprintf(&b, "      %-24s %-10s %6.1fs\n", c.Name, status, c.Seconds)
			for _, l := range c.Failures {
				fmt.Fprintf(&b, "          %s\n", l)
			}
		}
	}
	passed := 0
	for _, k := range r.Kernels {
		if k.Passed() {
			passed++
		}
	}
	// A closing line that CI's log readers recognize.
	fmt.Fprintf(&b, "kernellab: %d passed, %d failed\n", passed, len(r.Kernels)-passed)
	return b.String()
}

// DocKernels returns the columns for KernelsDoc, one per guest that
// reported its release.
func (r Report) DocKernels() []DocKernel {
	var out []DocKernel
	for _, k := range r.Kernels {
		rel := k.Boot.Release
		if rel == "" {
			continue
		}
		out = append(out, DocKernel{Release: rel, Package: k.Kernel.Package, Version: k.Kernel.Version, Results: k.Boot.Results})
	}
	return out
}

// DefaultCacheDir is $KTRACE_LAB_CACHE, else ktrace-lab in the user's
// cache directory (~/.cache/ktrace-lab).
func DefaultCacheDir() string {
	if d := os.Getenv("KTRACE_LAB_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ktrace-lab")
	}
	return filepath.Join(os.TempDir(), "ktrace-lab")
}

// FindModuleRoot returns the directory holding the current module's go.mod.
func FindModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", commandError(err))
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the kernel lab from the ktrace repository")
	}
	return filepath.Dir(mod), nil
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run builds the guest programs and the initramfs, fetches the kernels and
// boots each one. The returned error is for failures before any guest
// could boot (build errors, no QEMU); per-guest failures are in the
// report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	start := time.Now()
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	var outMu sync.Mutex
	logf := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, "kernellab: "+format+"\n", args...)
	}
	specs := cfg.Kernels
	if len(specs) == 0 {
		specs = DefaultKernels
	}
	steps := cfg.Steps
	if len(steps) == 0 {
		steps = DefaultSteps
	}
	cacheDir := cfg.CacheDir
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	root := cfg.ModuleRoot
	if root == "" {
		var err error
		if root, err = FindModuleRoot(ctx); err != nil {
			return Report{}, err
		}
	}
	qemu := cfg.Machine.QEMU
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(qemu); err != nil {
		return Report{}, fmt.Errorf("%s not found: install the Debian package %s (apt-get install -y %s)", qemu, QEMUPackage, QEMUPackage)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return Report{}, fmt.Errorf("kernel lab cache: %w", err)
	}

	// Fetch kernels while the programs build.
	kernels := make([]Kernel, len(specs))
	kerrs := make([]error, len(specs))
	var fetch sync.WaitGroup
	fetch.Add(1)
	go func() {
		defer fetch.Done()
		kc := KernelCache{Dir: cacheDir, Offline: cfg.Offline, Log: logf}
		for i, s := range specs {
			kernels[i], kerrs[i] = kc.Get(ctx, s)
			if kerrs[i] == nil {
				logf("kernel %s: %s (%s)", s.Series, kernels[i].Release, kernels[i].Vmlinuz)
			}
		}
	}()

	buildDir, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		fetch.Wait()
		return Report{}, err
	}
	defer os.RemoveAll(buildDir)
	initrd := filepath.Join(buildDir, "initramfs.cpio")
	token := newToken()
	disk := false // a step needs the disk
	var ir Initramfs
	buildErr := func() error {
		b := Builder{ModuleRoot: root, OutDir: buildDir, Log: logf}
		initBin, err := b.BuildInit(ctx)
		if err != nil {
			return err
		}
		u := DefaultUserland
		if cfg.Userland != nil {
			u = *cfg.Userland
		}
		user, err := b.BuildUserland(ctx, u)
		if err != nil {
			return err
		}
		b.Have = user.paths()
		built, err := b.Build(ctx, steps)
		if err != nil {
			return err
		}
		ir = Initramfs{
			Init:      initBin,
			Files:     append(guestFiles(built), user.files...),
			HostFiles: user.hostFiles,
			Links:     user.links,
			Dirs:      guestDirs(built),
			Gzip:      cfg.Gzip,
		}
		ir.Plan.Token = token
		ir.Plan.Env = user.env
		ir.Plan.Commands = planCommands(built, cfg.RunFilter)
		disk = needDisk(built)
		ir.Plan.Disk = disk
		if len(ir.Plan.Commands) == 0 {
			return errors.New("kernel lab: nothing to run in the guest")
		}
		return nil
	}()
	fetch.Wait()
	if buildErr == nil {
		// One image serves every kernel: each kernel's modules go
		// under its release.
		for _, k := range kernels {
			if k.Modules != "" {
				ir.Files = append(ir.Files, GuestFile{HostPath: k.Modules, GuestPath: proto.ModulesDir + "/" + k.Release, Mode: 0o644})
			}
		}
		buildErr = ir.WriteFile(initrd)
	}
	if buildErr != nil {
		return Report{}, buildErr
	}
	if st, err := os.Stat(initrd); err == nil {
		logf("initramfs: %.1f MiB, %d commands", float64(st.Size())/(1<<20), len(ir.Plan.Commands))
	}

	rep := Report{Kernels: make([]KernelReport, len(specs))}
	boot := func(i int) {
		kr := KernelReport{Spec: specs[i], Kernel: kernels[i], Err: kerrs[i]}
		m := cfg.Machine
		if kr.Err == nil && disk {
			m.Disk = filepath.Join(buildDir, "disk-"+specs[i].Series+".img")
			kr.Err = makeDisk(ctx, m.Disk)
		}
		if kr.Err == nil {
			logf("booting %s", kernels[i].Release)
			w := &lockedWriter{mu: &outMu, w: out}
			kr.Boot, kr.Err = Boot(ctx, m, kernels[i].Vmlinuz, initrd, token, w, "["+specs[i].Series+"] ")
			if kr.Err != nil {
				kr.Err = fmt.Errorf("kernel %s: %w", kernels[i].Release, kr.Err)
			}
		}
		rep.Kernels[i] = kr
	}
	if cfg.Parallel {
		var wg sync.WaitGroup
		for i := range specs {
			wg.Add(1)
			go func() { defer wg.Done(); boot(i) }()
		}
		wg.Wait()
	} else {
		for i := range specs {
			if ctx.Err() != nil {
				rep.Kernels[i] = KernelReport{Spec: specs[i], Kernel: kernels[i], Err: ctx.Err()}
				continue
			}
			boot(i)
		}
	}
	rep.Wall = time.Since(start)
	return rep, nil
}

// lockedWriter serializes writes from parallel guests.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
