package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

func TestPickRoot(t *testing.T) {
	// ids are the directory ids the fake stat gives; a path it does not
	// know fails, as a mount point the process cannot reach would.
	ids := map[string]uint64{
		"/sys/fs/cgroup":             1,
		"/sys/fs/cgroup/unified":     1,
		"/host/sys/fs/cgroup":        1,
		"/host/sys/fs/cgroup/x y":    1,
		"/sys/fs/cgroup/ns":          4242, // a cgroup namespace's view
		"/run/other-cgroup2-subtree": 977,
	}
	stat := func(p string) (uint64, error) {
		if id, ok := ids[p]; ok {
			return id, nil
		}
		return 0, os.ErrNotExist
	}
	for _, tc := range []struct {
		name, mountinfo, want string
		err                   error
	}{
		{
			name: "unified",
			mountinfo: `22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`,
			want: "/sys/fs/cgroup",
		},
		{
			name: "hybrid",
			mountinfo: `26 22 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
28 26 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd
`,
			want: "/sys/fs/cgroup/unified",
		},
		{
			name: "container: the host's hierarchy mounted beside the namespaced one",
			mountinfo: `901 900 0:24 / /sys/fs/cgroup/ns ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate
915 900 0:24 /../../.. /host/sys/fs/cgroup ro,relatime master:4 - cgroup2 cgroup2 rw,nsdelegate
`,
			want: "/host/sys/fs/cgroup",
		},
		{
			name: "no mount of the whole hierarchy: the first",
			mountinfo: `901 900 0:24 / /sys/fs/cgroup/ns ro,nosuid - cgroup2 cgroup rw
902 900 0:24 / /run/other-cgroup2-subtree ro,nosuid - cgroup2 cgroup rw
`,
			want: "/sys/fs/cgroup/ns",
		},
		{
			name:      "escaped mount point",
			mountinfo: `915 900 0:24 / /host/sys/fs/cgroup/x\040y ro,relatime shared:1 master:4 - cgroup2 cgroup2 rw` + "\n",
			want:      "/host/sys/fs/cgroup/x y",
		},
		{
			name:      "cgroup v1 only",
			mountinfo: `28 26 0:26 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd` + "\n",
			err:       ErrNoHierarchy,
		},
		{
			name: "empty",
			err:  ErrNoHierarchy,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickRoot(strings.NewReader(tc.mountinfo), stat)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("pickRoot = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if ErrNoHierarchy.Error() != "no cgroup v2 hierarchy is mounted" {
		t.Errorf("ErrNoHierarchy reads %q", ErrNoHierarchy)
	}
}

func TestNewResolverErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := NewResolver(dir)
	if want := "not a cgroup v2 hierarchy: " + dir; err == nil || err.Error() != want || !errors.Is(err, ErrNotCgroup2) {
		t.Errorf("NewResolver(tmpdir) = %v, want %q", err, want)
	}
	missing := filepath.Join(dir, "missing")
	_, err = NewResolver(missing)
	if want := "cgroup root: statfs " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("NewResolver(missing) = %v, want %q", err, want)
	}
}

// testCgroup makes dir (relative to the hierarchy's root, "/a/b") and its
// parents in the cgroup v2 hierarchy, and removes them when the test
// ends. It returns the new cgroup's id.
func testCgroup(t *testing.T, root, rel string) uint64 {
	t.Helper()
	dir := filepath.Join(root, rel)
	// Remove from the innermost up: a cgroup is removed with rmdir, and
	// only once it has no children (os.RemoveAll would try to unlink its
	// interface files first).
	for d := dir; d != root; d = filepath.Dir(d) {
		t.Cleanup(func() { os.Remove(d) })
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := dirID(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResolver makes cgroups and finds them by id: a cgroup made after
// the table was walked is found once a second has passed, and one removed
// keeps its path.
func TestResolver(t *testing.T) {
	testutil.RequireRoot(t)
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver("")
	if err != nil {
		t.Fatal(err)
	}
	if r.Root() != root {
		t.Errorf("Root() = %q, want %q", r.Root(), root)
	}
	slice := fmt.Sprintf("/ktrace-test-%d.slice", os.Getpid())
	app := slice + "/app.service"
	appID := testCgroup(t, root, app)
	if p, ok := r.Path(appID); !ok || p != app {
		t.Errorf("Path(%d) = %q, %v; want %q", appID, p, ok, app)
	}
	if n := r.Name(appID); n != strings.TrimPrefix(app, "/") {
		t.Errorf("Name(%d) = %q, want %q", appID, n, strings.TrimPrefix(app, "/"))
	}
	if p, ok := r.Path(rootID); !ok || p != "/" {
		t.Errorf("Path(root) = %q, %v; want \"/\"", p, ok)
	}

	// A cgroup made after the walk: not found until a second has passed
	// since it, then found by the next miss's walk.
	walked := r.walked
	late := slice + "/late.service"
	lateID := testCgroup(t, root, late)
	if p, ok := r.Path(lateID); ok {
		t.Errorf("Path(%d) = %q straight after a walk: the walk was not rate-limited", lateID, p)
	}
	if n := r.Name(lateID); n != fmt.Sprint(lateID) {
		t.Errorf("Name(unknown %d) = %q, want the number", lateID, n)
	}
	time.Sleep(time.Until(walked.Add(DefaultRefresh + 10*time.Millisecond)))
	if p, ok := r.Path(lateID); !ok || p != late {
		t.Errorf("Path(%d) a second later = %q, %v; want %q", lateID, p, ok, late)
	}

	// Removed, then walked past: still named.
	if err := os.Remove(filepath.Join(root, late)); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.walk()
	r.mu.Unlock()
	if p, ok := r.Path(lateID); !ok || p != late {
		t.Errorf("Path(%d) of a removed cgroup = %q, %v; want %q", lateID, p, ok, late)
	}
	if _, ok := r.Path(^uint64(0)); ok {
		t.Errorf("Path(2^64-1) found a cgroup")
	}
}

// TestResolverBounded: the table never holds more than maxEntries ids,
// and the cgroups removed since the last walk are the first to go.
func TestResolverBounded(t *testing.T) {
	testutil.RequireRoot(t)
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	slice := fmt.Sprintf("/ktrace-test-%d.slice", os.Getpid())
	var ids []uint64
	for i := range 3 {
		ids = append(ids, testCgroup(t, root, fmt.Sprintf("%s/c%d", slice, i)))
	}
	r, err := NewResolver(filepath.Join(root, slice))
	if err != nil {
		t.Fatal(err)
	}
	r.maxEntries = 3
	r.mu.Lock()
	r.walk()
	n := len(r.paths)
	r.mu.Unlock()
	if n != 3 {
		t.Errorf("the table of a 4-cgroup tree holds %d ids, want the bound, 3", n)
	}

	// A resolver of the whole subtree, then c0 removed: the next walk
	// finds 3 (the slice and c1, c2) and keeps c0, which fits in 4.
	r.maxEntries = 4
	r.mu.Lock()
	r.walk()
	r.mu.Unlock()
	if err := os.Remove(filepath.Join(root, slice, "c0")); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.walk()
	r.mu.Unlock()
	if p, ok := r.Path(ids[0]); !ok || p != "/c0" {
		t.Errorf("Path(c0) after removal = %q, %v; want \"/c0\" (below this resolver's root)", p, ok)
	}
	// With a bound of 3 it no longer fits.
	r.maxEntries = 3
	r.mu.Lock()
	r.walk()
	_, kept := r.paths[ids[0]]
	n = len(r.paths)
	r.mu.Unlock()
	if kept || n != 3 {
		t.Errorf("bound 3: %d ids, c0 kept %v; want 3 ids, the removed c0 dropped", n, kept)
	}
}
