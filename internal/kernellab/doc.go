// Package kernellab is ktrace's kernel lab: it boots real Debian kernels in
// QEMU and runs ktrace's privileged tests inside them, so that every BPF
// attach type (kprobe, kretprobe, fentry, fexit, ...) is exercised on every
// kernel that has it, whatever the host kernel supports.
//
// # Running it
//
//	bash .ci/kernellab                        # what CI runs: installs QEMU if missing, both kernels
//	go run ./cmd/kernellab                    # the harness alone
//	go run ./cmd/kernellab -kernels 6.12 -run 'AttachTypes/fentry'
//	go run ./cmd/kernellab -update-docs docs/kernels.md
//	KTRACE_LAB_RUN=1 go test ./internal/kernellab -run TestLab -v
//
// The exit status is the guests' verdict: 0 when all passed, the failing
// guest command's status, or 2 when a guest crashed, hung or did not boot.
//
// # What happens
//
//  1. For each kernel series (DefaultKernels: 6.1 and 6.12) the newest
//     linux-image-<series>.*-cloud-amd64 package that apt knows is fetched
//     with apt-get download, and its vmlinuz is extracted with dpkg-deb into
//     the cache ($KTRACE_LAB_CACHE, default ~/.cache/ktrace-lab). No patch
//     level is written down anywhere; without apt the newest cached image
//     is used. Everything the checks need (BTF, kprobes, 8250 serial
//     console, tracefs) is built into Debian's cloud kernels, so no modules
//     go into the guest.
//  2. The Steps are built as static Go programs (CGO_ENABLED=0): guest init
//     (package guestinit), ktrace from ./cmd/ktrace, and test binaries made
//     with go test -c. They go into a newc cpio initramfs written by this
//     package (CPIOWriter), together with the plan (package proto): which
//     commands to run, with which arguments and time limits.
//  3. Each kernel boots under TCG (qemu-system-x86_64 -accel tcg,thread=multi
//     -cpu max -smp 2 -m 1024). Guest init mounts devtmpfs, proc, sysfs,
//     tracefs, debugfs, bpffs and cgroup2, brings lo up, runs the commands with
//     CI=true, KTRACE_LAB=1, KTRACE_LAB_KERNEL=<uname -r> and KTRACE_BIN=
//     /bin/ktrace, prints a verdict line carrying a per-run token, and
//     powers off.
//  4. The harness streams the serial console live, each line prefixed with
//     the series ("[6.12] ..."), collects the marker lines and the
//     KTRACE-LAB-RESULT lines, and turns a missing verdict into an error
//     that says why: kernel panic, timeout, QEMU failure. QEMU runs in its
//     own process group with a parent-death signal and is killed on every
//     way out (timeout, SIGINT/SIGTERM, errors).
//  5. With -update-docs, the RESULT lines become docs/kernels.md
//     (KernelsDoc): kernel × attach type × tested/works.
//
// # Adding tests to the guests
//
// Guest init runs the Run steps of DefaultSteps in order. To run another
// package's privileged tests in every guest, add one line to DefaultSteps
// (steps.go):
//
//	GoTest("./cmd/ktrace", "-test.run=Lab"),
//
// The package's testdata directory is copied along and the test binary
// runs from there. To run a program already in the guest:
//
//	Command("ktrace-info", time.Minute, "/bin/ktrace", "info"),
//
// For a one-off run without editing code: go run ./cmd/kernellab -test
// ./somepkg. Tests meant only for the lab should skip unless KTRACE_LAB=1,
// find ktrace at $KTRACE_BIN, and may compare their findings with the
// attach-type results that package guesttest wrote earlier in the same
// boot to $KTRACE_LAB_RESULTS (proto.ReadResults). Printing proto.Result
// lines adds rows to docs/kernels.md.
package kernellab
