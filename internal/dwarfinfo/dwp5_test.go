package dwarfinfo_test

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// dwarfArgsTwoUnits is DwarfArgs with a second source file compiled
// before it, so that in a package DwarfArgs's unit is the second one, at
// offsets other than 0 in every section.
var dwarfArgsTwoUnits = cprog.Program{
	Name: "dwarfargs",
	Sources: map[string]string{
		"dwarfargs.c": cprog.DwarfArgs.Sources["dwarfargs.c"],
		"a_extra.c":   "struct extra { long v; };\n__attribute__((noinline)) long kt_extra(struct extra *x) { return x->v; }\n",
	},
	Flags: []string{"-O0", "-g", "-gsplit-dwarf"},
}

// packDWARF5 packs the DWARF 5 .dwo files of p's build bin into bin.dwp,
// a DWARF 5 package (DWARF 5 section 7.3.5), and removes them. binutils
// 2.40's dwp cannot pack DWARF 5 units, and llvm-dwp 14 hangs on some of
// gcc 12's, so the test packs them itself: each unit's .debug_info.dwo,
// .debug_abbrev.dwo and .debug_str_offsets.dwo appended to the package's,
// the string sections concatenated (the string offsets moved by where
// the unit's strings now start), and a version 5 .debug_cu_index. objcopy
// puts the sections into a copy of the first .dwo.
func packDWARF5(t *testing.T, bin string, p cprog.Program) string {
	t.Helper()
	objcopy := testutil.RequireTool(t, "objcopy", "binutils")
	dwos := p.DWOFiles(filepath.Dir(bin))
	if len(dwos) < 2 {
		t.Fatalf("DWOFiles = %q, want two or more", dwos)
	}
	le := binary.LittleEndian
	names := []string{".debug_info.dwo", ".debug_abbrev.dwo", ".debug_str_offsets.dwo"}
	sects := []uint32{1, 3, 6} // DW_SECT_INFO, DW_SECT_ABBREV, DW_SECT_STR_OFFSETS
	packed := make([][]byte, len(names))
	var str []byte
	type row struct {
		id         uint64
		off, sizes []uint32
	}
	var rows []row
	for _, dwo := range dwos {
		f, err := elf.Open(dwo)
		if err != nil {
			t.Fatal(err)
		}
		read := func(name string) []byte {
			s := f.Section(name)
			if s == nil {
				t.Fatalf("%s has no %s", dwo, name)
			}
			data, err := s.Data()
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		r := row{}
		for i, name := range names {
			data := read(name)
			if name == ".debug_str_offsets.dwo" {
				// After the 8-byte header, 4-byte offsets into the
				// unit's .debug_str.dwo.
				data = append([]byte(nil), data...)
				for at := 8; at+4 <= len(data); at += 4 {
					le.PutUint32(data[at:], le.Uint32(data[at:])+uint32(len(str)))
				}
			}
			if name == ".debug_info.dwo" {
				// length 4, version 2, unit type 1, address size 1,
				// abbreviation offset 4, DWO ID 8.
				if le.Uint16(data[4:]) != 5 || data[6] != 0x05 {
					t.Fatalf("%s: not a DWARF 5 split compilation unit", dwo)
				}
				r.id = le.Uint64(data[12:])
			}
			r.off = append(r.off, uint32(len(packed[i])))
			r.sizes = append(r.sizes, uint32(len(data)))
			packed[i] = append(packed[i], data...)
		}
		str = append(str, read(".debug_str.dwo")...)
		f.Close()
		rows = append(rows, r)
	}

	// The index: header, hash table and row numbers, section
	// identifiers, offsets, sizes.
	slots := uint32(8)
	for slots < 2*uint32(len(rows)) {
		slots *= 2
	}
	index := le.AppendUint16(nil, 5)
	index = le.AppendUint16(index, 0)
	index = le.AppendUint32(index, uint32(len(sects)))
	index = le.AppendUint32(index, uint32(len(rows)))
	index = le.AppendUint32(index, slots)
	hashes := make([]uint64, slots)
	rowOf := make([]uint32, slots)
	mask := uint64(slots - 1)
	for i, r := range rows {
		h, step := r.id&mask, ((r.id>>32)&mask)|1
		for rowOf[h] != 0 {
			h = (h + step) & mask
		}
		hashes[h], rowOf[h] = r.id, uint32(i+1)
	}
	for _, h := range hashes {
		index = le.AppendUint64(index, h)
	}
	for _, r := range rowOf {
		index = le.AppendUint32(index, r)
	}
	for _, s := range sects {
		index = le.AppendUint32(index, s)
	}
	for _, r := range rows {
		for _, o := range r.off {
			index = le.AppendUint32(index, o)
		}
	}
	for _, r := range rows {
		for _, s := range r.sizes {
			index = le.AppendUint32(index, s)
		}
	}

	dir := t.TempDir()
	args := []string{}
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, strings.Trim(name, "."))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for i, name := range names {
		args = append(args, "--update-section", name+"="+write(name, packed[i]))
	}
	args = append(args, "--update-section", ".debug_str.dwo="+write(".debug_str.dwo", str),
		"--add-section", ".debug_cu_index="+write(".debug_cu_index", index), dwos[0], bin+".dwp")
	if out, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
		t.Fatalf("objcopy %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, dwo := range dwos {
		if err := os.Remove(dwo); err != nil {
			t.Fatal(err)
		}
	}
	return bin + ".dwp"
}
