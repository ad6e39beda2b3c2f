package elfsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"io"
)

// ntGNUBuildID is the type of the GNU build ID note (NT_GNU_BUILD_ID),
// which debug/elf does not name.
const ntGNUBuildID = 3

// maxNoteSize bounds the note segments read for a build ID: a build ID
// note is 36 bytes, and a file claiming megabytes of notes is malformed.
const maxNoteSize = 1 << 16

// buildID returns the hex digits of the file's GNU build ID note, the
// identity profilers give a binary (what `file` and `readelf -n` show,
// and what pprof mappings carry), or "" when it has none. It reads the
// PT_NOTE segments, which stripped files keep, and falls back to the
// sections for files with no program headers (relocatable objects).
func buildID(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > maxNoteSize {
			continue
		}
		if id := noteBuildID(p.Open(), p.Filesz, p.Align, f.ByteOrder); id != "" {
			return id
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE || s.Size > maxNoteSize {
			continue
		}
		if id := noteBuildID(s.Open(), s.Size, s.Addralign, f.ByteOrder); id != "" {
			return id
		}
	}
	return ""
}

// noteBuildID finds the GNU build ID in size bytes of ELF notes: each a
// name size, a descriptor size and a type (4 bytes each), then the name
// and the descriptor, each padded to the segment's alignment (4 bytes, or
// 8 for the segments of 8-byte notes such as .note.gnu.property).
func noteBuildID(r io.Reader, size, align uint64, order binary.ByteOrder) string {
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return ""
	}
	return parseBuildIDNote(data, align, order)
}

// parseBuildIDNote is noteBuildID on notes already read.
func parseBuildIDNote(data []byte, align uint64, order binary.ByteOrder) string {
	if align != 8 {
		align = 4
	}
	for len(data) >= 12 {
		namesz := uint64(order.Uint32(data[0:]))
		descsz := uint64(order.Uint32(data[4:]))
		typ := order.Uint32(data[8:])
		data = data[12:]
		name, desc := alignUp(namesz, align), alignUp(descsz, align)
		if name > uint64(len(data)) || desc > uint64(len(data))-name {
			return ""
		}
		if typ == ntGNUBuildID && bytes.Equal(data[:namesz], []byte("GNU\x00")) && descsz > 0 {
			return hex.EncodeToString(data[name : name+descsz])
		}
		data = data[name+desc:]
	}
	return ""
}

// alignUp rounds n (at most 2^32) up to a multiple of align, a power of
// two.
func alignUp(n, align uint64) uint64 { return (n + align - 1) &^ (align - 1) }
