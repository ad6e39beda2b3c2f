// Package dwarfinfo reads the DWARF debug information of a user-space
// binary: a function's parameters with their C types, the struct, union,
// enum and typedef types the binary defines, and the line table that maps
// a source file's lines to instruction addresses. uprobes use it for
// args.NAME, for casts to the binary's structs, for -lv listings and for
// uprobe:BIN@FILE:LINE probes.
//
// The debug information is looked for in the binary itself, then in a
// separate debug file: the one its build ID names under /usr/lib/debug/
// .build-id, then the one its .gnu_debuglink section names, in the
// binary's directory, its .debug subdirectory or under /usr/lib/debug.
//
// A binary built with -gsplit-dwarf has only skeleton units: the line
// table and the address ranges. Its types and functions are in split
// units, one .dwo file per object (found at the skeleton's
// DW_AT_dwo_name, relative to DW_AT_comp_dir, else next to the binary),
// or packed by dwp into BIN.dwp next to the binary, which is looked in
// first (gdb's order). Each split unit is decoded as a DWARF of its own,
// with what debug/dwarf cannot find by itself: the string offsets of a
// split unit start right after the section's header (it has no
// DW_AT_str_offsets_base), its address indexes count from its skeleton's
// DW_AT_addr_base in the binary's .debug_addr, and a package's unit is
// cut out of each section by the .debug_cu_index (version 2, gold's dwp,
// and version 5). DWARF 4 split units (-gdwarf-4 -gsplit-dwarf) use the
// GNU forms that DWARF 5 standardised as DW_FORM_strx and DW_FORM_addrx;
// their abbreviations are rewritten to the standard forms. A skeleton is
// paired with its split unit by the DWO ID, so a stale .dwo is refused,
// and a missing one is an error that names where it was looked for. Split type units
// (-fdebug-types-section) are refused with an error: the split unit
// refers to their types by signature, which debug/dwarf does not let a
// caller resolve.
//
// A binary's information is decoded once per process and kept as long as
// the file's path, size and modification time stay the same. Types are
// decoded on demand, from the entries a lookup reaches.
package dwarfinfo
