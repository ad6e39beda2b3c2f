package tools

import (
	_ "embed"
	"sort"
	"strconv"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/biolatency.bt
var biolatencyScript string

// Biolatency summarizes block I/O latency: BCC's biolatency.
var Biolatency = &Tool{
	Name:    "biolatency",
	Summary: "Summarize block device I/O latency as a histogram",
	Description: `Times each block I/O request from its issue to the device (or, with -Q,
from its insertion into the queue) to its completion, and prints the
latencies as a log2 histogram: per disk with -D, per I/O type with -F.`,
	Common: Interval | Timestamps,
	Flags: []Flag{
		{Short: "m", Long: "milliseconds", Kind: Bool, Help: "histogram in milliseconds (default: microseconds)"},
		{Short: "Q", Long: "queued", Kind: Bool, Help: "include the time queued in the kernel"},
		{Short: "D", Long: "disks", Kind: Bool, Help: "a histogram per disk"},
		{Short: "F", Long: "flags", Kind: Bool, Help: "a histogram per I/O type (R, W, WS, ...)"},
		{Short: "d", Long: "disk", Kind: String, Value: "DISK", Help: "trace this disk only (vda, sda, nvme0n1)"},
	},
	Script: biolatencyScript,
	Header: "Tracing block device I/O... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if d := c.String("disk"); d != "" {
			dev, err := diskDev(d)
			if err != nil {
				return err
			}
			c.Flags["dev"] = strconv.FormatUint(dev, 10)
		}
		return nil
	},
	Report: reportBiolatency,
	Examples: []Example{
		{"biolatency", "a histogram of block I/O latency, until Ctrl-C"},
		{"biolatency 1 10", "every second, ten times"},
		{"biolatency -mT 1", "every second, in milliseconds, with the time"},
		{"biolatency -Q", "including the time queued in the kernel"},
		{"biolatency -D", "a histogram per disk"},
		{"biolatency -d vda", "disk vda only"},
	},
	Probes:    "tracepoint:block:block_rq_insert (-Q), tracepoint:block:block_rq_issue, tracepoint:block:block_rq_complete",
	MinKernel: "4.7",
}

func reportBiolatency(r *Reporter) error {
	m, err := r.Map("@latency")
	if err != nil {
		return err
	}
	unit := "usecs"
	if r.Config.Bool("milliseconds") {
		unit = "msecs"
	}
	if !r.Config.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	sort.SliceStable(m.Entries, func(i, j int) bool { return output.Text(m.Entries[i].Key) < output.Text(m.Entries[j].Key) })
	for _, e := range m.Entries {
		h, ok := e.Value.(output.Hist)
		if !ok {
			continue
		}
		var extra []Field
		var keys []any
		if t, ok := e.Key.(output.Tuple); ok {
			keys = t
		} else if e.Key != nil {
			keys = []any{e.Key}
		}
		i := 0
		if r.Config.Bool("disks") {
			disk := diskName(asUint(keys[i]))
			extra = append(extra, Field{"disk", disk})
			if !r.Config.JSON {
				r.Out.WriteString("\ndisk = " + disk + "\n")
			}
			i++
		}
		if r.Config.Bool("flags") {
			flags := output.Text(keys[i])
			extra = append(extra, Field{"flags", flags})
			if !r.Config.JSON {
				r.Out.WriteString("\nflags = " + flags + "\n")
			}
		}
		r.Log2Hist(h, unit, extra...)
	}
	return nil
}
