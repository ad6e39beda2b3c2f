package types

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// The checker's results and settings, as the compiler and the command
// line see them.

// Config holds the settings a check depends on.
type Config struct {
	// Params are the positional parameters $1, $2, ...
	Params []string
	// MaxStrlen is the capacity of strings made by str() (default 64).
	MaxStrlen int
	// MaxMapKeys is the default number of entries of a map (default 4096).
	MaxMapKeys int
	// Types provides kernel types (BTF) for casts, member access, enums
	// and typed arguments; nil when the kernel has none.
	Types TypeSource

	// Settings from the script's config block.
	NoExitDump    bool   // print_maps_on_exit = false
	MissingProbes string // "error" (default), "warn" or "ignore"
	RingBufPages  int    // perf_rb_pages
	MaxProbes     int    // max_probes (default 1024)
	MaxPrograms   int    // max_bpf_progs (default 1024)
	MaxCatBytes   int    // max_cat_bytes
	// OnStackLimit is on_stack_limit: in a probe whose frame does not
	// fit the BPF stack, strings and other objects larger than this go to
	// per-CPU memory (0: bpftrace's default, 32). OffStack is
	// on_stack_limit = 0: every probe keeps all but its integers there.
	OnStackLimit int
	OffStack     bool
	StackMode    string // stack_mode: bpftrace, perf, raw or build_id
	License      string // license of the loaded programs
	// StrTruncTrailer is appended to strings str() truncated (".." when
	// nil).
	StrTruncTrailer *string
	// Unsafe allows functions with side effects beyond tracing, such as
	// system() and signal() (bpftrace's --unsafe).
	Unsafe bool
	// ChildPID is the value of cpid: the child started for the script
	// (bpftrace's -c); 0 means there is none, and cpid is an error.
	ChildPID int
	// NamedParams are the values of getopt() parameters, by name
	// (--name=value after "--" on the command line).
	NamedParams map[string]string
}

// Info is what the checker learned about a program. The compiler reads it
// instead of re-deriving types.
type Info struct {
	Probes []*ProbeInfo
	Maps   []*MapInfo // in order of first appearance
	// Types holds the type of every expression that has one.
	Types map[ast.Expr]*Type
	// Consts holds the value of integer expressions known at compile time.
	Consts map[ast.Expr]int64
	// StrConsts holds the value of string expressions known at compile time.
	StrConsts map[ast.Expr]string
	// Vars maps every use of a $variable to its declaration.
	Vars map[*ast.Variable]*Var
	// Formats holds the parsed format of every printf-like call.
	Formats map[*ast.Call]*Format
	// CgroupPathFilters are the distinct filters of hierarchy names of
	// the cgroup_path() calls ("*" for a call without one); a value of
	// cgroup_path() holds its filter's index, CgroupPathFilter[call].
	CgroupPathFilters []string
	CgroupPathFilter  map[*ast.Call]int
	// Kfuncs holds the BTF ids of the kernel functions the program calls
	// (comm(pid)), by name.
	Kfuncs map[string]uint32
	// PercpuVars holds the BTF id of the variable of each percpu_kaddr().
	PercpuVars map[*ast.Call]uint32
	// SkbOutputs are the skboutput() calls' files and offsets; a call's
	// packets carry its index, SkbOutput[call].
	SkbOutputs []SkbOutput
	SkbOutput  map[*ast.Call]int
	// Members holds the struct member each field access reads.
	Members map[*ast.Field]*Member
	// RecordFields holds the element index of each field access on a
	// record, `$r.name`, which reads like a tuple's `.N`.
	RecordFields map[*ast.Field]int
	// ArgsRecords holds, for each use of `args` as a whole value, the
	// record literal of its fields it stands for: (a=args.a, b=args.b).
	ArgsRecords map[*ast.Ident]*ast.Tuple
	// UserSymbols holds the address, as linked, of the symbol of each
	// uaddr() call in a position-independent binary, which the compiler
	// adds the load bias to (other uaddr() calls are in Consts): the
	// binary is read once, by the checker's resolver.
	UserSymbols map[*ast.Call]uint64
	// Builtins holds the builtin variables and functions the probes use,
	// so that the target facts a compilation needs (BTF offsets, stack
	// depth) are looked up only for scripts that need them.
	Builtins map[builtins.ID]bool
	// Config is the effective configuration after the script's config block.
	Config Config
	// Warnings are non-fatal diagnostics.
	Warnings lang.ErrorList

	maps map[string]*MapInfo
}

// Map returns the map named name ("" for the anonymous map @), or nil.
func (in *Info) Map(name string) *MapInfo { return in.maps[name] }

// ProbeInfo is a checked action block.
type ProbeInfo struct {
	Node   *ast.Probe
	Points []*AttachPoint
}

// MapInfo is the signature of one map.
type MapInfo struct {
	Name string // without the '@'
	// Keys are the key element types; none for a map without a key.
	// A multi-key map @m[a, b] is keyed by the tuple (a, b).
	Keys []*Type
	// Value is the value type (an aggregation kind for count() etc.).
	Value *Type
	// Decl is the map's declaration, when the script has one.
	Decl *ast.MapDecl
	// MaxEntries is the map's capacity.
	MaxEntries int
	// Pos is where the map first appears.
	Pos lang.Span

	keysSet bool
}

// KeyType returns the key as one type: the single key, a tuple for several,
// or nil for a map without a key.
func (m *MapInfo) KeyType() *Type {
	switch len(m.Keys) {
	case 0:
		return nil
	case 1:
		return m.Keys[0]
	}
	return TupleType(m.Keys)
}

// Var is one declared scratch variable.
type Var struct {
	Name string
	Type *Type
	Decl *ast.Variable
	ID   int
}
