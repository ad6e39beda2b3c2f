package dwarfinfo

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DebugRoot is where distributions install separate debug files.
var DebugRoot = "/usr/lib/debug"

var (
	debugDirsMu sync.RWMutex
	debugDirs   []string
)

// SetDebugDirs sets directories to search for separate debug files
// before the usual places, for every later Open in the process
// (bpftrace's --debuginfo). A relative directory is relative to the
// binary's own; a "+" before a directory makes a file found there by its
// .gnu_debuglink name count only when its CRC32 matches the link's.
func SetDebugDirs(dirs []string) {
	debugDirsMu.Lock()
	defer debugDirsMu.Unlock()
	debugDirs = append([]string(nil), dirs...)
}

func currentDebugDirs() []string {
	debugDirsMu.RLock()
	defer debugDirsMu.RUnlock()
	return debugDirs
}

// candidate is a file that may hold a binary's debug information;
// checkCRC asks that its CRC32 match the binary's .gnu_debuglink.
type candidate struct {
	path     string
	checkCRC bool
}

// debugFiles lists where a separate debug file of the binary at path may
// be, most specific first: the SetDebugDirs directories, then by build
// ID, then by .gnu_debuglink name in the places gdb looks.
func debugFiles(path string, f *elf.File) []candidate {
	var out []candidate
	id := buildID(f)
	link := debugLink(f)
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	byID := func(root string) string {
		h := hex.EncodeToString(id)
		return filepath.Join(root, ".build-id", h[:2], h[2:]+".debug")
	}
	for _, d := range currentDebugDirs() {
		crc := strings.HasPrefix(d, "+")
		d = strings.TrimPrefix(d, "+")
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if len(id) >= 2 {
			out = append(out, candidate{path: byID(d)})
		}
		if link != "" {
			out = append(out, candidate{filepath.Join(d, link), crc})
		}
	}
	if len(id) >= 2 {
		out = append(out, candidate{path: byID(DebugRoot)})
	}
	if link != "" {
		out = append(out,
			candidate{path: filepath.Join(dir, link)},
			candidate{path: filepath.Join(dir, ".debug", link)},
			candidate{path: filepath.Join(DebugRoot, dir, link)})
	}
	return out
}

// matches reports whether the debug file df belongs to the binary f: the
// same build ID when both have one, and with checkCRC the CRC32 that f's
// .gnu_debuglink records.
func (c candidate) matches(f, df *elf.File) bool {
	if id, did := buildID(f), buildID(df); len(id) > 0 && len(did) > 0 && !bytes.Equal(id, did) {
		return false
	}
	if !c.checkCRC {
		return true
	}
	want, ok := debugLinkCRC(f)
	if !ok {
		return false
	}
	data, err := os.ReadFile(c.path)
	return err == nil && crc32.ChecksumIEEE(data) == want
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
// NUL-terminated name, padding to 4 bytes and a CRC32 of the debug file,
// which only "+" directories check (SetDebugDirs): a stale debug file
// found elsewhere fails to match in ways the types show.
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

// debugLinkCRC returns the CRC32 the .gnu_debuglink section records.
func debugLinkCRC(f *elf.File) (uint32, bool) {
	s := f.Section(".gnu_debuglink")
	if s == nil {
		return 0, false
	}
	data, err := s.Data()
	if err != nil {
		return 0, false
	}
	name, _, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return 0, false
	}
	off := (len(name) + 1 + 3) &^ 3
	if off+4 > len(data) {
		return 0, false
	}
	return f.ByteOrder.Uint32(data[off:]), true
}
