package output

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JSONPrinter prints bpftrace's JSON output (-f json): one object per
// line, shaped and spaced as bpftrace writes them.
//
// It reproduces two quirks of bpftrace's encoder: a byte of a string
// below 0x20 (other than \n, \r, \t) or above 0x7f is escaped as \u
// followed by the hex of the byte read as a signed char ("\u001b",
// "\uffffffc3"); and once such an escape has been written, the numbers
// bpftrace writes directly to its stream (histogram bucket counts, the
// attached_probes and lost_events counts) come out in hex, as its stream
// stays in hex mode.
type JSONPrinter struct {
	w   io.Writer
	hex bool   // bpftrace's stream has been switched to hex
	buf []byte // PrintfBytes's line, reused
}

// NewJSON returns a Printer writing bpftrace's JSON output to w.
func NewJSON(w io.Writer) *JSONPrinter { return &JSONPrinter{w: w} }

func (p *JSONPrinter) write(s string) error {
	_, err := io.WriteString(p.w, s)
	return err
}

// data writes {"type": "TYPE", "data": DATA}.
func (p *JSONPrinter) data(typ, data string) error {
	return p.write(`{"type": "` + typ + `", "data": ` + data + "}\n")
}

// Printf writes {"type": "printf", "data": "s"}.
func (p *JSONPrinter) Printf(s string) error { return p.data("printf", p.str(s)) }

// PrintfBytes is Printf of the text in b, encoded without allocating.
func (p *JSONPrinter) PrintfBytes(b []byte) error {
	p.buf = append(p.buf[:0], `{"type": "printf", "data": `...)
	p.buf = appendStr(p, p.buf, b)
	p.buf = append(p.buf, "}\n"...)
	_, err := p.w.Write(p.buf)
	return err
}

// Value writes {"type": "value", "data": VALUE}.
func (p *JSONPrinter) Value(v any) error { return p.data("value", p.value(v, 1)) }

// Map writes {"type": "map", "data": {"@name": VALUE}}: the type is
// "hist" for hist and lhist maps, "stats" for avg and stats maps and
// "tseries" for tseries maps; a
// map with keys is an object keyed by the keys' text ("1,x" for
// @m[1, "x"]). An empty map prints nothing.
func (p *JSONPrinter) Map(m *Map) error {
	entries := m.shown()
	if len(entries) == 0 {
		return nil
	}
	typ := "map"
	switch entries[0].Value.(type) {
	case Stats, Avg:
		typ = "stats"
	case Hist, LHist:
		typ = "hist"
	case TSeries:
		typ = "tseries"
	}
	// Written in the order bpftrace writes it, as it is formatted: a
	// string with escapes switches later numbers to hex (see raw).
	w := newChunkWriter(p.w)
	defer w.release()
	b := append(w.buf, `{"type": "`...)
	b = append(b, typ...)
	b = append(b, `", "data": {`...)
	b = appendStr(p, b, m.Name)
	b = append(b, ": "...)
	if !m.Keyed {
		b = append(b, p.value(m.divide(entries[0].Value), m.div())...)
	} else {
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = p.appendKey(b, e.Key)
			b = append(b, ": "...)
			b = p.appendValue(b, m.divide(e.Value), m.div())
			w.buf = b
			if err := w.flushFull(); err != nil {
				return err
			}
			b = w.buf
		}
		b = append(b, '}')
	}
	w.buf = append(b, "}}\n"...)
	return w.flush()
}

// appendKey appends a map key as Map writes it: the string of its
// jsonKey.
func (p *JSONPrinter) appendKey(b []byte, k any) []byte {
	switch k := k.(type) {
	case uint64:
		b = append(b, '"')
		b = strconv.AppendUint(b, k, 10)
		return append(b, '"')
	case int64:
		b = append(b, '"')
		b = strconv.AppendInt(b, k, 10)
		return append(b, '"')
	}
	return appendStr(p, b, jsonKey(k))
}

// appendValue appends p.value(v, div), integers without going through
// a string.
func (p *JSONPrinter) appendValue(b []byte, v any, div uint64) []byte {
	switch v := v.(type) {
	case uint64:
		return appendJSONUint(b, v)
	case int64:
		return appendJSONInt(b, v)
	}
	return append(b, p.value(v, div)...)
}

// appendJSONInt appends jsonInt(v).
func appendJSONInt(b []byte, v int64) []byte {
	if f := float64(v); f >= 1<<63 || int64(f) != v {
		b = append(b, '"')
		b = strconv.AppendInt(b, v, 10)
		return append(b, '"')
	}
	return strconv.AppendInt(b, v, 10)
}

// appendJSONUint appends jsonUint(v).
func appendJSONUint(b []byte, v uint64) []byte {
	if f := float64(v); f >= 1<<64 || uint64(f) != v {
		b = append(b, '"')
		b = strconv.AppendUint(b, v, 10)
		return append(b, '"')
	}
	return strconv.AppendUint(b, v, 10)
}

// AttachedProbes writes
// {"type": "attached_probes", "count": N, "data": {"probes": N}}.
func (p *JSONPrinter) AttachedProbes(n int) error {
	c := p.raw(uint64(n))
	return p.write(`{"type": "attached_probes", "count": ` + c + `, "data": {"probes": ` + c + "}}\n")
}

// LostEvents writes
// {"type": "lost_events", "count": N, "data": {"events": N}}.
func (p *JSONPrinter) LostEvents(n uint64) error {
	c := p.raw(n)
	return p.write(`{"type": "lost_events", "count": ` + c + `, "data": {"events": ` + c + "}}\n")
}

// Time writes {"type": "time", "data": "s"}.
func (p *JSONPrinter) Time(s string) error { return p.data("time", p.str(s)) }

// Join writes {"type": "join", "data": "s"}.
func (p *JSONPrinter) Join(s string) error { return p.data("join", p.str(s)) }

// Cat writes {"type": "cat", "data": "s"}.
func (p *JSONPrinter) Cat(s string) error { return p.data("cat", p.str(s)) }

// System writes {"type": "syscall", "data": "s"}.
func (p *JSONPrinter) System(s string) error { return p.data("syscall", p.str(s)) }

// Errorf writes {"type": "errorf", "msg": ..., "filename": ..., "line": N, "col": N}.
func (p *JSONPrinter) Errorf(msg string, at Location) error {
	return p.write(`{"type": "errorf", "msg": ` + p.str(msg) + p.where(at) + "}\n")
}

// Warnf writes {"type": "warnf", "msg": ..., "filename": ..., "line": N, "col": N}.
func (p *JSONPrinter) Warnf(msg string, at Location) error {
	return p.write(`{"type": "warnf", "msg": ` + p.str(msg) + p.where(at) + "}\n")
}

// RuntimeError writes
// {"type": "runtime_error", "msg": ..., "filename": ..., "line": N, "col": N}.
func (p *JSONPrinter) RuntimeError(msg string, at Location) error {
	return p.write(`{"type": "runtime_error", "msg": ` + p.str(msg) + p.where(at) + "}\n")
}

// HelperError writes {"type": "helper_error", "msg": ..., "helper": ...,
// "retcode": N, "filename": ..., "line": N, "col": N}. The msg is always
// strerror of the return code ("Argument list too long" for a full map),
// as bpftrace writes it: the longer explanations are for text output.
func (p *JSONPrinter) HelperError(e HelperError) error {
	return p.write(`{"type": "helper_error", "msg": ` + p.str(Strerror(-e.Retcode)) + `, "helper": ` + p.str(e.Helper) +
		`, "retcode": ` + jsonInt(e.Retcode) + p.where(e.At) + "}\n")
}

// Warning writes {"type": "warning", "msg": ...}.
func (p *JSONPrinter) Warning(msg string) error {
	return p.write(`{"type": "warning", "msg": ` + p.str(msg) + "}\n")
}

func (p *JSONPrinter) where(at Location) string {
	return `, "filename": ` + p.str(at.File) + `, "line": ` + jsonUint(uint64(at.Line)) +
		`, "col": ` + jsonUint(uint64(at.Col))
}

// End writes nothing: bpftrace's JSON output has no separator before the
// maps printed at exit.
func (p *JSONPrinter) End() error { return nil }

// raw writes a number the way bpftrace streams it directly: in decimal,
// or in hex once the stream is in hex mode.
func (p *JSONPrinter) raw(n uint64) string {
	if p.hex {
		return strconv.FormatUint(n, 16)
	}
	return strconv.FormatUint(n, 10)
}

// str encodes a string as bpftrace does (see JSONPrinter).
func (p *JSONPrinter) str(s string) string { return string(appendStr(p, nil, s)) }

// appendStr appends s as a JSON string, with bpftrace's escapes.
func appendStr[T string | []byte](p *JSONPrinter, dst []byte, s T) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			if c <= 0x1f || c >= 0x80 {
				dst = fmt.Appendf(dst, `\u%04x`, uint32(int32(int8(c))))
				p.hex = true
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// value encodes a value; div divides the average of stats and avg values
// and hist bucket counts (see Map.Div; the caller divides integers).
func (p *JSONPrinter) value(v any, div uint64) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return p.str(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int64:
		return jsonInt(v)
	case uint64:
		return jsonUint(v)
	case Enum:
		// JSON shows the number, never the name.
		return jsonUint(uint64(v.Value))
	case Pointer:
		return jsonUint(uint64(v))
	case Buffer:
		parts := make([]string, len(v))
		for i, c := range v {
			parts[i] = strconv.Itoa(int(int8(c)))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case Tuple:
		return p.array(v)
	case []any:
		return p.array(v)
	case Record:
		var b strings.Builder
		b.WriteString("{")
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.str(f.Name) + ": " + p.value(f.Value, 1))
		}
		b.WriteString("}")
		return b.String()
	case Stats:
		return p.value(statsRecord(v, div), 1)
	case Avg:
		return p.value(v.divAverage(div), 1)
	case Hist:
		return p.hist(v.view(div))
	case LHist:
		return p.hist(v.view())
	case TSeries:
		return p.tseries(v)
	}
	return p.str(Text(v))
}

func (p *JSONPrinter) array(v []any) string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = p.value(e, 1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// tseries encodes the intervals with a value as
// [{"interval_start":"2025-01-02 10:41:46.700000000","value":1},...].
func (p *JSONPrinter) tseries(ts TSeries) string {
	var b strings.Builder
	b.WriteString("[")
	first := true
	for _, r := range ts.Rows {
		if r.Value == nil {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`{"interval_start":"` + tseriesJSONTime(r.Start) + `","value":` + p.value(r.Value, 1) + "}")
	}
	b.WriteString("]")
	return b.String()
}

// hist encodes buckets as [{"min": A, "max": B, "count": C},...]: min and
// max both included, min left out of the bucket open below and max of the
// bucket open above.
func (p *JSONPrinter) hist(h histView) string {
	var b strings.Builder
	b.WriteString("[")
	for i, c := range h.counts {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("{")
		switch {
		case i == 0 && h.lower != nil:
			b.WriteString(`"min": ` + h.lower.json() + ", ")
		case i > 0:
			b.WriteString(`"min": ` + h.labels[i-1].json() + ", ")
		}
		if i < len(h.labels) {
			b.WriteString(`"max": ` + jsonInt(int64(h.labels[i].num)-1) + ", ")
		}
		b.WriteString(`"count": ` + p.raw(c) + "}")
	}
	b.WriteString("]")
	return b.String()
}

// json encodes a label's number: plain labels are signed, the others
// unsigned, as in bpftrace.
func (l label) json() string {
	if l.plain {
		return jsonInt(int64(l.num))
	}
	return jsonUint(l.num)
}

// jsonInt encodes an integer as a JSON number, or as a string of its
// digits when a double cannot hold it exactly, as bpftrace does.
func jsonInt(v int64) string {
	s := strconv.FormatInt(v, 10)
	if f := float64(v); f >= 1<<63 || int64(f) != v {
		return `"` + s + `"`
	}
	return s
}

// jsonUint is jsonInt for unsigned integers.
func jsonUint(v uint64) string {
	s := strconv.FormatUint(v, 10)
	if f := float64(v); f >= 1<<64 || uint64(f) != v {
		return `"` + s + `"`
	}
	return s
}
