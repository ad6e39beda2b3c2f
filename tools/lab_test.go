package tools_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// requireLab skips a test outside the kernel lab's guests, whose kernels
// have kprobes: the tools below use them there and approximate without
// them (their tests on this machine cover that).
func requireLab(t *testing.T) {
	t.Helper()
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("needs kprobes: runs only inside the kernel lab (bash .ci/kernellab)")
	}
}

// noCaveat fails if the tool said it approximates: with kprobes it must
// use the exact probes.
func noCaveat(t *testing.T, r *toolRun) {
	t.Helper()
	if strings.Contains(r.stderr.String(), "Note:") {
		t.Errorf("the tool approximates on a kernel with kprobes: %s", r.stderr)
	}
}

// TestLabVfsstat: with kprobes on vfs_write, 1000 one-byte writes of this
// process count at least 1000 writes, and the tool says no caveat.
func TestLabVfsstat(t *testing.T) {
	requireLab(t)
	r := startTool(t, "vfsstat", "-j", "1")
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := f.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	noCaveat(t, r)
	var writes float64
	for _, row := range reportRows(t, r) {
		writes += row["write_s"].(float64)
	}
	if writes < 1000 {
		t.Errorf("%v writes counted, want at least 1000:\n%s", writes, r.stdout)
	}
}

// TestLabCachestat: an 8 MiB file dropped from the page cache and read
// back misses at least 2048 pages, and hits are counted (kprobes), not
// unknown.
func TestLabCachestat(t *testing.T) {
	requireLab(t)
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unix.Fsync(int(f.Fd()))
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, "cachestat", "-j", "1")
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		if n == 0 || err != nil {
			break
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	noCaveat(t, r)
	var misses float64
	for _, row := range reportRows(t, r) {
		if _, ok := row["hits"].(float64); !ok {
			t.Errorf("row %v: hits should be a number with kprobes", row)
		}
		misses += row["misses"].(float64)
	}
	if misses < 2048 {
		t.Errorf("%v misses, want at least 2048:\n%s", misses, r.stdout)
	}
}

// TestLabTCP: tcpconnect and tcpaccept with kprobes see this process's
// loopback connection, with its ports.
func TestLabTCP(t *testing.T) {
	requireLab(t)
	conn := startTool(t, "tcpconnect", "-j")
	acc := startTool(t, "tcpaccept", "-j")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	pid := float64(os.Getpid())
	ev := conn.jsonEvent("dport", func(v any) bool { return v == float64(port) })
	if ev["pid"] != pid || ev["daddr"] != "127.0.0.1" {
		t.Errorf("tcpconnect event %v: want pid %v and daddr 127.0.0.1", ev, pid)
	}
	ev = acc.jsonEvent("lport", func(v any) bool { return v == float64(port) })
	if ev["pid"] != pid || ev["raddr"] != "127.0.0.1" {
		t.Errorf("tcpaccept event %v: want pid %v and raddr 127.0.0.1", ev, pid)
	}
	conn.stop()
	acc.stop()
	noCaveat(t, conn)
	noCaveat(t, acc)
}

// TestLabFunccount counts a kernel function by name (BCC's bare pattern,
// a kprobe): 100 fsync() calls of this process are 100 vfs_fsync_range
// calls.
func TestLabFunccount(t *testing.T) {
	requireLab(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := startTool(t, "funccount", "-j", "-p", strconv.Itoa(os.Getpid()), "vfs_fsync_range")
	for i := 0; i < 100; i++ {
		if err := unix.Fsync(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	rows := reportRows(t, r)
	if len(rows) != 1 || rows[0]["count"] != 100.0 {
		t.Errorf("rows %v: want vfs_fsync_range counted 100 times", rows)
	}
}

// TestLabCapable: with kprobes on cap_capable, a chown is CAP_CHOWN with
// its AUDIT flag, allowed. (The tool leaves out its own process's checks,
// as BCC's does, so chown runs in a child.)
func TestLabCapable(t *testing.T) {
	requireLab(t)
	r := startTool(t, "capable", "-j")
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := run(t, "chown", "65534", path)
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
	if ev["cap"] != 0.0 || ev["name"] != "CAP_CHOWN" || ev["verdict"] != "allow" || ev["audit"] == nil {
		t.Errorf("event %v: want cap 0 (CAP_CHOWN), verdict allow and an audit flag", ev)
	}
	r.stop()
	noCaveat(t, r)
}

// TestLabTcpsynbl: with kprobes on tcp_v4_syn_recv_sock, four handshakes
// on a listener with a backlog of 37 give the backlog sizes 0 to 3, and no
// drops.
func TestLabTcpsynbl(t *testing.T) {
	requireLab(t)
	r := startTool(t, "tcpsynbl", "-j")
	port := listenBacklog(t, 37)
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	noCaveat(t, r)
	var counts []float64
	drops := -1.0
	for _, row := range reportRows(t, r) {
		if row["backlog_max"] == 37.0 {
			drops, _ = row["drops"].(float64)
			for _, b := range row["backlog"].([]any) {
				counts = append(counts, b.(map[string]any)["count"].(float64))
			}
		}
	}
	if len(counts) != 2 || counts[0] != 2 || counts[1] != 2 || drops != 0 {
		t.Errorf("backlog 37: counts %v and %v drops, want [2 2] and 0:\n%s", counts, drops, r.stdout)
	}
}
