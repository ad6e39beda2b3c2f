package dwarfinfo

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"
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
	// SplitFiles are the .dwo files and the .dwp package that the
	// split units of a binary built with -gsplit-dwarf came from.
	SplitFiles []string

	// data is DebugFile's DWARF: complete units, or skeletons that
	// have only the line table.
	data *dwarf.Data
	// units are where types and functions are: data, then each split
	// unit.
	units []*dwarf.Data

	once  sync.Once
	funcs map[string]die   // defined functions' DIEs with their parameters
	named map[string][]die // "struct foo", "union u", "enum e", typedef and base type names
	// cus are the compilation units' entries, for the line table.
	cus []*dwarf.Entry

	mu    sync.Mutex
	types map[die]dwarf.Type
}

// die is an entry of one of the units' DWARF.
type die struct {
	data *dwarf.Data
	off  dwarf.Offset
}

// cacheKey identifies a version of a file: a rebuilt binary has another
// size or modification time, and is read again.
type cacheKey struct {
	path  string
	size  int64
	mtime int64
	dirs  string // the SetDebugDirs directories
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
	key := cacheKey{path, st.Size(), st.ModTime().UnixNano(), strings.Join(currentDebugDirs(), "\x00")}
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
	in := &Info{Path: path, DebugFile: path, types: map[die]dwarf.Type{}}
	in.data, err = readDWARF(f)
	if err == nil {
		if err := in.readSplit(f); err != nil {
			return nil, err
		}
		return in, nil
	}
	for _, cand := range debugFiles(path, f) {
		df, err := elf.Open(cand.path)
		if err != nil {
			continue
		}
		if !cand.matches(f, df) {
			df.Close()
			continue
		}
		d, err := readDWARF(df)
		if err == nil {
			in.data, in.DebugFile = d, cand.path
			err = in.readSplit(df)
			df.Close()
			if err != nil {
				return nil, err
			}
			return in, nil
		}
		df.Close()
	}
	return nil, fmt.Errorf("%s has %w", path, ErrNoDWARF)
}

// readSplit reads the split units of a binary built with -gsplit-dwarf,
// whose DWARF f holds.
func (in *Info) readSplit(f *elf.File) error {
	in.units = []*dwarf.Data{in.data}
	sks, err := skeletons(f, in.data)
	if err != nil {
		return fmt.Errorf("%s: reading the DWARF unit headers: %w", in.DebugFile, err)
	}
	if len(sks) == 0 {
		return nil
	}
	split, files, err := splitUnits(in.Path, f, sks)
	if err != nil {
		return err
	}
	in.units = append(in.units, split...)
	in.SplitFiles = files
	return nil
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
		in.funcs = map[string]die{}
		in.named = map[string][]die{}
		for _, d := range in.units {
			in.indexUnits(d)
		}
	})
}

// indexUnits indexes the units of one DWARF data.
func (in *Info) indexUnits(d *dwarf.Data) {
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return
		}
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit, dwarf.TagSkeletonUnit:
			if d == in.data {
				in.cus = append(in.cus, e)
			}
			if isSkeleton(e) {
				// What a skeleton may hold besides the line table
				// (clang's -fsplit-dwarf-inlining copies of inlined
				// functions) is in its split unit, complete.
				if e.Children {
					r.SkipChildren()
				}
				continue
			}
			continue // into its children
		case dwarf.TagSubprogram:
			in.indexFunc(d, e)
		case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagEnumerationType, dwarf.TagTypedef, dwarf.TagBaseType:
			in.indexType(d, e)
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// indexFunc records a function's first definition. A declaration, or the
// concrete instance of an inlined function (it names its abstract origin
// instead of itself), carries no name of its own.
func (in *Info) indexFunc(d *dwarf.Data, e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		return
	}
	if _, seen := in.funcs[name]; !seen {
		in.funcs[name] = die{d, e.Offset}
	}
}

// indexType records a named type; complete definitions come before
// declarations, so that a lookup finds the members.
func (in *Info) indexType(d *dwarf.Data, e *dwarf.Entry) {
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
		in.named[name] = append(in.named[name], die{d, e.Offset})
		return
	}
	in.named[name] = append([]die{{d, e.Offset}}, in.named[name]...)
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
	fd, ok := in.funcs[name]
	if !ok {
		return nil, fmt.Errorf("function %s not found in the DWARF debug info of %s", name, in.Path)
	}
	r := fd.data.Reader()
	r.Seek(fd.off)
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
			if p.Type, err = in.typeAt(die{fd.data, toff}); err != nil {
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
	dies := in.named[name]
	if len(dies) == 0 {
		return nil, fmt.Errorf("unknown type %q: the DWARF debug info of %s has no such type", name, in.Path)
	}
	return in.typeAt(dies[0])
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

// typeAt decodes the type at d, sharing decoded types across lookups.
func (in *Info) typeAt(d die) (dwarf.Type, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if t, ok := in.types[d]; ok {
		return t, nil
	}
	t, err := d.data.Type(d.off)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding a DWARF type: %v", in.Path, err)
	}
	in.types[d] = t
	return t, nil
}
