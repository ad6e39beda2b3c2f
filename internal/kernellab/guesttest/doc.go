// Package guesttest holds the kernel lab's own guest tests: they prove, with
// github.com/cilium/ebpf alone, that each BPF attach type works (or not) on
// the booted kernel, by attaching a counting program, generating a known
// number of events and comparing the count, captured arguments and return
// values with what the test did.
//
// The tests attach BPF programs to the running kernel, so they only run
// inside a kernel lab guest (guest init sets KTRACE_LAB=1) and skip
// everywhere else. Each check prints one proto.Result line
// ("KTRACE-LAB-RESULT kernel=... attach=... works=yes"), which the harness
// collects into docs/kernels.md, and appends it to $KTRACE_LAB_RESULTS so
// that later guest commands can compare their findings with it.
package guesttest
