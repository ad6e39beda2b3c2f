package kernel

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Reading /proc/kallsyms is expensive no matter how it is done: the kernel
// formats ~120k lines through seq_file, 4 KB per read(2), ~30-60 ms of
// system time on the 2-core VM. Parsing on top of that costs ~5 ms (one
// allocation for the text, one for the index; no per-line allocations).
// So kallsyms is loaded once per process and only on paths that need it
// (kprobe wildcards, kaddr, ksym/kstack); existence checks go to BTF
// first. Every one of those paths shares the one table LoadKallsyms
// returns: one read, one parse, one address order.

// Symbol is one /proc/kallsyms entry.
type Symbol struct {
	// Addr is the address; 0 for every symbol when kptr_restrict hides
	// addresses from this process.
	Addr uint64
	// Type is nm's type letter: 't'/'T' text (functions), 'd'/'D' data, ...
	Type byte
	// Name is the symbol name.
	Name string
	// Module is the module name for module symbols, "" for vmlinux.
	Module string
}

// IsFunction reports whether the symbol is in a text section.
func (s Symbol) IsFunction() bool { return isTextType(s.Type) }

// ksym is the compact in-memory form of a Symbol, 16 bytes: the strings
// stay in the file text.
type ksym struct {
	addr    uint64
	nameOff uint32
	nameLen uint16
	// modLen is the length of the module name, which follows the name
	// after "\t[". The kernel's MODULE_NAME_LEN is 64 with the NUL.
	modLen uint8
	typ    byte
}

// Kallsyms is a parsed /proc/kallsyms, sorted by address. It is immutable
// and safe for concurrent use.
type Kallsyms struct {
	data   []byte
	syms   []ksym
	hidden bool
	// initStart, initEnd bound .init.text, whose functions are freed after
	// boot and cannot be probed.
	initStart, initEnd uint64

	// funcs indexes the functions for Resolve. It is built on first use,
	// not by ParseKallsyms: most loads (kprobe wildcards, kaddr) never
	// resolve an address.
	funcsOnce sync.Once
	funcs     funcIndex
}

// funcIndex is the text symbols of the table, one per address (the first
// in file order), laid out for Resolve, which names ~100,000 frames at a
// time when a profile's kernel stacks are printed: the addresses in one
// dense array for the binary search, and beside them what a Symbol needs
// in 24 bytes per function (one cache miss), with names that are
// substrings of one string of function names, so that resolving
// allocates nothing. (Names sliced from the file text, or a copy of its
// ksym, cost a quarter more time per frame.)
type funcIndex struct {
	addrs   []uint64
	fns     []indexedFunc
	modules []string // module names, each once
}

type indexedFunc struct {
	name   string
	module uint16 // 1 + the index in funcIndex.modules; 0 for vmlinux
	typ    byte
}

var kallsymsState struct {
	mu sync.Mutex
	k  *Kallsyms
}

// LoadKallsyms reads and parses /proc/kallsyms once per process; later
// calls return the same table. Failures are not memoized.
func LoadKallsyms() (*Kallsyms, error) {
	kallsymsState.mu.Lock()
	defer kallsymsState.mu.Unlock()
	if kallsymsState.k != nil {
		return kallsymsState.k, nil
	}
	data, err := readProcFile("/proc/kallsyms", 8<<20)
	if err != nil {
		return nil, MissingPrivilege("reading /proc/kallsyms", err)
	}
	k, err := ParseKallsyms(data)
	if err != nil {
		return nil, fmt.Errorf("/proc/kallsyms: %w", err)
	}
	kallsymsState.k = k
	return k, nil
}

// readProcFile reads a /proc file, whose Stat size is 0, into one buffer
// sized by hint instead of os.ReadFile's doubling from 512 bytes.
func readProcFile(path string, hint int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, hint)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// ParseKallsyms parses the text of /proc/kallsyms. data is retained.
// Malformed lines are skipped rather than failing the whole table, since a
// future kernel could add columns; an input with no symbols is an error.
func ParseKallsyms(data []byte) (*Kallsyms, error) {
	k := &Kallsyms{data: data}
	k.syms = make([]ksym, 0, bytes.Count(data, []byte{'\n'})+1)
	allZero := true
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		if s, ok := parseKallsymsLine(data, pos, end); ok {
			if s.addr != 0 {
				allZero = false
			}
			k.syms = append(k.syms, s)
		}
		pos = end + 1
	}
	if len(k.syms) == 0 {
		return nil, errors.New("no symbols")
	}
	k.hidden = allZero
	if !slices.IsSortedFunc(k.syms, cmpKsym) {
		slices.SortStableFunc(k.syms, cmpKsym)
	}
	for i := range k.syms {
		switch s := &k.syms[i]; {
		case k.nameEq(s, "_sinittext"):
			k.initStart = s.addr
		case k.nameEq(s, "_einittext"):
			k.initEnd = s.addr
		}
	}
	return k, nil
}

func cmpKsym(a, b ksym) int { return cmp.Compare(a.addr, b.addr) }

// parseKallsymsLine parses "ffffffff816d2230 t do_sys_openat2" or
// "ffffffffc0a01000 t nft_do_chain\t[nf_tables]" in data[pos:end].
func parseKallsymsLine(data []byte, pos, end int) (ksym, bool) {
	var s ksym
	i := pos
	for ; i < end && data[i] != ' '; i++ {
		c := data[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return s, false
		}
		if s.addr>>60 != 0 {
			return s, false // more than 16 hex digits
		}
		s.addr = s.addr<<4 | uint64(d)
	}
	if i == pos || i+3 >= end || data[i+2] != ' ' {
		return s, false
	}
	s.typ = data[i+1]
	nameStart := i + 3
	nameEnd := nameStart
	for nameEnd < end && data[nameEnd] != '\t' && data[nameEnd] != ' ' {
		nameEnd++
	}
	if nameEnd == nameStart || nameEnd-nameStart > 0xffff || nameStart > 0xffffffff {
		return s, false
	}
	s.nameOff, s.nameLen = uint32(nameStart), uint16(nameEnd-nameStart)
	if rest := data[nameEnd:end]; len(rest) > 3 && rest[0] == '\t' && rest[1] == '[' && rest[len(rest)-1] == ']' && len(rest)-3 <= 0xff {
		s.modLen = uint8(len(rest) - 3)
	}
	return s, true
}

func (k *Kallsyms) nameOf(s *ksym) string {
	return string(k.data[s.nameOff : s.nameOff+uint32(s.nameLen)])
}

// nameEq compares without allocating.
func (k *Kallsyms) nameEq(s *ksym, name string) bool {
	return int(s.nameLen) == len(name) && string(k.data[s.nameOff:s.nameOff+uint32(s.nameLen)]) == name
}

func (k *Kallsyms) moduleOf(s *ksym) string {
	if s.modLen == 0 {
		return ""
	}
	start := s.nameOff + uint32(s.nameLen) + 2
	return string(k.data[start : start+uint32(s.modLen)])
}

func (k *Kallsyms) symbol(s *ksym) Symbol {
	return Symbol{Addr: s.addr, Type: s.typ, Name: k.nameOf(s), Module: k.moduleOf(s)}
}

// All yields every symbol in address order.
func (k *Kallsyms) All() iter.Seq[Symbol] {
	return func(yield func(Symbol) bool) {
		for i := range k.syms {
			if !yield(k.symbol(&k.syms[i])) {
				return
			}
		}
	}
}

// Len returns the number of symbols.
func (k *Kallsyms) Len() int { return len(k.syms) }

// Hidden reports whether addresses are hidden from this process
// (kptr_restrict, or not root): every address reads as 0, so Resolve
// cannot work and Lookup's addresses are meaningless.
func (k *Kallsyms) Hidden() bool { return k.hidden }

// Lookup returns the first symbol called name. Duplicates exist (static
// functions of the same name in different files); use LookupAll for all.
func (k *Kallsyms) Lookup(name string) (Symbol, bool) {
	for i := range k.syms {
		if k.nameEq(&k.syms[i], name) {
			return k.symbol(&k.syms[i]), true
		}
	}
	return Symbol{}, false
}

// LookupAll returns every symbol called name, in address order.
func (k *Kallsyms) LookupAll(name string) []Symbol {
	var out []Symbol
	for i := range k.syms {
		if k.nameEq(&k.syms[i], name) {
			out = append(out, k.symbol(&k.syms[i]))
		}
	}
	return out
}

// HasFunction reports whether a text symbol called name exists.
func (k *Kallsyms) HasFunction(name string) bool {
	for i := range k.syms {
		if k.nameEq(&k.syms[i], name) && isTextType(k.syms[i].typ) {
			return true
		}
	}
	return false
}

func isTextType(t byte) bool { return t == 't' || t == 'T' || t == 'w' || t == 'W' }

// Functions returns the distinct names of all text symbols, sorted.
func (k *Kallsyms) Functions() []string {
	return k.functions(false)
}

// TraceableFunctions is Functions without symbols that can never be
// probed: the __pfx_/__cfi_ padding symbols the compiler emits before
// functions, and functions in .init.text, which is freed after boot.
// The kernel's exact list (available_filter_functions) is often
// unreadable, so this is an approximation from kallsyms alone.
func (k *Kallsyms) TraceableFunctions() []string {
	return k.functions(true)
}

func (k *Kallsyms) functions(traceable bool) []string {
	out := make([]string, 0, len(k.syms)/2)
	for i := range k.syms {
		s := &k.syms[i]
		if !isTextType(s.typ) {
			continue
		}
		if traceable {
			if k.initEnd > k.initStart && s.addr >= k.initStart && s.addr < k.initEnd {
				continue
			}
			name := k.data[s.nameOff : s.nameOff+uint32(s.nameLen)]
			if bytes.HasPrefix(name, []byte("__pfx_")) || bytes.HasPrefix(name, []byte("__cfi_")) {
				continue
			}
		}
		out = append(out, k.nameOf(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Resolve finds the function containing addr: the last text symbol at or
// below it. Only functions name addresses: data symbols would shadow the
// function an address is in, and kernels before 6.15 list per-CPU
// variables at small addresses (fixed_percpu_data at 0), which must not
// name NULL or user-space addresses. ok is false below the first
// function, when addresses are hidden, and more than 1 MB past the last
// function (nothing sensible is there).
func (k *Kallsyms) Resolve(addr uint64) (sym Symbol, offset uint64, ok bool) {
	if k.hidden {
		return Symbol{}, 0, false
	}
	fi := k.functionIndex()
	// The last function at or below addr; sort.Search's closure costs
	// more than this loop on the hot path of stack symbolization.
	lo, hi := 0, len(fi.addrs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if fi.addrs[mid] <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo - 1
	if i < 0 {
		return Symbol{}, 0, false
	}
	off := addr - fi.addrs[i]
	if i == len(fi.addrs)-1 && off > maxResolveOffset {
		return Symbol{}, 0, false
	}
	f := &fi.fns[i]
	sym = Symbol{Addr: fi.addrs[i], Type: f.typ, Name: f.name}
	if f.module > 0 {
		sym.Module = fi.modules[f.module-1]
	}
	return sym, off, true
}

// maxResolveOffset bounds how far past the last function an address
// still belongs to it.
const maxResolveOffset = 1 << 20

func (k *Kallsyms) functionIndex() *funcIndex {
	k.funcsOnce.Do(func() {
		n, size := 0, 0 // upper bounds: of names at one address only one stays
		for i := range k.syms {
			if s := &k.syms[i]; isTextType(s.typ) {
				n++
				size += int(s.nameLen)
			}
		}
		fi := funcIndex{addrs: make([]uint64, 0, n), fns: make([]indexedFunc, 0, n)}
		var names strings.Builder
		names.Grow(size)
		ends := make([]int, 0, n) // where each name ends in names
		moduleIndex := map[string]uint16{}
		for i := range k.syms {
			s := &k.syms[i]
			if !isTextType(s.typ) {
				continue
			}
			// Several names can share an address; the first in file
			// order (syms is sorted stably) wins, as in the kernel's %pS.
			if m := len(fi.addrs); m > 0 && fi.addrs[m-1] == s.addr {
				continue
			}
			names.Write(k.data[s.nameOff : s.nameOff+uint32(s.nameLen)])
			ends = append(ends, names.Len())
			f := indexedFunc{typ: s.typ}
			if s.modLen > 0 {
				mod := k.data[s.nameOff+uint32(s.nameLen)+2:][:s.modLen]
				if f.module = moduleIndex[string(mod)]; f.module == 0 && len(fi.modules) < 0xffff {
					fi.modules = append(fi.modules, string(mod))
					f.module = uint16(len(fi.modules))
					moduleIndex[string(mod)] = f.module
				}
			}
			fi.addrs = append(fi.addrs, s.addr)
			fi.fns = append(fi.fns, f)
		}
		all, start := names.String(), 0
		for i, end := range ends {
			fi.fns[i].name = all[start:end]
			start = end
		}
		k.funcs = fi
	})
	return &k.funcs
}

// Symbolize formats addr as "name+0xoff" ("name" when off is 0, with
// " [module]" for module symbols); an unresolvable address is printed as
// 0x-prefixed hex.
func (k *Kallsyms) Symbolize(addr uint64) string {
	s, off, ok := k.Resolve(addr)
	if !ok {
		return "0x" + strconv.FormatUint(addr, 16)
	}
	var b strings.Builder
	b.WriteString(s.Name)
	if off != 0 {
		b.WriteString("+0x")
		b.WriteString(strconv.FormatUint(off, 16))
	}
	if s.Module != "" {
		b.WriteString(" [" + s.Module + "]")
	}
	return b.String()
}

// FunctionExists reports whether the kernel has a function called name.
// It asks BTF first (a few ms, no kallsyms read) and falls back to
// kallsyms for functions without BTF (~40 ms for the first read).
func FunctionExists(name string) (bool, error) {
	if ok, err := BTFHasFunction(name); err == nil && ok {
		return true, nil
	}
	k, err := LoadKallsyms()
	if err != nil {
		return false, err
	}
	return k.HasFunction(name), nil
}

// BTFHasFunction reports whether vmlinux BTF has a FUNC called name
// (what fentry/fexit need), without building the whole function list.
func BTFHasFunction(name string) (bool, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return false, err
	}
	defer release()
	found, err := b.hasFuncs([]string{name})
	if err != nil {
		return false, err
	}
	return found[0], nil
}

// DropCandidates are the kernel functions that free a dropped skb with a
// reason, newest first: sk_skb_reason_drop (6.11+), kfree_skb_reason
// (5.17+), kfree_skb (older).
var DropCandidates = []string{"sk_skb_reason_drop", "kfree_skb_reason", "kfree_skb"}

// DropFunction returns the first of DropCandidates this kernel has; it is
// what `ktrace dropcount --probe kprobe` attaches to. The answer is cached
// on disk with the BTF facts, so a warm call costs microseconds.
func DropFunction() (string, error) {
	const key = "dropfunc"
	if v, ok := cachedFact(key); ok {
		return v, nil
	}
	var inBTF []bool
	if b, release, err := openVmlinuxBTF(); err == nil {
		inBTF, _ = b.hasFuncs(DropCandidates)
		release()
	}
	for i, name := range DropCandidates {
		found := i < len(inBTF) && inBTF[i]
		if !found {
			k, err := LoadKallsyms()
			if err != nil {
				return "", err
			}
			found = k.HasFunction(name)
		}
		if found {
			storeFact(key, name)
			return name, nil
		}
	}
	return "", fmt.Errorf("none of %s exists in this kernel", strings.Join(DropCandidates, ", "))
}

var kprobeFuncs struct {
	mu    sync.Mutex
	names []string
}

// KprobeFunctions returns the functions kprobes may be placed on, sorted
// and distinct: the kernel's own list (tracefs available_filter_functions)
// when it is readable, else kallsyms' TraceableFunctions. The list is
// computed once per process and shared; callers must not modify it.
func KprobeFunctions() ([]string, error) {
	kprobeFuncs.mu.Lock()
	defer kprobeFuncs.mu.Unlock()
	if kprobeFuncs.names != nil {
		return kprobeFuncs.names, nil
	}
	if root, err := Tracefs(); err == nil {
		if data, err := os.ReadFile(filepath.Join(root, "available_filter_functions")); err == nil {
			if names := parseFilterFunctions(data); len(names) > 0 {
				kprobeFuncs.names = names
				return names, nil
			}
		}
	}
	k, err := LoadKallsyms()
	if err != nil {
		return nil, err
	}
	kprobeFuncs.names = k.TraceableFunctions()
	return kprobeFuncs.names, nil
}

// UseKprobeFunctionsFile makes KprobeFunctions the functions listed in
// path, in available_filter_functions' format, instead of the kernel's
// list (bpftrace's --traceable-functions). An empty file leaves no
// function traceable.
func UseKprobeFunctionsFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	names := parseFilterFunctions(data)
	if names == nil {
		names = []string{} // not nil: nil means "not read yet"
	}
	kprobeFuncs.mu.Lock()
	defer kprobeFuncs.mu.Unlock()
	kprobeFuncs.names = names
	return nil
}

// parseFilterFunctions parses available_filter_functions lines, "name" or
// "name [module]".
func parseFilterFunctions(data []byte) []string {
	var names []string
	for line := range bytes.Lines(data) {
		name, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte{' '})
		if len(name) > 0 {
			names = append(names, string(name))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
