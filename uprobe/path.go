package uprobe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// LDCachePath is the dynamic linker's cache that library names are
// looked up in.
var LDCachePath = "/etc/ld.so.cache"

// LibraryDirs are searched, in order, when a library is not in the
// cache: the usual and the multiarch directories.
var LibraryDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
}

var (
	ldCacheOnce sync.Once
	ldCache     []Library
	ldCacheErr  error
)

// Libraries returns this machine's ld.so.cache entries for the native
// architecture, read once.
func Libraries() ([]Library, error) {
	ldCacheOnce.Do(func() {
		data, err := os.ReadFile(LDCachePath)
		if err != nil {
			ldCacheErr = err
			return
		}
		all, err := ParseLDCache(data)
		if err != nil {
			ldCacheErr = err
			return
		}
		for _, l := range all {
			if l.Flags == NativeFlags {
				ldCache = append(ldCache, l)
			}
		}
	})
	return ldCache, ldCacheErr
}

// FindBinary resolves the binary part of a uprobe or usdt attach point to
// an absolute path:
//
//   - a name with a '/' is a path, taken relative to the working directory;
//   - otherwise an executable of that name in $PATH ("bash");
//   - otherwise a library: an exact soname ("libssl.so.3"), or the first
//     library whose soname starts with NAME.so ("libc" finds libc.so.6)
//     or libNAME.so ("c" finds it too), from /etc/ld.so.cache and then
//     the default library directories.
//
// The file must exist and be an ELF binary. Errors start with the name
// (`./app does not exist`), so callers can prefix what it is.
func FindBinary(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty binary name")
	}
	if strings.Contains(name, "/") {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(abs)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("%s does not exist", name)
			}
			return "", err
		}
		if st.IsDir() {
			return "", fmt.Errorf("%s is a directory, not a binary", name)
		}
		if !IsELF(abs) {
			return "", fmt.Errorf("%s is not an ELF binary", name)
		}
		return abs, nil
	}
	if p := findInPath(name); p != "" {
		return p, nil
	}
	if p := findLibrary(name); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%q not found: it is neither an executable in $PATH nor a library in %s or the library directories", name, LDCachePath)
}

func findInPath(name string) string {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err == nil && !st.IsDir() && st.Mode()&0o111 != 0 && IsELF(p) {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	return ""
}

// LibraryMatch ranks how well a soname (or a file name) matches a
// requested library name, as FindBinary looks libraries up:
// 3 exact, 2 NAME.so*, 1 libNAME.so*, 0 no match.
func LibraryMatch(name, soname string) int {
	switch {
	case soname == name:
		return 3
	case strings.HasPrefix(soname, name+".so"):
		return 2
	case !strings.HasPrefix(name, "lib") && strings.HasPrefix(soname, "lib"+name+".so"):
		return 1
	}
	return 0
}

func findLibrary(name string) string {
	libs, _ := Libraries()
	best, bestRank := "", 0
	for _, l := range libs {
		if r := LibraryMatch(name, l.Name); r > bestRank && IsELF(l.Path) {
			best, bestRank = l.Path, r
		}
	}
	if best != "" {
		return best
	}
	for _, dir := range LibraryDirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var cands []string
		for _, e := range entries {
			if r := LibraryMatch(name, e.Name()); r > 0 {
				cands = append(cands, fmt.Sprintf("%d\x00%s", 9-r, e.Name()))
			}
		}
		slices.Sort(cands)
		for _, c := range cands {
			_, file, _ := strings.Cut(c, "\x00")
			p := filepath.Join(dir, file)
			if IsELF(p) {
				return p
			}
		}
	}
	return ""
}
