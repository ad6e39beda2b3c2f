package tools_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/tools"
)

// TestWriteback writes 16 MiB to a file on disk and runs sync: the
// writeback of the file's disk is traced with reason sync, and its passes
// write at least the file's 4096 pages, in text and in JSON.
func TestWriteback(t *testing.T) {
	_, disk := directReads(t)
	dev, err := os.ReadFile(filepath.Join("/sys/class/block", disk, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	bdi := strings.TrimSpace(string(dev))
	text := startTool(t, "writeback")
	js := startTool(t, "writeback", "-j")
	if err := os.WriteFile(filepath.Join(t.TempDir(), "dirty"), make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "sync")
	if !text.waitFor(" sync ") {
		t.Fatalf("no writeback for sync in:\n%s", text.stdout)
	}
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	var pages int
	reasons := map[string]bool{}
	for _, l := range text.lines()[1:] {
		f := fields(l)
		if len(f) != 5 {
			t.Errorf("line %q: want TIME DEVICE PAGES REASON ms", l)
			continue
		}
		if f[1] == bdi {
			pages += atoi(f[2])
			reasons[f[3]] = true
		}
	}
	if pages < 4096 || !reasons["sync"] {
		t.Errorf("device %s: %d pages written, reasons %v; want at least 4096 and sync:\n%s", bdi, pages, reasons, text.stdout)
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME DEVICE PAGES REASON ms" {
		t.Errorf("headings %q", h)
	}
	var syncs int
	for _, ev := range reportRows(t, js) {
		if ev["device"] == bdi && ev["reason"] == "sync" {
			syncs++
			if _, ok := ev["ms"].(float64); !ok {
				t.Errorf("ms %v: want a number", ev["ms"])
			}
			if _, ok := ev["pages"].(float64); !ok {
				t.Errorf("pages %v: want a number", ev["pages"])
			}
		}
	}
	if syncs == 0 {
		t.Errorf("no JSON event of device %s for sync in:\n%s", bdi, js.stdout)
	}
}

// TestWritebackCgroup dirties 16 MiB of a file from a process in a new
// cgroup and runs sync. The cgroup of a pass is the one whose pages it
// writes: the new cgroup with cgroup writeback (when the cgroup v2
// hierarchy has the memory and io controllers, which the test enables),
// the root cgroup otherwise (as on hybrid systems, where they are cgroup
// v1's). -C shows it for the device's passes (at least the file's 4096
// pages, and a sync pass) in text and JSON; with -c of the new cgroup
// only its passes are printed: those of the file with cgroup writeback,
// none without.
func TestWritebackCgroup(t *testing.T) {
	// Before testCgroup: its cgroup is removed before the controllers
	// are disabled again.
	cgwb := cgroupWriteback(t)
	dir, name := testCgroup(t)
	_, disk := directReads(t)
	dev, err := os.ReadFile(filepath.Join("/sys/class/block", disk, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	bdi := strings.TrimSpace(string(dev))
	want := "/"
	if cgwb {
		want = name
	}
	all := startTool(t, "writeback", "-C")
	in := startTool(t, "writeback", "-c", name, "-C")
	js := startTool(t, "writeback", "-j", "--show-cgroup")
	file := filepath.Join(t.TempDir(), "dirty")
	run(t, "sh", "-c", "echo $$ > "+dir+"/cgroup.procs && exec dd if=/dev/zero of="+file+" bs=1M count=16 status=none")
	run(t, "sync")
	if !all.waitFor(" " + bdi + " ") {
		t.Fatalf("no writeback of device %s in:\n%s", bdi, all.stdout)
	}
	if want == name && !in.waitFor(" sync ") {
		t.Errorf("-c %s printed no sync pass:\n%s", name, in.stdout)
	}
	for _, r := range []*toolRun{all, in, js} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	var pages int
	reasons := map[string]bool{}
	for _, l := range all.lines()[1:] {
		if f := fields(l); len(f) == 6 && f[1] == want && f[2] == bdi {
			pages += atoi(f[3])
			reasons[f[4]] = true
		}
	}
	if pages < 4096 || !reasons["sync"] {
		t.Errorf("cgroup %s, device %s: %d pages written, reasons %v; want at least 4096 and sync:\n%s", want, bdi, pages, reasons, all.stdout)
	}
	if h := strings.Join(fields(all.lines()[0]), " "); h != "TIME CGROUP DEVICE PAGES REASON ms" {
		t.Errorf("headings %q", h)
	}
	lines := in.lines()[1:]
	if want != name && len(lines) > 0 && lines[0] != "" {
		t.Errorf("-c %s printed passes, though without cgroup writeback they are the root cgroup's:\n%s", name, in.stdout)
	}
	for _, l := range lines {
		if f := fields(l); len(f) > 0 && (len(f) != 6 || f[1] != name) {
			t.Errorf("-c %s printed %q", name, l)
		}
	}
	var found bool
	for _, ev := range reportRows(t, js) {
		if ev["device"] == bdi && ev["reason"] == "sync" && ev["cgroup"] == want {
			found = true
		}
	}
	if !found {
		t.Errorf("no JSON event of device %s for sync in cgroup %s:\n%s", bdi, want, js.stdout)
	}
}

// cgroupWriteback enables the memory and io controllers for the cgroup v2
// root's children when the hierarchy has them, so that a child's dirty
// pages are written back for it, and reports whether it could.
func cgroupWriteback(t *testing.T) bool {
	t.Helper()
	root := cgroupRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	controllers := strings.Fields(string(data))
	if !slices.Contains(controllers, "memory") || !slices.Contains(controllers, "io") {
		return false
	}
	control := filepath.Join(root, "cgroup.subtree_control")
	enabled, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "io"} {
		if slices.Contains(strings.Fields(string(enabled)), c) {
			continue
		}
		if err := os.WriteFile(control, []byte("+"+c), 0o644); err != nil {
			t.Fatalf("enabling the %s controller in %s: %v", c, root, err)
		}
		// Disabled again once the test's cgroup is gone, if nothing
		// else uses it then.
		t.Cleanup(func() { os.WriteFile(control, []byte("-"+c), 0o644) })
	}
	return true
}

// TestWritebackFallbackScript compiles writeback's script with -c and -C
// as it is on kernels whose writeback tracepoints have no cgroup_ino,
// where the cgroup is the flushing worker's.
func TestWritebackFallbackScript(t *testing.T) {
	old := *tools.Writeback
	old.Script = strings.ReplaceAll(old.Script, `.Kernel.TracepointField "writeback:writeback_start" "cgroup_ino"`, "false")
	if old.Script == tools.Writeback.Script {
		t.Fatal("no cgroup_ino test in the script")
	}
	c, err := old.Parse([]string{"-c", "/", "-C"})
	if err != nil {
		t.Fatal(err)
	}
	c.Kernel = tools.NewKernel()
	src, err := c.Script(false)
	if err == nil {
		_, err = ktrace.Compile("writeback.bt", []byte(src), nil)
	}
	if err != nil || !strings.Contains(src, "$cgroup = cgroup;") || !strings.Contains(src, "cgroup == 1") || strings.Contains(src, "args.cgroup_ino") {
		t.Errorf("without cgroup_ino: %v\n%s", err, src)
	}
}
