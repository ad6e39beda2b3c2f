package runtime

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ringReader reads the kernel's BPF ring buffer through its memory
// mappings, as cilium/ebpf's ringbuf.Reader does, with one difference
// that matters at a million events a second: it hands the space it has
// read back to the kernel once per pass, not once per record. The kernel
// reads the consumer position on every record it writes; moved once per
// record, that position's cache line bounces between the reader's CPU
// and the traced program's on every event.
type ringReader struct {
	consPage []byte // the consumer position, which we write
	prodPage []byte // the producer position, then the data mapped twice
	consPos  *uint64
	prodPos  *uint64
	data     []byte
	mask     uint64
	epfd     int
	wake     int // an eventfd that ends a wait (stop)
	stopped  atomic.Bool
}

// Record header bits (include/uapi/linux/bpf.h).
const (
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	ringHeaderSize = 8
)

func newRingReader(m *ebpf.Map) (*ringReader, error) {
	if m.Type() != ebpf.RingBuf {
		return nil, fmt.Errorf("map %s is a %s, not a ring buffer", m, m.Type())
	}
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	fd := m.FD()
	r := &ringReader{mask: uint64(size - 1), epfd: -1, wake: -1}
	var err error
	if r.consPage, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("mapping the ring buffer's consumer page: %w", err)
	}
	// The data follows the producer page twice over, so a record that
	// wraps around the end reads as one piece.
	if r.prodPage, err = unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		r.close()
		return nil, fmt.Errorf("mapping the ring buffer's data: %w", err)
	}
	r.consPos = (*uint64)(unsafe.Pointer(&r.consPage[0]))
	r.prodPos = (*uint64)(unsafe.Pointer(&r.prodPage[0]))
	r.data = r.prodPage[page:]
	if r.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		r.close()
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if r.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		r.close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	for _, f := range []int{fd, r.wake} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(f)}
		if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, f, &ev); err != nil {
			r.close()
			return nil, fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	return r, nil
}

// read passes every committed record to f, in order, then gives their
// space back to the kernel. f must not keep the slice. It stops at a
// record still being written, which the next read sees.
func (r *ringReader) read(f func(rec []byte)) {
	cons := atomic.LoadUint64(r.consPos)
	prod := atomic.LoadUint64(r.prodPos)
	start := cons
	for cons < prod {
		off := cons & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			break
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		if hdr&ringDiscardBit == 0 {
			f(r.data[off+ringHeaderSize : off+ringHeaderSize+n])
		}
		cons += (n + ringHeaderSize + 7) &^ 7
	}
	if cons != start {
		atomic.StoreUint64(r.consPos, cons)
	}
}

// empty reports whether the kernel has written nothing unread.
func (r *ringReader) empty() bool {
	return atomic.LoadUint64(r.consPos) == atomic.LoadUint64(r.prodPos)
}

// wait blocks until the ring buffer has data or stop is called.
func (r *ringReader) wait() error {
	events := make([]unix.EpollEvent, 2)
	for !r.stopped.Load() {
		_, err := unix.EpollWait(r.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err
	}
	return nil
}

// stop ends the current and every later wait.
func (r *ringReader) stop() {
	r.stopped.Store(true)
	one := [8]byte{1}
	unix.Write(r.wake, one[:])
}

func (r *ringReader) close() {
	if r.consPage != nil {
		unix.Munmap(r.consPage)
		r.consPage = nil
	}
	if r.prodPage != nil {
		unix.Munmap(r.prodPage)
		r.prodPage = nil
	}
	for _, fd := range []*int{&r.epfd, &r.wake} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}
