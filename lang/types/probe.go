package types

// ProbeKind is the kind of an attach point, which decides the program type,
// the context layout and which builtins are valid.
type ProbeKind int

// Probe kinds.
const (
	ProbeBegin ProbeKind = iota + 1
	ProbeEnd
	ProbeTracepoint
	ProbeRawTracepoint
	ProbeKprobe
	ProbeKretprobe
	ProbeFentry
	ProbeFexit
	ProbeUprobe
	ProbeUretprobe
	ProbeUsdt
	ProbeInterval
	ProbeProfile
	ProbeSoftware
	ProbeHardware
	ProbeWatchpoint
	ProbeIter
)

var probeKindNames = map[ProbeKind]string{
	ProbeBegin: "BEGIN", ProbeEnd: "END", ProbeTracepoint: "tracepoint",
	ProbeRawTracepoint: "rawtracepoint", ProbeKprobe: "kprobe", ProbeKretprobe: "kretprobe",
	ProbeFentry: "fentry", ProbeFexit: "fexit", ProbeUprobe: "uprobe", ProbeUretprobe: "uretprobe",
	ProbeUsdt: "usdt", ProbeInterval: "interval", ProbeProfile: "profile", ProbeSoftware: "software",
	ProbeHardware: "hardware", ProbeWatchpoint: "watchpoint", ProbeIter: "iter",
}

func (k ProbeKind) String() string {
	if s, ok := probeKindNames[k]; ok {
		return s
	}
	return "unknown"
}

// HasRegisters reports whether the context is a pt_regs, so that arg0..argN
// and retval read registers.
func (k ProbeKind) HasRegisters() bool {
	switch k {
	case ProbeKprobe, ProbeKretprobe, ProbeUprobe, ProbeUretprobe, ProbeUsdt:
		return true
	}
	return false
}

// IsReturn reports whether the probe fires on function return.
func (k ProbeKind) IsReturn() bool {
	return k == ProbeKretprobe || k == ProbeUretprobe || k == ProbeFexit
}

// IsUser reports whether the probe traces user space, which makes pointers
// user pointers.
func (k ProbeKind) IsUser() bool {
	return k == ProbeUprobe || k == ProbeUretprobe || k == ProbeUsdt
}

// AttachPoint is one concrete attach point after wildcard expansion.
type AttachPoint struct {
	Kind ProbeKind
	// Name is the canonical full name that the `probe` builtin returns,
	// e.g. "tracepoint:skb:kfree_skb".
	Name string
	// Target is what to attach to: "skb:kfree_skb", "vfs_read".
	Target string
	// Fields are the tracepoint's record fields (the `args` struct).
	Fields []*Field
	// UserArgs marks tracepoints whose pointer fields point into user
	// memory (the syscalls category).
	UserArgs bool
	// Spec is the resolver's own description, carried to the compiler.
	Spec any
	// LoadArgs, when set, types the attach point's arguments on first use
	// of args (from the function's or raw tracepoint's BTF prototype): a
	// script that never touches args does not pay for loading BTF.
	LoadArgs func() ([]*Field, error)
	// Ret is the traced function's return type (fexit, kretprobe), when
	// known from BTF; set by LoadArgs.
	Ret *Type
}

// Field is one member of a probe's `args`.
type Field struct {
	Name   string
	Type   *Type
	Offset int
	// DataLoc marks a __data_loc field: a u32 holding (length << 16 | offset)
	// of a string stored later in the record.
	DataLoc bool
	// Arg, when positive, makes the field the (Arg-1)th argument of a
	// function or raw tracepoint rather than a record field: fentry and
	// raw tracepoint contexts are arrays of u64 arguments, kprobes read
	// the argument registers.
	Arg int
}

// Args types the attach point's arguments, loading them on first use.
func (a *AttachPoint) Args() ([]*Field, error) {
	if a.Fields == nil && a.LoadArgs != nil {
		fields, err := a.LoadArgs()
		if err != nil {
			return nil, err
		}
		a.Fields = fields
		a.LoadArgs = nil
	}
	return a.Fields, nil
}

// Field returns the named field, or nil.
func (a *AttachPoint) Field(name string) *Field {
	for _, f := range a.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Resolver turns the raw text of an attach point into concrete attach
// points, expanding wildcards. Errors are plain sentences; the checker
// positions them.
type Resolver interface {
	Resolve(raw string) ([]*AttachPoint, error)
}
