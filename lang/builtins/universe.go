package builtins

import (
	"sort"

	"github.com/ktrace/ktrace/lang/probe"
)

// ID identifies a builtin variable or function.
type ID int

// The builtins: variables, then functions.
const (
	Invalid ID = iota
	Pid
	Tid
	Uid
	Gid
	Comm
	Nsecs
	CPU
	Arg0 // Arg0..Arg11 are consecutive: argN is Arg0+N
	Arg1
	Arg2
	Arg3
	Arg4
	Arg5
	Arg6 // arg6..arg11: USDT probes only
	Arg7
	Arg8
	Arg9
	Arg10
	Arg11
	Retval
	Func
	Probe
	Args
	Curtask
	Elapsed
	Jiffies
	Rand
	Cgroup
	Ncpus
	Cpid
	HasCpid
	Ppid
	Username
	Numaid
	Kstack
	Ustack
	Sarg0
	Ctx
	Usermode
	Probetype
	DefaultStrLength

	// Builtin functions.
	Printf
	Print
	Clear
	Delete
	Exit
	Str
	Count
	Sum
	Min
	Max
	Avg
	Stats
	Hist
	Lhist
	Time
	Strftime
	Join
	Cat
	System
	Errorf
	Warnf
	Signal
	SignalThread
	Ntop
	Pton
	Kaddr
	Ksym
	Bswap
	Strerror
	SyscallName
	Strncmp
	Strcontains
	Strstr
	Strlen
	Buf
	Len
	HasKey
	Zero
	Getopt
	NsecsCall  // nsecs(mode)
	CommCall   // comm(pid): another process's name
	KstackCall // kstack(mode, limit)
	UstackCall // ustack(mode, limit)
	Usym
	Uaddr
	Reg
	Cgroupid
	Macaddr
	Path
	Override
	PercpuKaddr
	Skboutput
	WriteUser
	Unwatch
	Debugf
	Kptr
	Uptr
	SocketCookie
	Offsetof
	Tseries
	CgroupPath
	Fail
	Find
	Memcmp
	Globmatch
	Assert
	StaticAssert
	SignalName
	Strcap
	IsInteger
	IsUnsignedInteger
	IsPtr
	IsStr
	IsArray
	IsLiteral
)

// Class is what a use of a builtin yields, which decides how the compiler
// generates it.
type Class int

// Value classes.
const (
	// Int is an integer (or pointer, or a value user space names from an
	// integer: ksym, username), computed in a register.
	Int Class = iota + 1
	// Memory is a value built in memory: a string, a buffer, a stack, an
	// address.
	Memory
	// Statement yields nothing: the call is carried out, in the program
	// or, through a record, in user space.
	Statement
	// Aggregation is only valid as the value assigned to a map entry:
	// @m[key] = count().
	Aggregation
	// Constant is folded by the checker: no code is generated.
	Constant
	// Special is checked by its own rules: args is a struct of fields,
	// comm(pid) is not compiled.
	Special
)

// Variadic is MaxArgs of a function whose argument count its checker
// decides (a format string and its arguments).
const Variadic = -1

// Builtin is one entry of the table.
type Builtin struct {
	ID   ID
	Name string
	// Call is set for functions, which scripts call with arguments; a
	// variable is named without parentheses.
	Call bool
	// MinArgs and MaxArgs bound a function's argument count.
	MinArgs, MaxArgs int
	// Unsafe builtins need --unsafe: they act beyond tracing.
	Unsafe bool
	Class  Class
	// Probes are the probe kinds where it is valid; nil means every kind.
	Probes []probe.Kind
	// NotYet marks bpftrace builtins that ktrace does not compile yet.
	NotYet bool
	// Hidden keeps a name out of the lists error messages show (arg6 to
	// arg11, which only USDT probes have).
	Hidden bool
}

// ValidIn reports whether the builtin may be used in probes of kind k.
func (b *Builtin) ValidIn(k probe.Kind) bool {
	if b.Probes == nil {
		return true
	}
	for _, p := range b.Probes {
		if p == k {
			return true
		}
	}
	return false
}

// Where builtins are valid.
var (
	// registerArgs are the probes whose arguments are registers or an
	// argument array read by position: kprobes, uprobes, USDT probes and
	// raw tracepoints (which, like fentry, also name theirs, args.NAME).
	registerArgs   = []probe.Kind{probe.Kprobe, probe.Uprobe, probe.USDT, probe.RawTracepoint}
	usdtOnly       = []probe.Kind{probe.USDT}
	returnProbes   = []probe.Kind{probe.Kretprobe, probe.Uretprobe, probe.Fexit}
	functionProbes = []probe.Kind{probe.Kprobe, probe.Kretprobe, probe.Fentry, probe.Fexit, probe.Uprobe, probe.Uretprobe, probe.USDT}
	userProbes     = []probe.Kind{probe.Uprobe, probe.Uretprobe, probe.USDT}
	// regsProbes have the interrupted registers in their context: a
	// pt_regs, or a perf event's sample, which starts with one.
	regsProbes = []probe.Kind{probe.Kprobe, probe.Kretprobe, probe.Uprobe, probe.Uretprobe, probe.USDT,
		probe.Interval, probe.Profile, probe.Software, probe.Hardware, probe.Watchpoint}
	attachedProbes = []probe.Kind{probe.Tracepoint, probe.RawTracepoint, probe.Kprobe, probe.Kretprobe, probe.Fentry, probe.Fexit,
		probe.Uprobe, probe.Uretprobe, probe.USDT, probe.Interval, probe.Profile, probe.Software, probe.Hardware, probe.Watchpoint, probe.Iter}
)

// variable and function make table entries.
func variable(id ID, name string, class Class) Builtin {
	return Builtin{ID: id, Name: name, Class: class}
}

func function(id ID, name string, min, max int, class Class) Builtin {
	return Builtin{ID: id, Name: name, Call: true, MinArgs: min, MaxArgs: max, Class: class}
}

func (b Builtin) in(kinds []probe.Kind) Builtin { b.Probes = kinds; return b }
func (b Builtin) unsafe() Builtin               { b.Unsafe = true; return b }
func (b Builtin) notYet() Builtin               { b.NotYet = true; return b }
func (b Builtin) hidden() Builtin               { b.Hidden = true; return b }

// table is every builtin, variables first.
var table = []Builtin{
	variable(Pid, "pid", Int),
	variable(Tid, "tid", Int),
	variable(Uid, "uid", Int),
	variable(Gid, "gid", Int),
	variable(Comm, "comm", Memory),
	variable(Nsecs, "nsecs", Int),
	variable(CPU, "cpu", Int),
	variable(Arg0, "arg0", Int).in(registerArgs),
	variable(Arg1, "arg1", Int).in(registerArgs),
	variable(Arg2, "arg2", Int).in(registerArgs),
	variable(Arg3, "arg3", Int).in(registerArgs),
	variable(Arg4, "arg4", Int).in(registerArgs),
	variable(Arg5, "arg5", Int).in(registerArgs),
	variable(Arg6, "arg6", Int).in(usdtOnly).hidden(),
	variable(Arg7, "arg7", Int).in(usdtOnly).hidden(),
	variable(Arg8, "arg8", Int).in(usdtOnly).hidden(),
	variable(Arg9, "arg9", Int).in(usdtOnly).hidden(),
	variable(Arg10, "arg10", Int).in(usdtOnly).hidden(),
	variable(Arg11, "arg11", Int).in(usdtOnly).hidden(),
	variable(Retval, "retval", Int).in(returnProbes),
	variable(Func, "func", Int).in(functionProbes),
	variable(Probe, "probe", Int),
	variable(Args, "args", Special),
	variable(Curtask, "curtask", Int),
	variable(Elapsed, "elapsed", Int),
	variable(Jiffies, "jiffies", Int),
	variable(Rand, "rand", Int),
	variable(Cgroup, "cgroup", Int),
	variable(Ncpus, "ncpus", Int),
	variable(Cpid, "cpid", Constant),
	variable(HasCpid, "has_cpid", Constant),
	variable(Ppid, "ppid", Int),
	variable(Username, "username", Int),
	variable(Numaid, "numaid", Int),
	variable(Kstack, "kstack", Memory),
	variable(Ustack, "ustack", Memory),
	variable(Sarg0, "sarg0", Int).notYet(),
	variable(Ctx, "ctx", Int).notYet(),
	variable(Usermode, "usermode", Int),
	variable(Probetype, "probetype", Memory),
	variable(DefaultStrLength, "default_str_length", Constant),

	function(Printf, "printf", 1, Variadic, Statement),
	function(Print, "print", 1, 3, Statement),
	function(Clear, "clear", 1, 1, Statement),
	function(Delete, "delete", 1, 2, Int),
	function(Exit, "exit", 0, 1, Statement),
	function(Str, "str", 1, 2, Memory),
	function(Count, "count", 0, 0, Aggregation),
	function(Sum, "sum", 1, 1, Aggregation),
	function(Min, "min", 1, 1, Aggregation),
	function(Max, "max", 1, 1, Aggregation),
	function(Avg, "avg", 1, 1, Aggregation),
	function(Stats, "stats", 1, 1, Aggregation),
	function(Hist, "hist", 1, 2, Aggregation),
	function(Lhist, "lhist", 4, 4, Aggregation),
	function(Time, "time", 0, 1, Statement),
	function(Strftime, "strftime", 2, 2, Memory),
	function(Join, "join", 1, 2, Statement),
	function(Cat, "cat", 1, Variadic, Statement),
	function(System, "system", 1, Variadic, Statement).unsafe(),
	function(Errorf, "errorf", 1, Variadic, Statement),
	function(Warnf, "warnf", 1, Variadic, Statement),
	function(Signal, "signal", 1, 1, Statement).unsafe().in(attachedProbes),
	function(SignalThread, "signal_thread", 1, 1, Statement).unsafe().in(attachedProbes),
	function(Ntop, "ntop", 1, 2, Memory),
	function(Pton, "pton", 1, 1, Constant),
	function(Kaddr, "kaddr", 1, 1, Constant),
	function(Ksym, "ksym", 1, 1, Int),
	function(Bswap, "bswap", 1, 1, Int),
	function(Strerror, "strerror", 1, 1, Memory),
	function(SyscallName, "syscall_name", 1, 1, Memory),
	function(Strncmp, "strncmp", 3, 3, Int),
	function(Strcontains, "strcontains", 2, 2, Int),
	function(Strstr, "strstr", 2, 2, Int),
	function(Strlen, "strlen", 1, 1, Int),
	function(Buf, "buf", 1, 2, Memory),
	function(Len, "len", 1, 1, Int),
	function(HasKey, "has_key", 2, 2, Int),
	function(Zero, "zero", 1, 1, Statement),
	function(Getopt, "getopt", 1, 3, Constant),
	function(NsecsCall, "nsecs", 0, 1, Int), // nsecs() without a mode is the variable, written wrongly
	function(CommCall, "comm", 1, 1, Memory),
	function(KstackCall, "kstack", 0, 2, Memory),
	function(UstackCall, "ustack", 0, 2, Memory),
	function(Usym, "usym", 1, 1, Memory),
	function(Uaddr, "uaddr", 1, 1, Int).in(userProbes),
	function(Reg, "reg", 1, 1, Int).in(regsProbes),
	function(Cgroupid, "cgroupid", 1, 1, Constant),
	function(Macaddr, "macaddr", 1, 1, Memory),
	function(Path, "path", 1, 2, Memory),
	function(Override, "override", 1, 1, Statement).unsafe(),
	function(PercpuKaddr, "percpu_kaddr", 1, 2, Int),
	function(Skboutput, "skboutput", 4, 4, Int),
	function(WriteUser, "write_user", 3, 3, Int).unsafe(),
	function(Unwatch, "unwatch", 1, 1, Statement).notYet(),
	function(Debugf, "debugf", 1, Variadic, Statement),
	function(Kptr, "kptr", 1, 1, Int),
	function(Uptr, "uptr", 1, 1, Int),
	function(SocketCookie, "socket_cookie", 1, 1, Int),
	function(Offsetof, "offsetof", 2, 2, Constant).notYet(),
	function(Tseries, "tseries", 3, 4, Aggregation),
	function(CgroupPath, "cgroup_path", 1, 2, Memory),
	function(Fail, "fail", 1, Variadic, Statement),
	function(Find, "find", 3, 3, Int),
	function(Memcmp, "memcmp", 3, 3, Int),
	function(Globmatch, "globmatch", 2, 2, Int).notYet(),
	function(Assert, "assert", 2, 2, Statement),
	function(StaticAssert, "static_assert", 2, 2, Statement),
	function(SignalName, "signal_name", 1, 1, Memory),
	function(Strcap, "strcap", 1, 1, Constant),
	function(IsInteger, "is_integer", 1, 1, Constant),
	function(IsUnsignedInteger, "is_unsigned_integer", 1, 1, Constant),
	function(IsPtr, "is_ptr", 1, 1, Constant),
	function(IsStr, "is_str", 1, 1, Constant),
	function(IsArray, "is_array", 1, 1, Constant),
	function(IsLiteral, "is_literal", 1, 1, Constant),
}

// The table indexed by name, and by ID.
var (
	variables, functions = byName(table)
	byID                 = indexByID(table)
)

func byName(t []Builtin) (vars, funcs map[string]*Builtin) {
	vars, funcs = map[string]*Builtin{}, map[string]*Builtin{}
	for i := range t {
		if t[i].Call {
			funcs[t[i].Name] = &t[i]
		} else {
			vars[t[i].Name] = &t[i]
		}
	}
	return vars, funcs
}

func indexByID(t []Builtin) map[ID]*Builtin {
	m := make(map[ID]*Builtin, len(t))
	for i := range t {
		m[t[i].ID] = &t[i]
	}
	return m
}

// Variable returns the builtin variable of that name, or nil.
func Variable(name string) *Builtin { return variables[name] }

// Function returns the builtin function of that name, or nil.
func Function(name string) *Builtin { return functions[name] }

// VariableID returns the ID of the builtin variable of that name, or
// Invalid: stages that only switch on the ID need no nil check.
func VariableID(name string) ID {
	if b := variables[name]; b != nil {
		return b.ID
	}
	return Invalid
}

// FunctionID returns the ID of the builtin function of that name, or
// Invalid.
func FunctionID(name string) ID {
	if b := functions[name]; b != nil {
		return b.ID
	}
	return Invalid
}

// Get returns the builtin with that ID, or nil.
func Get(id ID) *Builtin { return byID[id] }

// String returns the builtin's name, with parentheses for a function.
func (id ID) String() string {
	b := byID[id]
	if b == nil {
		return "invalid builtin"
	}
	if b.Call {
		return b.Name + "()"
	}
	return b.Name
}

// VariableNames lists the variables a script can use, sorted: what error
// messages offer. NotYet and hidden variables, and internal ones (__*),
// are left out.
func VariableNames() []string { return names(variables) }

// FunctionNames lists the functions ktrace compiles, sorted.
func FunctionNames() []string { return names(functions) }

// NotYetFunctionNames lists the functions bpftrace has that ktrace does
// not compile yet, sorted: typos of them still get suggestions.
func NotYetFunctionNames() []string {
	var out []string
	for n, b := range functions {
		if b.NotYet {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func names(m map[string]*Builtin) []string {
	var out []string
	for n, b := range m {
		if !b.NotYet && !b.Hidden && (len(n) < 2 || n[:2] != "__") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
