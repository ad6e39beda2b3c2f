package ktrace

import "github.com/ktrace/ktrace/internal/dwarfinfo"

// SetDebugInfoDirs adds directories to search for the separate debug files
// of traced binaries (their DWARF, for uprobe args.NAME, casts to their
// types, source-line probes and -lv listings), before /usr/lib/debug and
// the places next to the binary: bpftrace's --debuginfo. It applies to
// everything compiled or listed afterwards in the process. A relative
// directory is relative to the binary's own; files there are matched by
// build ID or by the binary's .gnu_debuglink name, and a "+" before a
// directory also requires the CRC32 that the link records.
func SetDebugInfoDirs(dirs []string) { dwarfinfo.SetDebugDirs(dirs) }
