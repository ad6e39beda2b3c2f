package tools

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// clock turns the script's nsecs (the boot-time clock) into wall-clock
// time and into seconds since the tool started.
type clock struct {
	start      uint64 // nsecs when the tool started
	wallOffset int64  // wall-clock ns minus boot-time ns
}

func newClock() clock {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	boot := ts.Nano()
	return clock{start: uint64(boot), wallOffset: time.Now().UnixNano() - boot}
}

// wall is the clock time of boot-time ns.
func (c clock) wall(ns uint64) time.Time { return time.Unix(0, int64(ns)+c.wallOffset) }

// since is the seconds from the start to boot-time ns.
func (c clock) since(ns uint64) float64 {
	if ns < c.start {
		return 0
	}
	return float64(ns-c.start) / 1e9
}

// eventWriter receives an event tool's script output in machine form and
// prints each event as a text row or a JSON object. The runtime writes
// whole batches of records; output is flushed after each.
type eventWriter struct {
	mu      sync.Mutex
	cfg     *Config
	cols    []Column
	out     *bufio.Writer
	pending []byte // an event not yet ended
	clock   clock
	cgroups cgroupNames
	headed  bool
	err     error
	// captured holds what {{capture}} kept, by thread ID.
	captured map[string]string
}

func newEventWriter(c *Config, out io.Writer) *eventWriter {
	return &eventWriter{cfg: c, cols: c.columns(), out: bufio.NewWriterSize(out, 64<<10), clock: newClock()}
}

// heading prints the column headings, once, in text mode.
func (w *eventWriter) heading() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.headingLocked()
	w.flush()
}

func (w *eventWriter) headingLocked() {
	if w.headed || w.cfg.JSON || w.cfg.Tool.NoHeadings {
		w.headed = true
		return
	}
	w.headed = true
	names := make([]string, len(w.cols))
	for i, c := range w.cols {
		names[i] = c.text(c.Name)
	}
	w.row(names)
}

func (w *eventWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.headingLocked()
	data := p
	if len(w.pending) > 0 {
		w.pending = append(w.pending, p...)
		data = w.pending
	}
	for {
		i := bytes.IndexByte(data, recordEnd)
		if i < 0 {
			break
		}
		w.event(data[:i])
		data = data[i+1:]
	}
	w.pending = append(w.pending[:0], data...)
	w.flush()
	return len(p), w.err
}

func (w *eventWriter) flush() {
	if err := w.out.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// event prints one event's fields.
func (w *eventWriter) event(rec []byte) {
	// Text the script printed between events (the newlines at exit) is
	// not part of the next one.
	rec = bytes.TrimLeft(rec, "\n")
	if len(rec) > 0 && rec[0] == captureStart {
		tid, text, _ := strings.Cut(string(rec[1:]), string(fieldSep))
		if w.captured == nil {
			w.captured = map[string]string{}
		}
		w.captured[tid] = strings.TrimSuffix(text, "\n")
		return
	}
	if len(rec) > 0 && rec[0] == captureMore {
		tid, text, _ := strings.Cut(string(rec[1:]), string(fieldSep))
		if w.captured != nil {
			w.captured[tid] += text
		}
		return
	}
	fields := strings.Split(string(rec), string(fieldSep))
	if len(fields) != len(w.cols) {
		return
	}
	w.fill(fields)
	if keep := w.cfg.Tool.Keep; keep != nil {
		event := make(map[string]string, len(fields))
		for i, f := range fields {
			event[w.cols[i].JSONKey()] = w.show(w.cols[i], f)
		}
		if !keep(w.cfg, event) {
			return
		}
	}
	if w.cfg.JSON {
		w.json(fields)
		return
	}
	for i, f := range fields {
		fields[i] = w.cols[i].text(w.show(w.cols[i], f))
	}
	w.row(fields)
}

// fill replaces the thread IDs of Captured columns by what was captured.
func (w *eventWriter) fill(fields []string) {
	for i, c := range w.cols {
		if c.Captured {
			tid := fields[i]
			fields[i] = w.captured[tid]
			delete(w.captured, tid)
		}
	}
}

// show is the text of a field.
func (w *eventWriter) show(c Column, f string) string {
	switch {
	case c.Key == "time" && w.cfg.Timestamp == "T":
		ns, _ := strconv.ParseUint(f, 10, 64)
		return w.clock.wall(ns).Format("15:04:05")
	case c.Key == "time_s" && w.cfg.Timestamp == "t":
		ns, _ := strconv.ParseUint(f, 10, 64)
		return strconv.FormatFloat(w.clock.since(ns), 'f', 3, 64)
	case c.cgroup:
		id, _ := strconv.ParseUint(f, 10, 64)
		return w.cgroups.Name(id)
	case c.Show != nil:
		return c.Show(f)
	}
	return f
}

// row prints text fields in their columns.
func (w *eventWriter) row(fields []string) {
	for i := 0; i < len(fields); i++ {
		if i > 0 {
			w.out.WriteByte(' ')
		}
		f, width := fields[i], w.cols[i].Width
		// Glued columns are one in the text: "ADDR:PORT".
		for w.cols[i].Glue != "" && i+1 < len(fields) {
			f += w.cols[i].Glue + fields[i+1]
			i++
			width = w.cols[i].Width
		}
		switch {
		case width > 0:
			fmt.Fprintf(w.out, "%*s", width, f)
		case width < 0 && i < len(fields)-1:
			fmt.Fprintf(w.out, "%-*s", -width, f)
		default:
			w.out.WriteString(f)
		}
	}
	w.out.WriteByte('\n')
}

// json prints an event as one JSON object, its fields in column order.
func (w *eventWriter) json(fields []string) {
	w.out.WriteByte('{')
	first := true
	for i, f := range fields {
		c := w.cols[i]
		if c.TextOnly {
			continue
		}
		if !first {
			w.out.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(c.JSONKey())
		w.out.Write(key)
		w.out.WriteByte(':')
		switch {
		case c.Key == "time_s" && w.cfg.Timestamp == "t", c.Show != nil && c.Number:
			w.out.WriteString(w.show(c, f))
		case c.Key == "time" && w.cfg.Timestamp == "T", c.cgroup, c.Show != nil, c.Kind == Text:
			v, _ := json.Marshal(strings.ToValidUTF8(w.show(c, f), "\uFFFD"))
			w.out.Write(v)
		default:
			if _, err := strconv.ParseInt(f, 10, 64); err == nil {
				w.out.WriteString(f)
			} else if _, err := strconv.ParseUint(f, 10, 64); err == nil {
				w.out.WriteString(f)
			} else {
				v, _ := json.Marshal(f)
				w.out.Write(v)
			}
		}
	}
	w.out.WriteString("}\n")
}
