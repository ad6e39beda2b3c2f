package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// FunctionNames lists the functions ktrace compiles, sorted; error
// messages for unknown functions show this list.
func FunctionNames() []string { return builtins.FunctionNames() }

// call checks a function call.
func (c *checker) call(x *ast.Call) *Type {
	t := c.call1(x)
	return c.record(x, t)
}

func (c *checker) call1(x *ast.Call) *Type {
	b := builtins.Function(x.Name)
	if b == nil {
		if builtins.Variable(x.Name) != nil {
			c.errorf(x, "%s is a builtin, not a function: write %s without parentheses", x.Name, x.Name)
			return TypInvalid
		}
		all := append(builtins.FunctionNames(), builtins.NotYetFunctionNames()...)
		msg := fmt.Sprintf("Unknown function: '%s'", x.Name)
		if s := suggest.Best(x.Name, all, 2); len(s) > 0 {
			msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
		}
		msg += " Functions are: " + strings.Join(builtins.FunctionNames(), ", ")
		c.errorf(x, "%s", msg)
		return TypInvalid
	}
	if b.NotYet {
		c.notSupported(x, x.Name+"()")
		for _, a := range x.Args {
			c.expr(a)
		}
		return TypInvalid
	}
	if x.Bang {
		c.errorf(x, "%s is a function, not a macro: call it without '!'", x.Name)
	}
	c.info.Builtins[b.ID] = true
	return c.builtinCall(x, b)
}

// builtinCall checks a call of a builtin function ktrace compiles.
func (c *checker) builtinCall(x *ast.Call, b *builtins.Builtin) *Type {
	if b.Unsafe && !c.info.Config.Unsafe {
		if b.ID == builtins.WriteUser || b.ID == builtins.Override {
			// bpftrace words these differently.
			c.errorf(x, "%s() is unsafe. To use you need the --unsafe flag", x.Name)
		} else {
			c.errorf(x, "%s() is an unsafe function being used in safe mode", x.Name)
		}
	}
	switch b.ID {
	case builtins.Count, builtins.Sum, builtins.Min, builtins.Max, builtins.Avg, builtins.Stats, builtins.Hist, builtins.Lhist, builtins.Tseries:
		return checkAggregationCall(c, x)
	case builtins.Printf, builtins.Cat, builtins.System, builtins.Errorf, builtins.Warnf:
		return c.formatted(x)
	case builtins.Print:
		return c.print(x)
	case builtins.Clear:
		if c.arity(x) {
			c.wholeMap(x, x.Args[0])
		}
		return TypNone
	case builtins.Delete:
		return c.delete(x)
	case builtins.Exit:
		return c.exit(x)
	case builtins.Str:
		return c.str(x)
	case builtins.Time:
		return checkTime(c, x)
	case builtins.Strftime:
		return checkStrftime(c, x)
	case builtins.Join:
		return checkJoin(c, x)
	case builtins.Signal, builtins.SignalThread:
		return checkSignal(c, x, b)
	case builtins.Ntop:
		return checkNtop(c, x)
	case builtins.Pton:
		return checkPton(c, x)
	case builtins.Kaddr:
		return checkKaddr(c, x)
	case builtins.Ksym:
		return checkKsym(c, x)
	case builtins.Bswap:
		return checkBswap(c, x)
	case builtins.Strerror:
		return checkStrerror(c, x)
	case builtins.SyscallName:
		return checkSyscallName(c, x)
	case builtins.Strncmp:
		return checkStrncmp(c, x)
	case builtins.Strcontains, builtins.Strstr:
		return checkStrcontains(c, x)
	case builtins.Strlen, builtins.Len:
		return checkLen(c, x)
	case builtins.Buf:
		return checkBuf(c, x)
	case builtins.HasKey:
		return checkHasKey(c, x)
	case builtins.Zero:
		return checkZero(c, x)
	case builtins.Getopt:
		return checkGetopt(c, x)
	case builtins.NsecsCall:
		return checkNsecs(c, x)
	case builtins.CommCall:
		return checkComm(c, x)
	case builtins.KstackCall, builtins.UstackCall:
		return c.stackCall(x, b.ID == builtins.UstackCall)
	case builtins.Usym:
		return c.usym(x)
	case builtins.Uaddr:
		return c.uaddr(x)
	case builtins.Fail:
		return checkFail(c, x)
	case builtins.StaticAssert:
		return checkStaticAssert(c, x)
	case builtins.Assert:
		// assert(cond, msg); is rewritten to an if (desugar_stdlib.go).
		c.wantArgs(x, 2, 2)
		c.errorf(x, "assert() has no value: use it as a statement")
		return TypInvalid
	case builtins.IsInteger, builtins.IsUnsignedInteger, builtins.IsPtr, builtins.IsStr, builtins.IsArray, builtins.IsLiteral:
		return checkTypePredicate(c, x)
	case builtins.Strcap:
		return checkStrcap(c, x)
	case builtins.Cgroupid:
		return checkCgroupid(c, x)
	case builtins.Kptr, builtins.Uptr:
		return checkAddressSpace(c, x)
	case builtins.SocketCookie:
		return checkSocketCookie(c, x)
	case builtins.Reg:
		return checkReg(c, x, b)
	case builtins.SignalName:
		return checkSignalName(c, x)
	case builtins.Memcmp:
		return checkMemcmp(c, x)
	case builtins.Macaddr:
		return checkMacaddr(c, x)
	case builtins.CgroupPath:
		return checkCgroupPath(c, x)
	case builtins.Debugf:
		return checkDebugf(c, x)
	case builtins.Find:
		return checkFind(c, x)
	case builtins.PercpuKaddr:
		return checkPercpuKaddr(c, x)
	case builtins.Skboutput:
		return checkSkboutput(c, x)
	case builtins.WriteUser:
		return checkWriteUser(c, x)
	case builtins.Path:
		return checkPath(c, x)
	case builtins.Override:
		return checkOverride(c, x)
	}
	c.errorf(x, "internal error: function %s has no checker", x.Name)
	return TypInvalid
}

// soleArg checks a call of a one-argument function: the count, then the
// argument. It reports false when either is wrong (and was reported).
func (c *checker) soleArg(x *ast.Call) (*Type, bool) {
	if !c.arity(x) {
		return TypInvalid, false
	}
	t := c.expr(x.Args[0])
	return t, t.Kind != Invalid
}

// arity checks a builtin function's argument count against the table.
func (c *checker) arity(x *ast.Call) bool {
	b := builtins.Function(x.Name)
	return c.wantArgs(x, b.MinArgs, b.MaxArgs)
}

// checkAggregationCall rejects count()/sum()/... used other than as the
// value assigned to a map.
func checkAggregationCall(c *checker, x *ast.Call) *Type {
	c.errorf(x, "%s() must be assigned directly to a map, e.g. @x = %s(%s)", x.Name, x.Name, aggArgHint(x.Name))
	c.aggregation(x)
	return TypInvalid
}

func (c *checker) exit(x *ast.Call) *Type {
	if c.arity(x) && len(x.Args) == 1 {
		t := c.expr(x.Args[0])
		if t.Kind != Invalid && !t.IsInt() {
			c.errorf(x.Args[0], "exit() takes an integer exit code, not %s", t)
		}
	}
	return TypNone
}

func aggArgHint(name string) string {
	switch name {
	case "count":
		return ""
	case "lhist":
		return "value, min, max, step"
	case "tseries":
		return "value, interval_ns, num_intervals"
	}
	return "value"
}

// wantArgs checks the argument count.
func (c *checker) wantArgs(x *ast.Call, lo, hi int) bool {
	n := len(x.Args)
	if n >= lo && n <= hi {
		return true
	}
	var want string
	switch {
	case lo == hi && lo == 0:
		want = "no arguments"
	case lo == hi && lo == 1:
		want = "1 argument"
	case lo == hi:
		want = fmt.Sprintf("%d arguments", lo)
	default:
		want = fmt.Sprintf("%d to %d arguments", lo, hi)
	}
	c.errorf(x, "%s() takes %s, but %d %s given", x.Name, want, n, wasWere(n))
	for _, a := range x.Args {
		// A bare @m may be a whole-map argument (print, clear, len...):
		// checking it as a read would add a misleading key-count error.
		if m, ok := a.(*ast.MapRef); ok && m.Keys == nil {
			continue
		}
		c.expr(a)
	}
	return false
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// aggregation checks count(), sum(x), min(x), max(x), avg(x), stats(x),
// hist(x[, k]) and lhist(x, min, max, step) and returns the map value type.
func (c *checker) aggregation(x *ast.Call) *Type {
	c.record(x, TypNone)
	if !c.arity(x) {
		return TypInvalid
	}
	if x.Name == "count" {
		return &Type{Kind: Count, Size: 8}
	}
	t := c.expr(x.Args[0])
	if t.Kind == Invalid {
		return TypInvalid
	}
	if !t.IsInt() {
		c.errorf(x.Args[0], "%s() takes an integer, not %s", x.Name, t)
		return TypInvalid
	}
	signed := t.Kind != Int || t.Signed
	if x.Name == "tseries" {
		return c.tseries(x, signed)
	}
	consts := make([]int64, len(x.Args))
	for i, a := range x.Args[1:] {
		at := c.expr(a)
		v, ok := c.info.Consts[a]
		if at.Kind != Invalid && !ok {
			c.errorf(a, "%s() argument %d must be a constant integer", x.Name, i+2)
			return TypInvalid
		}
		consts[i+1] = v
	}
	switch x.Name {
	case "sum":
		return &Type{Kind: Sum, Size: 8, Signed: t.Kind == Int && t.Signed}
	case "min", "max":
		// The value and a flag saying whether this CPU has seen one: a
		// CPU that never ran the probe must not contribute its zero.
		kind := Min
		if x.Name == "max" {
			kind = Max
		}
		return &Type{Kind: kind, Size: 16, Signed: signed}
	case "avg", "stats":
		kind := Avg
		if x.Name == "stats" {
			kind = Stats
		}
		return &Type{Kind: kind, Size: 16, Signed: signed}
	case "hist":
		k := int64(0)
		if len(x.Args) == 2 {
			k = consts[1]
			if k < 0 || k > 5 {
				c.errorf(x.Args[1], "hist() bucket parameter k must be between 0 and 5, not %d", k)
				return TypInvalid
			}
		}
		return &Type{Kind: Hist, Size: 8, Bits: int(k), Signed: signed}
	case "lhist":
		mn, mx, step := consts[1], consts[2], consts[3]
		switch {
		case mn < 0:
			c.errorf(x.Args[1], "lhist() min must be non-negative, not %d", mn)
		case mx <= mn:
			c.errorf(x.Args[2], "lhist() max (%d) must be greater than min (%d)", mx, mn)
		case step <= 0:
			c.errorf(x.Args[3], "lhist() step must be positive, not %d", step)
		case (mx-mn)/step > 1000:
			c.errorf(x.Args[3], "lhist() would have %d buckets; at most 1000 are allowed", (mx-mn)/step)
		default:
			return &Type{Kind: LHist, Size: 8, Min: mn, Max: mx, Step: step, Signed: signed}
		}
		return TypInvalid
	}
	c.notSupported(x, x.Name+"()")
	return TypInvalid
}

// wholeMap checks an argument that must name a map without keys.
func (c *checker) wholeMap(x *ast.Call, arg ast.Expr) *MapInfo {
	m, ok := arg.(*ast.MapRef)
	if !ok {
		c.errorf(arg, "%s() takes a map, e.g. %s(@name)", x.Name, x.Name)
		c.expr(arg)
		return nil
	}
	if len(m.Keys) > 0 {
		c.errorf(arg, "%s() takes a whole map: write @%s without keys", x.Name, m.Name)
		return nil
	}
	mi := c.info.maps[m.Name]
	if mi == nil && c.pass == 2 && c.learnedMaps[m.Name] == nil {
		c.errorf(arg, "Undefined map: @%s", m.Name)
		return nil
	}
	switch {
	case mi == nil && c.pass == 1:
		// A whole-map use says nothing about the keys.
		mi = c.useMap(m, nil, nil, false)
		mi.keysSet = false
	case mi == nil:
		// The map's signature comes from its assignments, which may come
		// later in the text (pass one learnt them).
		keys := c.learnedKeys(m.Name)
		mi = c.useMap(&ast.MapRef{Sp: m.Sp, Name: m.Name, Keys: make([]ast.Expr, len(keys))}, keys, nil, false)
	}
	c.record(m, TypNone)
	return mi
}

// delete checks delete(@m, key), delete(@m[key]) (deprecated) and
// delete(@m) of a map without a key. It returns whether an entry was
// deleted.
func (c *checker) delete(x *ast.Call) *Type {
	switch len(x.Args) {
	case 1:
		m, ok := x.Args[0].(*ast.MapRef)
		if !ok {
			c.errorf(x, "delete() takes a map entry, e.g. delete(@m[key]) or delete(@m, key)")
			return TypNone
		}
		if len(m.Keys) == 0 {
			// delete(@m) of a map without a key: like a whole-map use, it
			// says nothing about the keys until pass two checks them.
			mi := c.wholeMap(x, m)
			if mi != nil && len(mi.Keys) > 0 && c.pass == 2 {
				c.errorf(x, "delete(@%s) needs a key: @%s has %d key%s, e.g. delete(@%s, key)", m.Name, m.Name, len(mi.Keys), plural(len(mi.Keys)), m.Name)
				return TypNone
			}
			break
		}
		keys := c.mapKeys(m)
		c.useMap(m, keys, nil, false)
		c.record(m, TypNone)
	case 2:
		m, ok := x.Args[0].(*ast.MapRef)
		if !ok || len(m.Keys) > 0 {
			c.errorf(x.Args[0], "delete(@m, key) takes a map name first")
			return TypNone
		}
		kt := c.expr(x.Args[1])
		if kt.Kind == Invalid {
			return TypNone
		}
		var keys []*Type
		mi := c.info.maps[m.Name]
		if mi == nil && c.pass == 2 {
			mi = c.learnedMaps[m.Name]
		}
		switch {
		case kt.Kind == Tuple && (mi == nil || len(mi.Keys) != 1):
			// delete(@m, (a, b)) of a map used as @m[a, b].
			keys = kt.Elems
		default:
			keys = []*Type{storedType(kt)}
		}
		if mi != nil && len(mi.Keys) == 0 && mi.keysSet {
			c.errorf(x.Args[1], "@%s has no key; delete it with delete(@%s)", m.Name, m.Name)
			return TypNone
		}
		if mi != nil && mi.keysSet && len(mi.Keys) == len(keys) {
			for i, k := range keys {
				if join(mi.Keys[i], k) == nil {
					c.errorf(x.Args[1], "Argument mismatch for @%s: trying to access with arguments: '%s' when map expects arguments: '%s'", m.Name, kt, keyText(mi.Keys))
					return TypNone
				}
			}
		}
		elems := make([]ast.Expr, len(keys))
		for i := range elems {
			elems[i] = x.Args[1]
		}
		c.useMap(&ast.MapRef{Sp: m.Sp, Name: m.Name, Keys: elems}, keys, nil, false)
		c.record(m, TypNone)
	default:
		c.arity(x)
		return TypNone
	}
	return TypStoredBool
}

// keyText names a map's key signature.
func keyText(keys []*Type) string {
	if len(keys) == 1 {
		return keys[0].String()
	}
	return TupleType(keys).String()
}

func (c *checker) str(x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	// Without a length, str() is bounded by max_strlen, and a string cut
	// there prints with the truncation trailer; str(p, n) reads at most n
	// characters, quietly.
	size, bounded := c.info.Config.MaxStrlen, true
	if len(x.Args) == 2 {
		nt := c.expr(x.Args[1])
		n, ok := c.info.Consts[x.Args[1]]
		switch {
		case nt.Kind == Invalid:
			return TypInvalid
		case !ok && !nt.IsInt():
			c.errorf(x.Args[1], "str() length must be an integer, not %s", nt)
			return TypInvalid
		case !ok:
			// Read at run time, at most max_strlen: the compiler clamps it.
			if t := c.expr(x.Args[0]); t.Kind != Invalid && !t.IsInt() && t.Kind != Pointer {
				c.notSupported(x.Args[1], "a str() length that is not a constant, for a "+t.String())
				return TypInvalid
			}
			bounded = false
		case n <= 0:
			c.errorf(x.Args[1], "str() length must be positive")
			return TypInvalid
		case n+1 < int64(size):
			size, bounded = int(n)+1, false
		}
	}
	t := c.expr(x.Args[0])
	if s, ok := c.info.StrConsts[x.Args[0]]; ok || t.IsInt() {
		if p, isPos := x.Args[0].(*ast.Positional); isPos && !ok {
			// str($1) of a numeric parameter is its text.
			s, _ = c.positional(p.Index)
		}
		if t.IsInt() && !isPositional(x.Args[0]) {
			return c.strType(size, bounded)
		}
		if len(s) > size-1 {
			s = s[:size-1]
		} else {
			bounded = false // the whole constant fits
		}
		c.info.StrConsts[x] = s
		st := StringType(len(s) + 1)
		st.Bounded = bounded
		return st
	}
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == String:
		if t.Size <= size {
			return t
		}
		return c.strType(size, bounded)
	case t.Kind == Array && t.Elem.Size == 1:
		return StringType(min(t.Len+1, size))
	}
	c.errorf(x.Args[0], "str() takes a string or a pointer, not %s", t)
	return TypInvalid
}

func isPositional(x ast.Expr) bool {
	_, ok := x.(*ast.Positional)
	return ok
}

// strType is the type of a string str() reads into size bytes.
func (c *checker) strType(size int, bounded bool) *Type {
	t := StringType(size)
	t.Bounded = bounded
	return t
}

func (c *checker) printf(x *ast.Call) *Type { return c.formatted(x) }

func (c *checker) checkVerb(a ast.Expr, v *Verb, t *Type) {
	switch {
	case t.Kind == None:
		c.errorf(a, "%s does not return a value", describe(a))
	case t.IsAggregation():
		c.errorf(a, "printf cannot print an aggregation")
	case v.Conv == 's':
		// %s prints anything, as in bpftrace.
	case v.Conv == 'r':
		if t.Kind != String && t.Kind != Buffer {
			c.errorf(a, "printf: %s expects a buffer or string, got %s", v.Raw, t)
		}
	case !t.IsInt():
		c.errorf(a, "printf: %s expects an integer, got %s", v.Raw, t)
	}
}

func (c *checker) print(x *ast.Call) *Type {
	if !c.arity(x) {
		return TypNone
	}
	if m, ok := x.Args[0].(*ast.MapRef); ok && len(m.Keys) == 0 {
		for i, a := range x.Args[1:] {
			t := c.expr(a)
			v, ok := c.info.Consts[a]
			switch {
			case t.Kind == Invalid:
			case !ok:
				c.errorf(a, "print() argument %d must be a constant integer", i+2)
			case v < 0 || i == 1 && v == 0:
				c.errorf(a, "print() %s must be positive", map[int]string{0: "top", 1: "divisor"}[i])
			}
		}
		c.wholeMap(x, m)
		return TypNone
	}
	if len(x.Args) > 1 {
		c.errorf(x, "print() of a value takes one argument")
		return TypNone
	}
	t := c.expr(x.Args[0])
	switch {
	case t.Kind == Invalid:
	case t.Kind == None:
		c.errorf(x.Args[0], "%s does not return a value", describe(x.Args[0]))
	case t.IsAggregation():
		c.errorf(x.Args[0], "print() of one aggregation entry is not possible: print the whole map")
	}
	return TypNone
}

// learnedKeys is a map's key signature as pass one learnt it.
func (c *checker) learnedKeys(name string) []*Type {
	if m := c.learnedMaps[name]; m != nil {
		return m.Keys
	}
	return nil
}
