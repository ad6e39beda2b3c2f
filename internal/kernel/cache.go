package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The on-disk fact cache holds small answers that are expensive to compute
// (a BTF walk, a kallsyms read) and cannot change until the kernel does.
// It is one text file; its first line names the kernel it is valid for:
// release, size and mtime of the BTF blob (a rebuilt kernel with the same
// release string has different BTF). A file for another kernel is ignored
// and replaced on the next store. Failing to read or write it is never an
// error: ktrace then just computes the answer.
const (
	factCacheFile   = "kernel-facts"
	factCacheHeader = "ktrace kernel facts v1"
)

// CacheDir returns the directory ktrace caches into:
// $XDG_CACHE_HOME/ktrace when XDG_CACHE_HOME is set, /var/cache/ktrace for
// root, otherwise os.UserCacheDir()/ktrace. The directory may not exist
// yet.
func CacheDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "ktrace"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/ktrace", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "ktrace"), nil
}

var kernelKey = sync.OnceValue(func() string {
	var u unix.Utsname
	release := "unknown"
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	size, mtime := int64(0), int64(0)
	if st, err := os.Stat(VmlinuxBTF); err == nil {
		size, mtime = st.Size(), st.ModTime().UnixNano()
	}
	return fmt.Sprintf("%s %d %d", release, size, mtime)
})

var facts struct {
	mu      sync.Mutex
	dir     string
	entries map[string]string
}

// loadFactsLocked makes facts.entries reflect the cache file of the
// current cache directory (which tests change through XDG_CACHE_HOME).
func loadFactsLocked() {
	dir, err := CacheDir()
	if err != nil {
		dir = ""
	}
	if facts.entries != nil && facts.dir == dir {
		return
	}
	facts.dir = dir
	facts.entries = map[string]string{}
	if dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(dir, factCacheFile))
	if err != nil {
		return
	}
	header, rest, _ := bytes.Cut(data, []byte{'\n'})
	if string(header) != factCacheHeader+" "+kernelKey() {
		return
	}
	for line := range bytes.Lines(rest) {
		k, v, ok := bytes.Cut(bytes.TrimRight(line, "\n"), []byte{'\t'})
		if ok {
			facts.entries[string(k)] = string(v)
		}
	}
}

func cachedFact(key string) (string, bool) {
	facts.mu.Lock()
	defer facts.mu.Unlock()
	loadFactsLocked()
	v, ok := facts.entries[key]
	return v, ok
}

// storeFact remembers key=value in memory and, best effort, on disk.
func storeFact(key, value string) {
	facts.mu.Lock()
	defer facts.mu.Unlock()
	loadFactsLocked()
	if strings.ContainsAny(key, "\t\n") || strings.ContainsAny(value, "\t\n") {
		return
	}
	facts.entries[key] = value
	if facts.dir == "" {
		return
	}
	var buf bytes.Buffer
	buf.WriteString(factCacheHeader + " " + kernelKey() + "\n")
	for k, v := range facts.entries {
		buf.WriteString(k + "\t" + v + "\n")
	}
	_ = writeFileAtomic(facts.dir, factCacheFile, buf.Bytes())
}

// ReadCacheFile returns the body of a file that WriteCacheFile stored
// in CacheDir under name for this kernel and the same variant (what else
// the content depends on, e.g. the loaded modules); ok is false when
// there is none, or it is for another kernel or variant.
func ReadCacheFile(name, variant string) (body []byte, ok bool) {
	dir, err := CacheDir()
	if err != nil {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, false
	}
	header, body, _ := bytes.Cut(data, []byte{'\n'})
	if string(header) != cacheFileHeader(variant) {
		return nil, false
	}
	return body, true
}

// WriteCacheFile stores body in CacheDir under name, for ReadCacheFile,
// best effort: failing to write a cache is never an error.
func WriteCacheFile(name, variant string, body []byte) {
	dir, err := CacheDir()
	if err != nil {
		return
	}
	data := append([]byte(cacheFileHeader(variant)+"\n"), body...)
	_ = writeFileAtomic(dir, name, data)
}

func cacheFileHeader(variant string) string {
	return factCacheHeader + " " + kernelKey() + " " + variant
}

// writeFileAtomic replaces dir/name so that concurrent ktrace processes
// never read a half-written cache.
func writeFileAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	_, err = w.Write(data)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// StructMemberOffset returns the byte offset of member in struct
// structName according to the kernel's BTF, e.g. ("task_struct", "comm").
// member may be a dotted path through nested structs ("se.vruntime") and
// may sit inside anonymous structs or unions.
//
// Answers are cached in memory and on disk (see CacheDir), so only the
// first run after a kernel change pays for a BTF walk (3-9 ms; a cached
// lookup is well under 0.5 ms). A struct or member that does not exist gives a
// *NotFoundError.
func StructMemberOffset(structName, member string) (uint32, error) {
	m, err := StructMember(structName, member)
	return m.Offset, err
}

// StructMember is StructMemberOffset with the member's size and whether it
// is a bitfield.
func StructMember(structName, member string) (Member, error) {
	key := "member " + structName + " " + member
	if v, ok := cachedFact(key); ok {
		if m, ok := parseMemberFact(v); ok {
			return m, nil
		}
	}
	m, err := structMemberUncached(structName, member)
	if err != nil {
		return Member{}, err
	}
	bf := 0
	if m.Bitfield {
		bf = 1
	}
	storeFact(key, fmt.Sprintf("%d %d %d", m.Offset, m.Size, bf))
	return m, nil
}

func parseMemberFact(v string) (Member, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return Member{}, false
	}
	off, err1 := strconv.ParseUint(f[0], 10, 32)
	size, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return Member{}, false
	}
	return Member{Offset: uint32(off), Size: uint32(size), Bitfield: f[2] == "1"}, true
}

func structMemberUncached(structName, member string) (Member, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return Member{}, err
	}
	defer release()
	return b.structMember(structName, member)
}

// BTFFunctions returns the names of all functions that have a BTF FUNC
// record in vmlinux (the functions fentry/fexit can target), sorted.
func BTFFunctions() ([]string, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	return b.names(btfKindFunc, "")
}

// BTFRawTracepoints returns the names of all raw tracepoints as BTF knows
// them (the btf_trace_NAME typedefs), sorted. This includes bare
// tracepoints that have no tracefs event.
func BTFRawTracepoints() ([]string, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	return b.names(btfKindTypedef, "btf_trace_")
}

// BTFHasRawTracepoints reports, for each name, whether BTF types the raw
// tracepoint (a btf_trace_NAME typedef), which a tp_btf program needs.
// Answers are cached on disk like StructMemberOffset: the first asks
// cost a walk over the kernel's BTF, later ones microseconds.
func BTFHasRawTracepoints(names []string) ([]bool, error) {
	found := make([]bool, len(names))
	var missing []int
	for i, n := range names {
		v, ok := cachedFact("rawtp " + n)
		if !ok {
			missing = append(missing, i)
		}
		found[i] = v == "1"
	}
	if len(missing) == 0 {
		return found, nil
	}
	all, err := BTFRawTracepoints()
	if err != nil {
		return nil, err
	}
	for _, i := range missing {
		_, found[i] = slices.BinarySearch(all, names[i])
		v := "0"
		if found[i] {
			v = "1"
		}
		storeFact("rawtp "+names[i], v)
	}
	return found, nil
}

// StructSize returns the size in bytes of the kernel struct called name,
// from BTF, cached on disk like StructMemberOffset.
func StructSize(name string) (uint32, error) {
	key := "size " + name
	if v, ok := cachedFact(key); ok {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			return uint32(n), nil
		}
	}
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return 0, err
	}
	defer release()
	size, err := b.structSize(name)
	if err != nil {
		return 0, err
	}
	storeFact(key, strconv.FormatUint(uint64(size), 10))
	return size, nil
}
