package output

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// FuzzSprintf feeds arbitrary format strings that types.ParseFormat
// accepts, with arguments of every kind, to Sprintf: it must not panic,
// and a format without verbs must come out as its literal text.
func FuzzSprintf(f *testing.F) {
	for _, s := range []string{"%d", "%-08.3lld|%+x|%#o", "%c%s%p", "%rx %rh %r", "%%%5s%%", "% #0-+12hhu", "plain"} {
		f.Add(s, int64(-42), "str", []byte{0, 'a', 0xff})
	}
	f.Fuzz(func(t *testing.T, format string, n int64, s string, buf []byte) {
		pf, err := types.ParseFormat(format)
		if err != nil {
			return
		}
		kinds := []any{n, uint64(n), s, Buffer(buf), Tuple{n, s, Tuple{uint64(n)}}, Enum{n, s}, Pointer(n), n%2 == 0, nil,
			[]any{n}, Record{{"f", n}}}
		for k := range kinds {
			args := make([]any, len(pf.Verbs))
			for i := range args {
				args[i] = kinds[(k+i)%len(kinds)]
			}
			out := Sprintf(pf, args)
			if len(pf.Verbs) == 0 {
				var lit bytes.Buffer
				for _, p := range pf.Parts {
					lit.WriteString(p.Text)
				}
				if out != lit.String() {
					t.Fatalf("Sprintf(%q) = %q, want the literal %q", format, out, lit.String())
				}
			}
		}
	})
}

// FuzzHistBucket checks that every value lands in a bucket whose range
// holds it, for hist and lhist.
func FuzzHistBucket(f *testing.F) {
	f.Add(int64(0), uint8(0), int64(0), int64(100), int64(10))
	f.Add(int64(math.MaxInt64), uint8(5), int64(-2048), int64(2048), int64(1024))
	f.Add(int64(-1), uint8(3), int64(5), int64(5), int64(1))
	f.Fuzz(func(t *testing.T, v int64, kb uint8, min, max, step int64) {
		k := int(kb % 6)
		i := HistBucket(v, k)
		if i < 0 || i >= HistBuckets(k) {
			t.Fatalf("HistBucket(%d, %d) = %d, out of [0, %d)", v, k, i, HistBuckets(k))
		}
		if lo, hi := HistBucketRange(i, k); v < lo || v > hi {
			t.Fatalf("HistBucket(%d, %d) = %d, whose range is [%d, %d]", v, k, i, lo, hi)
		}
		// Keep lhist parameters where bpftrace's would be: small, step > 0.
		min %= 1 << 30
		max %= 1 << 30
		step = step%(1<<20) + 1<<20
		if step <= 0 || max < min {
			return
		}
		j := LHistBucket(v, min, max, step)
		if j < 0 || j >= LHistBuckets(min, max, step) {
			t.Fatalf("LHistBucket(%d, %d, %d, %d) = %d, out of range", v, min, max, step, j)
		}
		if lo, hi := LHistBucketRange(j, min, max, step); v < lo || v > hi {
			t.Fatalf("LHistBucket(%d, %d, %d, %d) = %d, whose range is [%d, %d]", v, min, max, step, j, lo, hi)
		}
	})
}

// FuzzPrinters prints maps decoded from arbitrary bytes with both
// printers: they must not panic, and the JSON must parse... except where
// bpftrace itself writes invalid JSON (see JSONPrinter), so only the
// absence of panics is checked.
func FuzzPrinters(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0}, uint8(2), uint32(0), int(0))
	f.Fuzz(func(t *testing.T, b []byte, k uint8, div uint32, top int) {
		h := Hist{K: int(k % 6)}
		l := LHist{Min: -10, Max: 100, Step: 7}
		for i := 0; i+8 <= len(b); i += 8 {
			c := binary.LittleEndian.Uint64(b[i:])
			h.Add(int(c%uint64(HistBuckets(h.K))), c>>8)
			l.Add(int(c%uint64(LHistBuckets(l.Min, l.Max, l.Step))), c>>8)
		}
		for _, m := range []*Map{
			{Name: "@h", Keyed: true, Entries: []Entry{{int64(1), h}, {"x", h}}},
			{Name: "@l", Entries: []Entry{{nil, l}}},
			{Name: "@s", Keyed: true, Entries: []Entry{{Tuple{string(b)}, Stats{Count: uint64(len(b)), Total: uint64(top), Signed: k%2 == 0}}}},
		} {
			m.Div, m.Top = div, top%4
			m.Sort()
			var out bytes.Buffer
			NewText(&out).Map(m)
			NewJSON(&out).Map(m)
		}
	})
}
