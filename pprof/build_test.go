package pprof_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace/output"
	"github.com/ktrace/ktrace/pprof"
)

// Two processes of one position-independent binary, mapped at different
// addresses, with libc; kernel frames; a frame in the binary whose
// function is unknown; a JIT frame in no file; and a user-only sample.
var (
	binA = output.Mapping{Start: 0x5000, End: 0x6000, Offset: 0x1000, BuildID: "aa11"}
	binB = output.Mapping{Start: 0x9000, End: 0xa000, Offset: 0x1000, BuildID: "aa11"}
	libc = output.Mapping{Start: 0x7f00, End: 0x7fff, Offset: 0x2000, BuildID: "cc33"}

	kstack = output.Stack{Frames: []output.Frame{
		{Addr: 0xffffffff81000010, Symbol: "clear_page"},
		{Addr: 0xffffffff81000500, Symbol: "do_anonymous_page"},
	}}
	stackA = output.Stack{User: true, Frames: []output.Frame{
		{Addr: 0x5010, Symbol: "busy", Module: "/bin/app", Mapping: binA},
		{Addr: 0x7f10, Symbol: "__libc_start_main", Module: "/lib/libc.so.6", Mapping: libc},
	}}
	stackB = output.Stack{User: true, Frames: []output.Frame{
		{Addr: 0x9010, Symbol: "busy", Module: "/bin/app", Mapping: binB},
		{Addr: 0x9020, Module: "/bin/app", Mapping: binB},
		{Addr: 0x1234, Symbol: "LazyCompile:js", Module: "/tmp/perf-7.map"},
	}}
	samples = []pprof.Sample{
		{PID: 5, Comm: "app", CgroupID: 100, Kernel: kstack, User: stackA, Count: 3},
		{PID: 7, Comm: "app", CgroupID: 200, User: stackB, Count: 2},
		{PID: 5, Comm: "app", CgroupID: 100, Kernel: kstack, Count: 4},
		{PID: 8, Comm: "never", Count: 0}, // left out
	}
)

func TestBuild(t *testing.T) {
	start := time.Unix(1700000000, 5)
	asked := map[uint64]int{}
	p, err := pprof.Build(samples, pprof.BuildOptions{Hz: 100, Start: start, Duration: 2 * time.Second, CgroupName: func(id uint64) string {
		asked[id]++
		if id == 100 {
			return "/system.slice/app.service"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(asked, map[uint64]int{100: 1, 200: 1}) {
		t.Errorf("CgroupName asked %v: want once per cgroup", asked)
	}
	// What parses back is what was built, in pprof's own words.
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	back, err := profile.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*profile.Profile{p, back} {
		checkBuilt(t, q, start)
	}
}

func checkBuilt(t *testing.T, p *profile.Profile, start time.Time) {
	t.Helper()
	if got := valueTypes(p.SampleType); got != "samples/count cpu/nanoseconds" || p.DefaultSampleType != "cpu" {
		t.Errorf("sample types %s, default %q", got, p.DefaultSampleType)
	}
	if p.PeriodType == nil || p.PeriodType.Type != "cpu" || p.PeriodType.Unit != "nanoseconds" || p.Period != 10_000_000 {
		t.Errorf("period %v %d: want cpu/nanoseconds 10000000 (100 Hz)", p.PeriodType, p.Period)
	}
	if p.TimeNanos != start.UnixNano() || p.DurationNanos != 2e9 {
		t.Errorf("time %d, duration %d", p.TimeNanos, p.DurationNanos)
	}
	type mapping struct {
		file, buildID        string
		start, limit, offset uint64
		hasFunctions         bool
	}
	var maps []mapping
	for _, m := range p.Mapping {
		maps = append(maps, mapping{m.File, m.BuildID, m.Start, m.Limit, m.Offset, m.HasFunctions})
	}
	// The same binary mapped twice is two mappings; only the second has
	// a frame of unknown function. The kernel spans the addresses seen.
	wantMaps := []mapping{
		{"/bin/app", "aa11", 0x5000, 0x6000, 0x1000, true},
		{"/bin/app", "aa11", 0x9000, 0xa000, 0x1000, false},
		{"/lib/libc.so.6", "cc33", 0x7f00, 0x7fff, 0x2000, true},
		{pprof.KernelMapping, "", 0xffffffff81000010, 0xffffffff81000501, 0, true},
	}
	if !sameSet(maps, wantMaps) {
		t.Errorf("mappings\n%+v\nwant\n%+v", maps, wantMaps)
	}
	type sample struct {
		frames       string
		count, cpu   int64
		comm, cgroup string
		pid          int64
	}
	var got []sample
	for _, s := range p.Sample {
		got = append(got, sample{frames(s), s.Value[0], s.Value[1], label(s, "comm"), label(s, "cgroup"), s.NumLabel["pid"][0]})
	}
	want := []sample{
		{"clear_page[k] do_anonymous_page[k] busy@/bin/app __libc_start_main@/lib/libc.so.6", 3, 30_000_000, "app", "/system.slice/app.service", 5},
		{"busy@/bin/app 0x9020@/bin/app LazyCompile:js@", 2, 20_000_000, "app", "200", 7},
		{"clear_page[k] do_anonymous_page[k]", 4, 40_000_000, "app", "/system.slice/app.service", 5},
	}
	if !sameSet(got, want) {
		t.Errorf("samples\n%+v\nwant\n%+v", got, want)
	}
	// Frames are shared: two kernel locations, busy in two processes'
	// mappings, and one function per name and file.
	if len(p.Location) != 7 || len(p.Function) != 5 {
		t.Errorf("%d locations and %d functions, want 7 and 5", len(p.Location), len(p.Function))
	}
}

// frames describes a sample's stack: function[k] for a kernel frame,
// function@file for a user frame (the address for an unknown function).
func frames(s *profile.Sample) string {
	var out []string
	for _, l := range s.Location {
		name := fmt.Sprintf("%#x", l.Address)
		if len(l.Line) == 1 {
			name = l.Line[0].Function.Name
		}
		switch {
		case l.Mapping != nil && l.Mapping.File == pprof.KernelMapping:
			name += "[k]"
		case l.Mapping != nil:
			name += "@" + l.Mapping.File
		default:
			name += "@"
		}
		out = append(out, name)
	}
	return strings.Join(out, " ")
}

func label(s *profile.Sample, key string) string {
	if v := s.Label[key]; len(v) == 1 {
		return v[0]
	}
	return ""
}

func valueTypes(vt []*profile.ValueType) string {
	var out []string
	for _, v := range vt {
		out = append(out, v.Type+"/"+v.Unit)
	}
	return strings.Join(out, " ")
}

// sameSet reports whether a and b hold the same elements, in any order.
func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	left := map[T]int{}
	for _, x := range a {
		left[x]++
	}
	for _, x := range b {
		left[x]--
	}
	for _, n := range left {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestBuildErrors(t *testing.T) {
	for _, hz := range []int{0, -5} {
		_, err := pprof.Build(samples, pprof.BuildOptions{Hz: hz})
		want := "the sampling rate must be a positive number of samples per second, not " + fmt.Sprint(hz)
		if err == nil || err.Error() != want || !errors.Is(err, pprof.ErrRate) {
			t.Errorf("Hz %d: error %v, want %q", hz, err, want)
		}
	}
}

// TestBuildEmpty: no samples is a valid, empty profile, without a
// cgroup label when the cgroup is unknown.
func TestBuildEmpty(t *testing.T) {
	p, err := pprof.Build(nil, pprof.BuildOptions{Hz: 49})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil || len(p.Sample) != 0 || len(p.Mapping) != 0 || p.TimeNanos != 0 {
		t.Errorf("empty profile: %v\n%s", err, p)
	}
	p, err = pprof.Build([]pprof.Sample{{PID: 1, Comm: "init", Count: 1}}, pprof.BuildOptions{Hz: 49})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Sample[0]; len(s.Label["cgroup"]) != 0 || label(s, "comm") != "init" || len(s.Location) != 0 {
		t.Errorf("sample %v", s)
	}
}
