package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// labLoopIoctls is how many LOOP_CTL_GET_FREE ioctls the module test
// makes, each one call of loop_control_ioctl.
const labLoopIoctls = 37

// moduleInitCompressedFile is finit_module's flag for a compressed
// module file, which the kernel decompresses (CONFIG_MODULE_DECOMPRESS).
const moduleInitCompressedFile = 4

// loadLabModule loads a module the lab put into the guest for this
// kernel (kernellab.LabModules); one already loaded is fine.
func loadLabModule(t *testing.T, name, params string) {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(proto.ModulesDir, unix.ByteSliceToString(u.Release[:]))
	files, _ := filepath.Glob(filepath.Join(dir, name+".ko*"))
	if len(files) != 1 {
		t.Fatalf("module %s: found %q in %s; the lab ships kernellab.LabModules there", name, files, dir)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags := 0
	if strings.HasSuffix(files[0], ".xz") {
		flags = moduleInitCompressedFile
	}
	if err := unix.FinitModule(int(f.Fd()), params, flags); err != nil && !errors.Is(err, unix.EEXIST) {
		t.Fatalf("loading %s: %v", files[0], err)
	}
	if !kernel.HasModuleBTF(name) {
		t.Fatalf("module %s loaded, but %s/%s does not exist", name, kernel.BTFDir, name)
	}
}

// ktraceOutput runs $KTRACE_BIN with args and returns its standard
// output; failing is fatal.
func ktraceOutput(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(ktraceBin(t), args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ktrace %q: %v: %s", args, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return string(out)
}

// loopControlIoctls calls LOOP_CTL_GET_FREE n times on /dev/loop-control.
func loopControlIoctls(t *testing.T, n int) {
	t.Helper()
	const path, loopCtlGetFree = "/dev/loop-control", 0x4C82
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// devtmpfs makes the node; a /dev without it gets one by hand
		// (misc major 10, LOOP_CTRL_MINOR 237).
		if err := unix.Mknod(path, unix.S_IFCHR|0o600, int(unix.Mkdev(10, 237))); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for range n {
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), loopCtlGetFree, 0); errno != 0 {
			t.Fatalf("LOOP_CTL_GET_FREE: %v", errno)
		}
	}
}

// TestLabModuleBTF loads the loop module and checks ktrace against its
// BTF: the listing names its functions with the module, -lv prints the
// parameters of one from the module's BTF and a struct only the module
// defines, and fentry (module named) and fexit (module found by ktrace)
// on loop_control_ioctl count exactly the ioctls this test makes, with
// args.cmd typed from the module's BTF.
func TestLabModuleBTF(t *testing.T) {
	requireLab(t)
	loadLabModule(t, "loop", "")
	run := func(args ...string) string { return ktraceOutput(t, args...) }
	ok := true
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", what, got, want)
			ok = false
		}
	}
	check("ktrace -l 'fentry:*loop_control_ioctl'", run("-l", "fentry:*loop_control_ioctl"), "fentry:loop:loop_control_ioctl\n")
	check("ktrace -l 'fexit:loop:loop_control_io*'", run("-l", "fexit:loop:loop_control_io*"), "fexit:loop:loop_control_ioctl\n")
	check("ktrace -lv 'fentry:loop:loop_control_ioctl'", run("-lv", "fentry:loop:loop_control_ioctl"),
		"fentry:loop:loop_control_ioctl\n    struct file * file\n    unsigned int cmd\n    long unsigned int parm\n")
	def := run("-lv", "struct loop_device")
	if !strings.HasPrefix(def, "loop: struct loop_device {\n") || !strings.Contains(def, "\n\tint lo_number;\n") {
		t.Errorf("ktrace -lv 'struct loop_device':\n%s\nwant it to start \"loop: struct loop_device {\" and have \"int lo_number;\"", def)
		ok = false
	}

	src := `fentry:loop:loop_control_ioctl /pid == $1/ { @entry[args.cmd] = count(); }
fexit:loop_control_ioctl /pid == $1/ { @exit[args.cmd, retval >= 0] = count(); }`
	// ktrace's own verifier must type the module's programs too.
	t.Setenv("KTRACE_STRICT_VERIFY", "1")
	p := startKtrace(t, "-e", src, strconv.Itoa(os.Getpid()))
	p.waitAttached(t, 2)
	loopControlIoctls(t, labLoopIoctls)
	stdout, stderr, code := p.interrupt(t)
	want := fmt.Sprintf("\n\n@entry[%d]: %d\n@exit[%d, true]: %d\n", 0x4C82, labLoopIoctls, 0x4C82, labLoopIoctls)
	if code != 0 || stdout != want || stderr != "Attached 2 probes\n" {
		t.Errorf("ktrace -e %q: exit %d\nstdout %q\nstderr %q\nwant exit 0, stdout %q, stderr \"Attached 2 probes\\n\"", src, code, stdout, stderr, want)
		ok = false
	}
	record(t, "fentry", "module-btf", ok, fmt.Sprintf("loop module: -l, -lv of loop_control_ioctl and struct loop_device, fentry:loop: and fexit on loop_control_ioctl with args.cmd: %d/%d calls", labLoopIoctls, labLoopIoctls))
}

// labWatchdogWrites is how many keepalive writes the raw tracepoint test
// makes to the software watchdog.
const labWatchdogWrites = 23

// TestLabModuleRawTracepoint loads the watchdog core and softdog (which
// never reboots, soft_noboot=1, and has a timeout of 37 s) and checks
// ktrace against the raw tracepoints the watchdog module defines: the
// listing and -lv name them with the module, and rawtracepoint probes,
// one naming the module and one not, count exactly the starts (softdog
// has no ping operation, so the open and each keepalive write start it)
// and the stop (the magic close) this test makes, with args typed from
// the module's BTF.
func TestLabModuleRawTracepoint(t *testing.T) {
	requireLab(t)
	loadLabModule(t, "watchdog", "")
	loadLabModule(t, "softdog", "soft_noboot=1 soft_margin=37")
	run := func(args ...string) string { return ktraceOutput(t, args...) }
	ok := true
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", what, got, want)
			ok = false
		}
	}
	check("ktrace -l 'rawtracepoint:watchdog:*'", run("-l", "rawtracepoint:watchdog:*"),
		"rawtracepoint:watchdog:watchdog_ping\nrawtracepoint:watchdog:watchdog_set_timeout\nrawtracepoint:watchdog:watchdog_start\nrawtracepoint:watchdog:watchdog_stop\n")
	check("ktrace -lv 'rawtracepoint:watchdog_stop'", run("-lv", "rawtracepoint:watchdog_stop"),
		"rawtracepoint:watchdog:watchdog_stop\n    struct watchdog_device * wdd\n    int err\n")

	src := `rawtracepoint:watchdog:watchdog_start /pid == $1/ { @start[args.err, args.wdd->timeout] = count(); }
rawtracepoint:watchdog_stop /pid == $1/ { @stop[args.err] = count(); }`
	// ktrace's own verifier must type the module's programs too.
	t.Setenv("KTRACE_STRICT_VERIFY", "1")
	p := startKtrace(t, "-e", src, strconv.Itoa(os.Getpid()))
	held := p.waitAttached(t, 2)
	// Both are tp_btf programs (BPF_PROG_TYPE_TRACING), typed by the
	// module's BTF, as a vmlinux raw tracepoint is on these kernels.
	for _, id := range held.progs {
		prog, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			t.Fatal(err)
		}
		info, err := prog.Info()
		prog.Close()
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != ebpf.Tracing {
			t.Errorf("program %d (%s) is a %s program, want Tracing (tp_btf)", id, info.Name, info.Type)
			ok = false
		}
	}
	wd, err := os.OpenFile("/dev/watchdog0", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range labWatchdogWrites {
		data := "k"
		if i == labWatchdogWrites-1 {
			data = "V" // the magic character: closing stops the watchdog
		}
		if _, err := wd.WriteString(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := wd.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := p.interrupt(t)
	want := fmt.Sprintf("\n\n@start[0, 37]: %d\n@stop[0]: 1\n", labWatchdogWrites+1)
	if code != 0 || stdout != want || stderr != "Attached 2 probes\n" {
		t.Errorf("ktrace -e %q: exit %d\nstdout %q\nstderr %q\nwant exit 0, stdout %q, stderr \"Attached 2 probes\\n\"", src, code, stdout, stderr, want)
		ok = false
	}
	record(t, "rawtracepoint", "module-btf", ok, fmt.Sprintf("watchdog module: -l and -lv of its raw tracepoints, rawtracepoint:watchdog:watchdog_start and rawtracepoint:watchdog_stop with args from BTF: %d starts, 1 stop", labWatchdogWrites+1))
}
