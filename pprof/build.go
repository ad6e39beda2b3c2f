package pprof

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace/output"
)

// KernelMapping is the file name of the kernel's mapping, as perf names
// it: frames in it are kernel frames.
const KernelMapping = "[kernel.kallsyms]"

// Label keys of each sample.
const (
	// LabelComm is the string label of the process's command name.
	LabelComm = "comm"
	// LabelCgroup is the string label of the process's cgroup: its name
	// from BuildOptions.CgroupName, or its ID in decimal.
	LabelCgroup = "cgroup"
	// LabelPID is the numeric label of the process ID.
	LabelPID = "pid"
)

// ErrRate is returned (wrapped) for a sampling rate that is not positive.
var ErrRate = errors.New("the sampling rate must be a positive number of samples per second")

// Sample is one stack of one process and how many times it was sampled.
type Sample struct {
	PID  uint32
	Comm string
	// CgroupID is the cgroup (v2) ID of the process; zero when unknown,
	// and then the sample has no cgroup label.
	CgroupID uint64
	// Kernel and User are the stacks, innermost frame first; either may
	// be empty.
	Kernel, User output.Stack
	Count        uint64
}

// BuildOptions describe how samples were taken.
type BuildOptions struct {
	// Hz is the sampling rate on each CPU: every sample stands for
	// 1/Hz seconds of CPU time. It is required.
	Hz int
	// Start is when sampling started; Duration how long it lasted.
	Start    time.Time
	Duration time.Duration
	// CgroupName names a cgroup ID for the cgroup label, for example its
	// path; nil, or "" from it, labels the sample with the ID in decimal.
	CgroupName func(id uint64) string
}

// Build makes a CPU profile of samples. The profile's sample types are
// samples/count and cpu/nanoseconds (the default), its period 1/Hz
// seconds of CPU time.
func Build(samples []Sample, opts BuildOptions) (*profile.Profile, error) {
	if opts.Hz <= 0 {
		return nil, fmt.Errorf("%w, not %d", ErrRate, opts.Hz)
	}
	period := int64(time.Second) / int64(opts.Hz)
	b := &builder{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "samples", Unit: "count"},
				{Type: "cpu", Unit: "nanoseconds"},
			},
			DefaultSampleType: "cpu",
			PeriodType:        &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
			Period:            period,
			DurationNanos:     opts.Duration.Nanoseconds(),
		},
		mappings:  map[mappingKey]*profile.Mapping{},
		locations: map[locationKey]*profile.Location{},
		functions: map[functionKey]*profile.Function{},
		cgroups:   map[uint64]string{},
		name:      opts.CgroupName,
	}
	if !opts.Start.IsZero() {
		b.p.TimeNanos = opts.Start.UnixNano()
	}
	for _, s := range samples {
		if s.Count == 0 {
			continue
		}
		b.add(s, period)
	}
	b.finish()
	return b.p, nil
}

// mappingKey identifies a mapping of a binary: the same file mapped at
// another address (another process of a position-independent binary) is
// another mapping.
type mappingKey struct {
	start, end, offset uint64
	file, buildID      string
}

// locationKey identifies a location. Addresses outside any mapping mean
// something only in their process, so those are told apart by PID.
type locationKey struct {
	mapping *profile.Mapping
	pid     uint32
	addr    uint64
	symbol  string
}

// functionKey identifies a function: its name, and the file it is in
// ("" for the kernel's).
type functionKey struct {
	name, file string
	kernel     bool
}

type builder struct {
	p         *profile.Profile
	kernel    *profile.Mapping // made on the first kernel frame
	mappings  map[mappingKey]*profile.Mapping
	locations map[locationKey]*profile.Location
	functions map[functionKey]*profile.Function
	cgroups   map[uint64]string
	name      func(uint64) string
	// unnamed holds the mappings with a frame whose function is unknown.
	unnamed map[*profile.Mapping]bool
}

func (b *builder) add(s Sample, period int64) {
	ps := &profile.Sample{
		Value:    []int64{int64(s.Count), int64(s.Count) * period},
		Label:    map[string][]string{LabelComm: {s.Comm}},
		NumLabel: map[string][]int64{LabelPID: {int64(s.PID)}},
	}
	if s.CgroupID != 0 {
		ps.Label[LabelCgroup] = []string{b.cgroup(s.CgroupID)}
	}
	for _, f := range s.Kernel.Frames {
		ps.Location = append(ps.Location, b.kernelLocation(f))
	}
	for _, f := range s.User.Frames {
		ps.Location = append(ps.Location, b.userLocation(s.PID, f))
	}
	b.p.Sample = append(b.p.Sample, ps)
}

// cgroup names a cgroup ID, asking CgroupName once per ID.
func (b *builder) cgroup(id uint64) string {
	if name, ok := b.cgroups[id]; ok {
		return name
	}
	name := ""
	if b.name != nil {
		name = b.name(id)
	}
	if name == "" {
		name = strconv.FormatUint(id, 10)
	}
	b.cgroups[id] = name
	return name
}

func (b *builder) kernelLocation(f output.Frame) *profile.Location {
	if b.kernel == nil {
		b.kernel = &profile.Mapping{File: KernelMapping, Start: f.Addr, Limit: f.Addr + 1}
		b.p.Mapping = append(b.p.Mapping, b.kernel)
	}
	// The kernel mapping spans the kernel addresses sampled.
	b.kernel.Start = min(b.kernel.Start, f.Addr)
	b.kernel.Limit = max(b.kernel.Limit, f.Addr+1)
	return b.location(locationKey{mapping: b.kernel, addr: f.Addr, symbol: f.Symbol}, functionKey{name: f.Symbol, kernel: true})
}

func (b *builder) userLocation(pid uint32, f output.Frame) *profile.Location {
	k := locationKey{addr: f.Addr, symbol: f.Symbol}
	if m := f.Mapping; m.End > m.Start && f.Module != "" {
		mk := mappingKey{start: m.Start, end: m.End, offset: m.Offset, file: f.Module, buildID: m.BuildID}
		pm := b.mappings[mk]
		if pm == nil {
			pm = &profile.Mapping{Start: m.Start, Limit: m.End, Offset: m.Offset, File: f.Module, BuildID: m.BuildID}
			b.mappings[mk] = pm
			b.p.Mapping = append(b.p.Mapping, pm)
		}
		k.mapping = pm
	} else {
		k.pid = pid
	}
	return b.location(k, functionKey{name: f.Symbol, file: f.Module})
}

// location finds or makes the location of key, with the function fk
// when it is known.
func (b *builder) location(key locationKey, fk functionKey) *profile.Location {
	if l := b.locations[key]; l != nil {
		return l
	}
	l := &profile.Location{ID: uint64(len(b.p.Location) + 1), Mapping: key.mapping, Address: key.addr}
	if fk.name != "" {
		fn := b.functions[fk]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: fk.name, SystemName: fk.name, Filename: fk.file}
			b.functions[fk] = fn
			b.p.Function = append(b.p.Function, fn)
		}
		l.Line = []profile.Line{{Function: fn}}
	} else if key.mapping != nil {
		if b.unnamed == nil {
			b.unnamed = map[*profile.Mapping]bool{}
		}
		b.unnamed[key.mapping] = true
	}
	b.locations[key] = l
	b.p.Location = append(b.p.Location, l)
	return l
}

// finish numbers the mappings, the kernel's last, and marks those whose
// every frame is named as needing no symbolization.
func (b *builder) finish() {
	slices.SortStableFunc(b.p.Mapping, func(x, y *profile.Mapping) int {
		// A stable order: user binaries by file, then address; the
		// kernel last.
		return cmp.Or(
			cmp.Compare(boolInt(x == b.kernel), boolInt(y == b.kernel)),
			cmp.Compare(x.File, y.File),
			cmp.Compare(x.Start, y.Start))
	})
	for i, m := range b.p.Mapping {
		m.ID = uint64(i + 1)
		m.HasFunctions = !b.unnamed[m]
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
