package output

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestPrintLargeMapChunks prints a map larger than a chunk of output: the
// text is what one string of it would be, and JSON too.
func TestPrintLargeMapChunks(t *testing.T) {
	m := largeMap(20000)
	var want strings.Builder
	for _, e := range m.Entries {
		want.WriteString("@[" + keyText(e.Key) + "]: " + Text(e.Value) + "\n")
	}
	var got countingWriter
	if err := NewText(&got).Map(m); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("text output differs")
	}
	if got.writes < 2 {
		t.Errorf("%d writes for %d bytes: not written in chunks", got.writes, got.Len())
	}
	var wantJSON strings.Builder
	wantJSON.WriteString(`{"type": "map", "data": {"@": {`)
	for i, e := range m.Entries {
		if i > 0 {
			wantJSON.WriteString(", ")
		}
		wantJSON.WriteString(`"` + keyText(e.Key) + `": ` + Text(e.Value))
	}
	wantJSON.WriteString("}}}\n")
	var gotJSON countingWriter
	if err := NewJSON(&gotJSON).Map(m); err != nil {
		t.Fatal(err)
	}
	if gotJSON.String() != wantJSON.String() {
		t.Errorf("JSON output differs")
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// largeMap is a map of n timestamps counted once or twice, as
// `@[nsecs] = count()` fills it, in no particular order.
func largeMap(n int) *Map {
	r := rand.New(rand.NewPCG(3, 4))
	m := &Map{Name: "@", Keyed: true, Agg: AggCount, Entries: make([]Entry, n)}
	for i := range m.Entries {
		m.Entries[i] = Entry{Key: uint64(4_800_000_000_000 + r.IntN(100_000_000_000)), Value: uint64(1 + r.IntN(100)/99)}
	}
	return m
}

// BenchmarkPrintLargeMap decodes, sorts and prints a map of a million
// counts, as the exit of a script that counted a million distinct
// timestamps (`@[nsecs] = count()`) does once the map's bytes are read.
func BenchmarkPrintLargeMap(b *testing.B) {
	const n = 1_000_000
	src := largeMap(n)
	keys, values := make([]byte, 8*n), make([]byte, 8*n)
	for i, e := range src.Entries {
		binary.LittleEndian.PutUint64(keys[8*i:], e.Key.(uint64))
		binary.LittleEndian.PutUint64(values[8*i:], e.Value.(uint64))
	}
	keyType := &types.Type{Kind: types.Int, Size: 8}
	countType := &types.Type{Kind: types.Count, Size: 8}
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := &Map{Name: "@", Keyed: true, Agg: AggCount, Entries: make([]Entry, n)}
				for i := range m.Entries {
					m.Entries[i] = Entry{Key: Decode(keyType, keys[8*i:8*i+8], nil), Value: Decode(countType, values[8*i:8*i+8], nil)}
				}
				m.Sort()
				var p Printer = NewText(discard{})
				if format == "json" {
					p = NewJSON(discard{})
				}
				if err := p.Map(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
