package tools_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// listenBacklog listens on 127.0.0.1 with a listen() backlog of n, never
// accepting, and returns the port.
func listenBacklog(t *testing.T, n int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, n); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// TestTcpsynbl connects 4 clients to a listener with a backlog of 37 that
// never accepts: the handshakes complete with 0, 1, 2 and 3 connections
// waiting, so the histogram of limit 37 holds 2 in [0, 1] and 2 in [2, 3].
func TestTcpsynbl(t *testing.T) {
	js := startTool(t, "tcpsynbl", "-j", "-4")
	text := startTool(t, "tcpsynbl")
	port := listenBacklog(t, 37)
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for _, r := range []*toolRun{js, text} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	var got []float64
	for _, row := range reportRows(t, js) {
		if row["backlog_max"] != 37.0 {
			continue
		}
		for _, b := range row["backlog"].([]any) {
			got = append(got, b.(map[string]any)["count"].(float64))
		}
	}
	if len(got) != 2 || got[0] != 2 || got[1] != 2 {
		t.Errorf("backlog_max 37: bucket counts %v, want [2 2]:\n%s", got, js.stdout)
	}
	out := text.stdout.String()
	i := strings.Index(out, "backlog_max = 37\n")
	if i < 0 {
		t.Fatalf("no histogram for backlog_max = 37 in:\n%s", out)
	}
	lines := strings.Split(out[i:], "\n")
	if len(lines) < 4 || strings.Join(fields(lines[1]), " ") != "backlog : count distribution" ||
		!strings.HasPrefix(strings.Join(fields(lines[2]), " "), "0 -> 1 : 2 |") || !strings.HasPrefix(strings.Join(fields(lines[3]), " "), "2 -> 3 : 2 |") {
		t.Errorf("histogram:\n%s", strings.Join(lines[:min(4, len(lines))], "\n"))
	}
}

func TestTcpsynblUsage(t *testing.T) {
	usageErrors(t, "tcpsynbl", map[string]string{"-4 -6": "-4 and -6 are alternatives: choose one"})
}
