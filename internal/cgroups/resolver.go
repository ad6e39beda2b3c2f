package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

var (
	// ErrNoHierarchy means no cgroup v2 hierarchy is mounted.
	ErrNoHierarchy = errors.New("no cgroup v2 hierarchy is mounted")
	// ErrNotCgroup2 means a Resolver's root is not in a cgroup v2
	// hierarchy (a cgroup v1 controller's, or the tmpfs that holds them).
	ErrNotCgroup2 = errors.New("not a cgroup v2 hierarchy")
)

// rootID is the id of the cgroup v2 hierarchy's root: kernfs numbers its
// root directory 1 (Linux 5.5 and later).
const rootID = 1

// Defaults of a Resolver.
const (
	// DefaultRefresh is how often, at most, a Resolver walks the
	// hierarchy again for an id it does not know.
	DefaultRefresh = time.Second
	// DefaultMaxEntries bounds a Resolver's table. A walk stops there, and
	// the cgroups removed since the last walk are kept only while there is
	// room.
	DefaultMaxEntries = 1 << 16
)

// Root finds the directory where the whole cgroup v2 hierarchy is
// mounted, from /proc/self/mountinfo: usually /sys/fs/cgroup, on hybrid
// systems /sys/fs/cgroup/unified. In a container with a cgroup namespace
// the runtime's mount shows only the container's own subtree; a mount of
// the host's hierarchy (a Kubernetes hostPath volume of /sys/fs/cgroup,
// say at /host/sys/fs/cgroup) is found wherever it is, by its root
// directory's id. Without such a mount, the first cgroup2 mount is
// returned.
func Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	return pickRoot(f, dirID)
}

// pickRoot chooses among the cgroup2 mounts of a mountinfo text: the first
// whose directory is the hierarchy's root (id reads a directory's id),
// else the first.
func pickRoot(mountinfo io.Reader, id func(string) (uint64, error)) (string, error) {
	var mounts []string
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		// 36 35 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw
		// (optional fields before the "-", then the file system type).
		before, after, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(before)
		if ok && len(fields) >= 5 && strings.HasPrefix(after, "cgroup2 ") {
			mounts = append(mounts, unescapeMountinfo(fields[4]))
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading mountinfo: %w", err)
	}
	if len(mounts) == 0 {
		return "", ErrNoHierarchy
	}
	for _, m := range mounts {
		if n, err := id(m); err == nil && n == rootID {
			return m, nil
		}
	}
	return mounts[0], nil
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of the
// paths in mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dirID is a directory's inode number: for a cgroup, its id.
func dirID(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// A Resolver finds cgroups by id. It is safe for concurrent use.
type Resolver struct {
	root       string
	refresh    time.Duration
	maxEntries int

	mu     sync.Mutex
	paths  map[uint64]string
	walked time.Time // when paths was last walked; zero before the first walk
}

// NewResolver returns a Resolver for the hierarchy mounted at root, or,
// when root is "", at Root(). It walks the hierarchy on first use.
func NewResolver(root string) (*Resolver, error) {
	if root == "" {
		var err error
		if root, err = Root(); err != nil {
			return nil, err
		}
	}
	root = filepath.Clean(root)
	var sfs unix.Statfs_t
	if err := unix.Statfs(root, &sfs); err != nil {
		return nil, fmt.Errorf("cgroup root: %w", &fs.PathError{Op: "statfs", Path: root, Err: err})
	}
	if sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		return nil, fmt.Errorf("%w: %s", ErrNotCgroup2, root)
	}
	return &Resolver{root: root, refresh: DefaultRefresh, maxEntries: DefaultMaxEntries}, nil
}

// Root is the directory the Resolver walks.
func (r *Resolver) Root() string { return r.root }

// Path returns the path of cgroup id below the hierarchy's root ("/" for
// the root, "/system.slice/nginx.service"), and whether it is known. An
// unknown id makes the Resolver walk the hierarchy again, unless it did
// less than a second ago: so a cgroup made just after a walk is unknown
// until a second has passed, and an id that names no cgroup (one made and
// removed between two walks) costs a walk a second at most. A cgroup
// removed since a walk keeps its path while the table has room: ids are
// not reused, and metrics keep naming cgroups that are gone.
func (r *Resolver) Path(id uint64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.paths[id]; ok {
		return p, true
	}
	if !r.walked.IsZero() && time.Since(r.walked) < r.refresh {
		return "", false
	}
	r.walk()
	p, ok := r.paths[id]
	return p, ok
}

// Name returns the label value for cgroup id: Identify(path).Name(), or
// the id in decimal when the cgroup is unknown.
func (r *Resolver) Name(id uint64) string {
	if p, ok := r.Path(id); ok {
		return Identify(p).Name()
	}
	return strconv.FormatUint(id, 10)
}

// errFull stops a walk that has filled the table.
var errFull = errors.New("cgroup table full")

// walk rebuilds the table from the hierarchy, then keeps the old entries
// that are gone from it while there is room. Unreadable directories are
// skipped: a cgroup removed during the walk is not an error.
func (r *Resolver) walk() {
	r.walked = time.Now()
	paths := make(map[uint64]string, len(r.paths))
	filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if len(paths) >= r.maxEntries {
			return errFull
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		rel, err := filepath.Rel(r.root, p)
		if err != nil {
			return nil
		}
		paths[st.Ino] = filepath.Clean("/" + rel)
		return nil
	})
	for id, p := range r.paths {
		if len(paths) >= r.maxEntries {
			break
		}
		if _, ok := paths[id]; !ok {
			paths[id] = p
		}
	}
	r.paths = paths
}

// ID returns the id of the cgroup v2 directory at path, the number the
// BPF cgroup helpers give for processes in it.
func ID(path string) (uint64, error) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return 0, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	if sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("%w: %s", ErrNotCgroup2, path)
	}
	return dirID(path)
}
