// Package imports runs a script's `import "path";` statements, between
// lang/parser and lang/types: it reads each imported file, parses it in
// the script's position space (so that errors in it point into it), and
// merges what it holds into the script's program.
//
// An import names a bpftrace script (.bt: its probes, macros, map
// declarations and C definitions are merged, imported ones first), a C
// header (.h: its C definitions), or a directory (every .bt and .h file
// in it, not recursively). Relative paths are resolved from the directory
// of the file that holds the import, and, as bpftrace does, nothing is
// imported from a world-writable file or directory. Each file is imported
// once however many times it is named.
//
// bpftrace can also import BPF C sources (.bpf.c) and objects (.bpf.o),
// which it builds with clang and links; ktrace has no C compiler and
// refuses them with an error that says so. bpftrace's own standard
// library modules ("stdlib", "stdlib/strings", ...) are built into
// ktrace, so importing them does nothing.
package imports
