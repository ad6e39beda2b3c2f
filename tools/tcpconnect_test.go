package tools_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/facts"
	"github.com/ktrace/ktrace/tools"
)

// TestTcpconnect connects to listeners on 127.0.0.1 and ::1: with -P
// their ports, -U and -t, each connection is a line with this process,
// IP version, the addresses and the destination port.
func TestTcpconnect(t *testing.T) {
	ln4 := tcpListen(t)
	ln6, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln6.Close()
	p4, p6 := strconv.Itoa(ln4.Addr().(*net.TCPAddr).Port), strconv.Itoa(ln6.Addr().(*net.TCPAddr).Port)
	r := startTool(t, "tcpconnect", "-t", "-U", "-P", p4+","+p6)
	tcpSend(t, ln4, 10)
	tcpSend(t, ln6, 10)
	pid := strconv.Itoa(os.Getpid())
	// TIME(s) UID PID COMM IP SADDR DADDR DPORT
	for _, want := range [][]string{
		{"0", pid, testComm(), "4", "127.0.0.1", "127.0.0.1", p4},
		{"0", pid, testComm(), "6", "::1", "::1", p6},
	} {
		port := want[6]
		f := fields(lineWhere(r, "DPORT "+port, func(f []string) bool { return len(f) == 8 && f[7] == port }))
		if strconv.Quote(joinFields(f[1:])) != strconv.Quote(joinFields(want)) {
			t.Errorf("got %q, want %q", f[1:], want)
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			t.Errorf("TIME(s) %q", f[0])
		}
	}
	if h := joinFields(fields(r.lines()[0])); h != "TIME(s) UID PID COMM IP SADDR DADDR DPORT" {
		t.Errorf("headings %q", h)
	}
}

func joinFields(f []string) string {
	s := ""
	for i, x := range f {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

// TestTcpconnectJSON: with -s the source port is the client's, and a
// refused connection (to a port nobody listens on) is printed too, with
// its source port.
func TestTcpconnectJSON(t *testing.T) {
	closed := tcpListen(t)
	refused := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	ln := tcpListen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	r := startTool(t, "tcpconnect", "-j", "-s", "-p", strconv.Itoa(os.Getpid()))
	client := tcpSend(t, ln, 10)
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(refused)); err == nil {
		c.Close()
		t.Fatalf("port %d accepted a connection", refused)
	}
	ev := r.jsonEvent("dport", func(v any) bool { return v == float64(port) })
	if ev["sport"] != float64(client) || ev["pid"] != float64(os.Getpid()) || ev["comm"] != testComm() || ev["ip"] != 4.0 || ev["saddr"] != "127.0.0.1" {
		t.Errorf("event %v: want sport %d, pid %d, ip 4", ev, client, os.Getpid())
	}
	ev = r.jsonEvent("dport", func(v any) bool { return v == float64(refused) })
	if sport, _ := ev["sport"].(float64); sport <= 0 || ev["pid"] != float64(os.Getpid()) {
		t.Errorf("the refused connection %v: want a source port and pid %d", ev, os.Getpid())
	}
}

// TestTcpconnectCount: -c counts three connections to one listener in
// one row (text), and with -s by source port, one each (JSON).
func TestTcpconnectCount(t *testing.T) {
	ln := tcpListen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	text := startTool(t, "tcpconnect", "-c", "-P", strconv.Itoa(port))
	j := startTool(t, "tcpconnect", "-c", "-s", "-j", "-P", strconv.Itoa(port))
	clients := map[float64]bool{}
	for i := 0; i < 3; i++ {
		clients[float64(tcpSend(t, ln, 10))] = true
	}
	for _, r := range []*toolRun{text, j} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	if h := joinFields(fields(text.line("CONNECTS"))); h != "LADDR RADDR RPORT CONNECTS" {
		t.Errorf("headings %q", h)
	}
	if f := fields(text.line(" " + strconv.Itoa(port) + " ")); joinFields(f) != "127.0.0.1 127.0.0.1 "+strconv.Itoa(port)+" 3" {
		t.Errorf("row %q, want 3 connections to port %d", f, port)
	}
	rows := reportRows(t, j)
	for _, row := range rows {
		if !clients[row["lport"].(float64)] || row["rport"] != float64(port) || row["connects"] != 1.0 || row["laddr"] != "127.0.0.1" {
			t.Errorf("row %v: want one of the clients %v to %d, once", row, clients, port)
		}
		delete(clients, row["lport"].(float64))
	}
	if len(clients) > 0 {
		t.Errorf("clients %v not counted:\n%s", clients, j.stdout)
	}
}

// TestTcpconnectKprobes compiles the script for a kernel with kprobes
// (tcp_v4_connect and tcp_v6_connect), which this one may not have.
func TestTcpconnectKprobes(t *testing.T) {
	withKprobes(t)
	for _, args := range [][]string{nil, {"-s", "-U", "-P", "80,443", "-u", "0"}, {"-c", "-s"}} {
		c, err := tools.Lookup("tcpconnect").Parse(args)
		if err != nil {
			t.Fatal(err)
		}
		c.Kernel = tools.KernelWith(true)
		for _, standalone := range []bool{false, true} {
			src, err := c.Script(standalone)
			if err == nil {
				_, err = ktrace.Compile("tcpconnect.bt", []byte(src), nil)
			}
			if err != nil {
				t.Errorf("%v: %v\n%s", args, err, src)
			}
		}
	}
}

// withKprobes makes Compile see a kernel with kprobes until the test
// ends (it compiles, loads nothing).
func withKprobes(t *testing.T) {
	old := facts.RunningKernel
	facts.RunningKernel.Kprobes = func() error { return nil }
	t.Cleanup(func() { facts.RunningKernel = old })
}

// TestTcpconnectCgroup: bash, in a test cgroup, connects to a listener of
// this process, which also connects to it itself. With --cgroup and -C
// bash's connection is a line with the test cgroup and bash's PID, and
// with -s too (where the line waits for the handshake's end, in a
// softirq); this process's connection, outside the cgroup, is not
// printed.
func TestTcpconnectCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	ln := tcpListen(t)
	p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	text := startTool(t, "tcpconnect", "--cgroup", name, "-C", "-P", p)
	js := startTool(t, "tcpconnect", "--cgroup", dir, "-C", "-s", "-j")
	outside := tcpSend(t, ln, 10)
	client, pid := cgroupSession(t, dir, ln)
	// CGROUP PID COMM IP SADDR DADDR DPORT
	f := fields(text.line(" bash "))
	want := []string{name, strconv.Itoa(pid), "bash", "4", "127.0.0.1", "127.0.0.1", p}
	if joinFields(f) != joinFields(want) {
		t.Errorf("got %q, want %q", f, want)
	}
	ev := js.jsonEvent("sport", func(v any) bool { return v == float64(client) })
	if ev["cgroup"] != name || ev["pid"] != float64(pid) || ev["comm"] != "bash" || ev["dport"] != float64(ln.Addr().(*net.TCPAddr).Port) {
		t.Errorf("event %v: want cgroup %s, bash's PID %d, dport %s", ev, name, pid, p)
	}
	text.stop()
	js.stop()
	if n := len(text.lines()); n != 2 {
		t.Errorf("--cgroup printed %d lines, want the headings and bash's:\n%s", n, text.stdout)
	}
	if strings.Contains(js.stdout.String(), `"sport":`+strconv.Itoa(outside)+",") {
		t.Errorf("the connection from outside the cgroup was printed:\n%s", js.stdout)
	}
	if h := fields(text.lines()[0]); len(h) == 0 || h[0] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
}
