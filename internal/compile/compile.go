// Package compile turns a checked ktrace script into BPF programs and map
// specifications, using github.com/cilium/ebpf/asm.
//
// One BPF program is generated per attach point (identical programs are
// shared), every instruction carries the script position it came from, and
// the hot paths are kept lean: count() and sum() update per-CPU hash values
// in place, so a hit costs one hash operation.
package compile

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Options describe the target kernel, as far as code generation cares.
type Options struct {
	// KprobesAsFentry compiles kprobe/kretprobe attach points as
	// fentry/fexit programs, for kernels without kprobes.
	KprobesAsFentry bool
	// BTFRawTracepoints are the raw tracepoints compiled as BTF-typed raw
	// tracepoint (tp_btf) programs, as current bpftrace compiles them:
	// their pointer arguments are BTF pointers, whose members are read
	// with plain loads instead of a helper call each (btf.go). A raw
	// tracepoint not in the set is an ordinary raw_tp program.
	BTFRawTracepoints map[string]bool
	// TaskCommOffset, when positive, is the offset of comm in struct
	// task_struct; comm is then read with two loads through
	// bpf_get_current_task_btf() instead of the slower
	// bpf_get_current_comm() helper.
	TaskCommOffset int
	// RingBufSize is the event ring buffer's size in bytes (a power of two
	// multiple of the page size). Zero means DefaultRingBufSize for a
	// program that prints from its probes, QuietRingBufSize otherwise.
	RingBufSize int
	// PossibleCPUs is the number of possible CPUs: the value of ncpus,
	// and the CPU slots of per-CPU maps, for reading aggregations in a
	// probe. Zero means 1. Like every fact about the machine, it is an
	// input: code generation reads no files and no clocks.
	PossibleCPUs int
	// TAIOffset is CLOCK_TAI minus CLOCK_BOOTTIME in nanoseconds, measured
	// by the caller, which nsecs(sw_tai) adds to the boot clock.
	TAIOffset int64
	// Stacks tunes kstack, ustack and usym (stacks.go).
	Stacks StackOptions
	// MemberOffset finds a kernel struct member's offset (from BTF), for
	// builtins that read the current task, such as ppid (funcs.go); nil
	// means offsets are unknown and those builtins fail to compile.
	MemberOffset func(structName, member string) (int, error)
	// CheckProbeReads makes every failed probe read warn at run time,
	// with its error and where in the script it is (bpftrace's -k).
	CheckProbeReads bool
	// FilterPID, when positive, makes every probe but BEGIN, END and the
	// perf-event probes (which are attached to the process) fire only in
	// that process, as bpftrace's -p does.
	FilterPID int
	// EventContext makes every printf record carry the context of the
	// event that printed it (abi.EventContext): the time on the boot
	// clock, pid and tid, cgroup id, the attach point's name (as the
	// probe builtin's index, so the attach points of a wildcard no
	// longer share one program when they printf) and comm. Only printf
	// records change; without it the code is what it always was.
	EventContext bool
	// UprobeMulti makes the uprobes and uretprobes that share a program
	// attach through uprobe_multi links (uprobe_multi.go); the kernel
	// must have them (Linux 6.6 and later).
	UprobeMulti bool
	// ValueSlots lets maps of integers that probes only assign, read and
	// delete keep their entries in slots of an array first
	// (valueslots.go); the kernel must have BPF's atomic
	// compare-and-exchange (Linux 5.12 and later).
	ValueSlots bool
}

// Program is a compiled script.
type Program struct {
	File *lang.File
	Info *types.Info
	// Maps are the script's maps, in order of first appearance.
	Maps []*Map
	// Probes are the programs, one per attach point.
	Probes []*Probe
	// Events describe the records programs send to user space; the record's
	// first 8 bytes are the index into Events.
	Events []*Event
	// FullSites are the map updates that count, in abi.CountersMap, the
	// times they found their map full; user space warns of them (as
	// RecordWarning events) every second with the number that failed.
	FullSites []*Event
	// ProbeNames are the values of the probe builtin, by index; an
	// event context's probe index names its attach point here too.
	ProbeNames []string
	// EventContext is Options.EventContext: printf records carry an
	// abi.EventContext after their header.
	EventContext bool
	// Collection holds every map and program specification, by name.
	Collection *ebpf.CollectionSpec
	// Warnings are non-fatal diagnostics from the checker.
	Warnings lang.ErrorList
}

// Map is one script map.
type Map struct {
	Name string // as written, with the '@'
	Info *types.MapInfo
	// Key is the key type; nil for a map without a key (its BPF key is a
	// zero u64).
	Key *types.Type
	// Value is the type stored per entry (per CPU for aggregations).
	Value  *types.Type
	PerCPU bool
	// Bucketed maps (hist, lhist) append a u64 bucket index to the key.
	Bucketed bool
	// Array marks a histogram without a key kept in a plain array with a
	// stripe of ArrayBuckets counters per CPU, written only by its CPU
	// (element cpu*ArrayBuckets+bucket), whose lookups the kernel inlines
	// into address arithmetic: its BPF key is the u32 element, and a
	// bucket never hit holds zero instead of being absent.
	Array        bool
	ArrayBuckets int
	// Slots, when set, is the array of count slots of a keyed
	// count that probes only count into (see SlotIndex): user space adds
	// its slots to the hash map's entries.
	Slots *ebpf.MapSpec
	// ValueSlots, when set, is the array of value slots of a map of
	// integers that probes only assign, read and delete (see
	// abi.ValueSlot): user space reads its slots with the hash map's
	// entries.
	ValueSlots *ebpf.MapSpec
	Spec       *ebpf.MapSpec
}

// UserKeySize is the size of the script's key in the BPF key: 0 for a map
// without a key (whose BPF key is then a zero u64, or just the bucket).
func (m *Map) UserKeySize() int {
	if m.Key == nil {
		return 0
	}
	return (m.Key.Size + 7) &^ 7
}

// KeySize is the BPF key size in bytes.
func (m *Map) KeySize() int {
	if m.Array {
		return 4
	}
	n := m.UserKeySize()
	if m.Bucketed || n == 0 {
		n += 8
	}
	return n
}

// Probe is one attach point and its program.
type Probe struct {
	Point *types.AttachPoint
	// Kind is how the program attaches: the attach point's kind, but
	// fentry or fexit for a kprobe or kretprobe compiled as one
	// (Options.KprobesAsFentry).
	Kind    probe.Kind
	Program string // name of its program in the collection
	// Node is the probe block it came from.
	Node *ast.Probe
}

// Event describes one kind of record in the ring buffer: the compiler adds
// one per call site, and a record's header is its index in
// Program.Events (see internal/abi for the layouts).
type Event struct {
	Kind   abi.RecordKind
	Format *types.Format // printf-like records
	// Args are the record's fields after the header.
	Args []EventArg
	Size int       // whole record size
	Map  *Map      // print, clear, zero; a FullSites entry's map
	Node *ast.Call // the call that sends it
	// Top and Div are print(@m, top, div)'s limits.
	Top int
	Div uint32
	// Source is the script position the record comes from (warnings).
	Source lang.Source
	// Context marks a record that carries an abi.EventContext between
	// its header and Args (printf with Options.EventContext).
	Context bool

	// The payloads of the record kinds that need more than the above.
	TimeFormat string              // RecordTime: the strftime format
	Join       abi.JoinLayout      // RecordJoin
	Warning    abi.Warning         // RecordWarning
	Timestamp  abi.TimestampFormat // RecordTimestampFormat
}

// EventArg is one value in a record.
type EventArg struct {
	Type   *types.Type
	Offset int
}

// The event ring buffer's size unless config perf_rb_pages sets it.
// DefaultRingBufSize, for programs that print from their probes, is 8
// MiB: a quarter of a second of a million events a second, for bursts
// while user space is busy (the record pump keeps it empty otherwise; see
// internal/runtime). A program that only aggregates sends few records
// (exit, warnings) and gets QuietRingBufSize: a ring buffer's pages count
// in the process's memory, twice, from its start.
const (
	DefaultRingBufSize = 8 << 20
	QuietRingBufSize   = 256 << 10
)

// Compile generates BPF for a checked program.
func Compile(info *types.Info, file *lang.File, opts Options) (*Program, error) {
	if opts.PossibleCPUs == 0 {
		opts.PossibleCPUs = 1
	}
	c := &compiler{
		file: file,
		info: info,
		opts: opts,
		prog: &Program{
			File:       file,
			Info:       info,
			Collection: &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}},
			Warnings:   info.Warnings,

			EventContext: opts.EventContext,
		},
		maps:     map[string]*Map{},
		probeIDs: map[string]int{},
		events:   map[*ast.Call]int{},

		byHash:     map[string]string{},
		frameIndex: map[*types.ProbeInfo]int{},
		warnings:   map[warningSite]int{},
		fullSites:  map[warningSite]int{},
	}
	c.declareMaps()
	c.iterAlone()
	for _, pi := range info.Probes {
		for _, ap := range pi.Points {
			c.probe(pi, ap)
		}
	}
	if c.opts.UprobeMulti {
		c.useUprobeMulti()
	}
	if limit := info.Config.MaxPrograms; limit > 0 && len(c.prog.Collection.Programs) > limit {
		c.errs.Add(file, info.Probes[0].Node.Sp, "this program needs %d BPF programs, more than max_bpf_progs (%d)", len(c.prog.Collection.Programs), limit)
	}
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	if len(c.frameIndex) > 0 {
		c.prog.Collection.Maps[abi.FrameMap] = frameMapSpec(len(c.frameIndex), c.frameSize)
	}
	c.prog.Collection.Maps[abi.CountersMap].MaxEntries = uint32(abi.FirstFullCounter + len(c.prog.FullSites))
	c.prog.Collection.Maps[abi.EventsMap].MaxEntries = uint32(c.ringBufSize())
	return c.prog, nil
}

type compiler struct {
	file *lang.File
	info *types.Info
	opts Options
	prog *Program
	errs lang.ErrorList

	maps     map[string]*Map
	probeIDs map[string]int
	events   map[*ast.Call]int
	byHash   map[string]string // instruction hash → program name, to share programs
	// frameIndex numbers the probes whose frames are in per-CPU memory
	// (frame.go), each an entry of the frame map of frameSize bytes.
	frameIndex map[*types.ProbeInfo]int
	frameSize  int
	warnings   map[warningSite]int
	// fullSites numbers the map-full sites (Program.FullSites).
	fullSites map[warningSite]int

	progN int
}

func (c *compiler) declareMaps() {
	for _, mi := range c.info.Maps {
		if mi.Value == nil {
			continue
		}
		m := &Map{Name: "@" + mi.Name, Info: mi, Key: mi.KeyType(), Value: mi.Value}
		spec := &ebpf.MapSpec{
			Name:       bpfName("m_" + mi.Name),
			Type:       ebpf.Hash,
			KeySize:    uint32(m.KeySize()),
			ValueSize:  uint32(mi.Value.Size),
			MaxEntries: uint32(mi.MaxEntries),
		}
		lru := mi.Decl != nil && strings.Contains(mi.Decl.Kind, "lru")
		if lru {
			spec.Type = ebpf.LRUHash
		}
		if mi.Value.IsAggregation() {
			// Per-CPU values let the hot path update in place without
			// atomics or lost updates; user space combines the CPUs.
			spec.Type = ebpf.PerCPUHash
			if lru {
				spec.Type = ebpf.LRUCPUHash
			}
			m.PerCPU = true
		}
		if mi.Value.Kind == types.Hist || mi.Value.Kind == types.LHist {
			// A histogram is one counter per (key, bucket): the bucket
			// index is appended to the key, as bpftrace does.
			m.Bucketed = true
			if n := bucketCount(mi.Value); len(mi.Keys) == 0 && mi.Decl == nil && n <= maxArrayBuckets && c.usedOnlyBy(mi.Name, histFunc[mi.Value.Kind], "print", "clear", "zero") {
				m.Array, m.ArrayBuckets, m.PerCPU = true, int(n), false
				spec.Type = ebpf.Array
				spec.MaxEntries = uint32(n) * uint32(c.opts.PossibleCPUs)
			}
			spec.KeySize = uint32(m.KeySize())
		}
		if mi.Value.Kind == types.TSeries {
			// An entry per (key, interval), as bpftrace keeps them: the
			// interval's index is appended to the key.
			m.Bucketed = true
			spec.KeySize = uint32(m.KeySize())
			spec.MaxEntries = max(spec.MaxEntries, uint32(mi.Value.Intervals))
		}
		if mi.Value.Kind == types.Bool {
			spec.ValueSize = 8
		}
		m.Spec = spec
		if m.Slots = c.slotsFor(mi, m); m.Slots != nil {
			c.prog.Collection.Maps[abi.SlotsMap(mi.Name)] = m.Slots
		}
		if m.ValueSlots = c.valueSlotsFor(mi, m); m.ValueSlots != nil {
			c.prog.Collection.Maps[abi.ValueSlotsMap(mi.Name)] = m.ValueSlots
		}
		c.maps[mi.Name] = m
		c.prog.Maps = append(c.prog.Maps, m)
		c.prog.Collection.Maps[abi.ScriptMap(mi.Name)] = spec
	}
	// Sized once the programs are generated and what they print known.
	c.prog.Collection.Maps[abi.EventsMap] = &ebpf.MapSpec{
		Name: abi.EventsMap,
		Type: ebpf.RingBuf,
	}
	// Sized once the programs are generated and the map-full sites known.
	c.prog.Collection.Maps[abi.CountersMap] = &ebpf.MapSpec{
		Name:      abi.CountersMap,
		Type:      ebpf.PerCPUArray,
		KeySize:   4,
		ValueSize: 8,
	}
}

// ringBufSize is the event ring buffer's size: the one configured, or by
// whether the probes print.
func (c *compiler) ringBufSize() int {
	if c.opts.RingBufSize > 0 {
		return c.opts.RingBufSize
	}
	for _, ev := range c.prog.Events {
		switch ev.Kind {
		case abi.RecordPrintf, abi.RecordPrint, abi.RecordPrintMap, abi.RecordTime, abi.RecordJoin,
			abi.RecordCat, abi.RecordSystem, abi.RecordErrorf, abi.RecordWarnf:
			return DefaultRingBufSize
		}
	}
	return QuietRingBufSize
}

// histFunc is the function that aggregates into a histogram value.
var histFunc = map[types.Kind]string{types.Hist: "hist", types.LHist: "lhist"}

// maxArrayBuckets bounds the histograms kept in arrays: every bucket has a
// slot per CPU, hit or not.
const maxArrayBuckets = 4096

// bucketCount is the number of buckets a hist or lhist value can hit, as
// histBucket and linearBucket number them.
func bucketCount(t *types.Type) int64 {
	if t.Kind == types.Hist {
		k := int64(t.Bits)
		// Bucket 0 (negative), 1 (zero), then 2^k per power of two up to
		// 2^62, the highest a non-negative int64 reaches.
		return (63-k)<<k + 1<<k + 1
	}
	if t.Step <= 0 || t.Max <= t.Min {
		return maxArrayBuckets + 1
	}
	// Below the range, one per step, and at or above the maximum.
	return 2 + (t.Max-t.Min)/t.Step
}

// usedOnlyBy reports whether every use of @name in the probes is an
// aggregation into it, `@name[...] = agg(...)`, or a call among userCalls
// of the whole map (`print(@name)`), which user space carries out: then
// no probe reads the map, so it may be kept in a form only user space
// understands (a bucket array, count slots).
func (c *compiler) usedOnlyBy(name, agg string, userCalls ...string) bool {
	return c.onlyUses(name, func(n ast.Node) (useVerdict, []ast.Expr) {
		switch n := n.(type) {
		case *ast.AssignStmt:
			ref, isRef := n.Target.(*ast.MapRef)
			call, isCall := n.Value.(*ast.Call)
			if isRef && ref.Name == name && n.Op == "=" && isCall && call.Name == agg {
				return acceptedUse, append(slices.Clone(ref.Keys), call.Args...)
			}
		case *ast.Call:
			if ref, isRef := firstArg(n).(*ast.MapRef); isRef && ref.Name == name && len(ref.Keys) == 0 && slices.Contains(userCalls, n.Name) {
				return acceptedUse, n.Args[1:]
			}
		}
		return notAUse, nil
	})
}

// A useVerdict is what a map's use check says of one node.
type useVerdict int

const (
	notAUse     useVerdict = iota // look inside the node
	acceptedUse                   // a use that is allowed; walk on into the expressions returned
	rejectedUse                   // a use that is not allowed
)

// onlyUses walks the probes and reports whether every reference to @name
// is inside a node that judge accepts. judge sees every node; any
// reference to the map that it does not account for fails the check.
func (c *compiler) onlyUses(name string, judge func(n ast.Node) (useVerdict, []ast.Expr)) bool {
	ok := true
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch v, rest := judge(n); v {
		case acceptedUse:
			for _, x := range rest {
				ast.Inspect(x, visit)
			}
			return false
		case rejectedUse:
			ok = false
			return false
		}
		if ref, isRef := n.(*ast.MapRef); isRef && ref.Name == name {
			ok = false
		}
		return ok
	}
	for _, pi := range c.info.Probes {
		ast.Inspect(pi.Node, visit)
	}
	return ok
}

func firstArg(x *ast.Call) ast.Expr {
	if len(x.Args) == 0 {
		return nil
	}
	return x.Args[0]
}

// bpfName makes a kernel object name: at most 15 characters of [A-Za-z0-9_.].
func bpfName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() == 15 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// probeID returns the index of an attach point's name for the probe builtin.
func (c *compiler) probeID(name string) int {
	if id, ok := c.probeIDs[name]; ok {
		return id
	}
	id := len(c.prog.ProbeNames)
	c.probeIDs[name] = id
	c.prog.ProbeNames = append(c.prog.ProbeNames, name)
	return id
}

// event registers a record kind for a call, once per call site.
func (c *compiler) event(call *ast.Call, ev *Event) int {
	if id, ok := c.events[call]; ok {
		return id
	}
	id := len(c.prog.Events)
	ev.Node = call
	c.prog.Events = append(c.prog.Events, ev)
	c.events[call] = id
	return id
}

// iterAlone refuses an iter probe with other probes, as bpftrace does: the
// run ends once the iterator is read, which leaves other probes no time.
// BEGIN and END may accompany it (bpftrace's docs forbid those too, but
// they run before and after the iterator, which is well defined).
func (c *compiler) iterAlone() {
	var iter *types.ProbeInfo
	var other *types.AttachPoint
	for _, pi := range c.info.Probes {
		for _, ap := range pi.Points {
			switch {
			case ap.Kind == probe.Iter && iter == nil:
				iter = pi
			case ap.Kind == probe.Iter || !ap.Kind.IsRun():
				other = ap
			}
		}
	}
	if iter != nil && other != nil {
		c.errs.Add(c.file, iter.Node.AttachPoints[0].Sp, "an iter probe cannot be mixed with other probes, not even another iterator (here %s): the run ends once the iterator is read; BEGIN and END may accompany it", other.Name)
	}
}

// attachKind decides how an attach point's program attaches, and its
// program and attach types.
func (c *compiler) attachKind(ap *types.AttachPoint) (probe.Kind, ebpf.ProgramType, ebpf.AttachType, error) {
	switch ap.Kind {
	case probe.Tracepoint:
		return ap.Kind, ebpf.TracePoint, ebpf.AttachNone, nil
	case probe.Kprobe:
		if c.opts.KprobesAsFentry {
			return probe.Fentry, ebpf.Tracing, ebpf.AttachTraceFEntry, nil
		}
		return ap.Kind, ebpf.Kprobe, ebpf.AttachNone, nil
	case probe.Kretprobe:
		if c.opts.KprobesAsFentry {
			return probe.Fexit, ebpf.Tracing, ebpf.AttachTraceFExit, nil
		}
		return ap.Kind, ebpf.Kprobe, ebpf.AttachNone, nil
	case probe.Fentry:
		return ap.Kind, ebpf.Tracing, ebpf.AttachTraceFEntry, nil
	case probe.Fexit:
		return ap.Kind, ebpf.Tracing, ebpf.AttachTraceFExit, nil
	case probe.Iter:
		// AttachTo names the iterator ("task"); the kernel's target is
		// its bpf_iter_task function.
		return ap.Kind, ebpf.Tracing, ebpf.AttachTraceIter, nil
	case probe.RawTracepoint:
		if c.opts.BTFRawTracepoints[ap.Target] {
			return ap.Kind, ebpf.Tracing, ebpf.AttachTraceRawTp, nil
		}
		return ap.Kind, ebpf.RawTracepoint, ebpf.AttachNone, nil
	case probe.Begin, probe.End, probe.Self:
		// Run by the session with BPF_PROG_TEST_RUN, which raw tracepoint
		// programs support.
		return ap.Kind, ebpf.RawTracepoint, ebpf.AttachNone, nil
	case probe.Interval, probe.Profile, probe.Software, probe.Hardware, probe.Watchpoint:
		return ap.Kind, ebpf.PerfEvent, ebpf.AttachNone, nil
	case probe.Uprobe, probe.Uretprobe, probe.USDT:
		// Uprobes have pt_regs contexts, as kprobes do.
		return ap.Kind, ebpf.Kprobe, ebpf.AttachNone, nil
	}
	return 0, 0, 0, fmt.Errorf("%s probes are not supported yet", ap.Kind)
}

func (c *compiler) probe(pi *types.ProbeInfo, ap *types.AttachPoint) {
	kind, ptype, atype, err := c.attachKind(ap)
	if err != nil {
		c.errs.Add(c.file, pi.Node.AttachPoints[0].Sp, "%s", err)
		return
	}
	g := c.generate(pi, ap, kind, ptype == ebpf.Tracing, c.info.Config.OffStack)
	insns, err := g.finish()
	if g.stackOverflow && !g.bigFrame {
		// Too large for the stack: again, with the large objects in
		// per-CPU memory (frame.go).
		g = c.generate(pi, ap, kind, ptype == ebpf.Tracing, true)
		insns, err = g.finish()
	}
	c.errs = append(c.errs, g.errs...)
	if g.bigFrame && len(g.errs) == 0 {
		c.frameSize = max(c.frameSize, g.scratchSize)
	}
	if err != nil {
		c.errs.Add(c.file, pi.Node.Sp, "%s", err)
		return
	}
	if len(g.errs) > 0 {
		return
	}
	spec := &ebpf.ProgramSpec{
		Type:         ptype,
		AttachType:   atype,
		Instructions: insns,
		License:      license(c.info.Config.License),
	}
	if ptype == ebpf.Tracing {
		spec.AttachTo = ap.Target
	}
	// Attach points whose code is identical share one program: a wildcard
	// over hundreds of tracepoints then loads once.
	hash := programHash(spec)
	name, ok := c.byHash[hash]
	if !ok {
		name = bpfName(fmt.Sprintf("p%d_%s", c.progN, shortTarget(ap)))
		c.progN++
		spec.Name = name
		c.prog.Collection.Programs[name] = spec
		c.byHash[hash] = name
	}
	c.prog.Probes = append(c.prog.Probes, &Probe{Point: ap, Kind: kind, Program: name, Node: pi.Node})
}

// generate generates one attach point's program; bigFrame puts its frame
// in per-CPU memory, in the probe's entry of the frame map.
func (c *compiler) generate(pi *types.ProbeInfo, ap *types.AttachPoint, kind probe.Kind, btfTyped, bigFrame bool) *gen {
	g := newGen(c)
	g.ap = ap
	g.kind = kind
	g.btfTyped = btfTyped
	if bigFrame {
		g.bigFrame = true
		idx, ok := c.frameIndex[pi]
		if !ok {
			idx = len(c.frameIndex)
			c.frameIndex[pi] = idx
		}
		g.frameIndex = idx
	}
	g.probeBody(pi.Node)
	return g
}

func shortTarget(ap *types.AttachPoint) string {
	t := ap.Target
	if i := strings.LastIndexAny(t, ":/"); i >= 0 {
		t = t[i+1:]
	}
	if t == "" {
		t = ap.Kind.String()
	}
	return t
}

// programHash identifies a program by its type and instructions.
func programHash(spec *ebpf.ProgramSpec) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d/%d/%s/", spec.Type, spec.AttachType, spec.AttachTo)
	var raw [16]byte
	for _, ins := range spec.Instructions {
		binary.LittleEndian.PutUint64(raw[:8], uint64(ins.OpCode)|uint64(ins.Dst)<<32|uint64(ins.Src)<<40|uint64(uint16(ins.Offset))<<48)
		binary.LittleEndian.PutUint64(raw[8:], uint64(ins.Constant))
		h.Write(raw[:])
		io.WriteString(h, ins.Reference())
	}
	return string(h.Sum(nil))
}

// SortedMaps returns the maps sorted by name, the order bpftrace prints
// them in at exit.
func (p *Program) SortedMaps() []*Map {
	out := append([]*Map(nil), p.Maps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Map returns the script map @name (name with or without '@').
func (p *Program) Map(name string) *Map {
	name = strings.TrimPrefix(name, "@")
	for _, m := range p.Maps {
		if m.Info.Name == name {
			return m
		}
	}
	return nil
}

// license is the license programs are loaded under: GPL by default, as
// bpftrace does, since most tracing helpers are GPL-only.
func license(l string) string {
	if l == "" {
		return "GPL"
	}
	return l
}
