package runtime

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The record stream runs in two goroutines. The pump moves records from
// the kernel's ring buffer into batches in user memory as fast as they
// come; the loop handles the batches in order and writes the output. A
// slow handler, such as print() of a map of a million keys, so never
// makes the kernel refuse records while the queue has room: the pump
// keeps the ring buffer empty, and the kernel is never blocked either way.
const (
	// batchBytes is the most a batch holds before the pump hands it on.
	batchBytes = 1 << 20
	// queuedBatches bounds the records waiting for the loop: 64 MiB in
	// all. Beyond it the pump waits, the ring buffer fills and the
	// kernel counts what it refuses as lost.
	queuedBatches = 64
	// spareBatches is how many handled batches are kept for reuse; the
	// rest go to the garbage collector, so a burst's memory is returned.
	spareBatches = 4
	// wakeupDelay is how long the pump lets records gather after it has
	// emptied the ring buffer. The kernel wakes a reader only for a
	// record written to an empty ring buffer, so this bounds the wakeups
	// to about one per delay: a traced program that fires a million
	// times a second pays for a thousand wakeups, not a million.
	wakeupDelay = time.Millisecond
)

// batch holds records back to back, each a 4-byte length and its bytes.
type batch struct{ buf []byte }

func (b *batch) add(rec []byte) {
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(rec)))
	b.buf = append(b.buf, rec...)
}

// each calls f with every record of the batch, in order. The slice is
// only valid during the call.
func (b *batch) each(f func(rec []byte)) {
	for p := b.buf; len(p) >= 4; {
		n := int(binary.LittleEndian.Uint32(p))
		if 4+n > len(p) {
			return
		}
		f(p[4 : 4+n])
		p = p[4+n:]
	}
}

// stream is the pump's and the loop's shared state.
type stream struct {
	queue    chan *batch // filled batches, in order; closed when the pump ends
	spare    chan *batch // handled batches for reuse
	loopDone chan struct{}
}

func newStream() *stream {
	return &stream{
		queue:    make(chan *batch, queuedBatches),
		spare:    make(chan *batch, spareBatches),
		loopDone: make(chan struct{}),
	}
}

func (st *stream) newBatch() *batch {
	select {
	case b := <-st.spare:
		b.buf = b.buf[:0]
		return b
	default:
		return &batch{buf: make([]byte, 0, 64<<10)}
	}
}

func (st *stream) recycle(b *batch) {
	if cap(b.buf) > batchBytes+64<<10 {
		return
	}
	select {
	case st.spare <- b:
	default:
	}
}

// startStream starts the pump and the loop.
func (s *Session) startStream() {
	s.stream = newStream()
	go s.pump()
	go s.loop()
}

// pump reads the ring buffer into batches until Stop.
func (s *Session) pump() {
	st := s.stream
	defer close(st.queue)
	b := st.newBatch()
	add := func(rec []byte) {
		b.add(rec)
		if len(b.buf) >= batchBytes {
			st.queue <- b
			b = st.newBatch()
		}
	}
	for {
		// Stop detaches every probe before it stops the reader, so once
		// stopped, one more read takes the last records.
		last := s.reader.stopped.Load()
		s.reader.read(add)
		if len(b.buf) > 0 {
			st.queue <- b
			b = st.newBatch()
		}
		if last {
			return
		}
		time.Sleep(wakeupDelay)
		if s.reader.empty() {
			if err := s.reader.wait(); err != nil {
				fmt.Fprintf(s.errOut, "ERROR: waiting for events: %v\n", err)
				return
			}
		}
	}
}

// loop handles the batches the pump fills, and writes the output out
// whenever it has caught up.
func (s *Session) loop() {
	st := s.stream
	defer close(st.loopDone)
	for b := range st.queue {
		s.mu.Lock()
		b.each(s.handleLocked)
		if len(st.queue) == 0 {
			s.flushLocked()
		}
		s.mu.Unlock()
		st.recycle(b)
	}
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

// drain handles every record already in the ring buffer, in the calling
// goroutine: before the loop starts (BEGIN's output) and after it ends
// (END's).
func (s *Session) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reader.read(s.handleLocked)
	s.flushLocked()
}
