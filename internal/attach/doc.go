// Package attach attaches the BPF programs of a compiled script to their
// attach points, with one file per kind of attachment, as cilium/ebpf's
// link package has one per link type: tracepoints, kprobes and
// kretprobes, fentry and fexit, raw tracepoints, perf events (interval,
// profile, software and hardware probes, and any of them limited to one
// process), uprobes, uretprobes and USDT probes, and BEGIN/END, which are
// run once instead of attached.
//
// Every attachment is held by a file descriptor (a BPF link or a perf
// event), so the kernel detaches it when the descriptor closes, also when
// the process is killed: nothing outlives a session.
package attach
