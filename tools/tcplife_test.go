package tools_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/tools"
)

// tcpSession connects to a listener on 127.0.0.1 and sends n bytes, which
// the listener's side reads to the end before both close. It returns the
// client's and the listener's ports.
func tcpSession(t *testing.T, n int) (client, server int) {
	t.Helper()
	ln := tcpListen(t)
	return tcpSend(t, ln, n), ln.Addr().(*net.TCPAddr).Port
}

// tcpListen listens on a free port of 127.0.0.1 until the test ends.
func tcpListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// tcpSend makes one connection to ln, sends n bytes, which ln's side reads
// to the end, and closes it; it returns the client's port.
func tcpSend(t *testing.T, ln net.Listener, n int) (client int) {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		m, err := io.Copy(io.Discard, c)
		if err == nil && m != int64(n) {
			err = errors.New("the listener read " + strconv.FormatInt(m, 10) + " bytes")
		}
		got <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	client = c.LocalAddr().(*net.TCPAddr).Port
	c.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	return client
}

// lineWhere waits up to 10 s for a line of r's output whose fields
// match, and returns it; what describes it in the failure.
func lineWhere(r *toolRun, what string, match func(f []string) bool) string {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range r.lines() {
			if match(fields(l)) {
				return l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no line with %s in:\n%s\nstderr: %s", what, r.stdout, r.stderr)
	return ""
}

// testComm is this test binary's command name, as the kernel keeps it.
func testComm() string {
	c := filepath.Base(os.Args[0])
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// TestTcplife sends 256 KiB over a loopback connection: the client's
// session shows this process, both ports, TX_KB 256.00 (the data, and the
// SYN and FIN the peer acknowledged) and RX_KB 0.00, and the listener's
// side the reverse.
func TestTcplife(t *testing.T) {
	r := startTool(t, "tcplife", "-T")
	client, server := tcpSession(t, 256<<10)
	cp, sp := strconv.Itoa(client), strconv.Itoa(server)
	pid := strconv.Itoa(os.Getpid())
	// TIME PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS
	want := map[string][]string{
		cp: {pid, testComm(), "127.0.0.1", cp, "127.0.0.1", sp, "256.00", "0.00"},
		sp: {pid, testComm(), "127.0.0.1", sp, "127.0.0.1", cp, "0.00", "256.00"},
	}
	for port, w := range want {
		f := fields(lineWhere(r, "LPORT "+port, func(f []string) bool { return len(f) > 5 && f[4] == port }))
		if len(f) != 10 || strings.Join(f[1:9], " ") != strings.Join(w, " ") {
			t.Errorf("the session from port %s: %q, want %q then MS", port, f, w)
			continue
		}
		checkClock(t, f[0])
		if ms, err := strconv.ParseFloat(f[len(f)-1], 64); err != nil || ms < 0 || ms > 10000 {
			t.Errorf("MS %q", f[len(f)-1])
		}
	}
	if h := fields(r.lines()[0]); strings.Join(h, " ") != "TIME PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS" {
		t.Errorf("headings %q", h)
	}
}

// TestTcplifeJSON: in JSON, with -L the listener's port and -p this
// process, only the listener's side of a session is printed, its
// kilobytes as numbers.
func TestTcplifeJSON(t *testing.T) {
	ln := tcpListen(t)
	server := ln.Addr().(*net.TCPAddr).Port
	r := startTool(t, "tcplife", "-j", "-4", "-p", strconv.Itoa(os.Getpid()), "-L", "1,"+strconv.Itoa(server))
	client := tcpSend(t, ln, 64<<10)
	ev := r.jsonEvent("lport", func(v any) bool { return v == float64(server) })
	if ev["rport"] != float64(client) || ev["rx_kb"] != 64.0 || ev["tx_kb"] != 0.0 || ev["pid"] != float64(os.Getpid()) || ev["laddr"] != "127.0.0.1" || ev["comm"] != testComm() {
		t.Errorf("event %v: want rport %d, rx_kb 64, tx_kb 0, pid %d", ev, client, os.Getpid())
	}
	if _, ok := ev["ms"].(float64); !ok {
		t.Errorf("ms %v is not a number", ev["ms"])
	}
	r.stop()
	for _, l := range r.lines() {
		if strings.Contains(l, `"lport":`+strconv.Itoa(client)) {
			t.Errorf("-L %d printed the client's side: %s", server, l)
		}
	}
}

// TestTCPUsageErrors: the TCP tools' own flag checks.
func TestTCPUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		tool string
		args []string
		want string
	}{
		{"tcplife", []string{"-L", "80,x"}, `-L needs a comma-separated list of ports, not "80,x" (see ktrace tcplife -h)`},
		{"tcplife", []string{"-D", "70000"}, `-D needs a comma-separated list of ports, not "70000" (see ktrace tcplife -h)`},
		{"tcplife", []string{"-4", "-6"}, "-4 and -6 exclude each other (see ktrace tcplife -h)"},
		{"tcplife", []string{"-p", "0"}, `-p needs a process ID, not "0" (see ktrace tcplife -h)`},
		{"tcpstates", []string{"-L", ""}, `-L needs a comma-separated list of ports, not "" (see ktrace tcpstates -h)`},
		{"tcpconnect", []string{"-P", "80,,81"}, `-P needs a comma-separated list of ports, not "80,,81" (see ktrace tcpconnect -h)`},
		{"tcpconnect", []string{"--cgroup", "/no-such-cgroup-ktrace"}, "--cgroup /no-such-cgroup-ktrace: no such cgroup (looked for the directory " + cgroupRoot(t) + "/no-such-cgroup-ktrace) (see ktrace tcpconnect -h)"},
		{"tcpaccept", []string{"-P", "http"}, `-P needs a comma-separated list of ports, not "http" (see ktrace tcpaccept -h)`},
		{"tcpretrans", []string{"-46"}, "-4 and -6 exclude each other (see ktrace tcpretrans -h)"},
		{"hardirqs", []string{"-s", "-1"}, "-s needs a CPU number, not -1 (see ktrace hardirqs -h)"},
		{"hardirqs", []string{"-c", "/no-such-cgroup-ktrace"}, "-c /no-such-cgroup-ktrace: no such cgroup (looked for the directory " + cgroupRoot(t) + "/no-such-cgroup-ktrace) (see ktrace hardirqs -h)"},
		{"softirqs", []string{"-c", "x"}, `-c needs an integer, not "x" (see ktrace softirqs -h)`},
		{"tcpstates", []string{"-6", "-4"}, "-4 and -6 exclude each other (see ktrace tcpstates -h)"},
	} {
		_, err := tools.Lookup(tc.tool).Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("ktrace %s %s: error %v, want %q", tc.tool, strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// inCgroup is a command that runs argv in the cgroup v2 directory dir: a
// shell moves itself there and execs it, so the PID is argv's.
func inCgroup(dir string, argv ...string) *exec.Cmd {
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec "$@"`, dir)
	return exec.Command("sh", append([]string{"-c", script, "sh"}, argv...)...)
}

// bashConnect is the command line of bash connecting to addr (through
// its /dev/tcp), sending "hello" and closing: a TCP client whose socket
// a process in another cgroup than the test's makes.
func bashConnect(addr net.Addr) []string {
	a := addr.(*net.TCPAddr)
	return []string{"bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d && printf hello >&3", a.IP, a.Port)}
}

// cgroupSession runs bashConnect to ln in the cgroup directory dir; ln's
// side, in this process, reads to the end and closes. It returns bash's
// port, as ln saw it, and PID.
func cgroupSession(t *testing.T, dir string, ln net.Listener) (client, pid int) {
	t.Helper()
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		io.Copy(io.Discard, c)
		c.Close()
		got <- c.RemoteAddr().(*net.TCPAddr).Port
	}()
	cmd := inCgroup(dir, bashConnect(ln.Addr())...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash connecting to %s in %s: %v", ln.Addr(), dir, err)
	}
	select {
	case client = <-got:
	case <-time.After(10 * time.Second):
	}
	if client == 0 {
		t.Fatal("the listener did not get bash's connection")
	}
	return client, cmd.Process.Pid
}

// TestTcplifeCgroup: bash, in a test cgroup, connects to this process's
// listener, sends 5 bytes and closes. With -c and -C its session is a line
// with the test cgroup, its PID and 7 bytes sent (0.01 KB: the data, the
// SYN and the FIN), though the session ends
// (FIN_WAIT2 -> CLOSE) as this process, outside the cgroup, closes its
// side; the listener's side of the session is not printed. Without -c,
// in JSON, the listener's side shows this process's cgroup.
func TestTcplifeCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	ln := tcpListen(t)
	server := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	r := startTool(t, "tcplife", "-c", name, "-C")
	j := startTool(t, "tcplife", "-C", "-j", "-L", server)
	client, pid := cgroupSession(t, dir, ln)
	cp := strconv.Itoa(client)
	// CGROUP PID COMM LADDR LPORT RADDR RPORT TX_KB RX_KB MS
	f := fields(lineWhere(r, "LPORT "+cp, func(f []string) bool { return len(f) > 4 && f[4] == cp }))
	want := []string{name, strconv.Itoa(pid), "bash", "127.0.0.1", cp, "127.0.0.1", server, "0.01", "0.00"}
	if len(f) != 10 || strings.Join(f[:9], " ") != strings.Join(want, " ") {
		t.Errorf("bash's session: %q, want %q then MS", f, want)
	}
	ev := j.jsonEvent("lport", func(v any) bool { return v == float64(ln.Addr().(*net.TCPAddr).Port) })
	if own := ownCgroup(t); ev["rport"] != float64(client) || ev["cgroup"] != own || ev["pid"] != float64(os.Getpid()) {
		t.Errorf("the listener's side %v: want rport %d, cgroup %s and this process", ev, client, own)
	}
	r.stop()
	for _, l := range r.lines() {
		if f := fields(l); len(f) > 4 && f[4] == server {
			t.Errorf("-c %s printed the listener's side: %q", name, l)
		}
	}
	if h := fields(r.lines()[0]); len(h) == 0 || h[0] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
}
