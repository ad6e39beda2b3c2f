package types

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// Functions and builtins beyond printing and aggregating: time, strftime,
// join, cat, system, errorf, warnf, signal, signal_thread, ntop, kaddr,
// ksym, bswap, strerror, strncmp, strcontains, strstr, strlen, buf, len,
// has_key, zero, getopt, nsecs(mode), and the builtins elapsed, jiffies,
// rand, cgroup, ncpus, cpid, has_cpid, ppid, username and numaid. Types,
// return values and error wording follow bpftrace.

// SymbolResolver is implemented by resolvers that know the kernel's
// symbol addresses, which kaddr() folds in at compile time.
type SymbolResolver interface {
	KernelSymbol(name string) (uint64, error)
}

// TypStrerror is strerror()'s type: an errno printed as its message.
var TypStrerror = &Type{Kind: Strerror, Size: 8}

// literalArg checks that argument i is a string known at compile time (a
// literal, or a positional parameter) and returns it.
func (c *checker) literalArg(x *ast.Call, i int) (string, bool) {
	a := x.Args[i]
	t := c.expr(a)
	if s, ok := c.info.StrConsts[a]; ok && t.Kind == String {
		return s, true
	}
	if t.Kind != Invalid {
		c.errorf(a, "%s() expects a string literal (%s provided)", x.Name, t)
	}
	return "", false
}

func checkCpid(c *checker, x *ast.Ident) *Type {
	if c.info.Config.ChildPID <= 0 {
		c.errorf(x, "cpid cannot be used without child command")
		return TypInvalid
	}
	c.info.Consts[x] = int64(c.info.Config.ChildPID)
	return TypU32
}

// time([fmt]) prints the current time when user space handles the record;
// the format defaults to "%H:%M:%S\n", as in bpftrace.
func checkTime(c *checker, x *ast.Call) *Type {
	if c.arity(x) && len(x.Args) == 1 {
		c.literalArg(x, 0)
	}
	return TypNone
}

// TimestampMode is the clock a strftime() timestamp counts from.
type TimestampMode int

// Timestamp modes, as bpftrace's nsecs(mode) names them.
const (
	TimeBoot TimestampMode = iota // nanoseconds since boot, suspend included
	TimeMonotonic
	TimeTAI   // nanoseconds since the epoch, TAI
	TimeSwTAI // the same, computed from the boot clock and an offset
)

var timestampModes = map[string]TimestampMode{"boot": TimeBoot, "monotonic": TimeMonotonic, "tai": TimeTAI, "sw_tai": TimeSwTAI}

// NsecsMode returns the clock of nsecs(mode) (boot for plain nsecs), and
// whether x is such a call.
func NsecsMode(x ast.Expr) (TimestampMode, bool) {
	switch x := x.(type) {
	case *ast.Ident:
		return TimeBoot, x.Name == "nsecs"
	case *ast.Call:
		if x.Name != "nsecs" {
			return 0, false
		}
		if len(x.Args) == 1 {
			if id, ok := x.Args[0].(*ast.Ident); ok {
				m, ok := timestampModes[id.Name]
				return m, ok
			}
		}
		return TimeBoot, len(x.Args) == 0
	}
	return 0, false
}

func checkStrftime(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	_, ok := c.literalArg(x, 0)
	t := c.expr(x.Args[1])
	switch {
	case t.Kind == Invalid || !ok:
		return TypInvalid
	case !t.IsInt():
		c.errorf(x.Args[1], "strftime() expects an integer timestamp (%s provided)", t)
		return TypInvalid
	}
	if m, ok := NsecsMode(x.Args[1]); ok && m == TimeMonotonic {
		c.errorf(x, "strftime() can not take a monotonic timestamp")
		return TypInvalid
	}
	return &Type{Kind: Timestamp, Size: abi.TimestampSize}
}

// join(arr[, sep]) prints the strings of a NULL-terminated char * array.
func checkJoin(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypNone
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && !(t.Kind == Int || t.Kind == Pointer) {
		c.errorf(x.Args[0], "join() only supports int or pointer arguments (%s provided)", t)
	}
	if len(x.Args) == 2 {
		c.literalArg(x, 1)
	}
	return TypNone
}

// formatted checks a printf-style call: a literal format string and
// arguments that match its verbs.
func (c *checker) formatted(x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "%s() needs a format string, e.g. %s(\"/proc/%%d/status\", pid)", x.Name, x.Name)
		return TypNone
	}
	lit, ok := x.Args[0].(*ast.StringLit)
	if !ok {
		t := c.expr(x.Args[0])
		if t.Kind != Invalid {
			c.errorf(x.Args[0], "%s() expects a string literal (%s provided)", x.Name, t)
		}
		for _, a := range x.Args[1:] {
			c.expr(a)
		}
		return TypNone
	}
	c.expr(lit)
	f, err := ParseFormat(lit.Value)
	if err != nil {
		c.errorf(lit, "%s", err)
		return TypNone
	}
	c.info.Formats[x] = f
	args := x.Args[1:]
	if len(args) > 32 {
		c.errorf(x, "%s() takes at most 32 arguments after the format, %d given", x.Name, len(args))
	}
	for i, a := range args {
		t := c.expr(a)
		if i < len(f.Verbs) && t.Kind != Invalid {
			c.checkVerb(a, f.Verbs[i], t)
		}
	}
	switch {
	case len(args) > len(f.Verbs):
		c.errorf(args[len(f.Verbs)], "%s: too many arguments for the format string (%d verbs, %d arguments)", x.Name, len(f.Verbs), len(args))
	case len(args) < len(f.Verbs):
		c.errorf(x, "%s: not enough arguments for the format string (%d verbs, %d arguments)", x.Name, len(f.Verbs), len(args))
	}
	return TypNone
}

// checkSignal checks signal(sig): a signal number or a name such as
// "SIGKILL". A constant signal is folded into Consts[x].
func checkSignal(c *checker, x *ast.Call, b *builtins.Builtin) *Type {
	for _, ap := range c.probe.Points {
		if !b.ValidIn(ap.Kind) {
			c.errorf(x, "%s can not be used with \"%s\" probes", x.Name, ap.Kind)
			return TypNone
		}
	}
	if !c.arity(x) {
		return TypNone
	}
	a := x.Args[0]
	t := c.expr(a)
	switch {
	case t.Kind == Invalid:
	case t.Kind == String:
		s, ok := c.info.StrConsts[a]
		if !ok {
			c.errorf(a, "%s() expects a string literal (%s provided)", x.Name, t)
			break
		}
		n := SignalNumber(s)
		if n == 0 {
			c.errorf(x, "%s is not a valid signal", s)
			break
		}
		c.info.Consts[x] = int64(n)
	case t.IsInt():
		if v, ok := c.info.Consts[a]; ok {
			if v < 1 || v > 64 {
				c.errorf(x, "%d is not a valid signal, allowed range: [1,64]", v)
				break
			}
			c.info.Consts[x] = v
		}
	default:
		c.errorf(a, "%s() only supports integer or string arguments (%s provided)", x.Name, t)
	}
	return TypNone
}

// SignalNumber returns the number of a signal named like "SIGKILL", or 0.
func SignalNumber(name string) int {
	if !strings.HasPrefix(name, "SIG") {
		return 0
	}
	return int(unix.SignalNum(name))
}

func checkNtop(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	i := 0
	if len(x.Args) == 2 {
		at := c.expr(x.Args[0])
		if at.Kind != Invalid && !at.IsInt() {
			c.errorf(x.Args[0], "ntop() expects an integer address family (%s provided)", at)
			return TypInvalid
		}
		i = 1
	}
	t := c.expr(x.Args[i])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == Int || t.Kind == Bool:
	case t.Kind == Array || t.Kind == String:
		if t.Size != 4 && t.Size != 16 {
			c.errorf(x, "ntop() argument must be 4 or 16 bytes in size")
			return TypInvalid
		}
	default:
		c.errorf(x.Args[i], "ntop() expects an integer or array argument, got %s", t)
		return TypInvalid
	}
	return &Type{Kind: Inet, Size: abi.InetSize}
}

// checkPton: pton("addr") is the address's bytes in network order, a
// uint8[4] for IPv4 and a uint8[16] for IPv6, folded at compile time.
func checkPton(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	text, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		c.errorf(x.Args[0], "pton() expects an IPv4 or IPv6 address, not %q", text)
		return TypInvalid
	}
	b := addr.AsSlice()
	c.info.StrConsts[x] = string(b)
	return &Type{Kind: Array, Elem: TypU8, Len: len(b), Size: len(b)}
}

func checkKaddr(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	name, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	if c.pass == 1 {
		// Resolved once, in the pass that keeps errors.
		return TypU64
	}
	sr, ok := c.resolver.(SymbolResolver)
	if !ok {
		c.errorf(x, "Failed to resolve kernel symbol: %s", name)
		return TypInvalid
	}
	addr, err := sr.KernelSymbol(name)
	if err != nil {
		c.errorf(x, "Failed to resolve kernel symbol: %s", name)
		return TypInvalid
	}
	c.info.Consts[x] = int64(addr)
	return TypU64
}

func checkKsym(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && !(t.Kind == Int || t.Kind == Pointer) {
		c.errorf(x, "ksym() expects an integer or pointer argument")
		return TypInvalid
	}
	return TypKsym
}

// checkBswap: the bytes of an integer reversed, as an unsigned integer of
// the same width.
func checkBswap(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind != Int:
		c.errorf(x, "bswap() only supports integer arguments (%s provided)", t)
		return TypInvalid
	}
	rt := IntType(t.Size, false)
	if v, ok := c.info.Consts[x.Args[0]]; ok {
		c.info.Consts[x] = int64(Bswap(uint64(v), t.Size))
	}
	return rt
}

// Bswap reverses the low size bytes of v.
func Bswap(v uint64, size int) uint64 {
	var out uint64
	for i := 0; i < size; i++ {
		out = out<<8 | v>>(8*i)&0xff
	}
	return out
}

var errnoOnce sync.Once
var errnoNames map[int64]string

// ErrnoMessages returns strerror()'s text of every errno, as glibc words
// it ("No such file or directory").
func ErrnoMessages() map[int64]string {
	errnoOnce.Do(func() {
		errnoNames = map[int64]string{0: "Success"}
		for e := unix.Errno(1); e < 134; e++ {
			msg := e.Error()
			if strings.HasPrefix(msg, "errno ") || msg == "" {
				continue
			}
			// Go's table is glibc's with the first letter lowercased.
			errnoNames[int64(e)] = strings.ToUpper(msg[:1]) + msg[1:]
		}
	})
	return errnoNames
}

func checkStrerror(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case !t.IsInt():
		c.errorf(x, "strerror() only supports integer arguments (%s provided)", t)
		return TypInvalid
	}
	return TypStrerror
}

// stringArgs checks that the given arguments are strings.
func (c *checker) stringArgs(x *ast.Call, args ...ast.Expr) bool {
	ok := true
	for _, a := range args {
		t := c.expr(a)
		switch {
		case t.Kind == Invalid:
			ok = false
		case t.Kind != String:
			c.errorf(x, "%s() only supports string arguments (%s provided)", x.Name, t)
			ok = false
		}
	}
	return ok
}

// checkStrncmp: 0 when the first n bytes of both strings are equal (up to
// a NUL), 1 otherwise.
func checkStrncmp(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	ok := c.stringArgs(x, x.Args[0], x.Args[1])
	nt := c.expr(x.Args[2])
	n, isConst := c.info.Consts[x.Args[2]]
	if nt.Kind != Invalid && (!nt.IsInt() || !isConst || n < 0) {
		c.errorf(x, "Builtin strncmp requires a non-negative literal")
		return TypInvalid
	}
	if !ok || nt.Kind == Invalid {
		return TypInvalid
	}
	a, aok := c.info.StrConsts[x.Args[0]]
	b, bok := c.info.StrConsts[x.Args[1]]
	if aok && bok {
		c.info.Consts[x] = boolInt(cstrPrefix(a, n) != cstrPrefix(b, n))
	}
	return TypU64
}

func cstrPrefix(s string, n int64) string {
	if int64(len(s)) > n {
		return s[:n]
	}
	return s
}

func checkStrcontains(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	if !c.stringArgs(x, x.Args[0], x.Args[1]) {
		return TypInvalid
	}
	h, hok := c.info.StrConsts[x.Args[0]]
	n, nok := c.info.StrConsts[x.Args[1]]
	if x.Name == "strstr" {
		// The index of the needle in the haystack, -1 when absent.
		switch {
		case hok && nok:
			c.info.Consts[x] = int64(strings.Index(h, n))
		case nok && n == "":
			c.info.Consts[x] = 0
		}
		return TypS64
	}
	switch {
	case hok && nok:
		c.info.Consts[x] = boolInt(strings.Contains(h, n))
	case nok && n == "":
		c.info.Consts[x] = 1
	}
	return TypBool
}

// checkBuf: buf(data[, length]) reads length bytes (all of an array when
// the length is left out), at most max_strlen. The value is laid out as a
// u32 length and the bytes.
func checkBuf(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	if t.Kind == Invalid {
		return TypInvalid
	}
	if !(t.Kind == Int || t.Kind == Pointer || t.Kind == String || t.Kind == Array) {
		c.errorf(x, "buf() expects an integer, string, or array argument but saw %s", t)
		return TypInvalid
	}
	limit := c.info.Config.MaxStrlen
	n := limit
	if len(x.Args) == 1 {
		if t.Kind != Array {
			c.errorf(x, "buf() expects a length argument for non-array type %s", t)
			return TypInvalid
		}
		n = t.Size
	} else {
		lt := c.expr(x.Args[1])
		if lt.Kind == Invalid {
			return TypInvalid
		}
		if !lt.IsInt() {
			c.errorf(x.Args[1], "buf() length must be an integer, not %s", lt)
			return TypInvalid
		}
		if v, ok := c.info.Consts[x.Args[1]]; ok {
			if v < 0 {
				c.errorf(x, "buf cannot use negative length (%d)", v)
				return TypInvalid
			}
			if v < int64(n) {
				n = int(v)
			} else if v > int64(n) {
				c.warnf(x, "buf() length is too long and will be shortened to %d bytes (see BPFTRACE_MAX_STRLEN)", limit)
			}
		}
	}
	if n > limit {
		c.warnf(x, "buf() length is too long and will be shortened to %d bytes (see BPFTRACE_MAX_STRLEN)", limit)
		n = limit
	}
	if (t.Kind == Array || t.Kind == String) && n > t.Size {
		// The bytes of the value, not whatever lies past it.
		n = t.Size
	}
	return &Type{Kind: Buffer, Size: 4 + n, Len: n}
}

// mapArg checks an argument that must name a whole map, and whether the
// map has keys as the function needs.
func (c *checker) mapArg(x *ast.Call, arg ast.Expr, keyed bool) *MapInfo {
	// A map assigned later in the program is known from pass one.
	if ref, ok := arg.(*ast.MapRef); ok && c.pass == 2 && c.info.maps[ref.Name] == nil {
		if l := c.learnedMaps[ref.Name]; l != nil && l.Value != nil {
			c.useMap(&ast.MapRef{Sp: ref.Sp, Name: ref.Name, Keys: make([]ast.Expr, len(l.Keys))}, l.Keys, nil, false)
		}
	}
	mi := c.wholeMap(x, arg)
	if mi == nil || c.pass == 1 || mi.Value == nil {
		return mi
	}
	if keyed && len(mi.Keys) == 0 {
		c.errorf(arg, "call to %s() expects a map with explicit keys (non-scalar map)", x.Name)
		return nil
	}
	if keyed && bucketed(mi.Value) {
		c.notSupported(x, fmt.Sprintf("%s() of a %s map", x.Name, aggName(mi.Value)))
		return nil
	}
	return mi
}

// bucketed reports whether a map value is a histogram, whose map holds
// an entry per bucket.
func bucketed(t *Type) bool { return t != nil && (t.Kind == Hist || t.Kind == LHist) }

// checkLen: the number of elements of a map, or the length of a string.
func checkLen(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	if m, ok := x.Args[0].(*ast.MapRef); ok && len(m.Keys) == 0 && x.Name == "len" {
		if mi := c.mapArg(x, m, true); mi == nil && c.pass == 2 {
			return TypInvalid
		}
		return TypS64
	}
	t := c.expr(x.Args[0])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == String:
		if s, ok := c.info.StrConsts[x.Args[0]]; ok {
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			c.info.Consts[x] = int64(min(len(s), t.Size-1))
		}
		return TypS64
	}
	if x.Name == "strlen" {
		c.errorf(x, "strlen() expects a string (%s provided)", t)
		return TypInvalid
	}
	c.errorf(x, "len() expects a map or string to be provided")
	return TypInvalid
}

// checkHasKey: has_key(@m, key) is true when the map has the key.
func checkHasKey(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	m, ok := x.Args[0].(*ast.MapRef)
	if !ok || len(m.Keys) > 0 {
		c.errorf(x.Args[0], "has_key() takes a map name first, e.g. has_key(@m, key)")
		c.expr(x.Args[1])
		return TypInvalid
	}
	kt := c.expr(x.Args[1])
	if kt.Kind == Invalid {
		return TypInvalid
	}
	if kt.Kind == None {
		c.errorf(x.Args[1], "%s does not return a value and cannot be a map key", describe(x.Args[1]))
		return TypInvalid
	}
	mi := c.info.maps[m.Name]
	if c.pass == 2 && (mi == nil || mi.Value == nil) && (c.learnedMaps[m.Name] == nil || c.learnedMaps[m.Name].Value == nil) {
		c.errorf(m, "undefined map @%s: it is read but never assigned", m.Name)
		return TypInvalid
	}
	if mi != nil && mi.keysSet && len(mi.Keys) == 0 {
		c.errorf(m, "call to has_key() expects a map with explicit keys (non-scalar map)")
		return TypInvalid
	}
	if l := c.learnedMaps[m.Name]; c.pass == 2 && l != nil && bucketed(l.Value) {
		c.notSupported(x, "has_key() of a "+aggName(l.Value)+" map")
		return TypInvalid
	}
	var keys []*Type
	if kt.Kind == Tuple && (mi == nil || !mi.keysSet || len(mi.Keys) > 1) {
		keys = kt.Elems
	} else {
		keys = []*Type{storedType(kt)}
	}
	refKeys := make([]ast.Expr, len(keys))
	if tup, ok := x.Args[1].(*ast.Tuple); ok && len(tup.Elems) == len(keys) {
		copy(refKeys, tup.Elems)
	} else {
		for i := range refKeys {
			refKeys[i] = x.Args[1]
		}
	}
	c.useMap(&ast.MapRef{Sp: m.Sp, Name: m.Name, Keys: refKeys}, keys, nil, false)
	c.record(m, TypNone)
	return TypBool
}

// checkZero: zero(@m) sets every value of the map to zero.
func checkZero(c *checker, x *ast.Call) *Type {
	if c.arity(x) {
		c.mapArg(x, x.Args[0], false)
	}
	return TypNone
}

// checkGetopt folds getopt("name"[, default]) into a constant: the value
// of --name=value on the command line, else the default (false when there
// is none). The default's type is the parameter's type.
func checkGetopt(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	lit, ok := x.Args[0].(*ast.StringLit)
	if !ok {
		c.errorf(x.Args[0], "First argument to 'getopt' must be a string literal.")
		return TypInvalid
	}
	c.expr(lit)
	name := lit.Value
	var def ast.Expr
	if len(x.Args) >= 2 {
		def = x.Args[1]
		if !isGetoptDefault(def) {
			c.errorf(def, "Second argument to 'getopt' must be a string literal, integer literal, or a boolean literal.")
			return TypInvalid
		}
		c.expr(def)
	}
	if len(x.Args) == 3 {
		if _, ok := x.Args[2].(*ast.StringLit); !ok {
			c.errorf(x.Args[2], "Third argument to 'getopt' must be a string literal (a description).")
			return TypInvalid
		}
		c.expr(x.Args[2])
	}
	// Every use of a parameter must have the same default.
	if first := firstGetopt(c.prog, name); first != nil && first != x && getoptDefault(first) != getoptDefault(x) {
		c.errorf(x, "Command line option '%s' needs to have the same default value in all places it is used. Previous default value: %s", name, getoptDefault(first))
		return TypInvalid
	}
	value, given := c.info.Config.NamedParams[name]
	switch d := def.(type) {
	case nil, *ast.BoolLit:
		v := d != nil && d.(*ast.BoolLit).Value
		if given {
			b, ok := ParseBoolParam(value)
			if !ok {
				c.errorf(x, "program option --%s expects a boolean (true, false, 1 or 0), not %q", name, value)
				return TypInvalid
			}
			v = b
		}
		c.info.Consts[x] = boolInt(v)
		return TypBool
	case *ast.StringLit:
		v := d.Value
		if given {
			v = value
		}
		c.info.StrConsts[x] = v
		return StringType(len(v) + 1)
	default:
		v := c.info.Consts[def]
		if given {
			n, ok := parseParamInt(value)
			if !ok {
				c.errorf(x, "program option --%s expects an integer, not %q", name, value)
				return TypInvalid
			}
			v = n
		}
		c.info.Consts[x] = v
		return TypS64
	}
}

func isGetoptDefault(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.IntLit, *ast.StringLit, *ast.BoolLit:
		return true
	case *ast.Unary:
		_, ok := x.X.(*ast.IntLit)
		return x.Op == "-" && ok
	}
	return false
}

// getoptDefault is a getopt() call's default as bpftrace prints it.
func getoptDefault(x *ast.Call) string {
	if len(x.Args) < 2 {
		return "false"
	}
	switch d := x.Args[1].(type) {
	case *ast.IntLit:
		return strconv.FormatUint(d.Value, 10)
	case *ast.StringLit:
		return d.Value
	case *ast.BoolLit:
		return strconv.FormatBool(d.Value)
	case *ast.Unary:
		if lit, ok := d.X.(*ast.IntLit); ok {
			return "-" + strconv.FormatUint(lit.Value, 10)
		}
	}
	return ""
}

// firstGetopt finds the first getopt() of a parameter in the program.
func firstGetopt(prog *ast.Program, name string) *ast.Call {
	var first *ast.Call
	ast.Inspect(prog, func(n ast.Node) bool {
		if first != nil {
			return false
		}
		if call, ok := n.(*ast.Call); ok && call.Name == "getopt" && len(call.Args) > 0 {
			if lit, ok := call.Args[0].(*ast.StringLit); ok && lit.Value == name {
				first = call
			}
		}
		return true
	})
	return first
}

// GetoptNames lists the parameters a program reads with getopt().
func GetoptNames(prog *ast.Program) map[string]bool {
	names := map[string]bool{}
	ast.Inspect(prog, func(n ast.Node) bool {
		if call, ok := n.(*ast.Call); ok && call.Name == "getopt" && len(call.Args) > 0 {
			if lit, ok := call.Args[0].(*ast.StringLit); ok {
				names[lit.Value] = true
			}
		}
		return true
	})
	return names
}

// ParseBoolParam parses a boolean program option: a bare --name, true or
// 1 is true, false or 0 false.
func ParseBoolParam(s string) (bool, bool) {
	switch s {
	case "", "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// checkNsecs: nsecs(mode) reads the clock mode names: boot (the default,
// as plain nsecs), monotonic, tai or sw_tai.
func checkNsecs(c *checker, x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "nsecs is a builtin, not a function: write nsecs without parentheses")
		return TypInvalid
	}
	if !c.arity(x) {
		return TypInvalid
	}
	id, ok := x.Args[0].(*ast.Ident)
	if !ok {
		t := c.expr(x.Args[0])
		if t.Kind != Invalid {
			c.errorf(x.Args[0], "nsecs() expects a timestamp mode: boot, monotonic, tai or sw_tai")
		}
		return TypInvalid
	}
	c.record(id, TypNone)
	if _, ok := timestampModes[id.Name]; !ok {
		c.errorf(id, "Invalid timestamp mode: %s", id.Name)
		return TypInvalid
	}
	return TypU64
}

// checkComm: comm of another process is not compiled yet.
func checkComm(c *checker, x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "comm is a builtin, not a function: write comm without parentheses")
		return TypInvalid
	}
	for _, a := range x.Args {
		c.expr(a)
	}
	c.notSupported(x, "comm() of another process")
	return TypInvalid
}

// String names a mode as nsecs() takes it.
func (m TimestampMode) String() string {
	for name, v := range timestampModes {
		if v == m {
			return name
		}
	}
	return fmt.Sprintf("mode%d", int(m))
}
