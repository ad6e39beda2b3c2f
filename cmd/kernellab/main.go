// Command kernellab boots Debian kernels in QEMU and runs ktrace's
// privileged tests inside them. See package
// github.com/ktrace/ktrace/internal/kernellab for what it does.
//
// Usage, from the repository:
//
//	go run ./cmd/kernellab                     # 6.1 and 6.12, one after the other
//	go run ./cmd/kernellab -kernels 6.12 -run 'Fentry|Fexit'
//	go run ./cmd/kernellab -update-docs docs/kernels.md
//
// Its exit status is the guests' verdict: 0 when every guest passed, the
// failing command's status when a guest's tests failed, 2 when a guest
// could not boot, crashed or timed out, 3 for a usage or setup error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab"
)

func main() {
	os.Exit(run())
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func run() int {
	var (
		kernels    = flag.String("kernels", "6.1,6.12", "comma-separated kernel series to boot")
		flavour    = flag.String("flavour", "cloud-amd64", "Debian kernel flavour")
		cache      = flag.String("cache", kernellab.DefaultCacheDir(), "cache directory for kernels ($KTRACE_LAB_CACHE)")
		offline    = flag.Bool("offline", false, "use cached kernels only, never apt")
		timeout    = flag.Duration("timeout", 4*time.Minute, "time limit for each guest, boot to power-off")
		parallel   = flag.Bool("parallel", false, "boot all kernels at once")
		cpus       = flag.Int("smp", 2, "guest CPUs")
		mem        = flag.Int("mem", 1024, "guest memory in MiB")
		accel      = flag.String("accel", kernellab.DefaultAccel, "QEMU -accel value")
		appendArgs = flag.String("append", "", "extra kernel command line")
		runFilter  = flag.String("run", "", "regexp passed as -test.run to every guest test binary")
		gzipImage  = flag.Bool("gzip", false, "gzip the initramfs")
		updateDocs = flag.String("update-docs", "", "write the attach-type table to this file (docs/kernels.md)")
		tests      multiFlag
		vmlinuz    multiFlag
	)
	flag.Var(&tests, "test", "also run this package's tests in the guests (repeatable), e.g. -test ./internal/resolve")
	flag.Var(&vmlinuz, "vmlinuz", "boot SERIES=PATH instead of fetching that series (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: kernellab [flags]\n\nBoots Debian kernels in QEMU and runs ktrace's privileged tests in them.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		return 3
	}

	if *updateDocs != "" && *runFilter != "" {
		fmt.Fprintln(os.Stderr, "kernellab: -update-docs needs the full suite: drop -run")
		return 3
	}
	overrides := map[string]string{}
	for _, v := range vmlinuz {
		series, p, ok := strings.Cut(v, "=")
		if !ok || series == "" || p == "" {
			fmt.Fprintf(os.Stderr, "kernellab: -vmlinuz wants SERIES=PATH, got %q\n", v)
			return 3
		}
		overrides[series] = p
	}
	var specs []kernellab.KernelSpec
	for _, s := range strings.Split(*kernels, ",") {
		if s = strings.TrimSpace(s); s != "" {
			specs = append(specs, kernellab.KernelSpec{Series: s, Flavour: *flavour, Vmlinuz: overrides[s]})
		}
	}
	if len(specs) == 0 {
		fmt.Fprintln(os.Stderr, "kernellab: no kernels given")
		return 3
	}
	steps := append([]kernellab.Step(nil), kernellab.DefaultSteps...)
	for _, t := range tests {
		s := kernellab.GoTest(t)
		s.Optional = false
		steps = append(steps, s)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := kernellab.Run(ctx, kernellab.Config{
		Kernels:   specs,
		Steps:     steps,
		CacheDir:  *cache,
		Offline:   *offline,
		Parallel:  *parallel,
		RunFilter: *runFilter,
		Gzip:      *gzipImage,
		Machine: kernellab.Machine{
			Accel: *accel, CPUs: *cpus, MemoryMB: *mem, Append: *appendArgs, Timeout: *timeout,
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kernellab: %v\n", err)
		return 3
	}
	fmt.Print(rep.Summary())
	if *updateDocs != "" {
		if code := writeDocs(rep, *updateDocs, *kernels); code != 0 {
			return code
		}
	}
	return rep.ExitCode()
}

func writeDocs(rep kernellab.Report, path, kernels string) int {
	cols := rep.DocKernels()
	if len(cols) != len(rep.Kernels) {
		fmt.Fprintf(os.Stderr, "kernellab: not writing %s: not every guest booted\n", path)
		return 2
	}
	command := "go run ./cmd/kernellab -kernels " + kernels + " -update-docs " + filepath.ToSlash(path)
	if err := os.WriteFile(path, []byte(kernellab.KernelsDoc(cols, command)), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "kernellab: %v\n", err)
		return 3
	}
	fmt.Printf("kernellab: wrote %s\n", path)
	return 0
}
