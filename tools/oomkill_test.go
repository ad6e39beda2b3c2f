package tools_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/tools"
)

// memoryCgroup makes a memory cgroup limited to 32 MiB without swap, for
// the test's duration: in cgroup v2 when its memory controller is there,
// else in cgroup v1's memory hierarchy (a hybrid system's). It skips the
// test when the kernel has neither.
func memoryCgroup(t *testing.T) string {
	t.Helper()
	var v1, v2 string
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		before, after, ok := strings.Cut(sc.Text(), " - ")
		fields, rest := strings.Fields(before), strings.Fields(after)
		if !ok || len(fields) < 5 || len(rest) < 3 {
			continue
		}
		switch {
		case rest[0] == "cgroup2":
			v2 = fields[4]
		case rest[0] == "cgroup" && strings.Contains(","+rest[2]+",", ",memory,"):
			v1 = fields[4]
		}
	}
	f.Close()
	name := "ktrace-oomkill-" + strconv.Itoa(os.Getpid())
	write := func(path, value string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var dir string
	if ctl, _ := os.ReadFile(filepath.Join(v2, "cgroup.controllers")); v2 != "" && strings.Contains(" "+string(ctl)+" ", " memory ") {
		write(filepath.Join(v2, "cgroup.subtree_control"), "+memory")
		dir = filepath.Join(v2, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(dir, "memory.max"), "32M")
		if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
			write(filepath.Join(dir, "memory.swap.max"), "0")
		}
	} else if v1 != "" {
		dir = filepath.Join(v1, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(dir, "memory.limit_in_bytes"), "32M")
		if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err == nil {
			write(filepath.Join(dir, "memory.memsw.limit_in_bytes"), "32M")
		}
	} else {
		t.Skip("no memory cgroup controller (cgroup v2 or v1) to limit a process with")
	}
	t.Cleanup(func() {
		// The cgroup is empty once its killed process is reaped;
		// the kernel may take a moment to let it go.
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// oomKill runs tail reading /dev/zero (it keeps the endless line in
// memory) in a 32 MiB memory cgroup until the OOM killer kills it, and
// returns its PID.
func oomKill(t *testing.T) int {
	t.Helper()
	dir := memoryCgroup(t)
	cmd := exec.Command("sh", "-c", "echo $$ > "+filepath.Join(dir, "cgroup.procs")+" && exec tail /dev/zero")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.String() != "signal: killed" {
		t.Fatalf("tail in a 32 MiB cgroup: %v, want it killed", err)
	}
	return cmd.Process.Pid
}

// TestOomkill: tail, killed in its 32 MiB cgroup, is both the process
// whose allocation failed and the one killed, in text and in JSON; its
// pages are about the limit's 8192.
func TestOomkill(t *testing.T) {
	r := startTool(t, "oomkill")
	j := startTool(t, "oomkill", "-j")
	pid := strconv.Itoa(oomKill(t))
	line := r.line("OOM kill of PID " + pid + " ")
	f := fields(line)
	// HH:MM:SS Triggered by PID n ("c"), OOM kill of PID n ("c"), N pages, loadavg: ...
	want := "Triggered by PID " + pid + ` ("tail"), OOM kill of PID ` + pid + ` ("tail"),`
	if len(f) < 15 || strings.Join(f[1:12], " ") != want || f[13] != "pages," || f[14] != "loadavg:" {
		t.Fatalf("line %q, want %q then pages and loadavg", line, want)
	}
	checkClock(t, f[0])
	pages, err := strconv.Atoi(f[12])
	if err != nil || pages < 4096 || pages > 16384 {
		t.Errorf("%q pages, want about 8192 (32 MiB)", f[12])
	}
	ev := j.jsonEvent("tpid", func(v any) bool { return strconv.Itoa(int(v.(float64))) == pid })
	if strconv.Itoa(int(ev["fpid"].(float64))) != pid || ev["fcomm"] != "tail" || ev["tcomm"] != "tail" || ev["pages"] != float64(pages) {
		t.Errorf("event %v: want fpid %s, tail, %d pages", ev, pid, pages)
	}
	if s, _ := ev["loadavg"].(string); len(strings.Fields(s)) != 5 {
		t.Errorf("loadavg %q", ev["loadavg"])
	}
}

// TestOomkillKprobes compiles the kprobe script of kernels with kprobes.
func TestOomkillKprobes(t *testing.T) {
	withKprobes(t)
	c, err := tools.Lookup("oomkill").Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Kernel = tools.KernelWith(true)
	src, err := c.Script(false)
	if err == nil {
		_, err = ktrace.Compile("oomkill.bt", []byte(src), nil)
	}
	if err != nil || !strings.Contains(src, "kprobe:oom_kill_process") {
		t.Errorf("%v\n%s", err, src)
	}
}

// feed writes n bytes without a newline to w, which tail keeps in memory
// as the start of one line.
func feed(t *testing.T, w io.Writer, n int) {
	t.Helper()
	if _, err := w.Write(bytes.Repeat([]byte{'a'}, n)); err != nil {
		t.Fatal(err)
	}
}

// TestOomkillCgroup: in a 32 MiB memory cgroup, tail holding 20 MB (the
// victim, in a cgroup v2 of the test's) is killed as another tail, outside
// that cgroup v2, reads 16 MB: the OOM killer takes the largest. The kill belongs to the victim: -c with its cgroup prints
// it, with the victim's cgroup in the CGROUP column, in text and JSON;
// then a tail killed outside that cgroup is not printed with -c, and
// shows this process's cgroup without it.
func TestOomkillCgroup(t *testing.T) {
	memcg := memoryCgroup(t)
	root := cgroupRoot(t)
	var victimDirs []string
	var name string
	if strings.HasPrefix(memcg, root+"/") {
		// The memory cgroup is a cgroup v2 one: the victim goes into
		// a cgroup below it, charged to it.
		dir := filepath.Join(memcg, "victim")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(dir) })
		victimDirs, name = []string{dir}, strings.TrimPrefix(dir, root)
	} else {
		// A cgroup v1 one: the victim is in it and in a cgroup v2 of
		// its own.
		dir, n := testCgroup(t)
		victimDirs, name = []string{memcg, dir}, n
	}
	text := startTool(t, "oomkill", "-c", name, "-C")
	js := startTool(t, "oomkill", "-C", "-j")
	script := ""
	for _, d := range victimDirs {
		script += "echo $$ > " + filepath.Join(d, "cgroup.procs") + " && "
	}
	victim := exec.Command("sh", "-c", script+"exec tail")
	victim.Stderr = os.Stderr
	hold, err := victim.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	defer victim.Process.Kill()
	feed(t, hold, 20_000_000)
	trigger := exec.Command("sh", "-c", "echo $$ > "+filepath.Join(memcg, "cgroup.procs")+" && exec tail")
	trigger.Stderr = os.Stderr
	in, err := trigger.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := trigger.Start(); err != nil {
		t.Fatal(err)
	}
	feed(t, in, 16_000_000)
	in.Close()
	if err := trigger.Wait(); err != nil {
		t.Fatalf("the tail reading 16 MB: %v", err)
	}
	if err := victim.Wait(); err == nil || err.Error() != "signal: killed" {
		t.Fatalf("the tail holding 20 MB: %v, want it killed", err)
	}
	vpid, tpid := strconv.Itoa(victim.Process.Pid), strconv.Itoa(trigger.Process.Pid)
	// HH:MM:SS CGROUP Triggered by PID n ("c"), OOM kill of PID n ("c"), N pages, loadavg: ...
	f := fields(text.line("OOM kill of PID " + vpid + " "))
	want := name + " Triggered by PID " + tpid + ` ("tail"), OOM kill of PID ` + vpid + ` ("tail"),`
	if len(f) < 14 || strings.Join(f[1:13], " ") != want {
		t.Errorf("line %q, want %q", f, want)
	}
	ev := js.jsonEvent("tpid", func(v any) bool { return strconv.Itoa(int(v.(float64))) == vpid })
	if ev["cgroup"] != name || strconv.Itoa(int(ev["fpid"].(float64))) != tpid {
		t.Errorf("event %v: want cgroup %s, fpid %s", ev, name, tpid)
	}
	// A tail reading /dev/zero, killed in the memory cgroup outside the
	// victim's cgroup v2.
	outside := exec.Command("sh", "-c", "echo $$ > "+filepath.Join(memcg, "cgroup.procs")+" && exec tail /dev/zero")
	if err := outside.Run(); err == nil || err.Error() != "signal: killed" {
		t.Fatalf("tail /dev/zero: %v, want it killed", err)
	}
	opid := strconv.Itoa(outside.Process.Pid)
	ev = js.jsonEvent("tpid", func(v any) bool { return strconv.Itoa(int(v.(float64))) == opid })
	if own := ownCgroup(t); ev["cgroup"] != own {
		t.Errorf("event %v: want cgroup %s", ev, own)
	}
	text.stop()
	if out := text.stdout.String(); strings.Contains(out, "PID "+opid+" ") {
		t.Errorf("-c %s printed the kill outside it:\n%s", name, out)
	}
}
