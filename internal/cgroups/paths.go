package cgroups

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// A Hierarchy is a mounted cgroup hierarchy as bpftrace's cgroup_path()
// names it: "unified" for cgroup v2, a cgroup v1 hierarchy by its mount
// directory's name ("cpu", "systemd").
type Hierarchy struct {
	Name string
	Root string
}

// Hierarchies lists the mounted cgroup hierarchies from a /proc/mounts
// text: the cgroup v2 mounts first, in mount order, then the v1 ones
// sorted by name, as bpftrace orders cgroup_path()'s answers.
func Hierarchies(mounts io.Reader) []Hierarchy {
	var v2, v1 []Hierarchy
	sc := bufio.NewScanner(mounts)
	for sc.Scan() {
		// cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		dir := unescapeMountinfo(f[1])
		switch f[2] {
		case "cgroup2":
			v2 = append(v2, Hierarchy{Name: "unified", Root: dir})
		case "cgroup":
			v1 = append(v1, Hierarchy{Name: filepath.Base(dir), Root: dir})
		}
	}
	sort.SliceStable(v1, func(i, j int) bool {
		if v1[i].Name != v1[j].Name {
			return v1[i].Name < v1[j].Name
		}
		return v1[i].Root < v1[j].Root
	})
	return append(v2, v1...)
}

// MatchWildcard reports whether name matches a pattern in which '*'
// stands for any text, as bpftrace matches cgroup_path()'s filter.
func MatchWildcard(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}

// A PathFinder answers cgroup_path(): the paths of a cgroup id in the
// mounted hierarchies. It is safe for concurrent use.
type PathFinder struct {
	mu    sync.Mutex
	cache map[pathKey]string
}

type pathKey struct {
	root string
	id   uint64
}

// NewPathFinder returns an empty PathFinder.
func NewPathFinder() *PathFinder { return &PathFinder{cache: map[pathKey]string{}} }

// Paths returns cgroup_path()'s text for id: "NAME:PATH" for each mounted
// hierarchy whose name matches filter and that holds a cgroup with that
// id, joined by commas ("unified:/user.slice"); "" when none does.
func (f *PathFinder) Paths(id uint64, filter string) string {
	mounts, err := os.Open("/proc/mounts")
	if err != nil {
		return ""
	}
	hs := Hierarchies(mounts)
	mounts.Close()
	var out []string
	for _, h := range hs {
		if !MatchWildcard(filter, h.Name) {
			continue
		}
		if p := f.pathIn(h.Root, id); p != "" {
			out = append(out, h.Name+":"+p)
		}
	}
	return strings.Join(out, ",")
}

// pathIn finds the directory below root whose inode number is id: a
// cached answer while it still names that cgroup, else a walk.
func (f *PathFinder) pathIn(root string, id uint64) string {
	k := pathKey{root, id}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.cache[k]; ok {
		if ino, err := dirID(filepath.Join(root, p)); err == nil && ino == id {
			return p
		}
		delete(f.cache, k)
	}
	found := ""
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Ino == id {
			rel, _ := filepath.Rel(root, p)
			found = filepath.Clean("/" + rel)
			return fs.SkipAll
		}
		return nil
	})
	if found != "" {
		f.cache[k] = found
	}
	return found
}
