package ktrace_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestPath prints the path of a file the test stats three times, from
// security_inode_getattr's struct path (a function whose fentry programs
// the kernel lets call bpf_d_path; vfs_getattr, also on its list, is
// inlined into the stat path, so its fentry never runs): the whole name
// each time, and an empty string
// for a size the name does not fit. fentry needs a kernel that allows it
// (the kernel lab's; this machine refuses it with EPERM).
func TestPath(t *testing.T) {
	testutil.RequireRoot(t)
	if err := kernel.HaveFentry(); err != nil {
		t.Skipf("fentry is unavailable (%v): the kernel lab runs this test", err)
	}
	file := filepath.Join(t.TempDir(), "ktrace-path-test")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	u := startUser(t, `fentry:security_inode_getattr /pid == $1/ { printf("%s [%s]\n", path(args.path), path(args.path, 8)); }`,
		&ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}})
	for range 3 {
		if _, err := os.Stat(file); err != nil {
			t.Fatal(err)
		}
	}
	printed, _ := u.stop(t)
	if want := strings.Repeat(file+" []\n", 3); printed != want {
		t.Errorf("printed\n%s\nwant\n%s", printed, want)
	}
}
