package tools

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/output"
)

// Reporter is what a report tool's Report function prints with.
type Reporter struct {
	Config  *Config
	Session *ktrace.Session
	// Out is the tool's standard output, Err its standard error.
	Out *bufio.Writer
	Err io.Writer
	// Final is true for the report printed as the tool ends.
	Final bool
	// Count is the number of this report, from 1.
	Count int
	// Start is when the tool started.
	Start time.Time
}

// Map reads a map of the script ("@name"). In interval mode it is then
// cleared, so each report shows one interval, as BCC's tools do.
func (r *Reporter) Map(name string) (*output.Map, error) {
	if r.Config.Interval > 0 {
		return r.Session.TakeMap(name)
	}
	return r.Session.Map(name)
}

// Time prints the HH:MM:SS line BCC's interval tools print with -T (and
// always, for tools that pass always).
func (r *Reporter) Time(always bool) {
	if r.Config.JSON || !always && r.Config.Timestamp != "T" {
		return
	}
	fmt.Fprintln(r.Out, time.Now().Format("15:04:05"))
}

// jsonString is s as a JSON string, valid UTF-8, HTML characters kept.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonList is a JSON array of strings.
func jsonList(s []string) json.RawMessage {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return b
}

// Field is one named value of a JSON report line.
type Field struct {
	Key   string
	Value any // string, an integer, float64, or json.RawMessage
}

// JSON prints one JSON object, with a "time" field first when -T or -t
// was given.
func (r *Reporter) JSON(fields ...Field) {
	r.Out.WriteByte('{')
	switch r.Config.Timestamp {
	case "T":
		fields = append([]Field{{"time", time.Now().Format("15:04:05")}}, fields...)
	case "t":
		fields = append([]Field{{"time_s", time.Since(r.Start).Seconds()}}, fields...)
	}
	for i, f := range fields {
		if i > 0 {
			r.Out.WriteByte(',')
		}
		r.Out.WriteString(jsonString(f.Key))
		r.Out.WriteByte(':')
		switch v := f.Value.(type) {
		case string:
			r.Out.WriteString(jsonString(v))
		case json.RawMessage:
			r.Out.Write(v)
		case float64:
			r.Out.WriteString(strconv.FormatFloat(v, 'f', 3, 64))
		default:
			fmt.Fprint(r.Out, v)
		}
	}
	r.Out.WriteString("}\n")
}

// Table prints rows under columns (widths and headings as event tools
// have them), or one JSON object per row. Row values are strings or
// integers.
func (r *Reporter) Table(cols []Column, rows [][]any) {
	if r.Config.JSON {
		for _, row := range rows {
			fields := make([]Field, len(cols))
			for i, c := range cols {
				fields[i] = Field{c.JSONKey(), row[i]}
			}
			r.JSON(fields...)
		}
		return
	}
	line := func(vals []string) {
		for i, v := range vals {
			if i > 0 {
				r.Out.WriteByte(' ')
			}
			w := cols[i].Width
			switch {
			case w > 0:
				fmt.Fprintf(r.Out, "%*s", w, v)
			case w < 0 && i < len(vals)-1:
				fmt.Fprintf(r.Out, "%-*s", -w, v)
			default:
				r.Out.WriteString(v)
			}
		}
		r.Out.WriteByte('\n')
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	line(names)
	for _, row := range rows {
		vals := make([]string, len(row))
		for i, v := range row {
			vals[i] = fmt.Sprint(v)
		}
		line(vals)
	}
}

// Log2Slots turns a bpftrace hist() (k = 0) into BCC's log2 slots: slot 0
// holds 0 and 1, slot i ≥ 1 holds [2^i, 2^(i+1)). Negative values are
// dropped.
func Log2Slots(h output.Hist) []uint64 {
	var slots []uint64
	add := func(i int, n uint64) {
		for len(slots) <= i {
			slots = append(slots, 0)
		}
		slots[i] += n
	}
	for b, n := range h.Counts {
		switch {
		case b == 0 || n == 0:
		case b <= 2:
			add(0, n)
		default:
			add(b-2, n)
		}
	}
	return slots
}

// Log2Hist prints a log2 histogram as BCC's libbpf-tools do, its values
// in unit ("usecs"), or in JSON as {unit: [{"low":…,"high":…,"count":…}]}
// with the extra fields first.
func (r *Reporter) Log2Hist(h output.Hist, unit string, extra ...Field) {
	slots := Log2Slots(h)
	last := -1
	var max uint64
	for i, n := range slots {
		if n > 0 {
			last = i
		}
		if n > max {
			max = n
		}
	}
	if r.Config.JSON {
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i <= last; i++ {
			lo, hi := slotRange(i)
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"low":%d,"high":%d,"count":%d}`, lo, hi, slots[i])
		}
		b.WriteByte(']')
		r.JSON(append(extra, Field{unit, json.RawMessage(b.String())})...)
		return
	}
	if last < 0 {
		return
	}
	indent, width, stars := 5, 10, 40
	if last > 32 {
		indent, width, stars = 15, 20, 20
	}
	fmt.Fprintf(r.Out, "%*s%-*s : count    distribution\n", indent, "", width+9, unit)
	for i := 0; i <= last; i++ {
		lo, hi := slotRange(i)
		fmt.Fprintf(r.Out, "%*d -> %-*d : %-8d |%s|\n", width, lo, width, hi, slots[i], starBar(slots[i], max, stars))
	}
}

// slotRange is the smallest and largest value of log2 slot i.
func slotRange(i int) (lo, hi uint64) {
	if i == 0 {
		return 0, 1
	}
	return 1 << i, 1<<(i+1) - 1
}

// starBar is a bar of width characters, stars for n of max.
func starBar(n, max uint64, width int) string {
	k := width
	if n < max {
		k = int(n * uint64(width) / max)
	}
	return strings.Repeat("*", k) + strings.Repeat(" ", width-k)
}
