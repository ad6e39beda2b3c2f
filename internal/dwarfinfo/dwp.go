package dwarfinfo

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Section identifiers of a .dwp package's unit index (DW_SECT_*); the
// ones read here have the same numbers in the GNU version 2 index (gold's
// dwp, DWARF 4) and the DWARF 5 one.
const (
	sectInfo       = 1
	sectAbbrev     = 3
	sectStrOffsets = 6
)

// dwpFile is a DWARF package (BIN.dwp): the split units of a binary's
// .dwo files in one file, each unit's part of every section found
// through the .debug_cu_index.
type dwpFile struct {
	path  string
	order binary.ByteOrder
	// info, abbrev and strOffsets are the whole sections, which hold
	// every unit's contribution; str is shared by all units.
	info, abbrev, str, strOffsets []byte
	// units maps a DWO ID to the unit's contributions.
	units map[uint64]map[uint32]contribution
}

// contribution is one unit's part of a section: [off, off+size).
type contribution struct{ off, size uint32 }

// openDWP reads the package at path and its compilation unit index.
func openDWP(path string) (*dwpFile, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &dwpFile{path: path, order: f.ByteOrder}
	var index []byte
	for _, sec := range []struct {
		name string
		data *[]byte
	}{
		{".debug_cu_index", &index},
		{".debug_info.dwo", &p.info},
		{".debug_abbrev.dwo", &p.abbrev},
		{".debug_str.dwo", &p.str},
		{".debug_str_offsets.dwo", &p.strOffsets},
	} {
		s := f.Section(sec.name)
		if s == nil {
			return nil, fmt.Errorf("%s is not a DWARF package: it has no %s section", path, sec.name)
		}
		if *sec.data, err = s.Data(); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, sec.name, err)
		}
	}
	if p.units, err = parseUnitIndex(index, f.ByteOrder); err != nil {
		return nil, fmt.Errorf("%s: .debug_cu_index: %w", path, err)
	}
	if s := f.Section(".debug_tu_index"); s != nil {
		index, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("%s: .debug_tu_index: %w", path, err)
		}
		// dwp writes an empty index (no units, no slots) when there
		// are no type units.
		tus, err := parseUnitIndex(index, f.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("%s: .debug_tu_index: %w", path, err)
		}
		if len(tus) > 0 {
			return nil, fmt.Errorf("%s: %w", path, errTypeUnits)
		}
	}
	return p, nil
}

// parseUnitIndex decodes a unit index: a header, a hash table of unit
// IDs with a parallel table of row numbers, then a table of offsets and
// one of sizes, a row per unit and a column per section.
func parseUnitIndex(b []byte, order binary.ByteOrder) (map[uint64]map[uint32]contribution, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%d bytes, too short for the header", len(b))
	}
	// Version 2 is a 4-byte field; version 5 is 2 bytes, then 2 bytes
	// of padding.
	version := order.Uint32(b)
	if version != 2 && order.Uint16(b) != 5 {
		return nil, fmt.Errorf("unsupported version %d", version)
	}
	cols, rows, slots := uint64(order.Uint32(b[4:])), uint64(order.Uint32(b[8:])), uint64(order.Uint32(b[12:]))
	need := 16 + slots*12 + cols*4 + 2*rows*cols*4
	if cols > 1<<10 || rows > slots || slots > uint64(len(b)) || need > uint64(len(b)) {
		return nil, fmt.Errorf("%d columns, %d units and %d slots do not fit in %d bytes", cols, rows, slots, len(b))
	}
	hashes := b[16:]
	rowIndex := hashes[slots*8:]
	ids := rowIndex[slots*4:]
	offsets := ids[cols*4:]
	sizes := offsets[rows*cols*4:]
	out := make(map[uint64]map[uint32]contribution, rows)
	for s := uint64(0); s < slots; s++ {
		row := uint64(order.Uint32(rowIndex[s*4:]))
		if row == 0 { // an empty slot
			continue
		}
		if row > rows {
			return nil, fmt.Errorf("slot %d names row %d of %d", s, row, rows)
		}
		unit := make(map[uint32]contribution, cols)
		for c := uint64(0); c < cols; c++ {
			at := ((row-1)*cols + c) * 4
			unit[order.Uint32(ids[c*4:])] = contribution{order.Uint32(offsets[at:]), order.Uint32(sizes[at:])}
		}
		out[order.Uint64(hashes[s*8:])] = unit
	}
	return out, nil
}

// unit decodes the split unit with the DWO ID id, if the package has it.
func (p *dwpFile) unit(id uint64, addr []byte) (*dwarf.Data, bool, error) {
	contribs, ok := p.units[id]
	if !ok {
		return nil, false, nil
	}
	slice := func(sect uint32, b []byte) ([]byte, error) {
		c, ok := contribs[sect]
		if !ok {
			return nil, nil
		}
		if uint64(c.off)+uint64(c.size) > uint64(len(b)) {
			return nil, fmt.Errorf("%s: unit %#x: section %d's contribution [%#x, +%#x) is past its end", p.path, id, sect, c.off, c.size)
		}
		return b[c.off : c.off+c.size], nil
	}
	var s splitSections
	var err error
	if s.info, err = slice(sectInfo, p.info); err != nil {
		return nil, false, err
	}
	if s.abbrev, err = slice(sectAbbrev, p.abbrev); err != nil {
		return nil, false, err
	}
	if s.strOffsets, err = slice(sectStrOffsets, p.strOffsets); err != nil {
		return nil, false, err
	}
	s.str = p.str
	d, got, err := s.data(p.order, addr)
	if err != nil {
		return nil, false, fmt.Errorf("%s: unit %#x: %w", p.path, id, err)
	}
	if got != id {
		return nil, false, fmt.Errorf("%s: the unit indexed as %#x has DWO ID %#x", p.path, id, got)
	}
	return d, true, nil
}
