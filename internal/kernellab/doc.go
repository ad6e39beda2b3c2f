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
//     console, tracefs) is built into Debian's cloud kernels; the few
//     modules of the package that module BTF is tested with (LabModules:
//     loop, watchdog, softdog) are kept with the image and go into the
//     guest under proto.ModulesDir/RELEASE, for tests to load.
//  2. The Steps are built as static Go programs (CGO_ENABLED=0): guest init
//     (package guestinit), ktrace from ./cmd/ktrace, and test binaries made
//     with go test -c. They go into a newc cpio initramfs written by this
//     package (CPIOWriter), together with the plan (package proto): which
//     commands to run, with which arguments and time limits.
//  3. The guests' user space (DefaultUserland, userland.go) comes from the
//     host, since the tests run programs as they do on a developer's
//     machine: busybox as /bin/busybox with a link per applet (/bin/sh,
//     /bin/sleep, /usr/bin/env, ...); bash and objdump with the shared
//     libraries they load, at the same paths and behind the same symbolic
//     links as on the host (/lib -> usr/lib), plus the host's
//     /etc/ld.so.cache; /etc/passwd and /etc/group. The guests have no C
//     compiler, so the C programs the tests trace (package
//     internal/testutil/cprog, list cprog.Lab) are built on the host with
//     gcc and put under /lab/cprogs; testutil.Build copies them from there
//     instead of compiling. A test that builds a program missing from
//     cprog.Lab fails in the guests and says so. .ci/kernellab installs
//     the host packages all this needs.
//  4. Each kernel boots under TCG (qemu-system-x86_64 -accel
//     tcg,thread=single -cpu max -smp 2 -m 1024; see DefaultAccel for why
//     not thread=multi). Guest init mounts devtmpfs, proc, sysfs, tracefs,
//     debugfs, bpffs, cgroup2 and devpts, brings lo up, runs the commands
//     with CI=true, KTRACE_LAB=1, KTRACE_LAB_KERNEL=<uname -r>,
//     KTRACE_BIN=/bin/ktrace and KTRACE_TEST_CPROGS=/lab/cprogs, prints a
//     verdict line carrying a per-run token, and powers off. When a step
//     needs a disk (Step.Disk), each guest gets a fresh ext4 image made on
//     the host with mkfs.ext4, attached as an NVMe drive (built into the
//     cloud kernels; virtio-blk is a module there), which guest init
//     mounts on /lab/disk; the step runs with TMPDIR there.
//  5. The harness streams the serial console live, each line prefixed with
//     the series ("[6.12] ..."), collects the marker lines and the
//     KTRACE-LAB-RESULT lines, and turns a missing verdict into an error
//     that says why: kernel panic, timeout, QEMU failure. QEMU runs in its
//     own process group with a parent-death signal and is killed on every
//     way out (timeout, SIGINT/SIGTERM, errors).
//  6. With -update-docs, the RESULT lines become docs/kernels.md
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
// runs from there (/src/<package>); other module files its tests read by
// a relative path go along with withFiles(step, "verify/testdata/x.o").
// A step whose tests read a host directory outside the module (a cache
// that a script fills) lists it in HostDirs, with the guest path and,
// optionally, patterns of the files to copy: the compat step (compatStep)
// ships the tool scripts of .ci/bpftrace-tools to /lab/bpftrace-tools
// that way, and runs bpftrace's kprobe tools there.
//
// To run a program already in the guest:
//
//	Command("ktrace-info", time.Minute, "/bin/ktrace", "info"),
//
// For a one-off run without editing code: go run ./cmd/kernellab -test
// ./somepkg. Tests meant only for the lab should skip unless KTRACE_LAB=1,
// find ktrace at $KTRACE_BIN, and may compare their findings with the
// attach-type results that package guesttest wrote earlier in the same
// boot to $KTRACE_LAB_RESULTS (proto.ReadResults). Printing proto.Result
// lines adds rows to docs/kernels.md.
//
// Tests run in the guests exactly as on the host, CI=true included: a
// missing tool or program fails them rather than skipping them. A test
// that needs another host program gets it by adding the program's name to
// DefaultUserland.Tools (and its Debian package to UserlandPackages and
// .ci/kernellab); a test that builds a C program with testutil.Build or
// testutil.BuildC needs the program listed in cprog.Lab. A test that
// cannot mean anything in a guest skips itself when KTRACE_LAB=1, with a
// reason that the lab's output shows (see TestStaticBinary in cmd/ktrace).
package kernellab
