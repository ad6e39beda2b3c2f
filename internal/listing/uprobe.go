package listing

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/dwarfinfo"
)

// withUprobeParams follows each "uprobe:PATH:FUNC" line with the
// function's parameters from the binary's DWARF, as bpftrace's -lv does
// ("    const char* prompt"). A binary without DWARF is listed without
// them, with one warning per binary; so is one whose DWARF cannot be
// read (a split unit's .dwo file missing), with the reason.
func withUprobeParams(lines []string, warn func(string)) []string {
	out := make([]string, 0, len(lines))
	warned := map[string]bool{}
	for _, l := range lines {
		out = append(out, l)
		rest, ok := strings.CutPrefix(l, "uprobe:")
		i := strings.LastIndexByte(rest, ':')
		if !ok || i < 0 {
			continue
		}
		path, fn := rest[:i], rest[i+1:]
		info, err := dwarfinfo.Open(path)
		if err != nil {
			if !warned[path] && warn != nil {
				if errors.Is(err, dwarfinfo.ErrNoDWARF) {
					warn(fmt.Sprintf("No DWARF found for %q, cannot show parameter info", path))
				} else {
					warn(fmt.Sprintf("Cannot show parameter info: %v", err))
				}
			}
			warned[path] = true
			continue
		}
		f, err := info.Func(fn)
		if err != nil {
			// A symbol the debug information does not describe (an
			// assembly function, a library's): no parameters, as in
			// bpftrace.
			continue
		}
		for _, p := range f.Params {
			out = append(out, "    "+p.Declaration())
		}
	}
	return out
}
