package main

import (
	"io"
	"reflect"
	"testing"
)

// The counting writer counts records however the output is split into
// writes, and a run of one map's lines is one print.
func TestCountingWriter(t *testing.T) {
	out := "E 10 100\nT 12:00:00\n@syscall[1]: 5\n@syscall[0]: 9\n@process[a]: 3\n" +
		"E 10 200\nE 11 300\n@syscall[1]: 6\n@process[a]: 4\n@process[b]: 4\n@syscall[2]: 1\n" +
		"E x\nE 10 5 6\n\n"
	for _, size := range []int{1, 3, 7, len(out)} {
		cw := &countingWriter{w: io.Discard, pids: map[int]uint64{}}
		for i := 0; i < len(out); i += size {
			cw.Write([]byte(out[i:min(i+size, len(out))]))
		}
		c := cw.counts()
		want := outCounts{E: 5, T: 1, S: 3, P: 2, Other: 1, Malformed: 2, Bytes: uint64(len(out)),
			Pids: map[int]uint64{10: 2, 11: 1}, MaxENs: 300, OtherText: []string{""}}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("writes of %d bytes: got %+v, want %+v", size, c, want)
		}
	}
}

// Loss warnings are told from other lines whatever their wording, and their
// numbers are summed; what PrintExit writes is kept apart.
func TestErrWriter(t *testing.T) {
	ew := &errWriter{w: io.Discard}
	io.WriteString(ew, "WARNING: lost 120 events\nsomething else\nWarning: 30 events lost in the last second (150 in all)\n")
	io.WriteString(ew, "LOST 7 record")
	io.WriteString(ew, "s at 12:00:01\nlost some\n")
	ew.startExit()
	io.WriteString(ew, "Lost 157 events\n")
	c := ew.counts()
	if c.Warnings != 4 || c.WarnSum != 157 || c.WarnUnparsed != 1 || c.Others != 1 {
		t.Errorf("got %+v", c)
	}
	if got := ew.exitLines(); !reflect.DeepEqual(got, []string{"Lost 157 events"}) {
		t.Errorf("exit lines %q", got)
	}
}

func TestLostNumber(t *testing.T) {
	for line, want := range map[string]uint64{
		"WARNING: lost 120 events":                         120,
		"12:00:01 WARNING: 30 events lost (150 in all)":    30,
		"lost 5 of the last 10 records":                    5,
		"Lost 157 events":                                  157,
		"ktrace: 3 samples lost":                           3,
		"warning: the ring buffer lost 9, 12 in total (x)": 9,
	} {
		if got, ok := lostNumber(line); !ok || got != want {
			t.Errorf("lostNumber(%q) = %d, %v; want %d", line, got, ok, want)
		}
	}
}
