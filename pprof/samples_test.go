package pprof_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ktrace/ktrace/output"
	"github.com/ktrace/ktrace/pprof"
)

func TestSamples(t *testing.T) {
	m := &output.Map{Name: "@samples", Keyed: true, Entries: []output.Entry{
		{Key: output.Tuple{"app", int64(5), uint64(100), kstack, stackA}, Value: int64(3)},
		{Key: output.Tuple{"app", uint64(7), uint64(200), int64(0), stackB}, Value: uint64(2)}, // user stacks only
		{Key: output.Tuple{"app", int64(5), uint64(100), kstack, int64(0)}, Value: int64(4)},   // kernel stacks only
	}}
	got, err := pprof.Samples(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []pprof.Sample{
		{PID: 5, Comm: "app", CgroupID: 100, Kernel: kstack, User: stackA, Count: 3},
		{PID: 7, Comm: "app", CgroupID: 200, User: stackB, Count: 2},
		{PID: 5, Comm: "app", CgroupID: 100, Kernel: kstack, Count: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("samples\n%+v\nwant\n%+v", got, want)
	}
}

func TestSamplesErrors(t *testing.T) {
	for _, c := range []struct {
		entry output.Entry
		want  string
	}{
		{output.Entry{Key: "app", Value: int64(1)}, "a key is a string"},
		{output.Entry{Key: output.Tuple{"app", int64(5), kstack, stackA}, Value: int64(1)}, "a key has 4 elements"},
		{output.Entry{Key: output.Tuple{int64(1), int64(5), uint64(1), int64(0), int64(0)}, Value: int64(1)}, "a comm is int64 1"},
		{output.Entry{Key: output.Tuple{"app", int64(-1), uint64(1), int64(0), int64(0)}, Value: int64(1)}, "a pid is int64 -1"},
		{output.Entry{Key: output.Tuple{"app", uint64(1 << 32), uint64(1), int64(0), int64(0)}, Value: int64(1)}, "a pid is uint64 4294967296"},
		{output.Entry{Key: output.Tuple{"app", int64(5), "x", int64(0), int64(0)}, Value: int64(1)}, "a cgroup is string x"},
		{output.Entry{Key: output.Tuple{"app", int64(5), uint64(1), int64(7), int64(0)}, Value: int64(1)}, "a kstack is int64 7"},
		{output.Entry{Key: output.Tuple{"app", int64(5), uint64(1), output.Tuple{}, int64(0)}, Value: int64(1)}, "a kstack is output.Tuple"},
		{output.Entry{Key: output.Tuple{"app", int64(5), uint64(1), int64(0), "u"}, Value: int64(1)}, "a ustack is string u"},
		{output.Entry{Key: output.Tuple{"app", int64(5), uint64(1), int64(0), int64(0)}, Value: output.Avg{}}, "a count is output.Avg"},
	} {
		_, err := pprof.Samples(&output.Map{Name: "@m", Keyed: true, Entries: []output.Entry{c.entry}})
		want := "@m: not a map of samples keyed by [comm, pid, cgroup, kstack, ustack]: " + c.want
		if err == nil || err.Error() != want || !errors.Is(err, pprof.ErrNotSamples) {
			t.Errorf("error %v\nwant  %s", err, want)
		}
	}
}
