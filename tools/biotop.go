package tools

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/biotop.bt
var biotopScript string

// Biotop shows the processes doing the most block I/O: BCC's biotop.
var Biotop = &Tool{
	Name:    "biotop",
	Summary: "Block device I/O by process, top-style: requests, Kbytes and average latency per interval",
	Description: `Every interval (1 second by default) clears the screen and prints, for the
processes that did the most block I/O, per disk and direction (R or W): the
number of requests, their Kbytes and their average latency from issue to
completion in milliseconds.`,
	Caveat:    Biosnoop.Caveat,
	CaveatDoc: `Before Linux 6.5 (no block:block_io_start), PID and COMM are those of the task current when the request was inserted or issued; BCC uses a kprobe there. Requests are matched by device and sector.`,
	Common:    Interval | PID,
	Flags: []Flag{
		{Short: "C", Long: "noclear", Kind: Bool, Help: "don't clear the screen"},
		{Short: "r", Long: "rows", Kind: Int, Value: "ROWS", Help: "print at most ROWS rows", Default: "20"},
		{Short: "s", Long: "sort", Kind: String, Value: "SORT", Help: "sort by all (the sum), io, bytes or time", Default: "all"},
	},
	Script: biotopScript,
	Header: "Tracing block I/O... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if c.Int("rows") <= 0 {
			return fmt.Errorf("-r needs a positive number of rows, not %s", c.String("rows"))
		}
		switch c.String("sort") {
		case "all", "io", "bytes", "time":
		default:
			return fmt.Errorf("-s %s: sort by all, io, bytes or time", c.String("sort"))
		}
		if c.Interval == 0 {
			c.Interval = time.Second
		}
		return nil
	},
	Report: reportBiotop,
	Examples: []Example{
		{"biotop", "the top block I/O processes, every second"},
		{"biotop -C 5 10", "every 5 seconds, 10 times, without clearing the screen"},
		{"biotop -s bytes -r 5", "the 5 processes moving the most bytes"},
		{"biotop -p 181", "process 181 only"},
	},
	Probes:    "tracepoint:block:block_io_start (tracepoint:block:block_rq_insert, block_rq_issue before 6.5), tracepoint:block:block_rq_issue, tracepoint:block:block_rq_complete",
	MinKernel: "4.7",
}

func reportBiotop(r *Reporter) error {
	c := r.Config
	type row struct {
		pid             int64
		comm, rwbs      string
		dev             uint64
		io, bytes, usec uint64
	}
	rows := map[string]*row{}
	for _, name := range []string{"@io", "@bytes", "@us"} {
		m, err := r.Map(name)
		if err != nil {
			return err
		}
		for _, e := range m.Entries {
			k, ok := e.Key.(output.Tuple)
			if !ok || len(k) != 4 {
				continue
			}
			// R or W, as BCC's biotop: write requests, or the rest.
			dir := "R"
			if strings.Contains(output.Text(k[3]), "W") {
				dir = "W"
			}
			id := fmt.Sprint(k[0], "\x00", k[1], "\x00", k[2], "\x00", dir)
			rw := rows[id]
			if rw == nil {
				rw = &row{pid: int64(asUint(k[0])), comm: output.Text(k[1]), dev: asUint(k[2]), rwbs: dir}
				rows[id] = rw
			}
			switch name {
			case "@io":
				rw.io += asUint(e.Value)
			case "@bytes":
				rw.bytes += asUint(e.Value)
			case "@us":
				rw.usec += asUint(e.Value)
			}
		}
	}
	list := make([]*row, 0, len(rows))
	for _, rw := range rows {
		list = append(list, rw)
	}
	sortKey := func(rw *row) uint64 {
		switch c.String("sort") {
		case "io":
			return rw.io
		case "bytes":
			return rw.bytes
		case "time":
			return rw.usec
		}
		return rw.io + rw.bytes + rw.usec
	}
	sort.SliceStable(list, func(i, j int) bool {
		if a, b := sortKey(list[i]), sortKey(list[j]); a != b {
			return a > b
		}
		return list[i].pid < list[j].pid
	})
	if n := c.Int("rows"); len(list) > n {
		list = list[:n]
	}
	if !c.JSON {
		if !c.Bool("noclear") {
			r.Out.WriteString("\033[H\033[2J")
		}
		load, _ := os.ReadFile("/proc/loadavg")
		fmt.Fprintf(r.Out, "%8s loadavg: %s\n", time.Now().Format("15:04:05"), strings.TrimSpace(string(load)))
	}
	cols := []Column{
		{Name: "PID", Width: -7}, {Name: "COMM", Width: -16}, {Name: "D", Width: 1},
		{Name: "MAJ", Width: -3}, {Name: "MIN", Width: -3}, {Name: "DISK", Width: -8},
		{Name: "I/O", Key: "io", Width: 5}, {Name: "Kbytes", Width: 7}, {Name: "AVGms", Key: "avg_ms", Width: 6},
	}
	table := make([][]any, len(list))
	for i, rw := range list {
		avg := 0.0
		if rw.io > 0 {
			avg = float64(rw.usec) / 1000 / float64(rw.io)
		}
		var avgv any = avg
		if !c.JSON {
			avgv = fmt.Sprintf("%.2f", avg)
		}
		major, minor := rw.dev>>minorBits, rw.dev&(1<<minorBits-1)
		table[i] = []any{rw.pid, unknownComm(rw.comm), rw.rwbs, major, minor, cachedDiskName(fmt.Sprint(rw.dev)), rw.io, rw.bytes / 1024, avgv}
	}
	r.Table(cols, table)
	if !c.JSON {
		r.Out.WriteString("\n")
	}
	return nil
}
