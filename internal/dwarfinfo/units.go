package dwarfinfo

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
)

// DWARF 5 unit types (DW_UT_*) that carry a DWO ID in their header.
const (
	utType         = 0x02
	utSkeleton     = 0x04
	utSplitCompile = 0x05
	utSplitType    = 0x06
)

// unitHeader is what debug/dwarf does not expose of a unit's header: the
// DWO ID that pairs a skeleton unit with its split unit.
type unitHeader struct {
	version  int
	unitType uint8 // DWARF 5 only
	// id is the DWO ID of a DWARF 5 skeleton or split compilation unit.
	id uint64
	// entry is the offset of the unit's first entry, the Offset
	// debug/dwarf gives it.
	entry dwarf.Offset
}

// unitHeaders reads the headers of the units in a .debug_info section.
func unitHeaders(info []byte, order binary.ByteOrder) ([]unitHeader, error) {
	var out []unitHeader
	for off := uint64(0); off < uint64(len(info)); {
		start := off
		if off+4 > uint64(len(info)) {
			return nil, fmt.Errorf("unit header at %#x: truncated", start)
		}
		length, offSize := uint64(order.Uint32(info[off:])), uint64(4)
		off += 4
		if length == 0xffffffff {
			if off+8 > uint64(len(info)) {
				return nil, fmt.Errorf("unit header at %#x: truncated", start)
			}
			length, offSize = order.Uint64(info[off:]), 8
			off += 8
		}
		end := off + length
		if end > uint64(len(info)) || length < 2 {
			return nil, fmt.Errorf("unit at %#x: length %#x past the section's end", start, length)
		}
		h := unitHeader{version: int(order.Uint16(info[off:]))}
		off += 2
		// DWARF 5: unit type, address size, abbreviation offset, then
		// the unit type's own fields. Before: abbreviation offset,
		// address size.
		need := offSize + 1
		if h.version >= 5 {
			need++
			if off < end {
				h.unitType = info[off]
			}
			switch h.unitType {
			case utSkeleton, utSplitCompile:
				need += 8
			case utType, utSplitType:
				need += 8 + offSize // signature, type offset
			}
		}
		if off+need > end {
			return nil, fmt.Errorf("unit at %#x: header truncated", start)
		}
		if h.version >= 5 && (h.unitType == utSkeleton || h.unitType == utSplitCompile) {
			h.id = order.Uint64(info[off+2+offSize:])
		}
		h.entry = dwarf.Offset(off + need)
		out = append(out, h)
		off = end
	}
	return out, nil
}

// unitAt returns the header of the unit whose first entry is at off.
func unitAt(headers []unitHeader, off dwarf.Offset) (unitHeader, bool) {
	for _, h := range headers {
		if h.entry == off {
			return h, true
		}
	}
	return unitHeader{}, false
}
