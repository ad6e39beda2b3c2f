package tools

import (
	_ "embed"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ktrace/ktrace/internal/kernel"
)

//go:embed scripts/writeback.bt
var writebackScript string

// Writeback traces file system writeback: bpftrace's writeback.bt.
var Writeback = &Tool{
	Name:    "writeback",
	Summary: "Trace file system writeback: each flush of dirty pages, its reason and duration",
	Description: `Prints a line for each writeback of a file system's dirty pages by the
kernel as it ends: the time, the backing device (major:minor), the pages
written, the reason
(background, periodic, sync, vmscan, ...) and how long it took in
milliseconds. Heavy writeback at the moments an application is slow is a
clue that they compete for the disk. With -C, the CGROUP column is the cgroup
whose dirty pages the pass wrote, which the kernel tells apart only with
cgroup writeback (the memory and io controllers enabled on cgroup v2): the
root cgroup otherwise; -c keeps the passes of a cgroup.`,
	Common: Duration | Cgroup,
	Script: writebackScript,
	Header: "Tracing writeback... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		c.Timestamp = "T"
		return nil
	},
	// Writeback runs in kernel workers: the tracepoints' cgroup_ino is
	// the cgroup the pass writes for (its bdi_writeback's memory cgroup).
	CgroupExpr: "$cgroup",
	Caveat: func(k *Kernel) string {
		if k.TracepointField("writeback:writeback_start", "cgroup_ino") {
			return ""
		}
		return "this kernel's writeback tracepoints carry no cgroup ID: the cgroup (-c, -C) is the flushing kernel worker's"
	},
	CaveatDoc: `PAGES is the pages written in the pass (the decrease of the work's page budget, which the tracepoints report); bpftrace's writeback.bt prints the budget left, masked to 16 bits. The cgroup (-c, -C) is the one whose dirty pages the pass writes, as the tracepoints' cgroup_ino says: a cgroup of its own only with cgroup writeback (memory and io controllers on cgroup v2, a file system that supports it), otherwise the root; on older kernels whose tracepoints carry no cgroup ID it is the flushing kernel worker's.`,
	Columns: []Column{
		{Name: "DEVICE", Expr: "args.name", Kind: Text, Width: -8},
		{Name: "PAGES", Expr: "$pages", Kind: Integer, Width: -8},
		{Name: "REASON", Expr: "args.reason", Kind: Integer, Width: -16, Show: writebackReason},
		{Name: "ms", Expr: "$lat", Kind: Unsigned, Show: nsAsMillis, Number: true},
	},
	Examples: []Example{
		{"writeback", "trace writeback until Ctrl-C"},
		{"writeback -d 60", "for a minute"},
	},
	Probes:    "tracepoint:writeback:writeback_start, tracepoint:writeback:writeback_written",
	MinKernel: "4.7",
}

// writebackReasons are the names of the tracepoint's reason values, from
// the __print_symbolic table of its format (the field is an int, so the
// format parser, which keys the tables of enum fields, leaves it out).
var writebackReasons = sync.OnceValue(func() map[int64]string {
	f, err := kernel.TracepointFormat("writeback", "writeback_written")
	if err != nil {
		return nil
	}
	_, table, ok := strings.Cut(f.PrintFmt, "__print_symbolic(REC->reason,")
	if !ok {
		return nil
	}
	table, _, _ = strings.Cut(table, ")")
	names := map[int64]string{}
	for _, m := range regexp.MustCompile(`\{\s*(-?\d+)\s*,\s*"([^"]*)"\s*\}`).FindAllStringSubmatch(table, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		names[n] = m[2]
	}
	return names
})

// writebackReason names a writeback reason, or shows its number.
func writebackReason(s string) string {
	n, _ := strconv.ParseInt(s, 10, 64)
	if name, ok := writebackReasons()[n]; ok {
		return name
	}
	return s
}
