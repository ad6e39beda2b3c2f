package pprof

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace"
)

// DefaultHz is the sampling rate when Options.Hz is zero: 49 samples per
// second on each CPU, as BCC's profile samples, off the beat of timers
// that run at round rates.
const DefaultHz = 49

// DefaultMaxStacks is the number of distinct stacks kept when
// Options.MaxStacks is zero, as the profile tool keeps.
const DefaultMaxStacks = 16384

// Errors of Collect's options.
var (
	ErrDuration = errors.New("the profile's duration must be positive")
	ErrStacks   = errors.New("user-only and kernel-only stacks are alternatives: choose one")
	ErrPID      = errors.New("no such process")
)

// Options configure Collect.
type Options struct {
	// Hz is the sampling rate on each CPU; zero means DefaultHz.
	Hz int
	// Duration is how long to sample; it must be positive.
	Duration time.Duration
	// PID limits sampling to one process; zero samples every process.
	PID int
	// UserOnly and KernelOnly keep one of the stacks of each sample.
	UserOnly, KernelOnly bool
	// IncludeIdle keeps the samples of the idle task (PID 0): a CPU
	// with nothing to run.
	IncludeIdle bool
	// MaxStacks bounds the distinct stacks kept (the samples map's
	// size); zero means DefaultMaxStacks.
	MaxStacks int
	// CgroupName names cgroups for the cgroup label (see BuildOptions).
	CgroupName func(id uint64) string
	// Errors receives the run's warnings (a full stack map); nil means
	// os.Stderr.
	Errors io.Writer
	// Started, if set, is called once the probes are attached.
	Started func()
}

// check validates opts and fills in the defaults.
func (opts Options) check() (Options, error) {
	switch {
	case opts.Hz < 0:
		return opts, fmt.Errorf("%w, not %d", ErrRate, opts.Hz)
	case opts.PID < 0:
		return opts, fmt.Errorf("%w: PID %d", ErrPID, opts.PID)
	case opts.UserOnly && opts.KernelOnly:
		return opts, ErrStacks
	case opts.MaxStacks < 0:
		return opts, fmt.Errorf("the number of stacks kept must be positive, not %d", opts.MaxStacks)
	}
	if opts.Hz == 0 {
		opts.Hz = DefaultHz
	}
	if opts.MaxStacks == 0 {
		opts.MaxStacks = DefaultMaxStacks
	}
	return opts, nil
}

// Script returns the sampling script of opts (its Duration aside): a
// profile:hz probe that counts stacks in SamplesMap. It is the profile
// tool's script with --pprof (ktrace profile --pprof FILE --script).
func Script(opts Options) (string, error) {
	opts, err := opts.check()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// Samples what the CPUs are running at %d Hz on each CPU: the kernel and\n", opts.Hz)
	b.WriteString("// user stacks of each process, with its command, PID and cgroup.\n")
	fmt.Fprintf(&b, "config = { max_map_keys = %d }\n\n", opts.MaxStacks)
	fmt.Fprintf(&b, "profile:hz:%d\n", opts.Hz)
	var conds []string
	if opts.PID != 0 {
		conds = append(conds, fmt.Sprintf("pid == %d", opts.PID))
	}
	if !opts.IncludeIdle {
		conds = append(conds, "(pid != 0)")
	}
	if len(conds) > 0 {
		b.WriteString("/" + strings.Join(conds, " && ") + "/\n")
	}
	kstack, ustack := "kstack", "ustack"
	if opts.UserOnly {
		kstack = "0"
	}
	if opts.KernelOnly {
		ustack = "0"
	}
	fmt.Fprintf(&b, "{\n\t%s[comm, pid, cgroup, %s, %s] = count();\n}\n", SamplesMap, kstack, ustack)
	return b.String(), nil
}

// Collect samples the stacks of every CPU (or of one process) for
// opts.Duration and returns their profile. When ctx ends first, it stops
// and returns ctx's error.
func Collect(ctx context.Context, opts Options) (*profile.Profile, error) {
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("%w, not %s", ErrDuration, opts.Duration)
	}
	src, err := Script(opts)
	if err != nil {
		return nil, err
	}
	opts, _ = opts.check()
	if opts.PID != 0 {
		// Say so rather than return an empty profile.
		if err := syscall.Kill(opts.PID, 0); errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("%w: PID %d", ErrPID, opts.PID)
		}
	}
	prog, err := ktrace.Compile("pprof.bt", []byte(src), nil)
	if err != nil {
		return nil, err
	}
	sess, err := prog.Start(ctx, &ktrace.StartOptions{Output: io.Discard, Errors: opts.Errors})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	start := time.Now()
	if opts.Started != nil {
		opts.Started()
	}
	t := time.NewTimer(opts.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	if err := sess.Stop(); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	m, err := sess.Map(SamplesMap)
	if err != nil {
		return nil, err
	}
	samples, err := Samples(m)
	if err != nil {
		return nil, err
	}
	return Build(samples, BuildOptions{Hz: opts.Hz, Start: start, Duration: elapsed, CgroupName: opts.CgroupName})
}
