// Package abi is the contract between the BPF programs the compiler
// generates and the runtime that reads what they produce: the kinds of
// records the programs send through the ring buffer and their layouts,
// the typed payloads that describe a record kind to the runtime, the
// byte layouts of the values the runtime decodes (stacks, usym,
// strftime() timestamps, ntop() addresses), and the names of the maps
// both sides use.
//
// The compiler (internal/compile) encodes with these constants; the
// runtime (internal/runtime, internal/maps) and the output package decode
// with the functions here, so a layout changes in one place. The package
// depends on nothing of ktrace: the type checker takes its value sizes
// from it.
package abi
