package output

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// Printer writes what a running script prints, in one of bpftrace's
// output formats. NewText makes bpftrace's default text output, NewJSON
// its -f json output. A Printer is not safe for concurrent use.
type Printer interface {
	// Printf writes the text of a printf() call (see Sprintf).
	Printf(s string) error
	// PrintfBytes is Printf of the text in b, which the printer does not
	// keep (see RecordFormat).
	PrintfBytes(b []byte) error
	// Value writes print(value) of a non-map value.
	Value(v any) error
	// Map writes print(@m) and the maps printed at exit. Entries must
	// be in print order (see Map.Sort); the map's Top and Div apply.
	Map(m *Map) error
	// AttachedProbes reports how many probes were attached.
	AttachedProbes(n int) error
	// LostEvents reports records the kernel dropped.
	LostEvents(n uint64) error
	// Time writes the text of time().
	Time(s string) error
	// Join writes the text of join().
	Join(s string) error
	// Cat writes the contents cat() read.
	Cat(s string) error
	// System writes the output of system().
	System(s string) error
	// Errorf writes an errorf() message, Warnf a warnf() one.
	Errorf(msg string, at Location) error
	// Warnf writes a warnf() message.
	Warnf(msg string, at Location) error
	// RuntimeError reports an error the BPF program hit at run time.
	RuntimeError(msg string, at Location) error
	// HelperError reports a BPF helper call that failed.
	HelperError(e HelperError) error
	// Warning reports a problem of the run that comes from no place in
	// the script, such as records lost while the run goes on.
	Warning(msg string) error
	// End marks the end of the run, before the maps printed at exit.
	End() error
}

var (
	_ Printer = (*TextPrinter)(nil)
	_ Printer = (*JSONPrinter)(nil)
)

// Location is where in the script a message comes from.
type Location struct {
	File      string // "stdin" for -e programs
	Line, Col int
	// Span is the location as text messages show it, e.g.
	// "stdin:1:9-62"; empty means File:Line:Col.
	Span string
	// Context holds source lines text messages print below a warning
	// (the line and a ~~~ marker); none is fine.
	Context []string
}

func (l Location) span() string {
	if l.Span != "" {
		return l.Span
	}
	return l.File + ":" + strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Col)
}

// HelperError describes a failed BPF helper call.
type HelperError struct {
	// Helper is the helper's name, e.g. "probe_read".
	Helper string
	// Retcode is what the helper returned, a negative errno.
	Retcode int64
	// Msg is the explanation text output shows, e.g. "Bad address"
	// (strerror of -Retcode) or bpftrace's longer text for map helpers;
	// JSON shows strerror of -Retcode whatever Msg says.
	Msg string
	At  Location
}

// TextPrinter prints bpftrace's text output.
type TextPrinter struct {
	w io.Writer
	// Err receives what bpftrace writes to stderr in text mode: the
	// attached-probes and lost-events notes, errorf/warnf messages and
	// runtime errors. NewText sets it to os.Stderr.
	Err io.Writer
}

// NewText returns a Printer writing bpftrace's text output to w (and
// notes and errors to os.Stderr; see TextPrinter.Err).
func NewText(w io.Writer) *TextPrinter { return &TextPrinter{w: w, Err: os.Stderr} }

func (p *TextPrinter) write(s string) error {
	_, err := io.WriteString(p.w, s)
	return err
}

func (p *TextPrinter) note(s string) error {
	w := p.Err
	if w == nil {
		w = p.w
	}
	_, err := io.WriteString(w, s)
	return err
}

// Printf writes s as it is.
func (p *TextPrinter) Printf(s string) error { return p.write(s) }

// PrintfBytes writes b as it is.
func (p *TextPrinter) PrintfBytes(b []byte) error {
	_, err := p.w.Write(b)
	return err
}

// Value writes the value's text and a newline.
func (p *TextPrinter) Value(v any) error { return p.write(Text(v) + "\n") }

// Map writes the map: `@name: value` for a map without a key, one
// `@name[key]: value` line per entry otherwise; histograms as `@name:` or
// `@name[key]:` followed by the bucket lines and a blank line. An empty
// map prints nothing. A large map is written in pieces of about 64 KiB,
// as it is formatted.
func (p *TextPrinter) Map(m *Map) error {
	w := newChunkWriter(p.w)
	defer w.release()
	div := m.div()
	for _, e := range m.shown() {
		b := append(w.buf, m.Name...)
		if m.Keyed {
			b = append(b, '[')
			b = appendKeyText(b, e.Key)
			b = append(b, ']')
		}
		switch v := e.Value.(type) {
		case Hist:
			b = append(b, ":\n"...)
			b = append(b, histText(v.view(div))...)
			b = append(b, '\n')
		case LHist:
			b = append(b, ":\n"...)
			b = append(b, histText(v.view())...)
			b = append(b, '\n')
		case TSeries:
			b = append(b, ":\n"...)
			b = append(b, tseriesText(v)...)
			b = append(b, '\n')
		case Stats:
			b = append(b, ": "...)
			b = append(b, statsText(v, div)...)
			b = append(b, '\n')
		case Avg:
			b = append(b, ": "...)
			b = appendText(b, v.divAverage(div))
			b = append(b, '\n')
		default:
			b = append(b, ": "...)
			b = appendText(b, m.divide(v))
			b = append(b, '\n')
		}
		w.buf = b
		if err := w.flushFull(); err != nil {
			return err
		}
		if !m.Keyed {
			break
		}
	}
	return w.flush()
}

// AttachedProbes writes "Attached N probes" to Err.
func (p *TextPrinter) AttachedProbes(n int) error {
	if n == 1 {
		return p.note("Attached 1 probe\n")
	}
	return p.note("Attached " + strconv.Itoa(n) + " probes\n")
}

// LostEvents writes "Lost N events" to Err.
func (p *TextPrinter) LostEvents(n uint64) error {
	return p.note("Lost " + strconv.FormatUint(n, 10) + " events\n")
}

// Time writes s as it is (time()'s format carries its newline).
func (p *TextPrinter) Time(s string) error { return p.write(s) }

// Join writes s and a newline.
func (p *TextPrinter) Join(s string) error { return p.write(s + "\n") }

// Cat writes s as it is.
func (p *TextPrinter) Cat(s string) error { return p.write(s) }

// System writes s and a newline.
func (p *TextPrinter) System(s string) error { return p.write(s + "\n") }

// Errorf writes "LOCATION: ERROR: msg" to Err.
func (p *TextPrinter) Errorf(msg string, at Location) error {
	return p.note(at.span() + ": ERROR: " + msg + "\n")
}

// Warnf writes "LOCATION: WARNING: msg" to Err.
func (p *TextPrinter) Warnf(msg string, at Location) error {
	return p.note(at.span() + ": WARNING: " + msg + "\n")
}

// RuntimeError writes the message as a warning with its source context
// to Err.
func (p *TextPrinter) RuntimeError(msg string, at Location) error {
	return p.note(at.span() + ": WARNING: " + msg + "\n" + contextText(at))
}

// HelperError writes the failure as bpftrace warns of it, to Err.
func (p *TextPrinter) HelperError(e HelperError) error {
	return p.note(e.At.span() + ": WARNING: " + e.Msg + "\nAdditional Info - helper: " +
		e.Helper + ", retcode: " + strconv.FormatInt(e.Retcode, 10) + "\n" + contextText(e.At))
}

// Warning writes "WARNING: msg" to Err.
func (p *TextPrinter) Warning(msg string) error { return p.note("WARNING: " + msg + "\n") }

func contextText(at Location) string {
	var b strings.Builder
	for _, l := range at.Context {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// End writes the two newlines bpftrace prints before the maps at exit.
func (p *TextPrinter) End() error { return p.write("\n\n") }

// histText is the bucket lines of a histogram: `[4, 8)  12 |@@@@   |`,
// the range left-aligned in 16 columns, the count right-aligned in 8,
// the bar scaled to 52 columns for the largest count.
func histText(h histView) string {
	var max uint64
	for _, c := range h.counts {
		if c > max {
			max = c
		}
	}
	var b strings.Builder
	for i := 0; i < len(h.counts); i++ {
		var header string
		switch {
		case i == 0 && h.lower == nil:
			header = "(..., )"
			if len(h.labels) > 0 {
				header = "(..., " + h.labels[0].text + ")"
			}
		case i == 0 && len(h.labels) == 0:
			header = "[" + h.lower.text + ", ...)"
		case i == 0:
			header = bucketHeader(*h.lower, h.labels[0])
		case i >= len(h.labels):
			header = "[" + h.labels[i-1].text + ", ...)"
		default:
			header = bucketHeader(h.labels[i-1], h.labels[i])
		}
		bar := 0
		if max > 0 {
			bar = int(float32(h.counts[i]) / float32(max) * 52)
		}
		b.WriteString(padRight(header, 16))
		b.WriteString(padLeft(strconv.FormatUint(h.counts[i], 10), 8))
		b.WriteString(" |")
		b.WriteString(padRight(strings.Repeat("@", bar), 52))
		b.WriteString("|\n")
	}
	return b.String()
}

// bucketHeader is "[lo, hi)", or "[lo]" when the bucket holds one value.
func bucketHeader(lo, hi label) string {
	if lo.plain && hi.plain && int64(lo.num)+1 == int64(hi.num) {
		return "[" + lo.text + "]"
	}
	return "[" + lo.text + ", " + hi.text + ")"
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func padLeft(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(" ", n-len(s)) + s
}
