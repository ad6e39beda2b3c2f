package tools

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroup2Root returns where the cgroup v2 hierarchy is mounted: usually
// /sys/fs/cgroup, /sys/fs/cgroup/unified on hybrid systems.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw
		before, after, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(before)
		if ok && len(fields) >= 5 && strings.HasPrefix(after, "cgroup2 ") {
			return fields[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// cgroupIDs returns the ID of the cgroup v2 directory path (absolute, or
// relative to the hierarchy's root) and of every directory below it: the
// IDs the BPF cgroup builtin gives for processes in them.
func cgroupIDs(path string) ([]uint64, error) {
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	// A path under /sys/fs/cgroup is a directory; any other is a cgroup
	// as /proc/PID/cgroup names it, relative to the hierarchy's root.
	dir := path
	if !strings.HasPrefix(dir, "/sys/fs/cgroup/") && !strings.HasPrefix(dir, root+"/") && dir != root {
		dir = filepath.Join(root, strings.TrimPrefix(path, "/"))
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no such cgroup (looked for the directory %s)", dir)
	case err != nil:
		return nil, err
	case !st.IsDir():
		return nil, fmt.Errorf("%s is not a cgroup directory", dir)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil || sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		return nil, fmt.Errorf("%s is not in the cgroup v2 hierarchy (mounted at %s)", dir, root)
	}
	var ids []uint64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		ids = append(ids, info.Sys().(*syscall.Stat_t).Ino)
		return nil
	})
	return ids, err
}

// cgroupNames names cgroup IDs by their path below the cgroup v2 root
// ("/system.slice/ssh.service"), walking the hierarchy again, at most once
// a second, when it meets an ID it does not know.
type cgroupNames struct {
	mu     sync.Mutex
	names  map[uint64]string
	walked time.Time
}

// Name returns the path of cgroup id, or the number when it is unknown
// (a cgroup removed since).
func (c *cgroupNames) Name(id uint64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.names[id]; ok {
		return n
	}
	if time.Since(c.walked) > time.Second {
		c.walk()
		if n, ok := c.names[id]; ok {
			return n
		}
	}
	return fmt.Sprint(id)
}

func (c *cgroupNames) walk() {
	c.walked = time.Now()
	if c.names == nil {
		c.names = map[uint64]string{}
	}
	root, err := cgroup2Root()
	if err != nil {
		return
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			name := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
			c.names[info.Sys().(*syscall.Stat_t).Ino] = name
		}
		return nil
	})
}
