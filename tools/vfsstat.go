package tools

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
)

//go:embed scripts/vfsstat.bt
var vfsstatScript string

// vfsOps are vfsstat's columns, with the kernel function and, where there
// are no kprobes, the system calls (and the condition on their arguments)
// that stand for it.
var vfsOps = []struct {
	name, function string
	syscalls       []vfsSyscall
}{
	{"READ", "vfs_read", vfsCalls("", "read", "readv", "pread64", "preadv", "preadv2")},
	{"WRITE", "vfs_write", vfsCalls("", "write", "writev", "pwrite64", "pwritev", "pwritev2")},
	{"FSYNC", "vfs_fsync", vfsCalls("", "fsync", "fdatasync")},
	{"OPEN", "vfs_open", vfsCalls("", "open", "openat", "openat2", "open_by_handle_at", "creat")},
	{"CREATE", "vfs_create", append(append(vfsCalls("", "creat"),
		vfsCalls("args.flags & 0x40", "open", "openat")...), // O_CREAT
		vfsCalls("(args.mode & 0xf000) == 0x8000 || (args.mode & 0xf000) == 0", "mknod", "mknodat")...)}, // regular files
	{"UNLINK", "vfs_unlink", append(vfsCalls("", "unlink"), vfsCalls("!(args.flag & 0x200)", "unlinkat")...)}, // not AT_REMOVEDIR
	{"MKDIR", "vfs_mkdir", vfsCalls("", "mkdir", "mkdirat")},
	{"RMDIR", "vfs_rmdir", append(vfsCalls("", "rmdir"), vfsCalls("args.flag & 0x200", "unlinkat")...)},
}

type vfsSyscall struct{ name, cond string }

func vfsCalls(cond string, names ...string) []vfsSyscall {
	var calls []vfsSyscall
	for _, n := range names {
		calls = append(calls, vfsSyscall{n, cond})
	}
	return calls
}

// Vfsstat counts VFS operations per second: BCC's vfsstat.
var Vfsstat = &Tool{
	Name:    "vfsstat",
	Summary: "Count VFS calls (reads, writes, fsyncs, opens, creates, ...) per second",
	Description: `Prints, every interval (1 second by default), how many VFS reads, writes,
fsyncs, opens, creates, unlinks, mkdirs and rmdirs happened per second.`,
	Caveat: func(k *Kernel) string {
		if k.FunctionProbes() {
			return ""
		}
		return "without kprobes the counts are of system calls (syscall level), not of VFS calls: " + vfsstatCaveat
	},
	CaveatDoc: "Where the kernel has no kprobes (nor fentry), the counts are of the system calls that lead to the VFS calls (syscall level): " + vfsstatCaveat,
	Common:    Interval,
	Script:    vfsstatScript,
	Header:    "Tracing VFS calls... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if c.Interval == 0 {
			c.Interval = time.Second
		}
		c.Timestamp = "T" // every report has its time
		k := c.Kernel
		if k == nil {
			k = checkKernel()
		}
		var prog []string
		for i, op := range vfsOps {
			if k.FunctionProbes() {
				if k.Function(op.function) {
					prog = append(prog, fmt.Sprintf("kprobe:%s { @ops[%d] = count(); }", op.function, i))
				}
				continue
			}
			byCond := map[string][]string{}
			var conds []string
			for _, s := range op.syscalls {
				if !k.Tracepoint("syscalls:sys_enter_" + s.name) {
					continue
				}
				if _, ok := byCond[s.cond]; !ok {
					conds = append(conds, s.cond)
				}
				byCond[s.cond] = append(byCond[s.cond], "tracepoint:syscalls:sys_enter_"+s.name)
			}
			for _, cond := range conds {
				pred := ""
				if cond != "" {
					pred = " /" + cond + "/"
				}
				prog = append(prog, fmt.Sprintf("%s%s\n{\n\t@ops[%d] = count();\n}", strings.Join(byCond[cond], ",\n"), pred, i))
			}
		}
		c.Flags["program"] = strings.Join(prog, "\n\n")
		return nil
	},
	Report: reportVfsstat,
	Examples: []Example{
		{"vfsstat", "VFS calls per second, every second"},
		{"vfsstat 5 10", "every 5 seconds, 10 times"},
	},
	Probes:    "kprobe:vfs_{read,write,fsync,open,create,unlink,mkdir,rmdir}, tracepoint:syscalls:sys_enter_* of the calls that lead to them",
	MinKernel: "4.7",
}

const vfsstatCaveat = "READ and WRITE count read*() and write*() calls (not sendfile or splice); " +
	"CREATE counts creat(), open() with O_CREAT whether or not the file existed, and mknod() of regular files; " +
	"openat2() is counted as an open, never as a create."

func reportVfsstat(r *Reporter) error {
	c := r.Config
	m, err := r.Map("@ops")
	if err != nil {
		return err
	}
	counts := make([]uint64, len(vfsOps))
	for _, e := range m.Entries {
		if i := asUint(e.Key); i < uint64(len(counts)) {
			counts[i] = asUint(e.Value)
		}
	}
	secs := c.Interval.Seconds()
	if c.JSON {
		var fields []Field
		for i, op := range vfsOps {
			fields = append(fields, Field{strings.ToLower(op.name) + "_s", uint64(float64(counts[i]) / secs)})
		}
		r.JSON(fields...)
		return nil
	}
	if r.Count == 1 {
		fmt.Fprintf(r.Out, "%-8s  ", "TIME")
		for _, op := range vfsOps {
			fmt.Fprintf(r.Out, " %6s/s", op.name)
		}
		r.Out.WriteString("\n")
	}
	fmt.Fprintf(r.Out, "%-8s: ", time.Now().Format("15:04:05"))
	for i := range vfsOps {
		fmt.Fprintf(r.Out, " %8d", uint64(float64(counts[i])/secs))
	}
	r.Out.WriteString("\n")
	return nil
}
