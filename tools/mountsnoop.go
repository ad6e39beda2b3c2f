package tools

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

//go:embed scripts/mountsnoop.bt
var mountsnoopScript string

// Mountsnoop traces mount and umount calls: libbpf-tools' mountsnoop.
var Mountsnoop = &Tool{
	Name:    "mountsnoop",
	Summary: "Trace mount(), umount2() and the new mount API's calls (fsopen, fsconfig, fsmount, move_mount)",
	Description: `Prints a line for each mount(), umount2(), fsopen(), fsconfig(), fsmount()
and move_mount() call as it returns: the process name, PID and thread ID,
its mount namespace, and the call written with its arguments (flags by
name) and its result (0, a file descriptor, or an errno name such as
-ENOENT). In JSON the call's name and its numeric result are fields too.`,
	Common: PID | Cgroup,
	Flags: []Flag{
		{Short: "t", Long: "timestamp", Kind: Bool, Help: "include a time column (HH:MM:SS)"},
	},
	Script: mountsnoopScript,
	Header: "Tracing mount calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "TID", Expr: "tid", Kind: Integer, Width: -7},
		{Name: "MNT_NS", Expr: "curtask->nsproxy->mnt_ns->ns.inum", Kind: Unsigned, Width: -11},
		{Name: "CALL", Expr: "tid", Kind: Text, Captured: true, Show: mountCall},
		{Name: "op", Expr: "$op", Kind: Text, JSONOnly: true},
		{Name: "ret", Expr: "args.ret", Kind: Integer, JSONOnly: true},
	},
	Check: func(c *Config) error {
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		return nil
	},
	Examples: []Example{
		{"mountsnoop", "trace every mount and umount call"},
		{"mountsnoop -t", "with a time column"},
		{"mountsnoop -p 1216", "only process 1216"},
		{"mountsnoop -j", "as JSON, with the call's name and result as fields"},
		{"mountsnoop -C -c /system.slice/docker.service", "only processes of this cgroup, with a CGROUP column"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_{mount,umount,fsopen,fsconfig,fsmount,move_mount}",
	MinKernel: "4.7 (fsopen, fsconfig, fsmount, move_mount: 5.2)",
}

// mountMarker is a number the script marks for naming: \x02KIND:N\x02.
var mountMarker = regexp.MustCompile("\x02([a-z]):(-?[0-9]+)\x02")

// mountCall names the marked numbers of a call the script wrote.
func mountCall(s string) string {
	return mountMarker.ReplaceAllStringFunc(s, func(m string) string {
		sub := mountMarker.FindStringSubmatch(m)
		n, _ := strconv.ParseInt(sub[2], 10, 64)
		switch sub[1] {
		case "m":
			return flagNames(uint64(n), mountFlags, "0x0")
		case "u":
			return flagNames(uint64(n), umountFlags, "0x0")
		case "o":
			return flagNames(uint64(n), fsopenFlags, "0x0")
		case "f":
			return flagNames(uint64(n), fsmountFlags, "0x0")
		case "a":
			return flagNames(uint64(n), mountAttrFlags, "MOUNT_ATTR_RELATIME")
		case "v":
			return flagNames(uint64(n), moveMountFlags, "0x0")
		case "c":
			if n >= 0 && int(n) < len(fsconfigCommands) {
				return fsconfigCommands[n]
			}
		case "d":
			if n == unix.AT_FDCWD {
				return "AT_FDCWD"
			}
		case "e":
			if n < 0 {
				if name := unix.ErrnoName(syscall.Errno(-n)); name != "" {
					return "-" + name
				}
			}
		}
		return sub[2]
	})
}

type flagName struct {
	bit  uint64
	name string
}

// flagNames shows a flag set as names joined by " | " (and the bits
// without a name in hex), or none when it is zero.
func flagNames(n uint64, names []flagName, none string) string {
	if n == 0 {
		return none
	}
	var parts []string
	for _, f := range names {
		if n&f.bit == f.bit {
			parts = append(parts, f.name)
			n &^= f.bit
		}
	}
	if n != 0 {
		parts = append(parts, fmt.Sprintf("%#x", n))
	}
	return strings.Join(parts, " | ")
}

// The flags of the mount calls (include/uapi/linux/mount.h).
var (
	mountFlags = []flagName{
		{1 << 0, "MS_RDONLY"}, {1 << 1, "MS_NOSUID"}, {1 << 2, "MS_NODEV"}, {1 << 3, "MS_NOEXEC"},
		{1 << 4, "MS_SYNCHRONOUS"}, {1 << 5, "MS_REMOUNT"}, {1 << 6, "MS_MANDLOCK"}, {1 << 7, "MS_DIRSYNC"},
		{1 << 8, "MS_NOSYMFOLLOW"}, {1 << 10, "MS_NOATIME"}, {1 << 11, "MS_NODIRATIME"}, {1 << 12, "MS_BIND"},
		{1 << 13, "MS_MOVE"}, {1 << 14, "MS_REC"}, {1 << 15, "MS_SILENT"}, {1 << 16, "MS_POSIXACL"},
		{1 << 17, "MS_UNBINDABLE"}, {1 << 18, "MS_PRIVATE"}, {1 << 19, "MS_SLAVE"}, {1 << 20, "MS_SHARED"},
		{1 << 21, "MS_RELATIME"}, {1 << 22, "MS_KERNMOUNT"}, {1 << 23, "MS_I_VERSION"}, {1 << 24, "MS_STRICTATIME"},
		{1 << 25, "MS_LAZYTIME"}, {1 << 26, "MS_SUBMOUNT"}, {1 << 27, "MS_NOREMOTELOCK"}, {1 << 28, "MS_NOSEC"},
		{1 << 29, "MS_BORN"}, {1 << 30, "MS_ACTIVE"}, {1 << 31, "MS_NOUSER"},
	}
	umountFlags    = []flagName{{1, "MNT_FORCE"}, {2, "MNT_DETACH"}, {4, "MNT_EXPIRE"}, {8, "UMOUNT_NOFOLLOW"}}
	fsopenFlags    = []flagName{{1, "FSOPEN_CLOEXEC"}}
	fsmountFlags   = []flagName{{1, "FSMOUNT_CLOEXEC"}}
	mountAttrFlags = []flagName{
		{0x1, "MOUNT_ATTR_RDONLY"}, {0x2, "MOUNT_ATTR_NOSUID"}, {0x4, "MOUNT_ATTR_NODEV"}, {0x8, "MOUNT_ATTR_NOEXEC"},
		{0x10, "MOUNT_ATTR_NOATIME"}, {0x20, "MOUNT_ATTR_STRICTATIME"}, {0x80, "MOUNT_ATTR_NODIRATIME"},
		{0x100000, "MOUNT_ATTR_IDMAP"}, {0x200000, "MOUNT_ATTR_NOSYMFOLLOW"},
	}
	moveMountFlags = []flagName{
		{0x1, "MOVE_MOUNT_F_SYMLINKS"}, {0x2, "MOVE_MOUNT_F_AUTOMOUNTS"}, {0x4, "MOVE_MOUNT_F_EMPTY_PATH"},
		{0x10, "MOVE_MOUNT_T_SYMLINKS"}, {0x20, "MOVE_MOUNT_T_AUTOMOUNTS"}, {0x40, "MOVE_MOUNT_T_EMPTY_PATH"},
		{0x100, "MOVE_MOUNT_SET_GROUP"}, {0x200, "MOVE_MOUNT_BENEATH"},
	}
	fsconfigCommands = []string{
		"FSCONFIG_SET_FLAG", "FSCONFIG_SET_STRING", "FSCONFIG_SET_BINARY", "FSCONFIG_SET_PATH",
		"FSCONFIG_SET_PATH_EMPTY", "FSCONFIG_SET_FD", "FSCONFIG_CMD_CREATE", "FSCONFIG_CMD_RECONFIGURE",
		"FSCONFIG_CMD_CREATE_EXCL",
	}
)
