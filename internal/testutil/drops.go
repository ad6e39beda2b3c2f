package testutil

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// A DropInjector makes the kernel drop UDP datagrams to 127.0.0.1 for
// want of a socket: Inject(n) causes exactly n skb:kfree_skb events with
// reason NO_SOCKET, each in the calling process's context (its PID and
// comm), all done before Inject returns, and nothing else.
//
// Datagrams sent with sendto(2) do not guarantee that: the kernel receives
// them in the NET_RX softirq, which runs in the sender's context only
// while the CPU's ksoftirqd is idle, and otherwise in ksoftirqd, later
// (Linux before 6.5 hands every pending softirq to a runnable ksoftirqd).
// In the kernel lab's emulated guests that lost up to three drops in four
// to ksoftirqd. So the injector hands each datagram to an XDP program run
// in live-frame mode (BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, Linux
// 5.18+): its XDP_PASS gives the packet to netif_receive_skb on the
// loopback device, which delivers it to UDP synchronously, inside the
// bpf(2) call.
//
// Packets arriving on lo from outside are martians to IPv4 unless the
// device allows route_localnet, so the injector works on a thread of its
// own in a private network namespace, where lo is set up for it; the
// process's namespace is left as it was. NewDropInjector does all the
// setup, including cilium/ebpf's one-time probe of BPF_PROG_RUN, which
// frees an skb of its own (a NOT_SPECIFIED drop): make the injector before
// attaching the probes that count.
type DropInjector struct {
	reqs chan int
	errs chan error
}

// NewDropInjector sets up an injector; Close releases it.
func NewDropInjector() (*DropInjector, error) {
	d := &DropInjector{reqs: make(chan int), errs: make(chan error)}
	go d.serve()
	if err := <-d.errs; err != nil {
		return nil, err
	}
	return d, nil
}

// Inject makes exactly n drops.
func (d *DropInjector) Inject(n int) error {
	d.reqs <- n
	return <-d.errs
}

// Close ends the injector's thread.
func (d *DropInjector) Close() { close(d.reqs) }

// InjectDrops makes n drops with a new DropInjector.
func InjectDrops(n int) error {
	d, err := NewDropInjector()
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Inject(n)
}

// SendUDPDrops sends n datagrams to a closed UDP port on 127.0.0.1 from
// an unconnected socket. Each one is dropped by the kernel with reason
// NO_SOCKET: exactly one skb:kfree_skb event per datagram, counted in the
// sending process's context on Linux 6.5 and later (older kernels may
// receive them in ksoftirqd; use a DropInjector there).
func SendUDPDrops(n int) error {
	port, err := closedUDPPort()
	if err != nil {
		return err
	}
	// Unconnected: a connected socket would get the ICMP error back as
	// ECONNREFUSED on the next write, and that write would not be sent.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer conn.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	for i := 0; i < n; i++ {
		if _, err := conn.WriteToUDP([]byte("ktrace drop test"), dst); err != nil {
			return fmt.Errorf("datagram %d: %w", i, err)
		}
	}
	return nil
}

// closedUDPPort finds a port with no socket bound to it.
func closedUDPPort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port, nil
}

func (d *DropInjector) serve() {
	// Never unlocked: the thread is in another network namespace, and Go
	// ends it when this goroutine returns.
	runtime.LockOSThread()
	prog, err := setUpInjection()
	d.errs <- err
	if err != nil {
		return
	}
	defer prog.Close()
	pkt := udpPacket([]byte("ktrace drop test"))
	for n := range d.reqs {
		d.errs <- inject(prog, pkt, n)
	}
}

// setUpInjection moves the thread into a private network namespace, sets
// it up and loads the XDP program.
func setUpInjection() (*ebpf.Program, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("private network namespace for the drops: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return nil, err
	}
	// route_localnet lets packets to 127.0.0.1 in from lo; accept_local and
	// no reverse-path filter accept their source, 127.0.0.1 too. /proc/sys/net
	// shows the network namespace of the thread that opens it.
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/net/ipv4/conf/lo/route_localnet", "1"},
		{"/proc/sys/net/ipv4/conf/lo/accept_local", "1"},
		{"/proc/sys/net/ipv4/conf/all/rp_filter", "0"},
		{"/proc/sys/net/ipv4/conf/lo/rp_filter", "0"},
	} {
		if err := os.WriteFile(s.path, []byte(s.value), 0); err != nil {
			return nil, fmt.Errorf("setting up the drops' network namespace: %w", err)
		}
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "ktrace_test_drop",
		Type:         ebpf.XDP,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2 /* XDP_PASS */), asm.Return()},
	})
	if err != nil {
		return nil, fmt.Errorf("loading the XDP program that injects the drops: %w", err)
	}
	// A run without live frames builds no skb, but makes cilium/ebpf probe
	// BPF_PROG_RUN now, while nothing counts the skb that probe frees.
	if _, err := prog.Run(&ebpf.RunOptions{Data: udpPacket(nil)}); err != nil {
		prog.Close()
		return nil, fmt.Errorf("test run of the XDP program: %w", err)
	}
	return prog, nil
}

// inject makes n drops and checks with the namespace's UDP counters that
// every datagram got as far as the missing socket: live frames report no
// verdict.
func inject(prog *ebpf.Program, pkt []byte, n int) error {
	before, err := udpNoPorts()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		// Repeat 1: with more, a pending signal (Go preempts goroutines
		// with SIGURG) may end the run after an unknown number of frames.
		if _, err := prog.Run(&ebpf.RunOptions{Data: pkt, Repeat: 1, Flags: unix.BPF_F_TEST_XDP_LIVE_FRAMES}); err != nil {
			return fmt.Errorf("injecting datagram %d: %w", i, err)
		}
	}
	after, err := udpNoPorts()
	if err != nil {
		return err
	}
	if after-before != uint64(n) {
		return fmt.Errorf("injected %d datagrams, but UDP counted %d for want of a socket", n, after-before)
	}
	return nil
}

// udpNoPorts reads the Udp NoPorts counter of the thread's network
// namespace.
func udpNoPorts() (uint64, error) {
	data, err := os.ReadFile("/proc/thread-self/net/snmp")
	if err != nil {
		return 0, err
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == "NoPorts" && i < len(f) {
				return strconv.ParseUint(f[i], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no Udp NoPorts counter in /proc/thread-self/net/snmp")
}

// loopbackUp brings up lo of the thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing lo up: %w", err)
	}
	return nil
}

// udpPacket is an Ethernet frame to lo (whose address is all zeros) with
// a UDP datagram from 127.0.0.1:33435 to 127.0.0.1:33434: no socket is
// bound in a new network namespace.
func udpPacket(payload []byte) []byte {
	const ethLen, ipLen, udpLen = 14, 20, 8
	b := make([]byte, ethLen+ipLen+udpLen+len(payload))
	binary.BigEndian.PutUint16(b[12:], unix.ETH_P_IP)
	ip := b[ethLen:]
	ip[0] = 0x45 // IPv4, 20-byte header
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen+udpLen+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = unix.IPPROTO_UDP
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	var sum uint32
	for i := 0; i < ipLen; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[ipLen:]
	binary.BigEndian.PutUint16(udp[0:], 33435)
	binary.BigEndian.PutUint16(udp[2:], 33434)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen+len(payload)))
	// Checksum 0: none, which IPv4 allows.
	copy(udp[udpLen:], payload)
	return b
}
