package tools_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mountNamespace is the inode number of this process's mount namespace.
func mountNamespace(t *testing.T) string {
	t.Helper()
	link, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(link, "mnt:["), "]")
}

// TestMountsnoop: mount(8) mounting a tmpfs on a temporary directory and
// umount(8) unmounting it print their PIDs, the mount namespace and the
// calls with their arguments, flags by name, and results.
func TestMountsnoop(t *testing.T) {
	r := startTool(t, "mountsnoop")
	dir := t.TempDir()
	source := fmt.Sprintf("ktrace-%d", os.Getpid())
	mount := run(t, "mount", "-t", "tmpfs", "-o", "size=1m,nosuid", source, dir)
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	umount := run(t, "umount", dir)
	ns := mountNamespace(t)
	for _, want := range []struct {
		pid  int
		comm string
		call string
	}{
		{mount.Process.Pid, "mount", fmt.Sprintf(`mount("%s", "%s", "tmpfs", MS_NOSUID, "size=1m") = 0`, source, dir)},
		{umount.Process.Pid, "umount", fmt.Sprintf(`umount("%s", 0x0) = 0`, dir)},
	} {
		pid := strconv.Itoa(want.pid)
		got := r.line(want.call)
		if f := fields(got); len(f) < 5 || fmt.Sprint(f[:4]) != fmt.Sprint([]string{want.comm, pid, pid, ns}) || !strings.HasSuffix(got, "  "+want.call) {
			t.Errorf("mountsnoop printed %q, want %s %s %s %s %s", got, want.comm, pid, pid, ns, want.call)
		}
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[COMM PID TID MNT_NS CALL]" {
		t.Errorf("headings %q", h)
	}
}

// TestMountsnoopNewAPI: this process mounts a tmpfs with fsopen,
// fsconfig, fsmount and move_mount, and detaches it with umount2; with -p
// and -t, in JSON, each call is printed as made, with its result.
func TestMountsnoopNewAPI(t *testing.T) {
	r := startTool(t, "mountsnoop", "-j", "-t", "-p", strconv.Itoa(os.Getpid()))
	dir := t.TempDir()
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "size", "1m"); err != nil {
		t.Fatal(err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		t.Fatal(err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NODEV)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf(`fsopen("tmpfs", FSOPEN_CLOEXEC) = %d`, fsfd),
		fmt.Sprintf(`fsconfig(%d, FSCONFIG_SET_STRING, "size", "1m", 0) = 0`, fsfd),
		fmt.Sprintf(`fsconfig(%d, FSCONFIG_CMD_CREATE, "", "", 0) = 0`, fsfd),
		fmt.Sprintf(`fsmount(%d, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV) = %d`, fsfd, mfd),
		fmt.Sprintf(`move_mount(%d, "", AT_FDCWD, "%s", MOVE_MOUNT_F_EMPTY_PATH) = 0`, mfd, dir),
		fmt.Sprintf(`umount("%s", MNT_DETACH) = 0`, dir),
	}
	for _, call := range want {
		ev := r.jsonEvent("call", func(v any) bool { return v == call })
		op := strings.ToUpper(call[:strings.IndexByte(call, '(')])
		if ev["pid"] != float64(os.Getpid()) || ev["op"] != op || ev["mnt_ns"] != mustFloat(t, mountNamespace(t)) || ev["time"] == nil {
			t.Errorf("event %v: want pid %d, op %s, this mount namespace and a time", ev, os.Getpid(), op)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestMountsnoopCgroup: mount(8) mounting a tmpfs in a test cgroup and
// umount(8), outside it, unmounting it: with -c and -C the mount is
// printed with the test cgroup and mount's PID, the umount is not; in
// JSON with -C each has its process's cgroup.
func TestMountsnoopCgroup(t *testing.T) {
	cg, name := testCgroup(t)
	text := startTool(t, "mountsnoop", "-c", cg, "-C")
	js := startTool(t, "mountsnoop", "--show-cgroup", "-j")
	dir := t.TempDir()
	source := fmt.Sprintf("ktrace-cg-%d", os.Getpid())
	mount := runInCgroup(t, cg, "mount", "-t", "tmpfs", "-o", "size=1m", source, dir)
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	umount := run(t, "umount", dir)
	call := fmt.Sprintf(`mount("%s", "%s", "tmpfs", 0x0, "size=1m") = 0`, source, dir)
	pid := strconv.Itoa(mount.Process.Pid)
	got := text.line(call)
	if f := fields(got); len(f) < 6 || fmt.Sprint(f[:5]) != fmt.Sprint([]string{name, "mount", pid, pid, mountNamespace(t)}) {
		t.Errorf("mountsnoop -c -C printed %q, want %s mount %s %s %s %s", got, name, pid, pid, mountNamespace(t), call)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[CGROUP COMM PID TID MNT_NS CALL]" {
		t.Errorf("headings %q", h)
	}
	for cmd, cg := range map[*exec.Cmd]string{mount: name, umount: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
		if ev["cgroup"] != cg || ev["ret"] != 0.0 {
			t.Errorf("JSON event %v: want cgroup %s, ret 0", ev, cg)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), "umount(") {
		t.Errorf("with -c, the umount outside the cgroup was printed:\n%s", text.stdout)
	}
}
