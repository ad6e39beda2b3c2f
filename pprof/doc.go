// Package pprof makes CPU profiles in pprof's format from stacks sampled
// with a profile:hz probe: what `go tool pprof`, Parca, Pyroscope and
// Grafana read.
//
// A profile holds, per sampled stack, the number of samples and the CPU
// time they stand for (samples/count and cpu/nanoseconds, as Go's own CPU
// profiles). Each stack is the kernel frames, innermost first, then the
// user frames. Kernel frames are in a mapping named [kernel.kallsyms], as
// perf names the kernel; user frames are in a mapping per binary that the
// process had mapped, with its path and GNU build ID, and the addresses
// where it was mapped (taken when the process's first user stack was
// recorded, so that processes that have exited since still resolve).
// Every frame that could be named carries its function: profiles need no
// symbolization afterwards. Each sample is labelled with its process:
// "comm" and "cgroup" as string labels (which pprof's -tagfocus and
// -tagshow filter on) and "pid" as a numeric label.
//
// Three layers, from the bottom:
//
//   - Build turns Samples (one stack of one process and how often it was
//     seen) into a *profile.Profile. The profile tool (ktrace profile
//     --pprof) uses it on the map its own script fills.
//   - Collect compiles and runs a sampling script (Script) for a while and
//     builds the profile of what it saw.
//   - Handler serves Collect over HTTP as Go's net/http/pprof serves
//     /debug/pprof/profile?seconds=N, which is the endpoint profiling
//     agents scrape.
package pprof
