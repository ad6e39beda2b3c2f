package uprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Library is one entry of the dynamic linker's cache.
type Library struct {
	// Name is the soname, e.g. "libc.so.6".
	Name string
	// Path is where the library is, e.g. "/lib/x86_64-linux-gnu/libc.so.6".
	Path string
	// Flags is the entry's type and architecture (FlagX8664Lib64|FlagELFLibc6
	// for x86-64 glibc libraries).
	Flags uint32
}

// ld.so.cache entry flags (glibc's ldconfig.h).
const (
	FlagTypeMask     = 0x00ff
	FlagELFLibc6     = 0x0003
	FlagRequiredMask = 0xff00
	FlagX8664Lib64   = 0x0300
)

// NativeFlags are the flags of libraries this architecture can load.
const NativeFlags = FlagX8664Lib64 | FlagELFLibc6

const (
	oldMagic = "ld.so-1.7.0"
	newMagic = "glibc-ld.so.cache1.1"

	oldHeaderSize = 16 // magic[11], padding, nlibs
	oldEntrySize  = 12 // flags, key, value
	newHeaderSize = 48 // magic[17], version[3], nlibs, len_strings, flags, pad[3], extension_offset, unused[3]
	newEntrySize  = 24 // flags, key, value, osversion, hwcap
)

// ParseLDCache parses /etc/ld.so.cache: the current format
// ("glibc-ld.so.cache1.1"), the old one ("ld.so-1.7.0"), and the old one
// followed by the new (glibc's compatibility layout, where the new table
// wins). Entries keep their order, which is the linker's search order.
func ParseLDCache(data []byte) ([]Library, error) {
	switch {
	case bytes.HasPrefix(data, []byte(newMagic)):
		return parseNewCache(data, 0)
	case bytes.HasPrefix(data, []byte(oldMagic)):
		if len(data) < oldHeaderSize {
			return nil, errors.New("ld.so.cache: truncated header")
		}
		n := uint64(binary.LittleEndian.Uint32(data[12:]))
		end := oldHeaderSize + n*oldEntrySize
		if end > uint64(len(data)) {
			return nil, fmt.Errorf("ld.so.cache: %d entries do not fit in %d bytes", n, len(data))
		}
		// A new-format table may follow, 8-byte aligned.
		if nw := (end + 7) &^ 7; nw < uint64(len(data)) && bytes.HasPrefix(data[nw:], []byte(newMagic)) {
			return parseNewCache(data, int(nw))
		}
		// Old-format strings are relative to the end of the entries.
		var out []Library
		for i := uint64(0); i < n; i++ {
			e := data[oldHeaderSize+i*oldEntrySize:]
			flags := binary.LittleEndian.Uint32(e)
			key, err := cString(data, end, uint64(binary.LittleEndian.Uint32(e[4:])))
			if err != nil {
				return nil, err
			}
			val, err := cString(data, end, uint64(binary.LittleEndian.Uint32(e[8:])))
			if err != nil {
				return nil, err
			}
			out = append(out, Library{Name: key, Path: val, Flags: flags})
		}
		return out, nil
	}
	return nil, errors.New("ld.so.cache: unknown format")
}

func parseNewCache(data []byte, start int) ([]Library, error) {
	h := data[start:]
	if len(h) < newHeaderSize {
		return nil, errors.New("ld.so.cache: truncated header")
	}
	// Since glibc 2.33 the low two bits of a header byte record the byte
	// order: 0 unset (native: little endian here), 1 invalid, 2 little,
	// 3 big endian.
	var order binary.ByteOrder = binary.LittleEndian
	switch h[28] & 3 {
	case 1:
		return nil, errors.New("ld.so.cache: the cache marks itself invalid")
	case 3:
		order = binary.BigEndian
	}
	n := uint64(order.Uint32(h[20:]))
	if uint64(newHeaderSize)+n*newEntrySize > uint64(len(h)) {
		return nil, fmt.Errorf("ld.so.cache: %d entries do not fit in %d bytes", n, len(h))
	}
	out := make([]Library, 0, n)
	for i := uint64(0); i < n; i++ {
		e := h[newHeaderSize+i*newEntrySize:]
		flags := order.Uint32(e)
		// String offsets are relative to the start of the new header.
		key, err := cString(h, 0, uint64(order.Uint32(e[4:])))
		if err != nil {
			return nil, err
		}
		val, err := cString(h, 0, uint64(order.Uint32(e[8:])))
		if err != nil {
			return nil, err
		}
		out = append(out, Library{Name: key, Path: val, Flags: flags})
	}
	return out, nil
}

// cString reads the NUL-terminated string at base+off.
func cString(data []byte, base, off uint64) (string, error) {
	p := base + off
	if p < base || p >= uint64(len(data)) {
		return "", fmt.Errorf("ld.so.cache: string offset %d out of range", off)
	}
	end := bytes.IndexByte(data[p:], 0)
	if end < 0 {
		return "", errors.New("ld.so.cache: unterminated string")
	}
	return string(data[p : p+uint64(end)]), nil
}
