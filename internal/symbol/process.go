// Package symbol turns the user addresses of stack frames into function
// names, through the ELF symbol tables (.symtab, .dynsym, or a Go
// binary's .gopclntab) of the files a process had mapped, with C++ and
// Rust names demangled. (Kernel addresses resolve through
// internal/kernel's Kallsyms.)
//
// A user address only means something in its process's address space, so
// a Process is a snapshot of a process's executable mappings, taken while
// the process runs; it keeps resolving after the process has exited.
// Symbol tables are read once per file (by device and inode), lazily, and
// shared by every process that maps the file.
package symbol

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/ktrace/ktrace/internal/elfsym"
)

// Mapping is one executable mapping of a process (a line of
// /proc/PID/maps with the x permission).
type Mapping struct {
	Start, End uint64
	// Offset is the file offset mapped at Start.
	Offset uint64
	// Dev and Inode identify the file; Path is where it was.
	Dev   uint64
	Inode uint64
	Path  string
}

// Process is a snapshot of a process's executable mappings, enough to
// symbolize its user stacks after it has gone.
type Process struct {
	PID   int
	maps  []Mapping    // sorted by Start
	files []*fileEntry // the file of each mapping, nil for none
	// jit holds the symbols of /tmp/perf-PID.map, written by JIT
	// compilers (node --perf-basic-prof, Java agents), when there is one.
	jit []elfsym.Symbol
}

// ParseMaps parses the text of /proc/PID/maps, keeping the executable
// mappings.
func ParseMaps(data []byte) []Mapping {
	var out []Mapping
	for line := range bytes.Lines(data) {
		// start-end perms offset dev inode path
		fields := strings.Fields(string(line))
		if len(fields) < 5 || len(fields[1]) < 3 || fields[1][2] != 'x' {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		var m Mapping
		var err1, err2, err3, err4 error
		m.Start, err1 = strconv.ParseUint(lo, 16, 64)
		m.End, err2 = strconv.ParseUint(hi, 16, 64)
		m.Offset, err3 = strconv.ParseUint(fields[2], 16, 64)
		m.Inode, err4 = strconv.ParseUint(fields[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || m.End <= m.Start {
			continue
		}
		if maj, min, ok := strings.Cut(fields[3], ":"); ok {
			a, _ := strconv.ParseUint(maj, 16, 32)
			b, _ := strconv.ParseUint(min, 16, 32)
			m.Dev = mkdev(a, b)
		}
		if len(fields) > 5 {
			// Paths may contain spaces; everything after the inode is the path.
			s := string(line)
			idx := strings.Index(s, fields[5])
			m.Path = strings.TrimRight(s[idx:], "\n")
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Mapping) int {
		return cmp.Compare(a.Start, b.Start)
	})
	return out
}

// mkdev encodes a device number as the kernel's stat st_dev does.
func mkdev(major, minor uint64) uint64 {
	return (major&0xfffff000)<<32 | (major&0xfff)<<8 | (minor&0xffffff00)<<12 | minor&0xff
}

// Snapshot reads a running process's mappings, and opens the files it
// maps (through /proc/PID/map_files, which reaches files the process
// sees in another mount namespace, or deleted ones), so that their symbols
// can be read later, even after the process has exited.
func Snapshot(pid int) (*Process, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	p := &Process{PID: pid, maps: ParseMaps(data)}
	p.files = make([]*fileEntry, len(p.maps))
	for i := range p.maps {
		p.files[i] = files.open(pid, &p.maps[i])
	}
	if data, err := os.ReadFile(fmt.Sprintf("/tmp/perf-%d.map", pid)); err == nil {
		p.jit = parsePerfMap(data)
	}
	return p, nil
}

// NewProcess makes a Process from mappings, for tests and for callers
// with their own snapshot.
func NewProcess(pid int, maps []Mapping) *Process {
	p := &Process{PID: pid, maps: slices.Clone(maps)}
	slices.SortFunc(p.maps, func(a, b Mapping) int {
		return cmp.Compare(a.Start, b.Start)
	})
	p.files = make([]*fileEntry, len(p.maps))
	for i := range p.maps {
		p.files[i] = files.open(pid, &p.maps[i])
	}
	return p
}

// Frame is a symbolized user address.
type Frame struct {
	// Symbol is the (demangled) function; "" when unknown.
	Symbol string
	Offset uint64
	// Module is the file the address is in, "" when it is in no file.
	Module string
	// Mapping is the process's mapping of Module that holds the address,
	// the zero Mapping when it is in no file: what a profile (pprof)
	// needs to place the address in the file.
	Mapping Mapping
	// BuildID is the GNU build ID of Module, "" when it has none or
	// cannot be read.
	BuildID string
}

// Resolve symbolizes an address of the process.
func (p *Process) Resolve(addr uint64) Frame {
	i, _ := slices.BinarySearchFunc(p.maps, addr, func(m Mapping, a uint64) int {
		switch {
		case m.End <= a:
			return -1
		case m.Start > a:
			return 1
		}
		return 0
	})
	if i < len(p.maps) && p.maps[i].Start <= addr && addr < p.maps[i].End {
		m, e := &p.maps[i], p.files[i]
		f := Frame{Module: m.Path, Mapping: *m}
		if t := e.table(); t != nil {
			f.BuildID = t.BuildID
			if linked, ok := t.Address(addr - m.Start + m.Offset); ok {
				if s, ok := t.Resolve(linked); ok {
					f.Symbol, f.Offset = e.frameName(s.Name), linked-s.Value
				}
			}
		}
		return f
	}
	if name, off, ok := resolveJIT(p.jit, addr); ok {
		return Frame{Symbol: name, Offset: off, Module: fmt.Sprintf("/tmp/perf-%d.map", p.PID)}
	}
	return Frame{}
}

// parsePerfMap parses a perf map file: "START SIZE name" per line, in hex.
// Its names are printed as they are: JITs write them readable.
func parsePerfMap(data []byte) []elfsym.Symbol {
	var out []elfsym.Symbol
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		start, rest, ok1 := strings.Cut(sc.Text(), " ")
		size, name, ok2 := strings.Cut(rest, " ")
		a, err1 := strconv.ParseUint(strings.TrimPrefix(start, "0x"), 16, 64)
		n, err2 := strconv.ParseUint(strings.TrimPrefix(size, "0x"), 16, 64)
		if ok1 && ok2 && err1 == nil && err2 == nil && name != "" {
			out = append(out, elfsym.Symbol{Name: name, Value: a, Size: n})
		}
	}
	slices.SortStableFunc(out, func(a, b elfsym.Symbol) int {
		return cmp.Compare(a.Value, b.Value)
	})
	return out
}

// resolveJIT finds the perf map symbol containing addr. It does not go
// through elfsym's search: JIT code does not nest, and of two lines for
// one address the later wins (the JIT reused the memory), so the only
// candidate is the last symbol at or below addr, in file order.
func resolveJIT(syms []elfsym.Symbol, addr uint64) (string, uint64, bool) {
	i := len(syms) - 1
	for lo, hi := 0, len(syms); lo < hi; {
		mid := (lo + hi) / 2
		if syms[mid].Value > addr {
			hi = mid
			i = mid - 1
		} else {
			lo = mid + 1
		}
	}
	if i >= 0 && addr-syms[i].Value < syms[i].Size {
		return syms[i].Name, addr - syms[i].Value, true
	}
	return "", 0, false
}

// fileKey identifies a mapped file. The inode alone is not enough: a
// deleted file's inode number is soon given to a new file (a rebuilt
// binary), so the change time and size are part of it.
type fileKey struct {
	inode, size uint64
	ctime       int64
}

// fileEntry is one file's symbol table, read on first use from the file
// opened when a process mapping it was snapshot, or from its path.
type fileEntry struct {
	once sync.Once
	f    *os.File // open until the table is read
	path string
	t    *elfsym.File

	mu        sync.Mutex // guards demangled
	demangled map[string]string
}

// fileCache holds the files of every snapshot.
type fileCache struct {
	mu      sync.Mutex
	entries map[fileKey]*fileEntry
	held    int // open files
}

var files = &fileCache{entries: map[fileKey]*fileEntry{}}

// maxHeldFiles bounds the files kept open between a snapshot and the
// first symbolization; past it, files are found again by path.
const maxHeldFiles = 512

// open finds the file of a mapping: through /proc/PID/map_files while
// the process runs (which reaches deleted files, and files the process
// sees in another mount namespace), else by path. It returns nil for
// anonymous memory, [vdso] and files that cannot be found.
func (c *fileCache) open(pid int, m *Mapping) *fileEntry {
	if m.Inode == 0 || m.Path == "" || strings.HasPrefix(m.Path, "[") {
		return nil
	}
	path := strings.TrimSuffix(m.Path, " (deleted)")
	f, err := os.Open(fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.Start, m.End))
	if err != nil {
		if f = openMapped(pid, m); f == nil {
			return nil
		}
	}
	st, err := f.Stat()
	sys, ok := st.Sys().(*syscall.Stat_t)
	if err != nil || !ok || sys.Ino != m.Inode {
		f.Close()
		return nil
	}
	k := fileKey{inode: sys.Ino, size: uint64(sys.Size), ctime: sys.Ctim.Nano()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[k]; e != nil {
		f.Close()
		return e
	}
	e := &fileEntry{path: path}
	if c.held < maxHeldFiles {
		e.f = f
		c.held++
	} else {
		f.Close()
	}
	c.entries[k] = e
	return e
}

// table returns the file's symbol table, nil when it cannot be read.
func (e *fileEntry) table() *elfsym.File {
	if e == nil {
		return nil
	}
	e.once.Do(func() {
		files.mu.Lock()
		f := e.f
		e.f = nil
		if f != nil {
			files.held--
		}
		files.mu.Unlock()
		if f == nil {
			var err error
			if f, err = os.Open(e.path); err != nil {
				return
			}
		}
		defer f.Close()
		e.t, _ = elfsym.Read(f, nil)
	})
	return e.t
}

// openMapped finds a mapped file by its path, or through the process's
// root when it lives in another mount namespace, as long as it is the
// same inode.
func openMapped(pid int, m *Mapping) *os.File {
	path := strings.TrimSuffix(m.Path, " (deleted)")
	for _, p := range []string{path, fmt.Sprintf("/proc/%d/root%s", pid, path)} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if st, err := f.Stat(); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Ino == m.Inode {
				return f
			}
		}
		f.Close()
	}
	return nil
}

// ProcessCache keeps snapshots of processes by pid and address space (the
// kernel's mm of the task: exec gives a process a new one), bounded in
// size. It is safe for concurrent use.
type ProcessCache struct {
	mu    sync.Mutex
	procs map[procKey]*Process
	order []procKey // oldest first, for eviction
	// Max bounds the snapshots kept; zero means 4096.
	Max int
}

type procKey struct {
	pid int
	mm  uint64
}

// Note snapshots a process the first time its (pid, mm) pair is seen;
// call it as soon as possible, while the process runs.
func (c *ProcessCache) Note(pid int, mm uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := procKey{pid, mm}
	if c.procs[k] != nil {
		return
	}
	if p, err := Snapshot(pid); err == nil {
		c.add(k, p)
	}
}

// Get returns the snapshot of (pid, mm), taking one now if there is none
// and the process still runs; nil when it cannot be had.
func (c *ProcessCache) Get(pid int, mm uint64) *Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := procKey{pid, mm}
	if p := c.procs[k]; p != nil {
		return p
	}
	p, err := Snapshot(pid)
	if err != nil {
		return nil
	}
	c.add(k, p)
	return p
}

func (c *ProcessCache) add(k procKey, p *Process) {
	if c.procs == nil {
		c.procs = map[procKey]*Process{}
	}
	max := c.Max
	if max <= 0 {
		max = 4096
	}
	for len(c.order) >= max {
		delete(c.procs, c.order[0])
		c.order = c.order[1:]
	}
	c.procs[k] = p
	c.order = append(c.order, k)
}
