package runtime

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf/perf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
)

// skboutput()'s packets arrive on a perf event array (abi.SkbOutputMap)
// and are written to each call's file in the classic pcap format, link
// type raw IP, as bpftrace writes them with libpcap: a packet's time is
// its boot-clock time plus the boot time, in microseconds.

const (
	pcapMagic        = 0xa1b2c3d4 // microsecond timestamps
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	pcapSnapLen      = 65535
	pcapLinkTypeRaw  = 101 // LINKTYPE_RAW: packets start with an IPv4 or IPv6 header
	pcapHeaderSize   = 24
	pcapRecordSize   = 16
)

// defaultSkbPages is the size of each CPU's ring, in pages, unless
// config perf_rb_pages sets it.
const defaultSkbPages = 64

// pcapWriter writes the packets of one session's skboutput() calls.
type pcapWriter struct {
	reader   *perf.Reader
	files    []*pcapFile // by call index
	offsets  []int64     // bytes left out at the start of each call's packets
	bootTime int64       // realtime - boottime, ns
	pages    int         // of each CPU's ring
	done     chan struct{}
	lost     uint64
	err      error // the first write that failed
}

type pcapFile struct {
	f *os.File
	w *bufio.Writer
}

// startPcaps creates (or truncates) every skboutput() file, writes its
// header, and starts reading packets.
func (s *Session) startPcaps() error {
	info := s.cp.Info
	if info == nil || len(info.SkbOutputs) == 0 {
		return nil
	}
	pw := &pcapWriter{done: make(chan struct{})}
	byPath := map[string]*pcapFile{}
	for _, o := range info.SkbOutputs {
		pf := byPath[o.Path]
		if pf == nil {
			f, err := os.OpenFile(o.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				pw.closeFiles()
				return fmt.Errorf("skboutput(): %w", err)
			}
			pf = &pcapFile{f: f, w: bufio.NewWriter(f)}
			pf.w.Write(pcapFileHeader())
			byPath[o.Path] = pf
		}
		pw.files = append(pw.files, pf)
		pw.offsets = append(pw.offsets, o.Offset)
	}
	var real, boot unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot)
	pw.bootTime = real.Nano() - boot.Nano()
	pages := info.Config.RingBufPages
	if pages <= 0 {
		pages = defaultSkbPages
	}
	rd, err := perf.NewReader(s.coll.Maps[abi.SkbOutputMap], pages*os.Getpagesize())
	if err != nil {
		pw.closeFiles()
		return fmt.Errorf("opening the skboutput() buffers: %w", err)
	}
	pw.reader, pw.pages = rd, pages
	s.pcaps = pw
	go pw.run()
	return nil
}

func pcapFileHeader() []byte {
	h := make([]byte, pcapHeaderSize)
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], pcapVersionMajor)
	binary.LittleEndian.PutUint16(h[6:], pcapVersionMinor)
	// h[8:16]: time zone offset and accuracy, 0.
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], pcapLinkTypeRaw)
	return h
}

// run writes packets until the reader is flushed or closed.
func (pw *pcapWriter) run() {
	defer close(pw.done)
	var rec perf.Record
	for {
		err := pw.reader.ReadInto(&rec)
		switch {
		case errors.Is(err, perf.ErrFlushed), errors.Is(err, perf.ErrClosed):
			return
		case err != nil:
			pw.fail(err)
			return
		}
		pw.lost += rec.LostSamples
		if len(rec.RawSample) > 0 {
			pw.write(rec.RawSample)
		}
	}
}

// write writes one record's packet: the header's length of bytes after
// it (the record is padded), less the call's offset.
func (pw *pcapWriter) write(sample []byte) {
	if len(sample) < abi.SkbOutputHeaderSize {
		return
	}
	i := binary.NativeEndian.Uint64(sample[abi.SkbOutputIndexOffset:])
	if i >= uint64(len(pw.files)) {
		return
	}
	ns := int64(binary.NativeEndian.Uint64(sample[abi.SkbOutputTimeOffset:])) + pw.bootTime
	n := binary.NativeEndian.Uint64(sample[abi.SkbOutputLenOffset:])
	pkt := sample[abi.SkbOutputHeaderSize:]
	if n < uint64(len(pkt)) {
		pkt = pkt[:n]
	}
	if pw.offsets[i] >= int64(len(pkt)) {
		return // nothing left to write, as bpftrace
	}
	pkt = pkt[pw.offsets[i]:]
	var h [pcapRecordSize]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(ns/int64(time.Second)))
	binary.LittleEndian.PutUint32(h[4:], uint32(ns%int64(time.Second)/int64(time.Microsecond)))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(pkt)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(pkt)))
	w := pw.files[i].w
	w.Write(h[:])
	if _, err := w.Write(pkt); err != nil {
		pw.fail(err)
	}
}

func (pw *pcapWriter) fail(err error) {
	if pw.err == nil {
		pw.err = fmt.Errorf("skboutput(): %w", err)
	}
}

// stopPcaps writes the packets still buffered, once the probes are
// detached, and closes the files. It returns the first error of the run
// and says how many packets the buffers had no room for.
func (s *Session) stopPcaps() error {
	pw := s.pcaps
	if pw == nil {
		return nil
	}
	s.pcaps = nil
	pw.reader.Flush()
	<-pw.done
	pw.reader.Close()
	err := pw.err
	if cerr := pw.closeFiles(); err == nil {
		err = cerr
	}
	if pw.lost > 0 {
		s.mu.Lock()
		s.printer.Warning(fmt.Sprintf("skboutput(): %d packets lost: the buffers were full (config perf_rb_pages sizes them, %d pages per CPU)", pw.lost, pw.pages))
		s.flushLocked()
		s.mu.Unlock()
	}
	return err
}

func (pw *pcapWriter) closeFiles() error {
	var errs []error
	seen := map[*pcapFile]bool{}
	for _, pf := range pw.files {
		if seen[pf] {
			continue
		}
		seen[pf] = true
		errs = append(errs, pf.w.Flush(), pf.f.Close())
	}
	return errors.Join(errs...)
}
