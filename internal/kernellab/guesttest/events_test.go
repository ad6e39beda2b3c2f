package guesttest

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/testutil"
)

// numEvents is how many events each check generates.
const numEvents = 25

// getppids calls getppid(2) n times and returns its result.
func getppids(n int) int {
	ppid := 0
	for i := 0; i < n; i++ {
		ppid = unix.Getppid()
	}
	return ppid
}

// newDrops sets up the injection of exactly counted UDP drops in this
// process's context (testutil.DropInjector); make it before attaching the
// probes, since its setup frees an skb of its own.
func newDrops(t *testing.T) (*testutil.DropInjector, error) {
	d, err := testutil.NewDropInjector()
	if err != nil {
		return nil, err
	}
	t.Cleanup(d.Close)
	return d, nil
}

// udpDrops is a UDP socket and a datagram to a closed port on 127.0.0.1:
// every send reaches the kernel as __sys_sendto with arguments the test
// knows, returns the datagram's length, and is dropped on receipt for
// want of a socket.
type udpDrops struct {
	fd   int
	buf  []byte
	addr unix.RawSockaddrInet4
}

// sendFlags are valid sendto flags with a recognizable value.
const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// closedPort has no listener in the guest.
const closedPort = 33434

func newUDPDrops(t *testing.T) *udpDrops {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	u := &udpDrops{fd: fd, buf: make([]byte, 37)}
	copy(u.buf, "ktrace kernel lab drop")
	u.addr.Family = unix.AF_INET
	u.addr.Addr = [4]byte{127, 0, 0, 1}
	u.addr.Port = closedPort<<8&0xff00 | closedPort>>8 // network order
	return u
}

// args are the six __sys_sendto arguments the sends use.
func (u *udpDrops) args() [6]uint64 {
	return [6]uint64{
		uint64(u.fd),
		uint64(uintptr(unsafe.Pointer(&u.buf[0]))),
		uint64(len(u.buf)),
		sendFlags,
		uint64(uintptr(unsafe.Pointer(&u.addr))),
		uint64(unsafe.Sizeof(u.addr)),
	}
}

// send sends n datagrams with exactly args().
func (u *udpDrops) send(n int) error {
	a := u.args()
	for i := 0; i < n; i++ {
		r, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		if errno != 0 {
			return fmt.Errorf("sendto #%d: %v", i, errno)
		}
		if int(r) != len(u.buf) {
			return fmt.Errorf("sendto #%d sent %d bytes, want %d", i, r, len(u.buf))
		}
	}
	runtime.KeepAlive(u.buf)
	runtime.KeepAlive(&u.addr)
	return nil
}
