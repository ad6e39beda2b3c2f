package imports

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/preprocessor"
)

// Config says where relative imports start and how imported files are
// preprocessed.
type Config struct {
	// Dir is the directory of the script: its relative imports are
	// resolved from there. Empty means the working directory (a -e
	// program or stdin).
	Dir string
	// Preprocessor is the configuration the script itself was
	// preprocessed with.
	Preprocessor preprocessor.Config
}

// maxImportSize bounds one imported file, as the script's own size is
// bounded.
const maxImportSize = 4 << 20

// stdlibModules are bpftrace's standard library modules. Their functions
// that ktrace has are built in and need no import.
var stdlibModules = map[string]bool{
	"stdlib": true, "stdlib/base": true, "stdlib/map": true, "stdlib/process": true,
	"stdlib/stack": true, "stdlib/strings": true, "stdlib/system": true,
	"stdlib/task": true, "stdlib/test": true, "stdlib/usdt": true,
}

// Resolve reads prog's imports, and theirs, and merges their probes,
// macros, map declarations and C definitions into prog, ahead of prog's
// own. Errors are a lang.ErrorList. A program that has no probes once
// its imports are merged is an error.
func Resolve(prog *ast.Program, cfg Config) error {
	r := &resolver{cfg: cfg, root: prog.File, seen: map[string]bool{}}
	if len(prog.Imports) > 0 {
		r.importAll(prog, prog.File, cfg.Dir)
		prog.Probes = append(r.merged.Probes, prog.Probes...)
		prog.Macros = append(r.merged.Macros, prog.Macros...)
		prog.MapDecls = append(r.merged.MapDecls, prog.MapDecls...)
		prog.CDecls = append(r.merged.CDecls, prog.CDecls...)
		prog.Warnings = append(prog.Warnings, r.merged.Warnings...)
	}
	if len(prog.Probes) == 0 && len(r.errs) == 0 {
		end := prog.File.Pos(len(prog.File.Src))
		r.errs.Add(prog.File, lang.Span{Pos: end, End: end}, "%s", parser.NoProbes)
	}
	return r.errs.Err()
}

type resolver struct {
	cfg  Config
	root *lang.File
	// seen holds the absolute paths of the files imported so far.
	seen map[string]bool
	// merged collects what the imported files hold, in import order.
	merged ast.Program
	errs   lang.ErrorList
}

func (r *resolver) errorf(f *lang.File, imp *ast.Import, format string, args ...any) {
	r.errs.Add(f, imp.Sp, format, args...)
}

// importAll runs the imports of one file, whose relative paths start at
// dir.
func (r *resolver) importAll(prog *ast.Program, f *lang.File, dir string) {
	for _, imp := range prog.Imports {
		r.importOne(imp, f, dir)
	}
}

func (r *resolver) importOne(imp *ast.Import, f *lang.File, dir string) {
	if stdlibModules[imp.Path] {
		return
	}
	path := imp.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.errorf(f, imp, "Unable to find suitable path for import: %s does not exist", path)
		} else {
			r.errorf(f, imp, "error reading import %q: %v", path, err)
		}
		return
	}
	if bad := worldWritable(path, st); bad != "" {
		r.errorf(f, imp, "cowardly refusing to import from a directory with global write permissions: %q", bad)
		return
	}
	if imp.Statement && (st.IsDir() || filepath.Ext(path) != ".h") {
		r.errorf(f, imp, "an import inside a probe can only import a C header (.h), not %s", imp.Path)
		return
	}
	if st.IsDir() {
		r.importDir(imp, f, path)
		return
	}
	r.importFile(imp, f, path, true)
}

// importDir imports every script and header in a directory, in name
// order; other files are skipped.
func (r *resolver) importDir(imp *ast.Import, f *lang.File, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.errorf(f, imp, "error reading import %q: %v", dir, err)
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		r.importFile(imp, f, filepath.Join(dir, n), false)
	}
}

// importFile imports one file by its kind; explicit is false for a file
// found in an imported directory, where files of other kinds are skipped.
func (r *resolver) importFile(imp *ast.Import, f *lang.File, path string, explicit bool) {
	kind := fileKind(path)
	switch kind {
	case kindScript, kindHeader:
	case kindBPFC:
		if explicit {
			r.errorf(f, imp, "cannot import %s: importing BPF C sources and objects needs a C compiler, and ktrace compiles scripts without one", imp.Path)
		}
		return
	default:
		if explicit {
			r.errorf(f, imp, "unknown import type: %q: ktrace imports bpftrace scripts (.bt) and C headers (.h)", filepath.Base(path))
		}
		return
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if r.seen[abs] {
		return
	}
	r.seen[abs] = true
	src, err := readLimited(path)
	if err != nil {
		r.errorf(f, imp, "error reading import %q: %v", path, err)
		return
	}
	child := r.root.AddFile(path, src)
	sub, err := parser.ParseImported(child, r.cfg.Preprocessor)
	if err != nil {
		r.addErrors(err)
		return
	}
	if kind == kindHeader {
		r.mergeHeader(sub, child)
		return
	}
	if len(sub.Config) > 0 {
		r.errs.Add(child, sub.Config[0].Sp, "invalid `config` within import: only the script that is run may have a config block")
	}
	r.importAll(sub, child, filepath.Dir(path))
	r.merged.Probes = append(r.merged.Probes, sub.Probes...)
	r.merged.Macros = append(r.merged.Macros, sub.Macros...)
	r.merged.MapDecls = append(r.merged.MapDecls, sub.MapDecls...)
	r.merged.CDecls = append(r.merged.CDecls, sub.CDecls...)
	r.merged.Warnings = append(r.merged.Warnings, sub.Warnings...)
}

// mergeHeader takes a header's C definitions; a header holds nothing else.
func (r *resolver) mergeHeader(sub *ast.Program, f *lang.File) {
	var stray lang.Span
	switch {
	case len(sub.Probes) > 0:
		stray = sub.Probes[0].Sp
	case len(sub.Macros) > 0:
		stray = sub.Macros[0].Sp
	case len(sub.MapDecls) > 0:
		stray = sub.MapDecls[0].Sp
	case len(sub.Config) > 0:
		stray = sub.Config[0].Sp
	case len(sub.Imports) > 0:
		stray = sub.Imports[0].Sp
	}
	if stray.Pos.IsValid() {
		r.errs.Add(f, stray, "a C header can only hold C definitions: import a .bt script for probes, macros and maps")
		return
	}
	r.merged.CDecls = append(r.merged.CDecls, sub.CDecls...)
	r.merged.Warnings = append(r.merged.Warnings, sub.Warnings...)
}

func (r *resolver) addErrors(err error) {
	var list lang.ErrorList
	if errors.As(err, &list) {
		r.errs = append(r.errs, list...)
		return
	}
	r.errs.Add(r.root, lang.Span{}, "%v", err)
}

type importKind int

const (
	kindOther importKind = iota
	kindScript
	kindHeader
	kindBPFC
)

func fileKind(path string) importKind {
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(base, ".bt"):
		return kindScript
	case strings.HasSuffix(base, ".h"):
		return kindHeader
	case strings.HasSuffix(base, ".bpf.c"), strings.HasSuffix(base, ".c"),
		strings.HasSuffix(base, ".bpf.o"), strings.HasSuffix(base, ".o"):
		return kindBPFC
	}
	return kindOther
}

// worldWritable returns the path, of the import or of the directory that
// holds it, that anyone may write to, or "": a script pulled from such a
// place could have been replaced by anyone on the machine.
func worldWritable(path string, st fs.FileInfo) string {
	if st.Mode().Perm()&0o002 != 0 {
		return path
	}
	dir := filepath.Dir(path)
	if ds, err := os.Stat(dir); err == nil && ds.Mode().Perm()&0o002 != 0 {
		return dir
	}
	return ""
}

func readLimited(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, maxImportSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxImportSize {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxImportSize)
	}
	return src, nil
}
