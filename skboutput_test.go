package ktrace_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestSkboutput sends datagrams to a closed UDP port on 127.0.0.1, each
// dropped once (kfree_skb, reason NO_SOCKET) with the socket buffer's
// data at the UDP header, and writes the drops to two pcap files: whole
// (offset 0: the 8-byte UDP header, then the payload) and from offset 8
// (the payload alone). Each file must be a raw-IP pcap file holding
// exactly one record per datagram sent (other drops on the machine may
// add records of their own, which are told apart by port and payload),
// with a time within the test's run.
func TestSkboutput(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	whole, payloadOnly := filepath.Join(dir, "whole.pcap"), filepath.Join(dir, "payload.pcap")
	u := startUser(t, fmt.Sprintf(`rawtracepoint:kfree_skb /args.reason == SKB_DROP_REASON_NO_SOCKET/ {
	$r = skboutput("%s", args.skb, args.skb->len, 0);
	@ret[$r, skboutput("%s", args.skb, args.skb->len, 8)] = 1;
}`, whole, payloadOnly), nil)
	start := time.Now()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 5
	var sent [][]byte
	for i := range n {
		p := []byte(fmt.Sprintf("ktrace skboutput %d %d", os.Getpid(), i))
		sent = append(sent, p)
		if _, err := conn.WriteToUDP(p, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	_, maps := u.stop(t)
	end := time.Now()
	if !strings.Contains(maps, "@ret[0, 0]: 1\n") {
		t.Errorf("skboutput() did not return 0 for both calls:\n%s", maps)
	}

	isOurs := func(rec []byte, hdr bool) (int, bool) {
		if hdr {
			if len(rec) < 8 || int(binary.BigEndian.Uint16(rec[2:])) != port {
				return 0, false
			}
			rec = rec[8:]
		}
		for i, p := range sent {
			if bytes.Equal(rec, p) {
				return i, true
			}
		}
		return 0, false
	}
	for _, f := range []struct {
		path string
		hdr  bool
	}{{whole, true}, {payloadOnly, false}} {
		recs, times := readPcap(t, f.path)
		seen := make([]int, n)
		for i, rec := range recs {
			j, ok := isOurs(rec, f.hdr)
			if !ok {
				continue
			}
			seen[j]++
			if times[i].Before(start.Truncate(time.Microsecond)) || times[i].After(end) {
				t.Errorf("%s: datagram %d at %v, not within the run (%v to %v)", f.path, j, times[i], start, end)
			}
		}
		for j, k := range seen {
			if k != 1 {
				t.Errorf("%s: datagram %d written %d times, want once (%d records in all)", f.path, j, k, len(recs))
			}
		}
	}
}

// readPcap reads a classic pcap file of link type raw IP (101), with
// microsecond times, as bpftrace's skboutput() writes them.
func readPcap(t *testing.T, path string) (recs [][]byte, times []time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 || le.Uint16(b[4:]) != 2 || le.Uint16(b[6:]) != 4 || le.Uint32(b[16:]) != 65535 || le.Uint32(b[20:]) != 101 {
		t.Fatalf("%s: not a raw-IP pcap file with microsecond times, version 2.4, snap length 65535: % x", path, b[:min(len(b), 24)])
	}
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			t.Fatalf("%s: a record header is cut short", path)
		}
		caplen, origlen := le.Uint32(b[8:]), le.Uint32(b[12:])
		if caplen != origlen || int(caplen) > len(b)-16 {
			t.Fatalf("%s: record of %d bytes (original %d) with %d left", path, caplen, origlen, len(b)-16)
		}
		times = append(times, time.Unix(int64(le.Uint32(b)), int64(le.Uint32(b[4:]))*1000))
		recs = append(recs, b[16:16+caplen])
		b = b[16+caplen:]
	}
	return recs, times
}
