package dwarfinfo

import (
	"debug/dwarf"
	"fmt"
	"path/filepath"
	"strings"
)

// LineAddress maps a source location to the address of its first
// code, as a debugger's breakpoint FILE:LINE[:COL] does. file
// matches the end of a compilation unit's source path, by whole path
// components; col 0 matches any column. Only statements of that file
// count, not of the headers it includes.
func (in *Info) LineAddress(file string, line, col int) (uint64, error) {
	in.index()
	var cu *dwarf.Entry
	var src string
	for _, e := range in.cus {
		lr, err := in.data.LineReader(e)
		if err != nil || lr == nil {
			continue
		}
		for _, f := range lr.Files() {
			if f == nil || !pathEndsWith(f.Name, file) {
				continue
			}
			switch {
			case cu == nil:
				cu, src = e, f.Name
			case f.Name != src:
				return 0, fmt.Errorf("ambiguous source path, matches multiple files: %s, %s", src, f.Name)
			}
		}
	}
	if cu == nil {
		return 0, fmt.Errorf("no compilation unit matches %s", file)
	}
	lr, err := in.data.LineReader(cu)
	if err != nil {
		return 0, fmt.Errorf("%s: reading the line table: %v", in.Path, err)
	}
	// The lowest address of the line wins, as in an address-sorted line
	// table: a line's code may be spread over several sequences.
	var le dwarf.LineEntry
	found, addr := false, uint64(0)
	for lr.Next(&le) == nil {
		if le.File == nil || le.File.Name != src || le.EndSequence {
			continue
		}
		if le.Line == line && (col == 0 || le.Column == col) && (!found || le.Address < addr) {
			found, addr = true, le.Address
		}
	}
	if found {
		return addr, nil
	}
	loc := fmt.Sprintf("%s:%d", file, line)
	if col > 0 {
		loc += fmt.Sprintf(":%d", col)
	}
	return 0, fmt.Errorf("unable to map '%s' to address", loc)
}

// pathEndsWith reports whether suffix is the last components of path.
func pathEndsWith(path, suffix string) bool {
	path, suffix = filepath.Clean(path), filepath.Clean(suffix)
	if path == suffix {
		return true
	}
	return strings.HasSuffix(path, "/"+strings.TrimPrefix(suffix, "/")) && !strings.HasPrefix(suffix, "/")
}
