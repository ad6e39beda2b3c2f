// Package builtins is the one table of the names a ktrace script can use
// without declaring them: builtin variables (pid, comm, nsecs, args …) and
// functions (printf, count, str, kstack …), like go/types' universe.go.
//
// Each entry has an ID, and the stages switch on it: the checker
// (lang/types) types and checks a use, the compiler (internal/compile)
// generates its code, and, for the functions user space carries out, the
// runtime handles the record the compiled code sends. A name bpftrace has
// but ktrace does not compile yet is in the table too, marked NotYet, so
// that a script gets "not supported yet" rather than "unknown", and a
// typo gets a suggestion. docs/architecture.md walks one builtin through
// every stage.
package builtins
