package tools_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/tools"
)

// listen6 listens on a free port of ::1 until the test ends.
func listen6(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func port(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }

// TestTcpaccept accepts a connection on 127.0.0.1 and one on ::1: with -P
// their ports and -T, each is a line with this process, the IP version,
// the client's address and port and the listener's.
func TestTcpaccept(t *testing.T) {
	ln4, ln6 := tcpListen(t), listen6(t)
	r := startTool(t, "tcpaccept", "-T", "-P", port(ln4)+","+port(ln6))
	c4 := strconv.Itoa(tcpSend(t, ln4, 10))
	c6 := strconv.Itoa(tcpSend(t, ln6, 10))
	pid := strconv.Itoa(os.Getpid())
	// TIME PID COMM IP RADDR RPORT LADDR LPORT
	for _, want := range [][]string{
		{pid, testComm(), "4", "127.0.0.1", c4, "127.0.0.1", port(ln4)},
		{pid, testComm(), "6", "::1", c6, "::1", port(ln6)},
	} {
		lport := want[6]
		f := fields(lineWhere(r, "LPORT "+lport, func(f []string) bool { return len(f) == 8 && f[7] == lport }))
		if strings.Join(f[1:], " ") != strings.Join(want, " ") {
			t.Errorf("got %q, want %q", f[1:], want)
		}
		checkClock(t, f[0])
	}
	if h := strings.Join(fields(r.lines()[0]), " "); h != "TIME PID COMM IP RADDR RPORT LADDR LPORT" {
		t.Errorf("headings %q", h)
	}
}

// TestTcpacceptJSON: with -6 and -p this process, the IPv6 connection is
// printed and the IPv4 one is not.
func TestTcpacceptJSON(t *testing.T) {
	ln4, ln6 := tcpListen(t), listen6(t)
	r := startTool(t, "tcpaccept", "-j", "-6", "-p", strconv.Itoa(os.Getpid()))
	tcpSend(t, ln4, 10)
	c6 := tcpSend(t, ln6, 10)
	ev := r.jsonEvent("lport", func(v any) bool { return strconv.Itoa(int(v.(float64))) == port(ln6) })
	if ev["rport"] != float64(c6) || ev["ip"] != 6.0 || ev["raddr"] != "::1" || ev["laddr"] != "::1" || ev["pid"] != float64(os.Getpid()) || ev["comm"] != testComm() {
		t.Errorf("event %v: want rport %d, ip 6, ::1, pid %d", ev, c6, os.Getpid())
	}
	r.stop()
	for _, l := range r.lines() {
		if strings.Contains(l, `"lport":`+port(ln4)) {
			t.Errorf("-6 printed an IPv4 connection: %s", l)
		}
	}
}

// TestTcpacceptKprobes compiles the kretprobe script of kernels with
// kprobes.
func TestTcpacceptKprobes(t *testing.T) {
	withKprobes(t)
	c, err := tools.Lookup("tcpaccept").Parse([]string{"-4", "-P", "80", "-p", "1"})
	if err != nil {
		t.Fatal(err)
	}
	c.Kernel = tools.KernelWith(true)
	src, err := c.Script(false)
	if err == nil {
		_, err = ktrace.Compile("tcpaccept.bt", []byte(src), nil)
	}
	if err != nil || !strings.Contains(src, "kretprobe:inet_csk_accept") {
		t.Errorf("%v\n%s", err, src)
	}
}

// TestTcpacceptCgroup: busybox nc, listening in a test cgroup, accepts a
// connection from this process: with -c and -C it is a line with the test
// cgroup and nc's PID, in text and in JSON; the connection this process
// accepts, outside the cgroup, is not printed.
func TestTcpacceptCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "tcpaccept", "-c", name, "-C")
	js := startTool(t, "tcpaccept", "--cgroup", dir, "--show-cgroup", "-j")
	ln := tcpListen(t)
	outside := port(ln)
	tcpSend(t, ln, 10)
	// A port free a moment ago, for nc to listen on.
	free := tcpListen(t)
	lport := port(free)
	free.Close()
	nc := inCgroup(dir, testutil.RequireTool(t, "busybox", "busybox-static"), "nc", "-l", "-p", lport)
	if err := nc.Start(); err != nil {
		t.Fatal(err)
	}
	defer nc.Process.Kill()
	var c net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if c, err = net.Dial("tcp", "127.0.0.1:"+lport); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connecting to nc on port %s: %v", lport, err)
	}
	rport := strconv.Itoa(c.LocalAddr().(*net.TCPAddr).Port)
	c.Close()
	nc.Wait()
	// CGROUP PID COMM IP RADDR RPORT LADDR LPORT
	f := fields(text.line(" " + lport))
	want := []string{name, strconv.Itoa(nc.Process.Pid), "busybox", "4", "127.0.0.1", rport, "127.0.0.1", lport}
	if len(f) == len(want) && f[3] == "6" {
		// nc listens on IPv6's any address where it can, which
		// takes IPv4 connections too, with mapped addresses.
		want[3], want[4], want[6] = "6", "::ffff:127.0.0.1", "::ffff:127.0.0.1"
	}
	if strings.Join(f, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", f, want)
	}
	ev := js.jsonEvent("lport", func(v any) bool { return strconv.Itoa(int(v.(float64))) == lport })
	if ev["cgroup"] != name || ev["pid"] != float64(nc.Process.Pid) {
		t.Errorf("event %v: want cgroup %s and nc's PID %d", ev, name, nc.Process.Pid)
	}
	text.stop()
	js.stop()
	for _, r := range []*toolRun{text, js} {
		if out := r.stdout.String(); strings.Contains(out, " "+outside+"\n") || strings.Contains(out, `"lport":`+outside+"}") {
			t.Errorf("the connection accepted outside the cgroup was printed:\n%s", out)
		}
	}
	if h := fields(text.lines()[0]); len(h) == 0 || h[0] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
}
