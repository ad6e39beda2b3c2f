package dwarfinfo

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"path/filepath"
)

// DebugRoot is where distributions install separate debug files.
var DebugRoot = "/usr/lib/debug"

// debugFiles lists where a separate debug file of the binary at path may
// be, most specific first: by build ID, then by .gnu_debuglink name in
// the places gdb looks.
func debugFiles(path string, f *elf.File) []string {
	var out []string
	if id := buildID(f); len(id) >= 2 {
		h := hex.EncodeToString(id)
		out = append(out, filepath.Join(DebugRoot, ".build-id", h[:2], h[2:]+".debug"))
	}
	if link := debugLink(f); link != "" {
		dir := filepath.Dir(path)
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		out = append(out,
			filepath.Join(dir, link),
			filepath.Join(dir, ".debug", link),
			filepath.Join(DebugRoot, dir, link))
	}
	return out
}

// buildID returns the GNU build ID note's bytes, nil without one.
func buildID(f *elf.File) []byte {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for len(data) >= 12 {
			order := f.ByteOrder
			nameSz, descSz, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
			nameEnd := 12 + align4(nameSz)
			descEnd := nameEnd + align4(descSz)
			if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) {
				break
			}
			name := data[12 : 12+uint64(nameSz)]
			if typ == 3 /* NT_GNU_BUILD_ID */ && bytes.Equal(bytes.TrimRight(name, "\x00"), []byte("GNU")) {
				return data[nameEnd : nameEnd+uint64(descSz)]
			}
			data = data[descEnd:]
		}
	}
	return nil
}

func align4(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }

// debugLink returns the file name in the .gnu_debuglink section: a
// NUL-terminated name, padding and a CRC, which is not checked (a stale
// debug file fails to match in ways the types show).
func debugLink(f *elf.File) string {
	s := f.Section(".gnu_debuglink")
	if s == nil {
		return ""
	}
	data, err := s.Data()
	if err != nil {
		return ""
	}
	name, _, ok := bytes.Cut(data, []byte{0})
	if !ok || len(name) == 0 {
		return ""
	}
	return filepath.Base(string(name))
}
