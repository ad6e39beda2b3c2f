package tools

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"
)

//go:embed scripts/capable.bt
var capableScript string

// Capable traces security capability checks: BCC's capable.
var Capable = &Tool{
	Name:    "capable",
	Summary: "Trace security capability checks (cap_capable()) and their verdicts",
	Description: `Prints a line for each capability check the kernel makes (whether a task
may chown a file, bind a low port, load a module, ...): the time, the
user ID, PID and name of the current task, the capability's number and
name, and the verdict (allow or deny). AUDIT says whether the check is
audited (0 for the kernel's quiet checks); -x adds the thread ID (and
INSETID). Checks made by ktrace itself are left out.`,
	Caveat: func(k *Kernel) string {
		if capableKprobes(k) {
			return ""
		}
		return "without kprobes, capability checks come from the capability:cap_capable tracepoint, which has no options: there are no AUDIT and INSETID columns"
	},
	CaveatDoc: "Without kprobes (or on kernels where they are unavailable) the checks come from the capability:cap_capable tracepoint (Linux 6.14), which does not have the check's options, so the AUDIT and INSETID columns are left out.",
	Common:    PID | Cgroup,
	Flags: []Flag{
		{Short: "x", Long: "extra-fields", Kind: Bool, Help: "include the TID (and INSETID) columns"},
		{Short: "K", Long: "kernel-stack", Kind: Bool, Help: "print the kernel stack of each check"},
		{Short: "U", Long: "user-stack", Kind: Bool, Help: "print the user stack of each check"},
		{Short: "u", Long: "unique", Kind: String, Value: "TYPE", Help: "print only the first check of each capability by each pid or cgroup"},
	},
	Script: capableScript,
	Header: "Tracing security capability checks... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "UID", Expr: "uid", Kind: Integer, Width: -5},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "TID", Expr: "tid", Kind: Integer, Width: -7, When: func(c *Config) bool { return c.Bool("extra-fields") }},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "CAP", Expr: "$cap", Kind: Integer, Width: -7},
		{Name: "NAME", Key: "name", Expr: "$cap", Kind: Integer, Width: -20, Show: capabilityName},
		{Name: "AUDIT", Expr: "$audit", Kind: Integer, Width: -7, When: func(c *Config) bool { return capableKprobes(c.Kernel) }},
		{Name: "VERDICT", Expr: "$ret", Kind: Integer, Width: -7, Show: capableVerdict},
		{Name: "INSETID", Expr: "$insetid", Kind: Integer, Width: -7,
			When: func(c *Config) bool { return c.Bool("extra-fields") && capableKprobes(c.Kernel) }},
		{Name: "KSTACK", Key: "kernel_stack", Expr: "kstack", Kind: Text, Show: stackLines,
			When: func(c *Config) bool { return c.Bool("kernel-stack") && !c.JSON }},
		{Name: "USTACK", Key: "user_stack", Expr: "ustack", Kind: Text, Show: stackLines,
			When: func(c *Config) bool { return c.Bool("user-stack") && !c.JSON }},
		{Name: "KSTACK", Key: "kernel_stack", Expr: "kstack", Kind: Text, Show: stackFolded, JSONOnly: true,
			When: func(c *Config) bool { return c.Bool("kernel-stack") }},
		{Name: "USTACK", Key: "user_stack", Expr: "ustack", Kind: Text, Show: stackFolded, JSONOnly: true,
			When: func(c *Config) bool { return c.Bool("user-stack") }},
	},
	Check: func(c *Config) error {
		c.Timestamp = "T" // BCC's capable always prints the time
		c.Flags["self"] = strconv.Itoa(os.Getpid())
		if u := c.String("unique"); c.Has("unique") && u != "pid" && u != "cgroup" {
			return fmt.Errorf("-u %s: the type is pid or cgroup", u)
		}
		return nil
	},
	Examples: []Example{
		{"capable", "trace every capability check"},
		{"capable -p 185", "only process 185"},
		{"capable -c system.slice/ssh.service", "only processes of this cgroup"},
		{"capable -x", "with thread IDs"},
		{"capable -K", "with the kernel stack of each check"},
		{"capable -U", "with the user stack of each check"},
		{"capable -u pid", "only the first check of each capability by each process"},
	},
	Probes:    "kprobe:cap_capable + kretprobe:cap_capable, or tracepoint:capability:cap_capable",
	MinKernel: "4.7 (with kprobes), 6.14 (tracepoint)",
}

// capableKprobes reports whether capable probes cap_capable() itself.
func capableKprobes(k *Kernel) bool { return k != nil && k.Kprobes() }

// capabilityName names a capability number (include/uapi/linux/capability.h).
func capabilityName(s string) string {
	names := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
		"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
		"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
		"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
		"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(names) {
		return names[n]
	}
	return "CAP_" + s
}

// capableVerdict shows cap_capable()'s result: 0 allows, an error denies.
func capableVerdict(s string) string {
	if s == "0" {
		return "allow"
	}
	return "deny"
}

// stackLines shows a stack as BCC prints it under an event: a frame per
// line, indented.
func stackLines(s string) string {
	var b strings.Builder
	for _, f := range stackTextFrames(s) {
		b.WriteString("\n    " + f)
	}
	return b.String()
}

// stackFolded shows a stack in one string, its frames separated by
// semicolons, innermost first.
func stackFolded(s string) string { return strings.Join(stackTextFrames(s), ";") }

// stackTextFrames splits a stack the script printed as text into its
// frames.
func stackTextFrames(s string) []string {
	var frames []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			frames = append(frames, l)
		}
	}
	return frames
}
