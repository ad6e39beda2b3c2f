// Package compat runs the tool scripts that Debian ships with bpftrace
// (bookworm's bpftrace 0.17 and trixie's 0.23.2), unmodified, through the
// ktrace binary, each with a trigger that makes it print something known,
// and checks what it printed.
//
// The scripts are not part of ktrace's sources: .ci/bpftrace-tools fetches
// both packages from Debian's archive into a cache outside the repository
// (default /var/cache/ktrace/bpftrace-tools; $KTRACE_BPFTRACE_TOOLS
// overrides it), and the test runs that script first.
//
// The table in tools_test.go gives, per tool and per release, the trigger,
// the assertion and the outcome expected on the running kernel: the tool
// runs and its output is checked; or it needs kprobes, and on a kernel
// without them ktrace must refuse it with a message naming the missing
// kprobe support and an alternative; or a feature ktrace lacks still
// blocks it (a "gap", issue 10), and ktrace must still fail with that
// reason, so the entry is updated when the gap closes. docs/compat.md is
// generated from the same table (KTRACE_WRITE_COMPAT=1 go test ./compat
// -run TestCompatDoc) and checked for staleness otherwise.
//
// The host has no kprobes; the kernel lab (bash .ci/kernellab) runs the
// tools that attach them in its 6.1 and 6.12 guests, with
// KTRACE_COMPAT_KPROBES=1 (only those tools), the tool sets copied from
// the host's cache and a disk for the block I/O tools. The outcomes there
// follow from the guest's kernel like anywhere else; docs/compat.md shows
// them from models of the two kernels (lab_test.go), which TestLabKernels
// checks in each guest.
//
//	flock /tmp/ktrace-bpf.lock env CI=true go test -count=1 ./compat
//	go test ./compat -run 'TestTools/trixie/biolatency' -v
package compat
