package types

import (
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/syscalls"
	"github.com/ktrace/ktrace/lang/ast"
)

// Strings and buffers: strerror(), strncmp(), strcontains(), strstr(),
// buf().

// TypStrerror is strerror()'s type: an errno printed as its message.
var TypStrerror = &Type{Kind: Strerror, Size: 8}

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
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case !t.IsInt():
		c.errorf(x, "strerror() only supports integer arguments (%s provided)", t)
		return TypInvalid
	}
	return TypStrerror
}

// TypSyscallName is syscall_name()'s type: a system call number printed
// as the call's name.
var TypSyscallName = &Type{Kind: SyscallName, Size: 8}

// checkSyscallName: syscall_name(nr) names a system call of this
// architecture. The number is what the program keeps; user space prints
// the name, as for strerror(), so a map keyed by it stays small.
func checkSyscallName(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case !t.IsInt():
		c.errorf(x, "syscall_name() expects an integer system call number (%s provided)", t)
		return TypInvalid
	case !syscalls.Available():
		c.errorf(x, "syscall_name() has no table of system calls for %s", runtime.GOARCH)
		return TypInvalid
	}
	return TypSyscallName
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

// TypSignalName is signal_name()'s type: a signal number printed as the
// signal's description, as strsignal(3) words it.
var TypSignalName = &Type{Kind: SignalName, Size: 8}

func checkSignalName(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case !t.IsInt():
		c.errorf(x, "signal_name() expects an integer signal number (%s provided)", t)
		return TypInvalid
	}
	return TypSignalName
}

// checkMemcmp: memcmp(a, b, n) compares the first n bytes of two strings,
// arrays or buffers: 0 when equal, else the difference of the first bytes
// that differ. n is a constant no larger than either value.
func checkMemcmp(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	ok := true
	var sizes []int
	for _, a := range x.Args[:2] {
		t := c.expr(a)
		switch t.Kind {
		case Invalid:
			ok = false
		case String, Array:
			sizes = append(sizes, t.Size)
		case Buffer:
			sizes = append(sizes, t.Len)
		default:
			c.errorf(a, "memcmp() compares strings, arrays or buffers (%s provided)", t)
			ok = false
		}
	}
	nt := c.expr(x.Args[2])
	n, isConst := c.info.Consts[x.Args[2]]
	switch {
	case nt.Kind == Invalid:
		return TypInvalid
	case !nt.IsInt() || !isConst || n < 0:
		c.errorf(x.Args[2], "memcmp() needs a non-negative constant byte count")
		return TypInvalid
	case ok && (n > int64(sizes[0]) || n > int64(sizes[1])):
		c.errorf(x.Args[2], "memcmp() of %d bytes, but the values hold %d and %d", n, sizes[0], sizes[1])
		return TypInvalid
	}
	if !ok {
		return TypInvalid
	}
	return TypS64
}
