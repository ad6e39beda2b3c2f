package tools

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/output"
	"github.com/ktrace/ktrace/pprof"
)

//go:embed scripts/profile.bt
var profileScript string

// ProfileTool samples stacks on every CPU: BCC's profile, which also
// writes folded stacks (-f), an SVG flame graph (--svg), a pprof profile
// (--pprof) and JSON.
var ProfileTool = &Tool{
	Name:    "profile",
	Summary: "Sample stacks on every CPU at a timed interval, for flame graphs",
	Description: `Samples what each CPU is running, kernel and user stacks, and prints each
stack seen with its count (BCC's format), folded stacks for flame graph tools
(-f), an interactive SVG flame graph (--svg FILE), or a CPU profile in pprof's
format (--pprof FILE) for go tool pprof, Parca or Pyroscope, with each sample
labelled with its process's comm, pid and cgroup. Kernel frames end in _[k] in
folded output, and are in the [kernel.kallsyms] mapping of a pprof profile.`,
	Common:     PID | Duration | Cgroup,
	Positional: "[duration]",
	Flags: []Flag{
		{Short: "F", Long: "frequency", Kind: Int, Value: "HZ", Help: "samples per second on each CPU", Default: "49"},
		{Short: "L", Long: "tid", Kind: Int, Value: "TID", Help: "sample this thread only"},
		{Short: "U", Long: "user-stacks-only", Kind: Bool, Help: "user stacks only"},
		{Short: "K", Long: "kernel-stacks-only", Kind: Bool, Help: "kernel stacks only"},
		{Short: "I", Long: "include-idle", Kind: Bool, Help: "include the idle task's samples"},
		{Long: "cpu", Kind: Int, Value: "CPU", Help: "sample this CPU only"},
		{Short: "f", Long: "folded", Kind: Bool, Help: "print folded stacks (comm;frame;...;frame COUNT), for flame graph tools"},
		{Long: "svg", Kind: String, Value: "FILE", Help: "write an interactive SVG flame graph to FILE"},
		{Long: "title", Kind: String, Value: "TITLE", Help: "the flame graph's title"},
		{Long: "pprof", Kind: String, Value: "FILE", Help: "write a CPU profile in pprof's format (gzipped) to FILE, for go tool pprof"},
		{Long: "stack-storage-size", Kind: Int, Value: "N", Help: "the number of distinct stacks kept", Default: "16384"},
	},
	Script: profileScript,
	Greeting: func(c *Config) string {
		who := "all threads"
		switch {
		case c.PID != 0:
			who = "PID " + strconv.Itoa(c.PID)
		case c.Has("tid"):
			who = "TID " + c.String("tid")
		}
		stacks := "user + kernel stack"
		if c.Bool("user-stacks-only") {
			stacks = "user stack"
		} else if c.Bool("kernel-stacks-only") {
			stacks = "kernel stack"
		}
		until := "... Hit Ctrl-C to end."
		if c.Duration > 0 {
			until = fmt.Sprintf(" for %s.", c.Duration)
		}
		return fmt.Sprintf("Sampling at %s Hertz of %s by %s%s", c.String("frequency"), who, stacks, until)
	},
	Check: func(c *Config) error {
		switch {
		case c.Int("frequency") <= 0:
			return fmt.Errorf("-F needs a positive rate")
		case c.Bool("user-stacks-only") && c.Bool("kernel-stacks-only"):
			return fmt.Errorf("-U and -K are alternatives: choose one")
		case c.Bool("folded") && c.Has("svg"):
			return fmt.Errorf("--folded and --svg are alternatives: choose one")
		case c.Bool("folded") && c.Has("pprof"):
			return fmt.Errorf("--folded and --pprof are alternatives: choose one")
		case c.Has("svg") && c.Has("pprof"):
			return fmt.Errorf("--svg and --pprof are alternatives: choose one")
		case c.JSON && c.Has("pprof"):
			return fmt.Errorf("-j and --pprof are alternatives: choose one")
		case c.Int("stack-storage-size") <= 0:
			return fmt.Errorf("--stack-storage-size needs a positive number")
		case len(c.Args) > 1:
			return fmt.Errorf("unexpected argument %q", c.Args[1])
		}
		if len(c.Args) == 1 {
			d, err := seconds(c.Args[0])
			if err != nil {
				return fmt.Errorf("the duration must be a positive number of seconds, not %q", c.Args[0])
			}
			c.Duration = d
		}
		return nil
	},
	Report: reportProfile,
	Examples: []Example{
		{"profile", "sample every CPU at 49 Hz until Ctrl-C"},
		{"profile -F 99 10", "at 99 Hz for 10 seconds"},
		{"profile -p 185 -f 5", "folded stacks of PID 185 for 5 seconds"},
		{"profile --svg cpu.svg 10", "an SVG flame graph of 10 seconds"},
		{"profile --pprof cpu.pb.gz -p 185 10", "a pprof profile of PID 185 for 10 seconds, for go tool pprof"},
		{"profile -K --cpu 0", "kernel stacks of CPU 0 only"},
	},
	Probes:    "profile:hz (perf_event software CPU clock)",
	MinKernel: "4.9",
}

// IdleFilter leaves out the idle task unless -I.
func (c *Config) IdleFilter() string {
	if c.Bool("include-idle") {
		return ""
	}
	return "pid != 0"
}

// profileSample is one stack and its count.
type profileSample struct {
	comm           string
	pid            uint64
	kstack, ustack output.Stack
	count          uint64
}

func profileSamples(m *output.Map) []profileSample {
	var out []profileSample
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		n := asUint(e.Value)
		if !ok || len(k) != 4 || n == 0 {
			continue
		}
		s := profileSample{count: n, pid: asUint(k[1])}
		s.comm, _ = k[0].(string)
		s.kstack, _ = k[2].(output.Stack)
		s.ustack, _ = k[3].(output.Stack)
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].count < out[j].count })
	return out
}

func reportProfile(r *Reporter) error {
	m, err := r.Session.Map("@samples")
	if err != nil {
		return err
	}
	c := r.Config
	if c.Has("pprof") {
		return writePprof(r, m)
	}
	samples := profileSamples(m)
	switch {
	case c.JSON:
		for _, s := range samples {
			r.JSON(Field{"comm", s.comm}, Field{"pid", s.pid}, Field{"kstack", frameNames(s.kstack, false)},
				Field{"ustack", frameNames(s.ustack, true)}, Field{"count", s.count})
		}
	case c.Bool("folded"):
		return flamegraph.WriteFolded(r.Out, flameSamples(samples))
	case c.Has("svg"):
		return writeSVG(r, flameSamples(samples))
	default:
		for _, s := range samples {
			for _, f := range s.kstack.Frames {
				fmt.Fprintf(r.Out, "    %s\n", f.Name())
			}
			for _, f := range s.ustack.Frames {
				fmt.Fprintf(r.Out, "    %s\n", userFrameName(f))
			}
			fmt.Fprintf(r.Out, "    %-16s %s (%d)\n        %d\n\n", "-", s.comm, s.pid, s.count)
		}
	}
	return nil
}

// frameNames is a stack's frames, innermost first, as a JSON array.
func frameNames(s output.Stack, user bool) json.RawMessage {
	names := []string{}
	for _, f := range s.Frames {
		if user {
			names = append(names, userFrameName(f))
		} else {
			names = append(names, f.Name())
		}
	}
	data, _ := json.Marshal(names)
	return data
}

func flameSamples(samples []profileSample) []flamegraph.Sample {
	var out []flamegraph.Sample
	for _, s := range samples {
		frames := []string{s.comm}
		for i := len(s.ustack.Frames) - 1; i >= 0; i-- {
			frames = append(frames, userFrameName(s.ustack.Frames[i]))
		}
		for i := len(s.kstack.Frames) - 1; i >= 0; i-- {
			frames = append(frames, s.kstack.Frames[i].Name()+flamegraph.KernelSuffix)
		}
		out = append(out, flamegraph.Sample{Frames: frames, Count: s.count})
	}
	return out
}

func writeSVG(r *Reporter, samples []flamegraph.Sample) error {
	c := r.Config
	var total uint64
	for _, s := range samples {
		total += s.Count
	}
	sub := fmt.Sprintf("%d samples at %s Hz", total, c.String("frequency"))
	if c.PID != 0 {
		sub += fmt.Sprintf(", PID %d", c.PID)
	}
	title := c.String("title")
	if title == "" {
		title = "ktrace profile"
	}
	path := c.String("svg")
	f, err := os.Create(path)
	if err == nil {
		err = flamegraph.WriteSVG(f, samples, flamegraph.SVGOptions{Title: title, Subtitle: sub + ", " + time.Now().Format("2006-01-02 15:04:05")})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "open "))
	}
	fmt.Fprintf(r.Err, "Wrote %s (%d distinct stacks).\n", path, len(samples))
	return nil
}

// writePprof writes the samples of m, which --pprof keys by cgroup too,
// as a pprof profile, named cgroups and all.
func writePprof(r *Reporter, m *output.Map) error {
	c := r.Config
	samples, err := pprof.Samples(m)
	if err != nil {
		return err
	}
	var names cgroupNames
	p, err := pprof.Build(samples, pprof.BuildOptions{Hz: c.Int("frequency"), Start: r.Start, Duration: time.Since(r.Start), CgroupName: names.Name})
	if err != nil {
		return err
	}
	path := c.String("pprof")
	f, err := os.Create(path)
	if err == nil {
		err = p.Write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "open "))
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[0]
	}
	fmt.Fprintf(r.Err, "Wrote %s (%d samples of %d distinct stacks).\n", path, total, len(p.Sample))
	return nil
}

// ProfileOptions configure Profile.
type ProfileOptions struct {
	// Hz is the sampling rate on each CPU; zero means 49.
	Hz int
	// PID limits sampling to one process; zero samples every process.
	PID int
	// Duration stops sampling after this long; zero samples until ctx
	// ends.
	Duration time.Duration
	// Started, if set, is called once the probes are attached.
	Started func()
}

// config is the profile tool's configuration for opts.
func (opts ProfileOptions) config() (*Config, error) {
	if opts.Hz < 0 {
		return nil, fmt.Errorf("-F needs a positive rate, not %d", opts.Hz)
	}
	if opts.PID < 0 {
		return nil, fmt.Errorf("-p needs a positive PID, not %d", opts.PID)
	}
	var args []string
	if opts.Hz != 0 {
		args = append(args, "-F", strconv.Itoa(opts.Hz))
	}
	if opts.PID != 0 {
		args = append(args, "-p", strconv.Itoa(opts.PID))
	}
	c, err := ProfileTool.Parse(args)
	if err != nil {
		return nil, err
	}
	c.Kernel = NewKernel()
	return c, nil
}

// ProfileScript returns the script Profile runs.
func ProfileScript(opts ProfileOptions) (string, error) {
	c, err := opts.config()
	if err != nil {
		return "", err
	}
	return c.Script(false)
}

// Profile samples the stacks of every CPU (or of one process) and returns
// how often each was seen, as flame graph samples: the command, then the
// user frames from the outermost in, then the kernel frames, marked with
// flamegraph.KernelSuffix.
func Profile(ctx context.Context, opts ProfileOptions) ([]flamegraph.Sample, error) {
	src, err := ProfileScript(opts)
	if err != nil {
		return nil, err
	}
	prog, err := ktrace.Compile("profile.bt", []byte(src), nil)
	if err != nil {
		return nil, err
	}
	sess, err := prog.Start(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if opts.Started != nil {
		opts.Started()
	}
	var timeout <-chan time.Time
	if opts.Duration > 0 {
		t := time.NewTimer(opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	}
	if err := sess.Stop(); err != nil {
		return nil, err
	}
	m, err := sess.Map("@samples")
	if err != nil {
		return nil, err
	}
	return Samples(m), nil
}

// Samples turns a map keyed by (comm, pid, kstack, ustack), as the profile
// script fills it, into flame graph samples.
func Samples(m *output.Map) []flamegraph.Sample {
	return flameSamples(profileSamples(m))
}

// userFrameName names a user frame for a flame graph: its function, or
// the file it is in (so that unknown frames of one library merge), or
// [unknown].
func userFrameName(f output.Frame) string {
	switch {
	case f.Symbol != "":
		return f.Symbol
	case f.Module != "":
		return "[" + filepath.Base(f.Module) + "]"
	}
	return "[unknown]"
}
