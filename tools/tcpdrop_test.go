package tools_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// refusedConnect connects to a port of the loopback address (127.0.0.1,
// or ::1 with v6) that nobody listens on, from a port it binds first: the
// kernel drops the SYN for want of a socket (NO_SOCKET) and refuses. It
// returns both ports.
func refusedConnect(t *testing.T, v6 bool) (client, server int) {
	t.Helper()
	family := unix.AF_INET
	var any, to unix.Sockaddr = &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, nil
	if v6 {
		family = unix.AF_INET6
		any = &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	socket := func() (int, int) {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(fd, any); err != nil {
			t.Fatal(err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			t.Fatal(err)
		}
		if v6 {
			return fd, sa.(*unix.SockaddrInet6).Port
		}
		return fd, sa.(*unix.SockaddrInet4).Port
	}
	// A port bound and closed again is free.
	fd, server := socket()
	unix.Close(fd)
	fd, client = socket()
	defer unix.Close(fd)
	if v6 {
		to = &unix.SockaddrInet6{Addr: [16]byte{15: 1}, Port: server}
	} else {
		to = &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: server}
	}
	if err := unix.Connect(fd, to); err != unix.ECONNREFUSED {
		t.Fatalf("connecting to port %d: %v, want ECONNREFUSED", server, err)
	}
	return client, server
}

// TestTcpdrop: the SYN to a closed port of 127.0.0.1 is dropped with
// reason NO_SOCKET: a line with both ports, no socket state, flags SYN,
// then the kernel stack through tcp_v4_rcv.
func TestTcpdrop(t *testing.T) {
	r := startTool(t, "tcpdrop")
	client, server := refusedConnect(t, false)
	saddr := "127.0.0.1:" + strconv.Itoa(client)
	// TIME PID IP SADDR:SPORT > DADDR:DPORT STATE (FLAGS) REASON (CODE)
	line := lineWhere(r, saddr, func(f []string) bool { return len(f) == 10 && f[3] == saddr })
	f := fields(line)
	want := []string{"4", saddr, ">", "127.0.0.1:" + strconv.Itoa(server), "-", "(SYN)", "NO_SOCKET"}
	if strings.Join(f[2:9], " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", f, want)
	}
	checkClock(t, f[0])
	if code, err := strconv.Atoi(strings.Trim(f[9], "()")); err != nil || code <= 2 {
		t.Errorf("CODE %q", f[9])
	}
	out := r.stdout.String()
	stack := out[strings.Index(out, line)+len(line):]
	if end := strings.Index(stack, "\n\n"); end > 0 {
		stack = stack[:end]
	}
	if !strings.Contains(stack, "tcp_v4_rcv+") {
		t.Errorf("no tcp_v4_rcv in the stack after the line:\n%s", stack)
	}
	if h := strings.Join(fields(r.lines()[0]), " "); h != "TIME PID IP SADDR:SPORT > DADDR:DPORT STATE (FLAGS) REASON (CODE)" {
		t.Errorf("headings %q", h)
	}
}

// TestTcpdropJSON: with -6, the SYN to a closed port of ::1 in JSON, and
// no IPv4 drop.
func TestTcpdropJSON(t *testing.T) {
	r := startTool(t, "tcpdrop", "-j", "-6")
	client4, _ := refusedConnect(t, false)
	client, server := refusedConnect(t, true)
	ev := r.jsonEvent("sport", func(v any) bool { return v == float64(client) })
	if ev["ip"] != 6.0 || ev["saddr"] != "::1" || ev["daddr"] != "::1" || ev["dport"] != float64(server) || ev["state"] != "-" || ev["flags"] != "SYN" || ev["reason"] != "NO_SOCKET" {
		t.Errorf("event %v: want ::1 to port %d, SYN, NO_SOCKET", ev, server)
	}
	if s, _ := ev["stack"].(string); !strings.Contains(s, "tcp_v6_rcv+") {
		t.Errorf("stack %q", ev["stack"])
	}
	r.stop()
	for _, l := range r.lines() {
		if strings.Contains(l, `"sport":`+strconv.Itoa(client4)+",") {
			t.Errorf("-6 printed an IPv4 drop: %s", l)
		}
	}
}

// moveTo moves this process into the cgroup v2 directory dir.
func moveTo(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
}

// filteredListener makes a listener on 127.0.0.1 whose socket filter drops
// every packet (SOCKET_FILTER), while this process is in the cgroup
// directory dir, so that the socket is that cgroup's; the process then
// goes back to its own. It returns the listener's port.
func filteredListener(t *testing.T, dir string) int {
	t.Helper()
	own := filepath.Join(cgroupRoot(t), ownCgroup(t))
	moveTo(t, dir)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	moveTo(t, own)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	// BPF_RET | BPF_K 0: keep no byte of any packet.
	drop := []unix.SockFilter{{Code: 0x06, K: 0}}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: 1, Filter: &drop[0]}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// TestTcpdropCgroup: this process, outside a test cgroup, connects to a
// listener whose socket is the cgroup's (made while this process was in
// it) and whose filter drops the SYN. With -c and -C that drop is a line
// with the test cgroup, the listener's state and SOCKET_FILTER, though a
// task outside the cgroup runs as it happens; a SYN dropped for want of a
// socket is not printed. Without -c, in JSON, the latter's cgroup is 0.
func TestTcpdropCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "tcpdrop", "-c", name, "-C")
	js := startTool(t, "tcpdrop", "-C", "-j", "-4")
	server := filteredListener(t, dir)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: server}); err != nil && err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	refused, _ := refusedConnect(t, false)
	daddr := "127.0.0.1:" + strconv.Itoa(server)
	// TIME CGROUP PID IP SADDR:SPORT > DADDR:DPORT STATE (FLAGS) REASON (CODE)
	f := fields(lineWhere(text, daddr, func(f []string) bool { return len(f) == 11 && f[6] == daddr }))
	want := []string{name, strconv.Itoa(os.Getpid()), "4"}
	if strings.Join(f[1:4], " ") != strings.Join(want, " ") || strings.Join(f[5:10], " ") != "> "+daddr+" LISTEN (SYN) SOCKET_FILTER" {
		t.Errorf("got %q, want %q, then > %s LISTEN (SYN) SOCKET_FILTER", f, want, daddr)
	}
	ev := js.jsonEvent("sport", func(v any) bool { return v == float64(refused) })
	if ev["cgroup"] != "0" || ev["reason"] != "NO_SOCKET" {
		t.Errorf("the drop without a socket %v: want cgroup 0", ev)
	}
	ev = js.jsonEvent("dport", func(v any) bool { return v == float64(server) })
	if ev["cgroup"] != name || ev["state"] != "LISTEN" {
		t.Errorf("the filtered drop %v: want cgroup %s", ev, name)
	}
	text.stop()
	if out := text.stdout.String(); strings.Contains(out, "NO_SOCKET") {
		t.Errorf("-c %s printed a drop without a socket:\n%s", name, out)
	}
}
