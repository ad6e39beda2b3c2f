package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SendtoFunction is the kernel function that sendto(2) calls with all six
// of its arguments. Both kernels of the kernel lab have it, it is global
// (never inlined) and it has BTF, so kprobes, kretprobes, fentry and fexit
// all attach to it.
const SendtoFunction = "__sys_sendto"

// SendtoFlags are valid sendto flags with a recognizable value.
const SendtoFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// sendtoPort has no listener: every datagram sent there is dropped.
const sendtoPort = 33434

// Sendto calls sendto(2) with six arguments the test knows, so that a
// probe's arg0..arg5 and retval can be compared with exact values: the
// socket, the buffer's address and length, SendtoFlags, the address of the
// destination and its length. Each call returns len(buf).
type Sendto struct {
	fd   int
	buf  []byte
	addr *unix.RawSockaddrInet4
}

// NewSendto opens a UDP socket whose datagrams carry size bytes to a
// closed port on 127.0.0.1; it is closed when the test ends.
func NewSendto(t testing.TB, size int) *Sendto {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	// buf and addr are heap objects (Go's collector never moves those),
	// so the addresses the kernel sees are the ones Args reports.
	s := &Sendto{fd: fd, buf: make([]byte, size), addr: &unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: [4]byte{127, 0, 0, 1}}}
	copy(s.buf, "ktrace sendto test")
	s.addr.Port = sendtoPort<<8&0xff00 | sendtoPort>>8 // network byte order
	return s
}

// Args are the six arguments every Send passes to sendto(2).
func (s *Sendto) Args() [6]uint64 {
	return [6]uint64{
		uint64(s.fd),
		uint64(uintptr(unsafe.Pointer(&s.buf[0]))),
		uint64(len(s.buf)),
		SendtoFlags,
		uint64(uintptr(unsafe.Pointer(s.addr))),
		uint64(unsafe.Sizeof(*s.addr)),
	}
}

// Send calls sendto(2) n times with Args and checks each result.
func (s *Sendto) Send(n int) error {
	a := s.Args()
	for i := 0; i < n; i++ {
		r, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		if errno != 0 {
			return fmt.Errorf("sendto #%d: %v", i, errno)
		}
		if int(r) != len(s.buf) {
			return fmt.Errorf("sendto #%d sent %d bytes, want %d", i, r, len(s.buf))
		}
	}
	runtime.KeepAlive(s.buf)
	runtime.KeepAlive(s.addr)
	return nil
}

// SendtoScript is a ktrace script that prints and counts the arguments,
// return value and function name of every __sys_sendto call made by the
// process whose PID is $1. It prints with %ld: as in bpftrace, %d reads
// only the low 32 bits, and the buffer and address pointers need all 64. Run over Send, it must report exactly what
// WantSendtoScript says, whichever way its probes were compiled.
const SendtoScript = `kprobe:__sys_sendto /pid == $1/ {
	printf("entry %ld %ld %ld %ld %ld %ld %s\n", arg0, arg1, arg2, arg3, arg4, arg5, func);
	@args[arg0, arg1, arg2, arg3, arg4, arg5] = count();
}
kretprobe:__sys_sendto /pid == $1/ {
	printf("return %ld %s\n", retval, func);
	@ret[retval, func] = count();
}`

// WantSendtoScript is what SendtoScript prints over n calls of s.Send, and
// the maps it leaves, in bpftrace's exit format: for each call its entry
// line, with the six arguments, and its return line, with the byte count
// sendto returned; func is the function's name in both.
func (s *Sendto) WantSendtoScript(n int) (printed, maps string) {
	a := s.Args()
	entry := fmt.Sprintf("entry %d %d %d %d %d %d %s\n", a[0], a[1], a[2], a[3], a[4], a[5], SendtoFunction)
	ret := fmt.Sprintf("return %d %s\n", a[2], SendtoFunction)
	printed = strings.Repeat(entry+ret, n)
	maps = fmt.Sprintf("@args[%d, %d, %d, %d, %d, %d]: %d\n@ret[%d, %s]: %d\n",
		a[0], a[1], a[2], a[3], a[4], a[5], n, a[2], SendtoFunction, n)
	return printed, maps
}
