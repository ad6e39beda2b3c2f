package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/offcputime.bt
var offcputimeScript string

// Offcputime summarizes off-CPU time by stack: BCC's offcputime.
var Offcputime = &Tool{
	Name:    "offcputime",
	Summary: "Summarize off-CPU time by stack: where threads block, and for how long",
	Description: `Times how long threads stay off CPU, from being switched out to being
switched back in, and sums the times (in microseconds) by the kernel and
user stacks they were switched out with, and their command and thread ID.
Prints the stacks at the end, the longest total last, or with -f one folded
line per stack for flame graphs.`,
	Common:     PID,
	Positional: "[duration]",
	Flags: []Flag{
		{Short: "t", Long: "tid", Kind: Int, Value: "TID", Help: "trace this thread only"},
		{Short: "u", Long: "user-threads-only", Kind: Bool, Help: "user threads only (no kernel threads)"},
		{Short: "k", Long: "kernel-threads-only", Kind: Bool, Help: "kernel threads only (no user threads)"},
		{Short: "U", Long: "user-stacks-only", Kind: Bool, Help: "show user stacks only (no kernel stacks)"},
		{Short: "K", Long: "kernel-stacks-only", Kind: Bool, Help: "show kernel stacks only (no user stacks)"},
		{Short: "d", Long: "delimited", Kind: Bool, Help: "a delimiter (--, or - when folded) between the kernel and user stacks"},
		{Short: "f", Long: "folded", Kind: Bool, Help: "folded output, one line per stack (for flame graphs)"},
		{Short: "m", Long: "min-block-time", Kind: Int, Value: "MIN_US", Help: "only off-CPU times of at least MIN_US microseconds", Default: "1"},
		{Short: "M", Long: "max-block-time", Kind: Int, Value: "MAX_US", Help: "only off-CPU times of at most MAX_US microseconds"},
		{Long: "state", Kind: Int, Value: "STATE", Help: "only threads switched out in this state bitmask (0 runnable, 1 interruptible, 2 uninterruptible)"},
	},
	Script: offcputimeScript,
	Header: "Tracing off-CPU time (us) by stack... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if err := durationArg(c); err != nil {
			return err
		}
		switch {
		case c.Bool("user-threads-only") && c.Bool("kernel-threads-only"):
			return fmt.Errorf("-u and -k are exclusive")
		case c.Bool("user-stacks-only") && c.Bool("kernel-stacks-only"):
			return fmt.Errorf("-U and -K are exclusive")
		case c.Has("tid") && c.Int("tid") <= 0:
			return fmt.Errorf("-t needs a thread ID, not %s", c.String("tid"))
		case c.Int("min-block-time") < 0:
			return fmt.Errorf("-m needs a number of microseconds, not %s", c.String("min-block-time"))
		case c.Has("max-block-time") && c.Int("max-block-time") < c.Int("min-block-time"):
			return fmt.Errorf("-M %s is below the minimum, %d", c.String("max-block-time"), c.Int("min-block-time"))
		case c.Has("state") && c.Int("state") < 0:
			return fmt.Errorf("--state needs a bitmask, not %s", c.String("state"))
		}
		return nil
	},
	Report: reportOffcputime,
	Examples: []Example{
		{"offcputime", "off-CPU time by stack, until Ctrl-C"},
		{"offcputime 5", "for 5 seconds"},
		{"offcputime -p 185 -f", "process 185, folded for flame graphs"},
		{"offcputime -K -m 1000", "kernel stacks only, blocks of 1 ms or more"},
		{"offcputime -u", "user threads only"},
	},
	Probes:    "rawtracepoint:sched_switch",
	MinKernel: "4.17",
}

// stackRecord is one summed stack of offcputime or wakeuptime.
type stackRecord struct {
	comm         string
	tid, tgid    uint64
	kernel, user []string
	haveK, haveU bool
	total        uint64
}

// kernelFrames names a kernel stack's frames, without those of the BPF
// program and the tracepoint machinery that took it.
func kernelFrames(s output.Stack) []string {
	var names []string
	for _, f := range s.Frames {
		n := f.Name()
		if len(names) == 0 && (strings.HasPrefix(n, "bpf_prog_") || strings.HasPrefix(n, "bpf_trace_run") ||
			strings.HasPrefix(n, "__traceiter_") || strings.HasPrefix(n, "__bpf_trace_")) {
			continue
		}
		names = append(names, n)
	}
	return names
}

// userFrames names a user stack's frames, up to the first null address.
func userFrames(s output.Stack) []string {
	var names []string
	for _, f := range s.Frames {
		if f.Addr == 0 {
			break
		}
		names = append(names, f.Name())
	}
	return names
}

func reportOffcputime(r *Reporter) error {
	m, err := r.Map("@off")
	if err != nil {
		return err
	}
	var recs []stackRecord
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		if !ok || len(k) < 3 {
			continue
		}
		rec := stackRecord{comm: output.Text(k[0]), tid: asUint(k[1]), tgid: asUint(k[2]), total: asUint(e.Value)}
		for _, v := range k[3:] {
			s, _ := v.(output.Stack)
			if s.User {
				rec.user, rec.haveU = userFrames(s), true
			} else {
				rec.kernel, rec.haveK = kernelFrames(s), true
			}
		}
		recs = append(recs, rec)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].total < recs[j].total })
	for _, rec := range recs {
		printStackRecord(r, rec)
	}
	return nil
}

// printStackRecord prints a summed stack as BCC's offcputime does: the
// kernel frames, the user frames, "-", the command and thread ID, then the
// total; folded with -f; or as a JSON object.
func printStackRecord(r *Reporter, rec stackRecord) {
	c := r.Config
	if c.JSON {
		fields := []Field{{"comm", rec.comm}, {"tid", rec.tid}, {"pid", rec.tgid}}
		if rec.haveK {
			fields = append(fields, Field{"kstack", jsonList(rec.kernel)})
		}
		if rec.haveU {
			fields = append(fields, Field{"ustack", jsonList(rec.user)})
		}
		r.JSON(append(fields, Field{"total_us", rec.total})...)
		return
	}
	if c.Bool("folded") {
		line := []string{rec.comm}
		if rec.haveU {
			for i := len(rec.user) - 1; i >= 0; i-- {
				line = append(line, rec.user[i])
			}
		}
		if rec.haveK {
			if c.Bool("delimited") && rec.haveU {
				line = append(line, "-")
			}
			for i := len(rec.kernel) - 1; i >= 0; i-- {
				line = append(line, rec.kernel[i])
			}
		}
		fmt.Fprintf(r.Out, "%s %d\n", strings.Join(line, ";"), rec.total)
		return
	}
	for _, f := range rec.kernel {
		fmt.Fprintf(r.Out, "    %s\n", f)
	}
	if c.Bool("delimited") && rec.haveK && rec.haveU {
		r.Out.WriteString("    --\n")
	}
	for _, f := range rec.user {
		fmt.Fprintf(r.Out, "    %s\n", f)
	}
	fmt.Fprintf(r.Out, "    %-16s %s (%d)\n", "-", rec.comm, rec.tid)
	fmt.Fprintf(r.Out, "        %d\n\n", rec.total)
}
