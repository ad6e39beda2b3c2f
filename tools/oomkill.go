package tools

import (
	_ "embed"
	"os"
	"strconv"
	"strings"
)

//go:embed scripts/oomkill.bt
var oomkillScript string

// Oomkill traces the OOM killer: BCC's oomkill.
var Oomkill = &Tool{
	Name:    "oomkill",
	Summary: "Trace the OOM killer: a line per process it kills",
	Description: `Prints a line for each process the out-of-memory killer kills: the time,
the process whose allocation failed (triggered by), the process killed, a
number of pages and the load averages.`,
	Caveat: func(k *Kernel) string {
		if k.Kprobes() {
			return ""
		}
		s := "without kprobes, kills are traced from oom:mark_victim, and the pages are the killed process's resident pages, not the OOM domain's total"
		if !victimTask(k) {
			s += "; the cgroup (-c, -C) is the one of the process whose allocation failed, not the killed one's"
		}
		return s
	},
	CaveatDoc:  "Uses a kprobe on oom_kill_process where the kernel has kprobes (pages: the OOM domain's total, as BCC's); otherwise oom:mark_victim (raw, for the killed task), where the pages are the killed process's resident pages (anon, file and shmem). The cgroup (-c, -C) is the killed process's, except without kprobes on kernels before 6.8, whose mark_victim has only its PID: there it is the cgroup of the process whose allocation failed.",
	Common:     Duration | Cgroup,
	CgroupExpr: "$cg",
	Script:     oomkillScript,
	Header:     "Tracing OOM kills... Ctrl-C to stop.",
	NoHeadings: true,
	Columns: []Column{
		{Name: "FPID", Expr: "pid", Kind: Integer, TextFormat: "Triggered by PID %s"},
		{Name: "FCOMM", Expr: "comm", Kind: Text, TextFormat: `("%s"),`},
		{Name: "TPID", Expr: "$tpid", Kind: Integer, TextFormat: "OOM kill of PID %s"},
		{Name: "TCOMM", Expr: "$tcomm", Kind: Text, TextFormat: `("%s"),`},
		{Name: "PAGES", Expr: "$pages", Kind: Unsigned, TextFormat: "%s pages,"},
		{Name: "LOADAVG", Expr: `""`, Kind: Text, TextFormat: "loadavg: %s", Show: func(string) string { return loadavg() }},
	},
	Check: func(c *Config) error {
		// BCC's oomkill always prints the time.
		c.Timestamp = "T"
		c.Flags["page_kb"] = strconv.Itoa(os.Getpagesize() / 1024)
		return nil
	},
	Examples: []Example{
		{"oomkill", "trace OOM kills"},
	},
	Probes:    "kprobe:oom_kill_process; tracepoint:oom:mark_victim",
	MinKernel: "4.7",
}

// victimTask reports whether raw tracepoint mark_victim gives the killed
// task (since Linux 6.8; before, its PID).
func victimTask(k *Kernel) bool { return k.RawArg("mark_victim", 0) == "task" }

// loadavg is the system's load averages as /proc/loadavg has them.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(data))
}
