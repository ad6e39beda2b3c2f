package kernel

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Data symbols (kaddr("avenrun")) are in /proc/kallsyms only on kernels
// built with CONFIG_KALLSYMS_ALL; without it kallsyms lists functions and
// a few section bounds. The kernel build's System.map lists every symbol
// at its link-time address, which KASLR shifts at boot by one offset for
// the whole image: the offset is what a symbol in both tables, _text,
// moved by.

// ListsDataSymbols reports whether the table has the kernel's ordinary
// data symbols, which a kernel without CONFIG_KALLSYMS_ALL leaves out:
// local data ('d', 'b') is never a section bound, so one is enough.
func (k *Kallsyms) ListsDataSymbols() bool {
	for i := range k.syms {
		switch k.syms[i].typ {
		case 'd', 'b':
			return true
		}
	}
	return false
}

// SystemMapPaths are where distributions install the System.map of the
// running kernel (release is uname -r), in the order they are tried.
func SystemMapPaths(release string) []string {
	return []string{
		"/boot/System.map-" + release,
		filepath.Join("/lib/modules", release, "System.map"),
		filepath.Join("/lib/modules", release, "build/System.map"),
		"/usr/lib/debug/boot/System.map-" + release,
	}
}

// SystemMapAddress finds name in a System.map's symbols and returns its
// run-time address: the link-time address moved by the offset between
// _text in the map and in the running kernel's kallsyms (KASLR).
func SystemMapAddress(sysmap, running *Kallsyms, name string) (uint64, error) {
	sym, ok := sysmap.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("no symbol %q in System.map", name)
	}
	linked, ok1 := sysmap.Lookup("_text")
	loaded, ok2 := running.Lookup("_text")
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("cannot relocate System.map: _text is missing from it or from /proc/kallsyms")
	}
	return sym.Addr + (loaded.Addr - linked.Addr), nil
}

// LoadSystemMap reads the running kernel's System.map from the first of
// SystemMapPaths that exists; path is "" when none does.
func LoadSystemMap() (k *Kallsyms, path string, err error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, "", fmt.Errorf("uname: %w", err)
	}
	for _, p := range SystemMapPaths(unix.ByteSliceToString(u.Release[:])) {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, p, err
		}
		k, err := ParseKallsyms(data)
		if err != nil {
			return nil, p, fmt.Errorf("%s: %w", p, err)
		}
		return k, p, nil
	}
	return nil, "", nil
}
