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
// Split DWARF (.dwo and .dwp files) is not read: Go's debug/dwarf has no
// support for skeleton units, and a binary with only skeletons has no
// parameter types.
//
// A binary's information is decoded once per process and kept as long as
// the file's path, size and modification time stay the same. Types are
// decoded on demand, from the entries a lookup reaches.
package dwarfinfo
