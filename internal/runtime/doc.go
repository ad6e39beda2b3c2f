// Package runtime runs a compiled script: it loads its maps and programs
// (after ktrace's own verifier has checked them), runs BEGIN, attaches the
// other probes through internal/attach, and handles the records the
// programs send, in order, on one goroutine: printf and print output, map
// printing and clearing, exit(), run-time warnings, and the functions
// user space carries out for the programs (time, join, cat, system,
// errorf, warnf). It decodes the values only user space can name (stacks,
// usym, ksym, strftime() times, usernames), watches the -c child and the -p
// process, and on Stop detaches, drains what is in flight and runs END.
//
// The root package ktrace is its public face; internal/maps reads the
// script's maps for it.
package runtime
