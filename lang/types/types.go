// Package types declares the types of ktrace's language and implements the
// checker that assigns them: it resolves names (builtins, variables, maps,
// tracepoint fields), infers every expression's type, decides each map's key
// and value signature, and rejects programs the compiler could not compile.
package types

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kind classifies a Type.
type Kind int

// The kinds of values a script can hold.
const (
	Invalid Kind = iota
	None         // statements and calls that produce no value
	Int
	Bool
	String // a NUL-terminated byte buffer of fixed capacity
	Tuple
	Pointer
	Array    // fixed-size array of Elem, e.g. a tracepoint's `unsigned long args[6]`
	ProbeID  // the `probe` builtin: an index into the program's probe names
	Ksym     // a kernel address printed as a symbol (`func` in kprobes)
	Username // a uid printed as a user name
	Stack    // kstack/ustack (see stacks.go)
	Usym     // usym(): a user address, printed as a symbol of its process
	Buffer   // buf(): raw bytes printed as hex escapes
	// Timestamp is strftime()'s value: nanoseconds and a format, printed
	// as formatted time.
	Timestamp
	// Inet is ntop()'s value: an address family and an IPv4 or IPv6
	// address, printed as text.
	Inet
	// Strerror is strerror()'s value: an errno, printed as its message.
	Strerror
	// SyscallName is syscall_name()'s value: a system call number,
	// printed as the call's name.
	SyscallName
	// SignalName is signal_name()'s value: a signal number, printed as
	// the signal's description.
	SignalName
	// MacAddr is macaddr()'s value: six bytes, printed as a MAC address.
	MacAddr
	// CgroupPath is cgroup_path()'s value: a cgroup id and which
	// hierarchies to search, printed as the cgroup's paths.
	CgroupPath
	Struct // a kernel struct or union, known from BTF

	// Aggregation kinds are only map values.
	Count
	Sum
	Min
	Max
	Avg
	Stats
	Hist
	LHist
	// TSeries is tseries()'s value: per CPU, one {value, meta, epoch}
	// bucket per (key, interval index) entry (see TSeriesBucketSize).
	TSeries
)

// Type describes a value. Types are compared with Equal, not ==.
type Type struct {
	Kind   Kind
	Size   int  // bytes the value occupies in BPF memory
	Signed bool // for Int, Sum, Min, Max, Avg, Stats

	Elems []*Type  // Tuple elements
	Names []string // a record's field names, one per element; nil for a tuple
	Elem  *Type    // Pointer target or Array element
	Len   int      // Array length
	Name  string   // C type name for pointers ("struct sock") and enums

	// Enum names integer values, for fields whose values have symbolic
	// names (a tracepoint's __print_symbolic table or a BTF enum).
	Enum map[int64]string

	// UserSpace marks pointers into user memory (syscall arguments, uprobes).
	UserSpace bool
	// StackAddr marks the address of a variable (&$x), or a value computed
	// from one: an address in the probe's BPF stack, which the kernel's
	// verifier lets a program move (+, -) and compare, but not compute with.
	StackAddr bool

	// Bounded marks a string that str() cut at max_strlen: one that fills
	// its capacity prints with the truncation trailer ("..").
	Bounded bool

	// Source is the TypeSource's own handle for a Struct (a BTF type),
	// used to look up members on demand: kernel structs are large and
	// most scripts touch a few members.
	Source any
	// Members of a Struct, filled in only when the whole struct is used as
	// a value (print(*p)); member access goes through TypeSource.Member.
	Members []*Member

	// LHist parameters.
	Min, Max, Step int64
	// Hist bucket scale (log2 buckets per power of two, bpftrace's k).
	Bits int

	// TSeries parameters: the interval's length in nanoseconds, how many
	// intervals are kept, and how values in one interval combine ("" keeps
	// the last one; "avg", "max", "min" or "sum").
	Interval, Intervals int64
	TSeriesAgg          string
}

// Predeclared types.
var (
	TypInvalid = &Type{Kind: Invalid}
	TypNone    = &Type{Kind: None}
	TypBool    = &Type{Kind: Bool, Size: 1}
	TypU8      = &Type{Kind: Int, Size: 1}
	TypU16     = &Type{Kind: Int, Size: 2}
	TypU32     = &Type{Kind: Int, Size: 4}
	TypU64     = &Type{Kind: Int, Size: 8}
	TypS8      = &Type{Kind: Int, Size: 1, Signed: true}
	TypS16     = &Type{Kind: Int, Size: 2, Signed: true}
	TypS32     = &Type{Kind: Int, Size: 4, Signed: true}
	TypS64     = &Type{Kind: Int, Size: 8, Signed: true}
	TypProbe   = &Type{Kind: ProbeID, Size: 8}
	TypKsym    = &Type{Kind: Ksym, Size: 8}
	TypUser    = &Type{Kind: Username, Size: 8}
)

// IntType returns the integer type of the given size in bytes and signedness.
func IntType(size int, signed bool) *Type {
	switch {
	case size <= 1:
		return pick(signed, TypS8, TypU8)
	case size <= 2:
		return pick(signed, TypS16, TypU16)
	case size <= 4:
		return pick(signed, TypS32, TypU32)
	}
	return pick(signed, TypS64, TypU64)
}

func pick(c bool, a, b *Type) *Type {
	if c {
		return a
	}
	return b
}

// RecordType builds a record: a tuple whose elements have names. The
// fields are kept in the order of their names, so that records written
// with their fields in different orders are one type (and one layout).
func RecordType(elems []*Type, names []string) *Type {
	if names == nil {
		return TupleType(elems)
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	sortedElems, sortedNames := make([]*Type, len(elems)), make([]string, len(names))
	for i, j := range order {
		sortedElems[i], sortedNames[i] = elems[j], names[j]
	}
	t := TupleType(sortedElems)
	t.Names = sortedNames
	return t
}

// FieldIndex returns the element index of a record's field, or -1.
func (t *Type) FieldIndex(name string) int {
	return slices.Index(t.Names, name)
}

// StringType returns a string type holding up to size-1 bytes plus NUL.
func StringType(size int) *Type { return &Type{Kind: String, Size: size} }

// TupleType builds a tuple; elements are laid out like a C struct with
// natural alignment, as bpftrace does, so the map key bytes match.
func TupleType(elems []*Type) *Type {
	t := &Type{Kind: Tuple, Elems: elems}
	t.Size = TupleLayout(elems).Size
	return t
}

// Layout gives each tuple element's byte offset.
type Layout struct {
	Offsets []int
	Size    int
}

// TupleLayout computes element offsets with natural alignment.
func TupleLayout(elems []*Type) Layout {
	var l Layout
	off, maxAlign := 0, 1
	for _, e := range elems {
		a := e.Align()
		if a > maxAlign {
			maxAlign = a
		}
		off = alignUp(off, a)
		l.Offsets = append(l.Offsets, off)
		off += e.Size
	}
	l.Size = alignUp(off, maxAlign)
	return l
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// Align is the type's alignment in memory.
func (t *Type) Align() int {
	switch t.Kind {
	case Int, Bool:
		return t.Size
	case String, Buffer, MacAddr:
		return 1
	case Tuple:
		a := 1
		for _, e := range t.Elems {
			if e.Align() > a {
				a = e.Align()
			}
		}
		return a
	case Array:
		return t.Elem.Align()
	}
	return 8
}

// IsInt reports whether values of t are integers in registers (ints,
// booleans, pointers and integer-like builtins).
func (t *Type) IsInt() bool {
	switch t.Kind {
	case Int, Bool, Pointer, ProbeID, Ksym, Username:
		return true
	}
	return false
}

// IsAggregation reports whether t is a count/sum/hist-like map value.
func (t *Type) IsAggregation() bool { return t.Kind >= Count }

// InRegister reports whether a value of t fits a BPF register.
func (t *Type) InRegister() bool { return t.IsInt() }

// Equal reports whether two types are the same.
func Equal(a, b *Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Int:
		return a.Size == b.Size && a.Signed == b.Signed
	case String:
		return a.Size == b.Size
	case Tuple:
		if len(a.Elems) != len(b.Elems) || !slices.Equal(a.Names, b.Names) {
			return false
		}
		for i := range a.Elems {
			if !Equal(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
		return true
	case Pointer:
		// By what they point to: C's char * and a cast's (int8 *) are one
		// type, whatever each is called.
		return Equal(a.Elem, b.Elem)
	case Array:
		return a.Len == b.Len && Equal(a.Elem, b.Elem)
	case Struct:
		return a.Name == b.Name && a.Size == b.Size
	case Stack:
		return equalStacks(a, b)
	case LHist:
		return a.Min == b.Min && a.Max == b.Max && a.Step == b.Step
	case Hist:
		return a.Bits == b.Bits
	case TSeries:
		return a.Interval == b.Interval && a.Intervals == b.Intervals && a.TSeriesAgg == b.TSeriesAgg
	}
	return true
}

// String formats the type as bpftrace writes it in error messages.
func (t *Type) String() string {
	if t == nil {
		return "none"
	}
	switch t.Kind {
	case Invalid:
		return "invalid"
	case None:
		return "none"
	case Int:
		if t.Name != "" {
			return t.Name
		}
		if t.Signed {
			return fmt.Sprintf("int%d", t.Size*8)
		}
		return fmt.Sprintf("uint%d", t.Size*8)
	case Bool:
		return "bool"
	case String:
		return fmt.Sprintf("string[%d]", t.Size)
	case Tuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
			if t.Names != nil {
				parts[i] = t.Names[i] + "=" + parts[i]
			}
		}
		return "(" + strings.Join(parts, ",") + ")"
	case Pointer:
		if t.Name != "" {
			return t.Name + " *"
		}
		return t.Elem.String() + " *"
	case Array:
		return fmt.Sprintf("%s[%d]", t.Elem, t.Len)
	case ProbeID:
		return "probe"
	case Ksym:
		return "ksym_t"
	case Username:
		return "username"
	case Stack:
		return stackString(t)
	case Usym:
		return "usym_t"
	case Buffer:
		return fmt.Sprintf("buffer[%d]", t.Size)
	case Timestamp:
		return "timestamp"
	case Inet:
		return "inet"
	case Strerror:
		return "strerror_t"
	case SyscallName:
		return "syscall_name_t"
	case SignalName:
		return "signal_name_t"
	case MacAddr:
		return "macaddr_t"
	case CgroupPath:
		return "cgroup_path_t"
	case Struct:
		return t.Name
	case Count:
		return "count_t"
	case Sum:
		return "sum_t"
	case Min:
		return "min_t"
	case Max:
		return "max_t"
	case Avg:
		return "avg_t"
	case Stats:
		return "stats_t"
	case Hist:
		return "hist_t"
	case LHist:
		return "lhist_t"
	case TSeries:
		return "tseries_t"
	}
	return "?"
}

// Member is one member of a struct or union.
type Member struct {
	Name string
	// Offset is the byte offset from the start of the outermost struct
	// the member was looked up in (anonymous members are flattened).
	Offset int
	Type   *Type
	// BitOffset and BitSize locate a bitfield within the bytes at Offset
	// (BitSize 0: not a bitfield).
	BitOffset, BitSize int
}

// TypeSource provides kernel types, from BTF, to the checker.
type TypeSource interface {
	// Type resolves a C type name: "struct sock", "union bpf_attr",
	// "enum skb_drop_reason", a typedef such as "u32" or "pid_t".
	Type(name string) (*Type, error)
	// Member finds a member of a Struct, looking through anonymous
	// structs and unions.
	Member(t *Type, name string) (*Member, error)
	// Members lists a Struct's members (anonymous ones flattened).
	Members(t *Type) ([]*Member, error)
	// Enumerator finds an enum constant by name: its value and enum type.
	Enumerator(name string) (value int64, t *Type, ok bool)
}
