package tools

import (
	_ "embed"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/bitesize.bt
var bitesizeScript string

// Bitesize summarizes block I/O sizes per command: BCC's bitesize.
var Bitesize = &Tool{
	Name:    "bitesize",
	Summary: "Summarize block device I/O size as a histogram per command",
	Description: `Counts block I/O requests as they are issued to the device and prints
their sizes, in Kbytes, as a log2 histogram for each command (the name of
the process that issued them).`,
	Common: Interval | Timestamps,
	Flags: []Flag{
		{Short: "c", Long: "comm", Kind: String, Value: "COMM", Help: "only commands whose name starts with COMM"},
		{Short: "d", Long: "disk", Kind: String, Value: "DISK", Help: "trace this disk only (vda, sda, nvme0n1)"},
	},
	Script: bitesizeScript,
	Header: "Tracing block device I/O... Hit Ctrl-C to end.",
	Check:  diskFlag,
	Report: reportBitesize,
	Examples: []Example{
		{"bitesize", "I/O size histograms per command, until Ctrl-C"},
		{"bitesize -T 1 10", "every second, ten times, with the time"},
		{"bitesize -c fio", "commands whose name starts with fio only"},
		{"bitesize -d vda", "disk vda only"},
	},
	Probes:    "tracepoint:block:block_rq_issue",
	MinKernel: "4.7",
}

func reportBitesize(r *Reporter) error {
	m, err := r.Map("@kbytes")
	if err != nil {
		return err
	}
	if !r.Config.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	sort.SliceStable(m.Entries, func(i, j int) bool { return output.Text(m.Entries[i].Key) < output.Text(m.Entries[j].Key) })
	for _, e := range m.Entries {
		h, ok := e.Value.(output.Hist)
		comm := output.Text(e.Key)
		// BCC compares the command with -c up to -c's length.
		if !ok || !strings.HasPrefix(comm, r.Config.String("comm")) {
			continue
		}
		if !r.Config.JSON {
			r.Out.WriteString("\nProcess Name = " + comm + "\n")
		}
		r.Log2Hist(h, "Kbytes", Field{"comm", comm})
	}
	return nil
}
