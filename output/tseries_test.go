package output

import (
	"bytes"
	"testing"
	"time"
)

// tseriesAt is a row 100ms after 10:41:46.700 UTC on 2025-01-02, i
// intervals on.
func tseriesAt(i int, v any) TSeriesRow {
	start := time.Date(2025, 1, 2, 10, 41, 46, 700e6, time.UTC).UnixNano()
	return TSeriesRow{Start: start + int64(i)*100e6, Value: v}
}

func TestTSeriesText(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	m := &Map{Name: "@", Agg: AggTSeries, Entries: []Entry{{Value: TSeries{Rows: []TSeriesRow{
		tseriesAt(0, int64(-5)), tseriesAt(1, int64(0)), tseriesAt(2, nil), tseriesAt(3, int64(5)),
	}}}}}
	want := `@:
             -5                                                  5
hh:mm:ss.ms  |___________________________________________________|
10:41:46.700 *                         .                         | -5
10:41:46.800 |                         *                         | 0
10:41:46.900 |                         .                         | -
10:41:47.000 |                         .                         * 5
             v___________________________________________________v
             -5                                                  5

`
	var b bytes.Buffer
	if err := NewText(&b).Map(m); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// A flat series gets one below and above its value as its bounds; a
// single row's interval is unknown, so its time shows nanoseconds.
func TestTSeriesTextFlat(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	m := &Map{Name: "@s", Keyed: true, Agg: AggTSeries, Entries: []Entry{{Key: int64(1), Value: TSeries{Rows: []TSeriesRow{
		tseriesAt(0, uint64(0)),
	}}}}}
	want := `@s[1]:
                   0                                                   1
hh:mm:ss.ns        |___________________________________________________|
10:41:46.700000000 *                                                   | 0
                   v___________________________________________________v
                   0                                                   1

`
	var b bytes.Buffer
	if err := NewText(&b).Map(m); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTSeriesJSON(t *testing.T) {
	m := &Map{Name: "@t", Keyed: true, Agg: AggTSeries, Entries: []Entry{{Key: "a", Value: TSeries{Rows: []TSeriesRow{
		tseriesAt(0, int64(3)), tseriesAt(1, nil), tseriesAt(2, int64(-1)),
	}}}}}
	want := `{"type": "tseries", "data": {"@t": {"a": [{"interval_start":"2025-01-02 10:41:46.700000000","value":3},{"interval_start":"2025-01-02 10:41:46.900000000","value":-1}]}}}` + "\n"
	var b bytes.Buffer
	if err := NewJSON(&b).Map(m); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
}
