package uprobe

import (
	"fmt"
)

// Target is one concrete user-space attach point: where in which file the
// kernel places the breakpoint, and what the probe's builtins need to know.
// The resolver stores it in types.AttachPoint.Spec for user probes.
type Target struct {
	// Path is the binary or library, absolute.
	Path string
	// Func is the function containing the probe ("" when the address is
	// in no known function) and FuncOffset the probe's offset in it.
	Func       string
	FuncOffset uint64
	// Address is the probe's virtual address in the binary as linked;
	// Offset is its offset in the file, which is what uprobes attach at.
	Address uint64
	Offset  uint64
	// Return marks a uretprobe.
	Return bool

	// USDT probes: provider and name, the semaphore's address and file
	// offset (0 without one: the kernel increments it while attached),
	// and the argument specifications.
	Provider, Name string
	Semaphore      uint64
	RefCtrOffset   uint64
	Args           []Arg
}

// IsUSDT reports whether the target is a USDT probe location.
func (t *Target) IsUSDT() bool { return t.Name != "" }

// NumArgs is the number of USDT arguments; the type checker asks through
// this method without importing the package.
func (t *Target) NumArgs() int { return len(t.Args) }

// LocateFunc finds function fn (plus off bytes) in the binary at path.
// off must lie inside the function; a uretprobe takes none.
func LocateFunc(path, fn string, off uint64, ret bool) (*Target, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	s, ok := f.Lookup(fn)
	if !ok {
		return nil, fmt.Errorf("function %s does not exist in %s", fn, path)
	}
	if ret && off != 0 {
		return nil, fmt.Errorf("uretprobe cannot have an offset")
	}
	if off != 0 && off >= s.Size {
		return nil, fmt.Errorf("offset %d is outside function %s (its size is %d)", off, fn, s.Size)
	}
	return f.target(s.Value+off, fn, off, ret)
}

// LocateAddress finds the virtual address addr (as the symbol tables and
// `nm` show it) in the binary at path. It must be inside a known function,
// so that it is at least in code; a uretprobe address must be a function's
// first instruction.
func LocateAddress(path string, addr uint64, ret bool) (*Target, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	s, ok := f.SymbolAt(addr)
	if !ok {
		if f.Stripped {
			return nil, fmt.Errorf("address 0x%x is in no function of %s (the binary is stripped)", addr, path)
		}
		return nil, fmt.Errorf("address 0x%x is in no function of %s", addr, path)
	}
	if ret && addr != s.Value {
		return nil, fmt.Errorf("uretprobe address 0x%x is not the start of a function (it is %s+%d)", addr, s.Name, addr-s.Value)
	}
	return f.target(addr, s.Name, addr-s.Value, ret)
}

func (f *File) target(addr uint64, fn string, off uint64, ret bool) (*Target, error) {
	if !f.Executable(addr) {
		return nil, fmt.Errorf("address 0x%x of %s is not in an executable segment", addr, f.Path)
	}
	foff, err := f.FileOffset(addr)
	if err != nil {
		return nil, err
	}
	if foff == 0 {
		return nil, fmt.Errorf("address 0x%x of %s is at file offset 0", addr, f.Path)
	}
	return &Target{Path: f.Path, Func: fn, FuncOffset: off, Address: addr, Offset: foff, Return: ret}, nil
}

// LocateUSDT turns one USDT note of the binary at path into a target:
// the probe's file offset, its semaphore's file offset, and its parsed
// arguments with the addresses of the symbols they name.
func LocateUSDT(path string, n Note) (*Target, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("usdt probe %s:%s at 0x%x", n.Provider, n.Name, n.Address)
	t, err := f.target(n.Address, "", 0, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if s, ok := f.SymbolAt(n.Address); ok {
		t.Func, t.FuncOffset = s.Name, n.Address-s.Value
	}
	t.Provider, t.Name = n.Provider, n.Name
	if n.Semaphore != 0 {
		off, err := f.FileOffset(n.Semaphore)
		if err != nil {
			return nil, fmt.Errorf("%s: semaphore: %w", what, err)
		}
		t.Semaphore, t.RefCtrOffset = n.Semaphore, off
	}
	t.Args, err = ParseArgs(n.Args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for i := range t.Args {
		a := &t.Args[i]
		if a.Symbol == "" {
			continue
		}
		v, ok := f.Object(a.Symbol)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d (%s) names symbol %s, which is not in the symbol table", what, i, a.Text, a.Symbol)
		}
		a.SymbolAddr = v
	}
	return t, nil
}
