package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTracefsMounts(t *testing.T) {
	tests := []struct {
		name string
		info string
		want []string
		pick string
	}{
		{
			name: "standard",
			info: "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n" +
				"41 22 0:13 / /sys/kernel/tracing rw,relatime shared:12 - tracefs nodev rw\n",
			want: []string{"/sys/kernel/tracing"},
			pick: "/sys/kernel/tracing",
		},
		{
			name: "debugfs only, optional fields",
			info: "30 22 0:7 / /sys/kernel/debug rw - debugfs debugfs rw\n" +
				"31 30 0:13 / /sys/kernel/debug/tracing rw master:3 shared:4 - tracefs tracefs rw\n",
			want: []string{"/sys/kernel/debug/tracing"},
			pick: "/sys/kernel/debug/tracing",
		},
		{
			name: "standard preferred over earlier odd place",
			info: "50 1 0:13 / /mnt/my\\040trace rw - tracefs nodev rw\n" +
				"51 1 0:13 / /sys/kernel/debug/tracing rw - tracefs nodev rw\n" +
				"52 1 0:13 / /sys/kernel/tracing rw - tracefs nodev rw\n",
			want: []string{"/mnt/my trace", "/sys/kernel/debug/tracing", "/sys/kernel/tracing"},
			pick: "/sys/kernel/tracing",
		},
		{
			name: "odd place only",
			info: "50 1 0:13 / /mnt/my\\040trace rw - tracefs nodev rw\n",
			want: []string{"/mnt/my trace"},
			pick: "/mnt/my trace",
		},
		{
			name: "none, and a path merely named tracefs",
			info: "22 1 0:21 / /tracefs rw - ext4 /dev/vda rw\nshort line\n",
			want: nil,
			pick: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tracefsMounts([]byte(tt.info))
			if !slices.Equal(got, tt.want) {
				t.Errorf("mounts = %q, want %q", got, tt.want)
			}
			if p := pickTracefs(got); p != tt.pick {
				t.Errorf("pick = %q, want %q", p, tt.pick)
			}
		})
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:     "/a b",
		`/a\011b\134`: "/a\tb\\",
		`/plain`:      "/plain",
		`/bad\09`:     `/bad\09`,
		`/end\04`:     `/end\04`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTracefsLive(t *testing.T) {
	requireRoot(t)
	p, err := Tracefs()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TRACEFS_MAGIC {
		t.Errorf("%s has fs magic %#x, want tracefs %#x", p, st.Type, unix.TRACEFS_MAGIC)
	}
	if p2, _ := Tracefs(); p2 != p {
		t.Errorf("second call gave %q, first %q", p2, p)
	}
}

// TestTracefsMountsWhenAbsent reproduces a fresh machine: in a private
// mount namespace every tracefs mount is removed, then Tracefs must mount
// it at /sys/kernel/tracing. The host's mounts are untouched.
func TestTracefsMountsWhenAbsent(t *testing.T) {
	if os.Getenv("KTRACE_TEST_CHILD") == "unmounted-tracefs" {
		childUnmountedTracefs()
		return
	}
	requireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTracefsMountsWhenAbsent$")
	cmd.Env = append(os.Environ(), "KTRACE_TEST_CHILD=unmounted-tracefs")
	// Go makes the new namespace's mounts private, so nothing propagates
	// back to the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"before: []\n",
		"tracefs: /sys/kernel/tracing <nil>\n",
		"after: [/sys/kernel/tracing]\n",
		"format: kfree_skb <nil>\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

func childUnmountedTracefs() {
	mounts := func() []string {
		info, _ := os.ReadFile("/proc/self/mountinfo")
		return tracefsMounts(info)
	}
	for i := 0; i < 20 && len(mounts()) > 0; i++ {
		for _, m := range mounts() {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	}
	fmt.Printf("before: %v\n", mounts())
	p, err := Tracefs()
	fmt.Printf("tracefs: %s %v\n", p, err)
	fmt.Printf("after: %v\n", mounts())
	f, err := TracepointFormat("skb", "kfree_skb")
	name := ""
	if f != nil {
		name = f.Name
	}
	fmt.Printf("format: %s %v\n", name, err)
}
