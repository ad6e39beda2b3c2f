package tools_test

import (
	"net"
	"strings"
	"testing"
)

// loopbackUDP sends n datagrams to a UDP socket of 127.0.0.1 and reads
// them: each one is received in a net_rx soft interrupt.
func loopbackUDP(t *testing.T, n int) {
	t.Helper()
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		if _, err := tx.Write([]byte("ktrace")); err != nil {
			t.Fatal(err)
		}
		if _, err := rx.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSoftirqs sends 100 loopback datagrams: net_rx has a row, with -C a
// count of at least one, in JSON; in text with -C -N, BCC's headings.
func TestSoftirqs(t *testing.T) {
	r := startTool(t, "softirqs", "-C", "-j")
	text := startTool(t, "softirqs", "-C", "-N")
	loopbackUDP(t, 100)
	for _, x := range []*toolRun{r, text} {
		if err := x.stop(); err != nil {
			t.Fatal(err)
		}
	}
	found := false
	for _, row := range reportRows(t, r) {
		if row["softirq"] == "net_rx" {
			found = true
			if row["total_count"].(float64) < 1 {
				t.Errorf("row %v: want a count", row)
			}
			if _, ok := row["total_usecs"].(float64); !ok {
				t.Errorf("row %v: no total_usecs", row)
			}
		}
	}
	if !found {
		t.Errorf("no net_rx row in\n%s", r.stdout)
	}
	if h := strings.Join(fields(text.line("SOFTIRQ")), " "); h != "SOFTIRQ TOTAL_nsecs TOTAL_count" {
		t.Errorf("headings %q", h)
	}
	if f := fields(text.line("net_rx")); len(f) != 3 {
		t.Errorf("net_rx row %q", f)
	}
}

// TestSoftirqsDistributed: with -d net_rx has a histogram, in JSON and
// in text.
func TestSoftirqsDistributed(t *testing.T) {
	r := startTool(t, "softirqs", "-d", "-j")
	text := startTool(t, "softirqs", "-d")
	loopbackUDP(t, 100)
	for _, x := range []*toolRun{r, text} {
		if err := x.stop(); err != nil {
			t.Fatal(err)
		}
	}
	var runs float64
	for _, row := range reportRows(t, r) {
		if row["softirq"] == "net_rx" {
			for _, b := range row["usecs"].([]any) {
				runs += b.(map[string]any)["count"].(float64)
			}
		}
	}
	if runs < 1 {
		t.Errorf("no net_rx run counted:\n%s", r.stdout)
	}
	text.line("softirq = net_rx")
}
