package ktrace_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// catEnv makes the test binary print a file and exit (maybeCat), as cat
// would: TestWriteUser runs it under a name of its own.
const catEnv = "KTRACE_TEST_CAT"

// maybeCat is called first in TestMain: in the child it prints the file
// catEnv names and exits.
func maybeCat() {
	path := os.Getenv(catEnv)
	if path == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(data)
	os.Exit(0)
}

// TestWriteUser redirects an open, as bpftrace's documentation does: the
// test binary, run as a cat under a name of its own, opens DIR/aaaaaa, and write_user() overwrites
// the path in its memory with DIR/bbbbbb, whose content it then prints;
// the call is true once. A kernel that refuses
// bpf_probe_write_user (in lockdown, as the development machine's) must
// get the error saying so; the kernel lab's kernels allow it.
func TestWriteUser(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	from, to := filepath.Join(dir, "aaaaaa"), filepath.Join(dir, "bbbbbb")
	for path, content := range map[string]string{from: "original\n", to: "redirected\n"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cat := filepath.Join(dir, "ktw-cat")
	if err := os.Symlink(exe, cat); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`tracepoint:syscalls:sys_enter_openat /comm == "ktw-cat" && strcontains(str(args.filename), "aaaaaa")/ {
	$new = "%s";
	@written[write_user(args.filename, $new, %d)] = count();
}`, to, len(to))
	opts := &ktrace.Options{Unsafe: true}
	if err := kernel.HaveHelper(ebpf.TracePoint, asm.FnProbeWriteUser); errors.Is(err, ebpf.ErrNotSupported) {
		_, err := ktrace.Compile("write.bt", []byte(src), opts)
		const want = "write_user(): this kernel does not offer bpf_probe_write_user to BPF programs (a kernel in lockdown leaves it out)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("compile error %v, want %q", err, want)
		}
		return
	}
	u := startUser(t, src, opts)
	c := exec.Command(cat)
	c.Env = append(os.Environ(), catEnv+"="+from)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", cat, from, err, out)
	}
	_, maps := u.stop(t)
	if string(out) != "redirected\n" {
		t.Errorf("cat printed %q, want the redirected file's %q", out, "redirected\n")
	}
	if want := "@written[true]: 1\n"; !strings.Contains(maps, want) {
		t.Errorf("maps\n%s\nwant %q", maps, want)
	}
}
