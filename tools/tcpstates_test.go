package tools_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/tools"
)

// TestTcpstates makes a loopback connection: the client's socket goes
// CLOSE -> SYN_SENT (in connect(), by this process, its local port not yet
// chosen), SYN_SENT -> ESTABLISHED, ESTABLISHED -> FIN_WAIT1 (in close(),
// by this process), FIN_WAIT1 -> FIN_WAIT2 and FIN_WAIT2 -> CLOSE, all
// with one SKADDR.
func TestTcpstates(t *testing.T) {
	r := startTool(t, "tcpstates", "-T")
	client, server := tcpSession(t, 1000)
	cp, sp := strconv.Itoa(client), strconv.Itoa(server)
	pid := strconv.Itoa(os.Getpid())
	// TIME SKADDR C-PID C-COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS
	lineWhere(r, "the client's CLOSE", func(f []string) bool {
		return len(f) == 12 && f[5] == cp && f[7] == sp && f[10] == "CLOSE"
	})
	var got []string
	skaddr := ""
	for _, l := range r.lines() {
		f := fields(l)
		if len(f) != 12 || f[7] != sp || f[5] != cp && f[5] != "0" {
			continue
		}
		checkClock(t, f[0])
		if skaddr == "" {
			skaddr = f[1]
		}
		if f[1] != skaddr || f[4] != "127.0.0.1" || f[6] != "127.0.0.1" || f[9] != "->" {
			t.Errorf("line %q: want SKADDR %s and 127.0.0.1 at both ends", l, skaddr)
		}
		if _, err := strconv.ParseFloat(f[11], 64); err != nil {
			t.Errorf("MS of %q", l)
		}
		change := f[8] + " -> " + f[10]
		if change == "CLOSE -> SYN_SENT" || change == "ESTABLISHED -> FIN_WAIT1" {
			change += " by " + f[2] + " " + f[3]
		}
		got = append(got, change)
	}
	want := []string{
		"CLOSE -> SYN_SENT by " + pid + " " + testComm(),
		"SYN_SENT -> ESTABLISHED",
		"ESTABLISHED -> FIN_WAIT1 by " + pid + " " + testComm(),
		"FIN_WAIT1 -> FIN_WAIT2",
		"FIN_WAIT2 -> CLOSE",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the client socket's changes:\n%s\nwant\n%s\nin\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stdout)
	}
	if h := fields(r.lines()[0]); strings.Join(h, " ") != "TIME SKADDR C-PID C-COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS" {
		t.Errorf("headings %q", h)
	}
}

// checkClock fails unless hhmmss is the time of day within a minute.
func checkClock(t *testing.T, hhmmss string) {
	t.Helper()
	now := time.Now()
	for _, d := range []time.Duration{0, -time.Minute} {
		if now.Add(d).Format("15:04") == hhmmss[:min(5, len(hhmmss))] {
			return
		}
	}
	t.Errorf("TIME %q, not the time of day (%s)", hhmmss, now.Format("15:04:05"))
}

// TestTcpstatesJSON: with -L the listener's port only the accepted
// socket's changes are printed, in JSON, its close() (CLOSE_WAIT ->
// LAST_ACK) by this process; -Y sends each change to the journal's
// socket (here the test's own).
func TestTcpstatesJSON(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "journal.socket")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: journal, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	old := *tools.JournalSocket
	*tools.JournalSocket = journal
	t.Cleanup(func() { *tools.JournalSocket = old })

	ln := tcpListen(t)
	server := ln.Addr().(*net.TCPAddr).Port
	r := startTool(t, "tcpstates", "-j", "-Y", "-4", "-L", strconv.Itoa(server))
	client := tcpSend(t, ln, 1000)
	ev := r.jsonEvent("newstate", func(v any) bool { return v == "LAST_ACK" })
	if ev["oldstate"] != "CLOSE_WAIT" || ev["lport"] != float64(server) || ev["rport"] != float64(client) || ev["c_pid"] != float64(os.Getpid()) || ev["c_comm"] != testComm() || ev["raddr"] != "127.0.0.1" {
		t.Errorf("event %v: want CLOSE_WAIT -> LAST_ACK from port %d to %d by pid %d", ev, server, client, os.Getpid())
	}
	if _, ok := ev["ms"].(float64); !ok {
		t.Errorf("ms %v is not a number", ev["ms"])
	}
	if _, ok := ev["arrow"]; ok {
		t.Errorf("the -> column is in JSON: %v", ev)
	}
	r.jsonEvent("newstate", func(v any) bool { return v == "CLOSE" })
	for _, l := range r.lines() {
		if !strings.Contains(l, `"lport":`+strconv.Itoa(server)+",") {
			t.Errorf("-L %d printed %s", server, l)
		}
	}
	want := "OBJECT_TCP_SOURCE_PORT=" + strconv.Itoa(server) + "\n" +
		"OBJECT_IPV4_DESTINATION_ADDRESS=127.0.0.1\n" +
		"OBJECT_TCP_DESTINATION_PORT=" + strconv.Itoa(client) + "\n" +
		"OBJECT_TCP_OLD_STATE=CLOSE_WAIT\nOBJECT_TCP_NEW_STATE=LAST_ACK\n"
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var entries []string
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no journal entry with\n%s\nin\n%s", want, strings.Join(entries, "\n"))
		}
		entries = append(entries, string(buf[:n]))
		if strings.Contains(string(buf[:n]), want) {
			if !strings.HasPrefix(string(buf[:n]), "SYSLOG_IDENTIFIER=tcpstates\n") {
				t.Errorf("journal entry %q", buf[:n])
			}
			break
		}
	}
}

// TestTcpstatesCgroup: bash, in a test cgroup, connects to this process's
// listener, sends and closes. With -c and -C, each change of its socket
// is a line with the test cgroup, FIN_WAIT2 -> CLOSE too, which this
// process (outside the cgroup) causes as it closes its side; the changes
// of the listener's socket are not printed. Without -c, in JSON, those
// show this process's cgroup.
func TestTcpstatesCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	ln := tcpListen(t)
	server := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	r := startTool(t, "tcpstates", "-c", name, "-C")
	j := startTool(t, "tcpstates", "-C", "-j", "-L", server)
	client, _ := cgroupSession(t, dir, ln)
	cp := strconv.Itoa(client)
	// CGROUP SKADDR C-PID C-COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS
	lineWhere(r, "the client's CLOSE", func(f []string) bool {
		return len(f) == 12 && f[5] == cp && f[7] == server && f[10] == "CLOSE"
	})
	r.stop()
	var got []string
	for _, l := range r.lines()[1:] {
		f := fields(l)
		switch {
		case len(f) != 12:
			t.Errorf("line %q", l)
		case f[5] == server:
			t.Errorf("-c %s printed the listener's side: %q", name, l)
		case f[7] == server && (f[5] == cp || f[5] == "0"):
			if f[0] != name {
				t.Errorf("CGROUP of %q, want %s", l, name)
			}
			got = append(got, f[8]+" -> "+f[10])
		}
	}
	want := "CLOSE -> SYN_SENT,SYN_SENT -> ESTABLISHED,ESTABLISHED -> FIN_WAIT1,FIN_WAIT1 -> FIN_WAIT2,FIN_WAIT2 -> CLOSE"
	if strings.Join(got, ",") != want {
		t.Errorf("the client socket's changes with -c: %q, want %q\n%s", got, want, r.stdout)
	}
	if h := fields(r.lines()[0]); len(h) == 0 || h[0] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
	ev := j.jsonEvent("newstate", func(v any) bool { return v == "CLOSE" })
	if own := ownCgroup(t); strconv.Itoa(int(ev["rport"].(float64))) != cp || ev["cgroup"] != own {
		t.Errorf("the listener's side's CLOSE %v: want rport %s and cgroup %s", ev, cp, own)
	}
}

// ownCgroup is the cgroup v2 this process is in, as /proc/self/cgroup
// names it.
func ownCgroup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	t.Fatalf("no cgroup v2 in /proc/self/cgroup:\n%s", data)
	return ""
}
