// Command guestinit is /init inside the kernel lab's guests.
//
// The harness (package kernellab) builds it statically and puts it into the
// initramfs together with the plan (see package proto). It mounts the
// pseudo file systems tests need (devtmpfs, proc, sysfs, tracefs, debugfs,
// bpffs, cgroup2, devpts, tmpfs on /run and /tmp), mounts the disk when the
// plan asks for one (proto.DiskPath), brings the loopback interface up,
// runs the plan's commands one by one with their output going to the
// serial console, prints the verdict marker and powers the machine off.
// It never returns: if anything goes wrong before the verdict, it prints
// why and powers off, and the harness reports a missing verdict.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"golang.org/x/sys/unix"
)

func main() {
	code := run()
	// Give the UART a moment to drain before the machine goes away.
	unix.Sync()
	time.Sleep(200 * time.Millisecond)
	if os.Getpid() == 1 {
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
			fmt.Fprintf(os.Stderr, "guestinit: power off: %v\n", err)
		}
		// Returning from init panics the kernel; with panic=-1 and
		// QEMU's -no-reboot that also ends the VM.
		select {}
	}
	os.Exit(code)
}

func run() int {
	if err := setupSystem(); err != nil {
		fmt.Fprintf(os.Stderr, "guestinit: %v\n", err)
		return 1
	}
	release := kernelRelease()
	fmt.Println(proto.FormatLine(proto.MarkBoot, "kernel", release))

	b, err := os.ReadFile(proto.PlanPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "guestinit: read plan: %v\n", err)
		return 1
	}
	plan, err := proto.DecodePlan(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "guestinit: %v\n", err)
		return 1
	}

	if plan.Disk {
		// Not fatal: the commands that need the disk fail saying so
		// (their files are not on a block device), the others run.
		if err := mountDisk(); err != nil {
			fmt.Fprintf(os.Stderr, "guestinit: disk: %v\n", err)
		}
	}
	env := append(baseEnv(release), plan.Env...)
	verdict := proto.Verdict{Token: plan.Token}
	for _, c := range plan.Commands {
		code := runCommand(c, env)
		if code != 0 {
			if verdict.Exit == 0 {
				verdict.Exit = code
			}
			verdict.Failed = append(verdict.Failed, c.Name)
		}
	}
	fmt.Println(verdict.String())
	return verdict.Exit
}

type mount struct {
	source, target, fstype string
	optional               bool
}

var mounts = []mount{
	{"devtmpfs", "/dev", "devtmpfs", false},
	{"proc", "/proc", "proc", false},
	{"sysfs", "/sys", "sysfs", false},
	{"tracefs", "/sys/kernel/tracing", "tracefs", true},
	{"debugfs", "/sys/kernel/debug", "debugfs", true},
	{"bpf", "/sys/fs/bpf", "bpf", true},
	// As systemd does; until cgroup2 is mounted once, /proc/PID/cgroup has
	// no "0::" line and cgroup ids of tasks mean nothing to user space.
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", true},
	// Pseudo-terminals: /dev/ptmx (from devtmpfs) finds its devpts
	// instance at /dev/pts.
	{"devpts", "/dev/pts", "devpts", true},
	{"tmpfs", "/run", "tmpfs", false},
	{"tmpfs", "/tmp", "tmpfs", false},
}

func setupSystem() error {
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil && !m.optional {
			return fmt.Errorf("mkdir %s: %w", m.target, err)
		}
		err := unix.Mount(m.source, m.target, m.fstype, 0, "")
		if err != nil && !errors.Is(err, unix.EBUSY) {
			if m.optional {
				fmt.Fprintf(os.Stderr, "guestinit: mount %s on %s: %v (continuing)\n", m.fstype, m.target, err)
				continue
			}
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(proto.ResultsPath), 0o755); err != nil {
		return err
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	_ = unix.Sethostname([]byte("ktrace-lab"))
	return nil
}

// diskWait bounds the wait for the NVMe disk: the driver probes it
// asynchronously, and under TCG that can take a few seconds after init
// starts.
const diskWait = time.Minute

// mountDisk mounts the harness's disk image (ext4, made on the host) on
// proto.DiskPath, world-writable like /tmp, since tests put their
// temporary directories there.
func mountDisk() error {
	deadline := time.Now().Add(diskWait)
	for {
		if _, err := os.Stat(proto.DiskDevice); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %s", proto.DiskDevice, diskWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := os.MkdirAll(proto.DiskPath, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(proto.DiskDevice, proto.DiskPath, "ext4", 0, ""); err != nil {
		return fmt.Errorf("mount %s on %s: %w", proto.DiskDevice, proto.DiskPath, err)
	}
	return os.Chmod(proto.DiskPath, 0o1777)
}

// loopbackUp sets IFF_UP on lo; the kernel then adds 127.0.0.1/8 and ::1.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func baseEnv(release string) []string {
	env := []string{
		"PATH=/bin:/usr/bin:/sbin:/usr/sbin",
		"HOME=/root",
		"TMPDIR=/tmp",
		"TERM=dumb",
		"CI=true",
		proto.EnvLab + "=1",
		proto.EnvKernel + "=" + release,
		proto.EnvResults + "=" + proto.ResultsPath,
	}
	if _, err := os.Stat("/bin/ktrace"); err == nil {
		env = append(env, proto.EnvKtraceBin+"=/bin/ktrace")
	}
	return env
}

// runCommand runs c and returns its exit status: the program's own, 124 on
// timeout, 125 when it could not be started, 128+N when killed by signal N.
func runCommand(c proto.Command, env []string) int {
	fmt.Println(proto.FormatLine(proto.MarkBegin, "name", c.Name))
	start := time.Now()
	code, note := execCommand(c, env)
	fmt.Println(proto.FormatLine(proto.MarkEnd,
		"name", c.Name,
		"exit", strconv.Itoa(code),
		"seconds", strconv.FormatFloat(time.Since(start).Seconds(), 'f', 1, 64),
		"note", note))
	return code
}

func execCommand(c proto.Command, env []string) (int, string) {
	timeout := time.Duration(c.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Dir = c.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	if err := os.MkdirAll(cmd.Dir, 0o755); err != nil {
		return 125, err.Error()
	}
	cmd.Env = append(append([]string{}, env...), c.Env...)
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stdout // one stream keeps the console in order
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: a test may have started children.
		return unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	}
	cmd.WaitDelay = 10 * time.Second

	err := cmd.Run()
	// Whatever happened, leave no process of this command behind.
	if cmd.Process != nil {
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	}
	if ctx.Err() == context.DeadlineExceeded {
		return 124, fmt.Sprintf("timed out after %s", timeout)
	}
	if err == nil {
		return 0, ""
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), "killed by " + ws.Signal().String()
		}
		return ee.ExitCode(), ""
	}
	return 125, strings.TrimSpace(err.Error())
}
