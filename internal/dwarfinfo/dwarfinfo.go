package dwarfinfo

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrNoDWARF is returned (wrapped) for a binary without debug information
// in itself or in a separate debug file.
var ErrNoDWARF = errors.New("no DWARF debug info")

// Info is the debug information of one binary.
type Info struct {
	// Path is the binary's path as given to Open.
	Path string
	// DebugFile is the file the information was read from: Path itself,
	// or a separate debug file.
	DebugFile string

	data *dwarf.Data

	once  sync.Once
	funcs map[string]dwarf.Offset   // defined functions' DIEs with their parameters
	named map[string][]dwarf.Offset // "struct foo", "union u", "enum e", typedef and base type names
	// cus are the compilation units' entries, for the line table.
	cus []*dwarf.Entry

	mu    sync.Mutex
	types map[dwarf.Offset]dwarf.Type
}

// cacheKey identifies a version of a file: a rebuilt binary has another
// size or modification time, and is read again.
type cacheKey struct {
	path  string
	size  int64
	mtime int64
}

var (
	cacheMu sync.Mutex
	cache   = map[cacheKey]*cached{}
)

type cached struct {
	once sync.Once
	info *Info
	err  error
}

// Open returns the debug information of the binary at path, decoded once
// per version of the file.
func Open(path string) (*Info, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	key := cacheKey{path, st.Size(), st.ModTime().UnixNano()}
	cacheMu.Lock()
	c := cache[key]
	if c == nil {
		c = &cached{}
		cache[key] = c
	}
	cacheMu.Unlock()
	c.once.Do(func() { c.info, c.err = load(path) })
	return c.info, c.err
}

// load reads the binary's DWARF, from itself or a separate debug file.
func load(path string) (*Info, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	data, err := readDWARF(f)
	debugFile := path
	if err != nil {
		for _, cand := range debugFiles(path, f) {
			df, err := elf.Open(cand)
			if err != nil {
				continue
			}
			d, err := readDWARF(df)
			df.Close()
			if err == nil {
				data, debugFile = d, cand
				break
			}
		}
	}
	if data == nil {
		return nil, fmt.Errorf("%s has %w", path, ErrNoDWARF)
	}
	return &Info{Path: path, DebugFile: debugFile, data: data, types: map[dwarf.Offset]dwarf.Type{}}, nil
}

// readDWARF decodes a file's DWARF; a file with no .debug_info (a stripped
// binary, or one with only .eh_frame) has none.
func readDWARF(f *elf.File) (*dwarf.Data, error) {
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return nil, ErrNoDWARF
	}
	return f.DWARF()
}

// index walks the compilation units once, recording where each defined
// function and each named type is.
func (in *Info) index() {
	in.once.Do(func() {
		in.funcs = map[string]dwarf.Offset{}
		in.named = map[string][]dwarf.Offset{}
		r := in.data.Reader()
		for {
			e, err := r.Next()
			if err != nil || e == nil {
				return
			}
			switch e.Tag {
			case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
				in.cus = append(in.cus, e)
				continue // into its children
			case dwarf.TagSubprogram:
				in.indexFunc(e)
			case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagEnumerationType, dwarf.TagTypedef, dwarf.TagBaseType:
				in.indexType(e)
			}
			if e.Children {
				r.SkipChildren()
			}
		}
	})
}

// indexFunc records a function's first definition. A declaration, or the
// concrete instance of an inlined function (it names its abstract origin
// instead of itself), carries no name of its own.
func (in *Info) indexFunc(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		return
	}
	if _, seen := in.funcs[name]; !seen {
		in.funcs[name] = e.Offset
	}
}

// indexType records a named type; complete definitions come before
// declarations, so that a lookup finds the members.
func (in *Info) indexType(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	switch e.Tag {
	case dwarf.TagStructType:
		name = "struct " + name
	case dwarf.TagUnionType:
		name = "union " + name
	case dwarf.TagEnumerationType:
		name = "enum " + name
	}
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		in.named[name] = append(in.named[name], e.Offset)
		return
	}
	in.named[name] = append([]dwarf.Offset{e.Offset}, in.named[name]...)
}

// Param is one of a function's parameters.
type Param struct {
	// Name is empty for a parameter the source leaves unnamed.
	Name string
	Type dwarf.Type
}

// Func is a function the binary defines.
type Func struct {
	Name   string
	Params []Param
	// Variadic marks a function whose last parameter is "...".
	Variadic bool
}

// Func returns the named function's parameters in order.
func (in *Info) Func(name string) (*Func, error) {
	in.index()
	off, ok := in.funcs[name]
	if !ok {
		return nil, fmt.Errorf("function %s not found in the DWARF debug info of %s", name, in.Path)
	}
	r := in.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("%s: reading the DWARF of %s: %v", in.Path, name, err)
	}
	fn := &Func{Name: name}
	if !e.Children {
		return fn, nil
	}
	for {
		c, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the DWARF of %s: %v", in.Path, name, err)
		}
		if c == nil || c.Tag == 0 {
			break
		}
		switch c.Tag {
		case dwarf.TagFormalParameter:
			p := Param{}
			p.Name, _ = c.Val(dwarf.AttrName).(string)
			toff, ok := c.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok {
				return nil, fmt.Errorf("%s: parameter %d of %s has no type in the DWARF", in.Path, len(fn.Params), name)
			}
			if p.Type, err = in.typeAt(toff); err != nil {
				return nil, err
			}
			fn.Params = append(fn.Params, p)
		case dwarf.TagUnspecifiedParameters:
			fn.Variadic = true
		}
		if c.Children {
			r.SkipChildren()
		}
	}
	return fn, nil
}

// Functions lists the names of the functions the debug information
// defines.
func (in *Info) Functions() []string {
	in.index()
	out := make([]string, 0, len(in.funcs))
	for n := range in.funcs {
		out = append(out, n)
	}
	return out
}

// Type finds a type by its C name: "struct foo", "union u", "enum e", or
// a typedef or base type name. A struct only declared in the unit that
// refers to it is completed from the unit that defines it.
func (in *Info) Type(name string) (dwarf.Type, error) {
	in.index()
	offs := in.named[name]
	if len(offs) == 0 {
		return nil, fmt.Errorf("unknown type %q: the DWARF debug info of %s has no such type", name, in.Path)
	}
	return in.typeAt(offs[0])
}

// Complete returns the definition of a struct or union that t only
// declares, when the binary has one; otherwise t.
func (in *Info) Complete(t *dwarf.StructType) *dwarf.StructType {
	if !t.Incomplete || t.StructName == "" {
		return t
	}
	ct, err := in.Type(t.Kind + " " + t.StructName)
	if err != nil {
		return t
	}
	if st, ok := ct.(*dwarf.StructType); ok {
		return st
	}
	return t
}

// typeAt decodes the type at off, sharing decoded types across lookups.
func (in *Info) typeAt(off dwarf.Offset) (dwarf.Type, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if t, ok := in.types[off]; ok {
		return t, nil
	}
	t, err := in.data.Type(off)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding a DWARF type: %v", in.Path, err)
	}
	in.types[off] = t
	return t, nil
}
