// Package kernel answers questions about the running kernel that ktrace
// needs before it can compile and attach a program: where tracefs is, what a
// tracepoint's record looks like, which symbols /proc/kallsyms holds, where a
// struct member lives according to the kernel's BTF, and which attach types
// actually work here.
//
// Everything is read from the live system (tracefs, /proc, /sys). Results that
// cannot change while ktrace runs are memoized per process; the few BTF facts
// that sit on the startup path are also cached on disk (see
// StructMemberOffset) because even a fast raw BTF walk costs milliseconds.
//
// Feature probes (HaveKprobes, HaveFentry, ...) find their answer by trying:
// they load a trivial program and attach it, because configuration files and
// version numbers routinely lie about what a kernel (or the sandbox around
// it) allows.
package kernel
