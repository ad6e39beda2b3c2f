// Package tools holds ktrace's ready tools, with BCC's names, flags and
// columns: execsnoop, biolatency, syscount, ... Each is a Tool: a script in
// ktrace's language (a text/template filled in from the command line, see
// script.go) and a declaration of its flags, its output columns or report,
// and its help. Run parses a tool's command line, picks its probes from
// what the running kernel has, and prints its events as text columns or
// JSON lines. docs/tools.md is generated from the declarations.
//
// One file per tool (execsnoop.go, with its script in
// scripts/execsnoop.bt); all.go lists them. Profile and Dropcount predate
// the framework and keep their own Go API.
package tools
