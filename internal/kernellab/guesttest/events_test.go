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

// send sends n datagrams with exactly args(). A SoftirqGuard keeps their
// drops in this process's context and done by the time send returns.
func (u *udpDrops) send(n int) error {
	guard, err := testutil.NewSoftirqGuard()
	if err != nil {
		return err
	}
	defer guard.Close()
	a := u.args()
	for i := 0; i < n; i++ {
		err := guard.Send(func() error {
			r, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
			if errno != 0 {
				return errno
			}
			if int(r) != len(u.buf) {
				return fmt.Errorf("sent %d bytes, want %d", r, len(u.buf))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sendto #%d: %w", i, err)
		}
	}
	runtime.KeepAlive(u.buf)
	runtime.KeepAlive(&u.addr)
	return nil
}
