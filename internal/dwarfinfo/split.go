package dwarfinfo

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The GNU attributes of DWARF 4 split DWARF (gcc -gdwarf-4
// -gsplit-dwarf), which DWARF 5 standardised as DW_AT_dwo_name,
// DW_AT_addr_base and the DWO ID of the unit header.
const (
	attrGNUDwoName  dwarf.Attr = 0x2130
	attrGNUDwoID    dwarf.Attr = 0x2131
	attrGNUAddrBase dwarf.Attr = 0x2133
)

// skeleton is a unit of the binary that holds only the line table and
// the address ranges; its types and functions are in a split unit, in a
// .dwo file or a .dwp package.
type skeleton struct {
	dwoName, compDir string
	// id pairs the skeleton with its split unit.
	id uint64
	// addrBase is where the unit's addresses start in the binary's
	// .debug_addr, which the split unit's address indexes refer to.
	addrBase uint64
}

// isSkeleton reports whether a unit's entry is a skeleton's: DWARF 5's
// skeleton unit, or a DWARF 4 unit naming its GNU .dwo file.
func isSkeleton(e *dwarf.Entry) bool {
	return e.Tag == dwarf.TagSkeletonUnit || e.Val(attrGNUDwoName) != nil
}

// skeletons lists the skeleton units of data, read from f.
func skeletons(f *elf.File, data *dwarf.Data) ([]skeleton, error) {
	sec := f.Section(".debug_info")
	if sec == nil {
		return nil, nil
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, err
	}
	headers, err := unitHeaders(raw, f.ByteOrder)
	if err != nil {
		return nil, err
	}
	var out []skeleton
	r := data.Reader()
	for _, h := range headers {
		r.Seek(h.entry)
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil || (e.Tag != dwarf.TagSkeletonUnit && e.Tag != dwarf.TagCompileUnit) {
			continue
		}
		sk := skeleton{id: h.id}
		sk.compDir, _ = e.Val(dwarf.AttrCompDir).(string)
		base, _ := e.Val(dwarf.AttrAddrBase).(int64)
		if name, ok := e.Val(dwarf.AttrDwoName).(string); ok {
			sk.dwoName = name
		} else if name, ok := e.Val(attrGNUDwoName).(string); ok {
			sk.dwoName = name
			id, _ := e.Val(attrGNUDwoID).(int64)
			sk.id = uint64(id)
			base, _ = e.Val(attrGNUAddrBase).(int64)
		} else {
			continue
		}
		sk.addrBase = uint64(base)
		out = append(out, sk)
	}
	return out, nil
}

// splitUnits reads the split units of the skeletons in the file f of
// the binary at path: from the package path.dwp when it has the unit,
// else from the unit's .dwo file. It returns the units' data and the
// files they came from.
func splitUnits(path string, f *elf.File, sks []skeleton) ([]*dwarf.Data, []string, error) {
	var addr []byte
	if sec := f.Section(".debug_addr"); sec != nil {
		var err error
		if addr, err = sec.Data(); err != nil {
			return nil, nil, fmt.Errorf("%s: .debug_addr: %w", path, err)
		}
	}
	var pkg *dwpFile
	pkgPath := path + ".dwp"
	if _, err := os.Stat(pkgPath); err == nil {
		if pkg, err = openDWP(pkgPath); err != nil {
			return nil, nil, err
		}
	}
	var units []*dwarf.Data
	var files []string
	usedPkg := false
	for _, sk := range sks {
		// The skeleton's slice of .debug_addr: a split unit's
		// address indexes count from its skeleton's base.
		var unitAddr []byte
		if sk.addrBase <= uint64(len(addr)) {
			unitAddr = addr[sk.addrBase:]
		}
		if pkg != nil {
			d, ok, err := pkg.unit(sk.id, unitAddr)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				units = append(units, d)
				if !usedPkg {
					files, usedPkg = append(files, pkgPath), true
				}
				continue
			}
		}
		dwo, tried := findDWO(path, sk)
		if dwo == "" {
			why := "no " + strings.Join(tried, ", no ")
			if pkg != nil {
				why += fmt.Sprintf(", and %s has no unit with DWO ID %#x", pkgPath, sk.id)
			} else {
				why += ", no " + pkgPath
			}
			return nil, nil, fmt.Errorf("%s has split DWARF, but a split unit is missing: %s", path, why)
		}
		d, err := readDWO(dwo, sk, unitAddr)
		if err != nil {
			return nil, nil, err
		}
		units, files = append(units, d), append(files, dwo)
	}
	return units, files, nil
}

// findDWO finds a skeleton's .dwo file, where gcc left it (the name it
// recorded, relative to the compilation directory) or next to the
// binary (a build tree copied elsewhere). Without one, it returns the
// paths it tried.
func findDWO(path string, sk skeleton) (string, []string) {
	var cands []string
	if filepath.IsAbs(sk.dwoName) {
		cands = append(cands, sk.dwoName)
	} else {
		if sk.compDir != "" {
			cands = append(cands, filepath.Join(sk.compDir, sk.dwoName))
		}
		cands = append(cands, filepath.Join(filepath.Dir(path), sk.dwoName))
	}
	cands = append(cands, filepath.Join(filepath.Dir(path), filepath.Base(sk.dwoName)))
	var tried []string
	for _, c := range cands {
		if slices.Contains(tried, c) {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, nil
		}
		tried = append(tried, c)
	}
	return "", tried
}

// readDWO reads the split unit of sk from the .dwo file at path.
func readDWO(path string, sk skeleton, addr []byte) (*dwarf.Data, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var s splitSections
	// With -fdebug-types-section each type unit is a section of its
	// own (a COMDAT group member): DWARF 4's in .debug_types.dwo
	// sections, DWARF 5's in more .debug_info.dwo sections.
	for _, sec := range f.Sections {
		if sec.Name == ".debug_types.dwo" {
			return nil, fmt.Errorf("%s: %w", path, errTypeUnits)
		}
		if sec.Name != ".debug_info.dwo" {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, sec.Name, err)
		}
		headers, err := unitHeaders(data, f.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, sec.Name, err)
		}
		for _, h := range headers {
			if h.version >= 5 && h.unitType != utSplitCompile {
				return nil, fmt.Errorf("%s: %w", path, errTypeUnits)
			}
		}
		s.info = data
	}
	for _, sec := range []struct {
		name string
		data *[]byte
	}{
		{".debug_abbrev.dwo", &s.abbrev},
		{".debug_str.dwo", &s.str},
		{".debug_str_offsets.dwo", &s.strOffsets},
	} {
		if x := f.Section(sec.name); x != nil {
			if *sec.data, err = x.Data(); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, sec.name, err)
			}
		}
	}
	d, id, err := s.data(f.ByteOrder, addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if id != sk.id {
		return nil, fmt.Errorf("%s does not belong to the binary: its DWO ID is %#x, the binary's skeleton unit wants %#x (was it rebuilt without relinking?)", path, id, sk.id)
	}
	return d, nil
}

// splitSections are the sections of one split unit: a .dwo file's, or
// one unit's contributions to a .dwp package's.
type splitSections struct {
	info, abbrev, str, strOffsets []byte
}

// errTypeUnits refuses split type units: a split unit refers to the
// types in them by signature (DW_FORM_ref_sig8, declarations with
// DW_AT_signature), which debug/dwarf resolves only within a Data whose
// type units came from a DWARF 4 .debug_types section, and does not
// expose.
var errTypeUnits = errors.New("split type units (-fdebug-types-section) are not read")

// data decodes a split unit, with addr as the .debug_addr its address
// indexes refer to, and returns it with its DWO ID.
func (s splitSections) data(order binary.ByteOrder, addr []byte) (*dwarf.Data, uint64, error) {
	if len(s.info) == 0 {
		return nil, 0, errors.New("no .debug_info.dwo section")
	}
	headers, err := unitHeaders(s.info, order)
	if err != nil {
		return nil, 0, err
	}
	d, err := dwarf.New(gnuFormsAsDWARF5(s.abbrev), nil, nil, s.info, nil, nil, nil, s.str)
	if err != nil {
		return nil, 0, err
	}
	var unit unitHeader
	for _, h := range headers {
		if h.version < 5 || h.unitType == utSplitCompile {
			unit = h
			break
		}
	}
	strOffsets := s.strOffsets
	if unit.version >= 5 {
		// A split unit has no DW_AT_str_offsets_base: its string
		// offsets start right after the contribution's header,
		// which debug/dwarf would take as offset 0.
		strOffsets = strOffsetsEntries(strOffsets, order)
	}
	if err := d.AddSection(".debug_str_offsets", strOffsets); err != nil {
		return nil, 0, err
	}
	if err := d.AddSection(".debug_addr", addr); err != nil {
		return nil, 0, err
	}
	id := unit.id
	if unit.version < 5 {
		r := d.Reader()
		r.Seek(unit.entry)
		e, err := r.Next()
		if err != nil {
			return nil, 0, err
		}
		if e == nil {
			return nil, 0, errors.New("no split compilation unit")
		}
		v, _ := e.Val(attrGNUDwoID).(int64)
		id = uint64(v)
	}
	return d, id, nil
}

// strOffsetsEntries strips the DWARF 5 header (unit length, version,
// padding) off a .debug_str_offsets contribution.
func strOffsetsEntries(b []byte, order binary.ByteOrder) []byte {
	if len(b) >= 4 && order.Uint32(b) == 0xffffffff {
		if len(b) >= 16 {
			return b[16:]
		}
		return nil
	}
	if len(b) >= 8 {
		return b[8:]
	}
	return nil
}

// The forms of DWARF 4 split DWARF that DWARF 5 standardised under other
// numbers: an index into .debug_str_offsets, and one into .debug_addr.
// Both are a ULEB128 index, as DW_FORM_strx and DW_FORM_addrx are.
const (
	formGNUAddrIndex = 0x1f01
	formGNUStrIndex  = 0x1f02
	formAddrx        = 0x1b
	formStrx         = 0x1a
)

// gnuFormsAsDWARF5 returns a copy of a .debug_abbrev section in which
// the GNU forms, which debug/dwarf does not know, are renamed to their
// DWARF 5 equivalents. The new form is written as a two-byte ULEB128
// (a padded one), so that no offset in the section moves. A section it
// cannot parse is returned as it is: debug/dwarf reports what is wrong.
func gnuFormsAsDWARF5(abbrev []byte) []byte {
	out := append([]byte(nil), abbrev...)
	b := out
	uleb := func() (uint64, int, bool) {
		var v uint64
		for i := 0; i < len(b) && i < 10; i++ {
			v |= uint64(b[i]&0x7f) << (7 * i)
			if b[i]&0x80 == 0 {
				n := i + 1
				b = b[n:]
				return v, n, true
			}
		}
		return 0, 0, false
	}
	for len(b) > 0 {
		code, _, ok := uleb()
		if !ok {
			return abbrev
		}
		if code == 0 { // the end of one unit's table
			continue
		}
		if _, _, ok := uleb(); !ok || len(b) == 0 { // tag
			return abbrev
		}
		b = b[1:] // has children
		for {
			attr, _, ok1 := uleb()
			at := b
			form, n, ok2 := uleb()
			if !ok1 || !ok2 {
				return abbrev
			}
			if attr == 0 && form == 0 {
				break
			}
			if n == 2 {
				switch form {
				case formGNUAddrIndex:
					at[0], at[1] = 0x80|formAddrx, 0
				case formGNUStrIndex:
					at[0], at[1] = 0x80|formStrx, 0
				}
			}
			if form == 0x21 { // DW_FORM_implicit_const: its value follows
				if _, _, ok := uleb(); !ok { // an SLEB128 has the same length
					return abbrev
				}
			}
		}
	}
	return out
}
