package tools_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// synRetransmit makes the kernel retransmit a SYN: a listener on
// 127.0.0.1 with a backlog of 0 that never accepts takes one connection
// into its accept queue and drops the next one's SYN, which the client
// sends again after about a second. It returns that client's port and
// the listener's; the sockets are closed at the end of the test.
func synRetransmit(t *testing.T) (client, server int) {
	t.Helper()
	socket := func() int {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	port := func(fd int) int {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			t.Fatal(err)
		}
		return sa.(*unix.SockaddrInet4).Port
	}
	ln := socket()
	if err := unix.Listen(ln, 0); err != nil {
		t.Fatal(err)
	}
	server = port(ln)
	to := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: server}
	for i := 0; i < 2; i++ {
		fd := socket()
		client = port(fd)
		if err := unix.Connect(fd, to); err != nil && err != unix.EINPROGRESS {
			t.Fatal(err)
		}
	}
	return client, server
}

// TestTcpretrans: the dropped SYN's retransmission is a line with the
// client's and the listener's ports, T> R> and state SYN_SENT, and with
// -s a sequence number.
func TestTcpretrans(t *testing.T) {
	r := startTool(t, "tcpretrans", "-s")
	client, server := synRetransmit(t)
	laddr := "127.0.0.1:" + strconv.Itoa(client)
	// TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE SEQ
	f := fields(lineWhere(r, laddr, func(f []string) bool { return len(f) == 8 && f[3] == laddr }))
	want := []string{"4", laddr, "R>", "127.0.0.1:" + strconv.Itoa(server), "SYN_SENT"}
	if strings.Join(f[2:7], " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", f, want)
	}
	checkClock(t, f[0])
	if _, err := strconv.ParseUint(f[7], 10, 32); err != nil {
		t.Errorf("SEQ %q", f[7])
	}
	if h := strings.Join(fields(r.lines()[0]), " "); h != "TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE SEQ" {
		t.Errorf("headings %q", h)
	}
}

// TestTcpretransJSON: the retransmission in JSON, with the addresses and
// ports apart; and -c counts it for the connection (in JSON, and in text
// as BCC's [addr]#port pairs).
func TestTcpretransJSON(t *testing.T) {
	r := startTool(t, "tcpretrans", "-j", "-4")
	c := startTool(t, "tcpretrans", "-c", "-j")
	text := startTool(t, "tcpretrans", "-c")
	client, server := synRetransmit(t)
	ev := r.jsonEvent("lport", func(v any) bool { return v == float64(client) })
	if ev["rport"] != float64(server) || ev["laddr"] != "127.0.0.1" || ev["raddr"] != "127.0.0.1" || ev["state"] != "SYN_SENT" || ev["ip"] != 4.0 {
		t.Errorf("event %v: want rport %d, SYN_SENT", ev, server)
	}
	if _, ok := ev["time"].(string); !ok {
		t.Errorf("no time in %v", ev)
	}
	for _, run := range []*toolRun{c, text} {
		if err := run.stop(); err != nil {
			t.Fatal(err)
		}
	}
	found := false
	for _, row := range reportRows(t, c) {
		if row["lport"] == float64(client) {
			found = true
			if n := row["retransmits"].(float64); row["rport"] != float64(server) || n < 1 {
				t.Errorf("row %v: want rport %d and at least 1 retransmit", row, server)
			}
		}
	}
	if !found {
		t.Errorf("-c counted nothing for port %d:\n%s", client, c.stdout)
	}
	key := "[127.0.0.1]#" + strconv.Itoa(client)
	f := fields(text.line(key))
	if len(f) != 4 || f[1] != "<->" || f[2] != "[127.0.0.1]#"+strconv.Itoa(server) {
		t.Errorf("-c row %q", f)
	}
	if h := fields(text.line("RETRANSMITS")); strings.Join(h, " ") != "LADDR:LPORT RADDR:RPORT RETRANSMITS" {
		t.Errorf("-c headings %q", h)
	}
}

// TestTcpretransCgroup: bash, in a test cgroup, connects to a listener
// whose accept queue is full, as does this process: both SYNs are sent
// again from a timer, whatever task runs. With --cgroup and -C only bash's
// retransmission is printed, with the test cgroup; without --cgroup, in
// JSON, this process's shows this process's cgroup.
func TestTcpretransCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "tcpretrans", "--cgroup", name, "-C")
	js := startTool(t, "tcpretrans", "-C", "-j")
	outside, server := synRetransmit(t)
	bash := inCgroup(dir, "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", server))
	if err := bash.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bash.Process.Kill(); bash.Wait() })
	raddr := "127.0.0.1:" + strconv.Itoa(server)
	// TIME CGROUP PID IP LADDR:LPORT T> RADDR:RPORT STATE
	f := fields(lineWhere(text, raddr, func(f []string) bool { return len(f) == 8 && f[6] == raddr }))
	if f[1] != name || f[4] == "127.0.0.1:"+strconv.Itoa(outside) || f[7] != "SYN_SENT" {
		t.Errorf("got %q, want bash's retransmission with cgroup %s", f, name)
	}
	ev := js.jsonEvent("lport", func(v any) bool { return v == float64(outside) })
	if own := ownCgroup(t); ev["cgroup"] != own || ev["rport"] != float64(server) {
		t.Errorf("this process's retransmission %v: want cgroup %s", ev, own)
	}
	_, bashPort, _ := strings.Cut(f[4], ":")
	ev = js.jsonEvent("lport", func(v any) bool { return strconv.Itoa(int(v.(float64))) == bashPort })
	if ev["cgroup"] != name {
		t.Errorf("bash's retransmission %v: want cgroup %s", ev, name)
	}
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) != 8 || f[1] != name || f[4] == "127.0.0.1:"+strconv.Itoa(outside) {
			t.Errorf("--cgroup %s printed %q", name, l)
		}
	}
	if h := fields(text.lines()[0]); len(h) < 2 || h[1] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
}
