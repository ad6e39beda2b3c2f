package symbol

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// Demangle turns a mangled C++ (Itanium ABI) or Rust (legacy or v0) name
// into its source form, as c++filt does; other names come back as they
// are.
func Demangle(name string) string {
	if !mangled(name) {
		return name
	}
	return demangle.Filter(name, demangle.MaxLength(14))
}

func mangled(name string) bool {
	return strings.HasPrefix(name, "_Z") || strings.HasPrefix(name, "_R") || strings.HasPrefix(name, "__Z")
}

// frameName is how a function of a file's symbol table names a stack
// frame: without a symbol version (memcpy@@GLIBC_2.14, as a .symtab may
// spell it), and demangled. Demangling costs microseconds, so a file's
// demangled names are kept.
func (e *fileEntry) frameName(name string) string {
	if i := strings.IndexByte(name, '@'); i > 0 {
		name = name[:i]
	}
	if !mangled(name) {
		return name
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.demangled[name]
	if !ok {
		d = Demangle(name)
		if e.demangled == nil {
			e.demangled = map[string]string{}
		}
		e.demangled[name] = d
	}
	return d
}
