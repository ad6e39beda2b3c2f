package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/syscalls"
	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/syscount.bt
var syscountScript string

// Syscount counts system calls: BCC's syscount.
var Syscount = &Tool{
	Name:    "syscount",
	Summary: "Count system calls, by call or by process, with the time spent in them (-L)",
	Description: `Counts system calls as they return and prints the busiest, by system call
or, with -P, by process. -L adds the total time spent in them.`,
	Common: PID | Failed | Cgroup | Duration,
	Flags: []Flag{
		{Short: "i", Long: "interval", Kind: Int, Value: "SECONDS", Help: "print a summary every SECONDS seconds"},
		{Short: "T", Long: "top", Kind: Int, Value: "TOP", Help: "print only the TOP busiest", Default: "10"},
		{Short: "e", Long: "errno", Kind: String, Value: "ERRNO", Help: "only calls that failed with this error (EPERM or 1)"},
		{Short: "L", Long: "latency", Kind: Bool, Help: "include the total time spent in the calls"},
		{Short: "m", Long: "milliseconds", Kind: Bool, Help: "show times in milliseconds (default: microseconds)"},
		{Short: "P", Long: "process", Kind: Bool, Help: "count by process, not by system call"},
	},
	Script: syscountScript,
	Header: "Tracing syscalls, printing the busiest... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if c.Has("interval") {
			if c.Int("interval") <= 0 {
				return fmt.Errorf("-i needs a positive number of seconds")
			}
			c.Interval = time.Duration(c.Int("interval")) * time.Second
		}
		if c.Int("top") <= 0 {
			return fmt.Errorf("-T needs a positive number")
		}
		if e := c.String("errno"); e != "" {
			n, ok := errnoNumber(e)
			if !ok {
				return fmt.Errorf("-e %s: not an errno name or number", e)
			}
			c.Flags["errno"] = strconv.Itoa(n)
		}
		return nil
	},
	Report: reportSyscount,
	Examples: []Example{
		{"syscount", "count system calls until Ctrl-C"},
		{"syscount -P", "count by process"},
		{"syscount -i 1 -L", "every second, with the time spent in them"},
		{"syscount -x", "only failed calls"},
		{"syscount -e ENOENT", "only calls that failed with ENOENT"},
		{"syscount -p 181", "only process 181"},
	},
	Probes:    "tracepoint:raw_syscalls:sys_enter, tracepoint:raw_syscalls:sys_exit",
	MinKernel: "4.7",
}

func reportSyscount(r *Reporter) error {
	c := r.Config
	calls, err := r.Map("@calls")
	if err != nil {
		return err
	}
	var times *output.Map
	if c.Bool("latency") {
		if times, err = r.Map("@time_ns"); err != nil {
			return err
		}
	}
	type row struct {
		key   any
		count uint64
		ns    uint64
	}
	var rows []row
	byKey := map[string]int{}
	for _, e := range calls.Entries {
		byKey[fmt.Sprint(e.Key)] = len(rows)
		rows = append(rows, row{key: e.Key, count: asUint(e.Value)})
	}
	if times != nil {
		for _, e := range times.Entries {
			if i, ok := byKey[fmt.Sprint(e.Key)]; ok {
				rows[i].ns = asUint(e.Value)
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if c.Bool("latency") && rows[i].ns != rows[j].ns {
			return rows[i].ns > rows[j].ns
		}
		return rows[i].count > rows[j].count
	})
	if top := c.Int("top"); len(rows) > top {
		rows = rows[:top]
	}
	if !c.JSON {
		if c.Interval > 0 {
			fmt.Fprintf(r.Out, "[%s]\n", time.Now().Format("15:04:05"))
		}
	}
	var cols []Column
	if c.Bool("process") {
		cols = []Column{{Name: "PID", Width: -6}, {Name: "COMM", Width: -15}}
	} else {
		cols = []Column{{Name: "SYSCALL", Width: -22}}
	}
	cols = append(cols, Column{Name: "COUNT", Width: 8})
	unit, div := "us", 1e3
	if c.Bool("milliseconds") {
		unit, div = "ms", 1e6
	}
	if c.Bool("latency") {
		cols = append(cols, Column{Name: "TIME (" + unit + ")", Key: "time_" + unit, Width: 16})
	}
	table := make([][]any, len(rows))
	for i, rw := range rows {
		var vals []any
		if c.Bool("process") {
			k, _ := rw.key.(output.Tuple)
			if len(k) == 2 {
				vals = append(vals, k[0], k[1])
			} else {
				vals = append(vals, 0, "?")
			}
		} else {
			vals = append(vals, syscallName(rw.key))
		}
		vals = append(vals, rw.count)
		if c.Bool("latency") {
			if c.JSON {
				vals = append(vals, float64(rw.ns)/div)
			} else {
				vals = append(vals, strconv.FormatFloat(float64(rw.ns)/div, 'f', 3, 64))
			}
		}
		table[i] = vals
	}
	r.Table(cols, table)
	if !c.JSON {
		fmt.Fprintln(r.Out)
	}
	return nil
}

// errnoNumber reads an errno name (ENOENT) or number.
func errnoNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 4096 {
		return n, true
	}
	for n := 1; n < 4096; n++ {
		if unix.ErrnoName(syscall.Errno(n)) == s {
			return n, true
		}
	}
	return 0, false
}

// syscallName names a system call number, or shows the number.
func syscallName(v any) string {
	n := int64(asUint(v))
	if name, ok := syscalls.Name(n); ok {
		return name
	}
	return strconv.FormatInt(n, 10)
}

// asUint is an integer map value or key as a uint64.
func asUint(v any) uint64 {
	switch v := v.(type) {
	case uint64:
		return v
	case int64:
		return uint64(v)
	case output.Enum:
		return uint64(v.Value)
	}
	return 0
}
