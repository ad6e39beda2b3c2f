package runtime

import (
	"bufio"
	"bytes"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sinkBytes is the output buffer: a burst of records is written with one
// system call per 256 KiB instead of one per line.
const sinkBytes = 256 << 10

// sink is a session's buffered output. The loop flushes it each time it
// has handled every queued record, so output waits in the buffer only
// while more is coming; on a terminal every record is flushed at once, as
// someone watching expects. The first failed write (a closed pipe, a full
// disk) ends the session, and output stops there.
type sink struct {
	buf      *bufio.Writer
	w        io.Writer // where buf writes to, except while held
	held     *bytes.Buffer
	terminal bool
}

func newSink(w io.Writer) *sink {
	return &sink{buf: bufio.NewWriterSize(w, sinkBytes), w: w, terminal: isTerminal(w)}
}

// hold keeps everything written from now on in memory, flushes
// included, until release.
func (k *sink) hold() {
	k.buf.Flush()
	k.held = &bytes.Buffer{}
	k.buf.Reset(k.held)
}

// release points the output back at its writer and returns what was
// written while it was held, which the caller writes when it is ready.
func (k *sink) release() []byte {
	if k.held == nil {
		return nil
	}
	k.buf.Flush() // into held: cannot fail
	b := k.held.Bytes()
	k.held = nil
	k.buf.Reset(k.w)
	return b
}

// Write buffers p; after a failed write it returns that error.
func (k *sink) Write(p []byte) (int, error) { return k.buf.Write(p) }

// WriteString buffers s, without the copy io.WriteString would make.
func (k *sink) WriteString(s string) (int, error) { return k.buf.WriteString(s) }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// stderrWriter writes what goes to the error stream (warnings, notes,
// system()'s errors) after flushing the output, so that where both go
// to one terminal or file they keep the order they happened in.
type stderrWriter struct {
	s *Session
	w io.Writer
}

func (e stderrWriter) Write(p []byte) (int, error) {
	e.s.out.buf.Flush() // a failure ends the session; see flushLocked
	return e.w.Write(p)
}

// flushLocked writes the buffered output out. The caller holds s.mu.
func (s *Session) flushLocked() {
	if err := s.out.buf.Flush(); err != nil {
		s.outputFailed(err)
	}
}

// outputFailed ends the session on the first failed write, as exit()
// would; Err reports why. The caller holds s.mu.
func (s *Session) outputFailed(err error) {
	if s.outErr != nil {
		return
	}
	s.outErr = err
	s.exitOnce.Do(func() { close(s.exited) })
}

// Err returns the write error that ended the session, if one did: the
// output's reader went away (a closed pipe) or its disk is full. Nothing
// was written after it.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outErr
}
