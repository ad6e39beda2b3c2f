package tools_test

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// busyLoops starts n shell loops that spin on CPU cpu until the test
// ends: with more than one, each waits on the run queue while another
// runs.
func busyLoops(t *testing.T, n, cpu int) []*exec.Cmd {
	t.Helper()
	var cmds []*exec.Cmd
	for i := 0; i < n; i++ {
		cmd := exec.Command("taskset", "-c", strconv.Itoa(cpu), "sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	// taskset execs sh with the same PID; wait until it has.
	for _, cmd := range cmds {
		waitComm(t, cmd.Process.Pid, "sh")
	}
	return cmds
}

// waitComm waits for process pid's command to be comm.
func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if data, err := exec.Command("cat", "/proc/"+strconv.Itoa(pid)+"/comm").Output(); err == nil && strings.TrimSpace(string(data)) == comm {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not become %s", pid, comm)
}

// histCount sums the counts of a JSON log2 histogram.
func histCount(slots any) float64 {
	var n float64
	list, _ := slots.([]any)
	for _, s := range list {
		n += s.(map[string]any)["count"].(float64)
	}
	return n
}

// TestRunqlat: two shell loops pinned to CPU 0 for 2 s wait for each
// other on the run queue: with -p of one, its waits are counted (text, in
// msecs), and with -P in JSON its own histogram counts them, headed by
// its PID and command.
func TestRunqlat(t *testing.T) {
	loops := busyLoops(t, 2, 0)
	pid := loops[0].Process.Pid
	text := startTool(t, "runqlat", "-m", "-p", strconv.Itoa(pid))
	js := startTool(t, "runqlat", "-P", "-j")
	time.Sleep(2 * time.Second)
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	var count float64
	for _, row := range reportRows(t, js) {
		if row["pid"] == float64(pid) {
			if row["comm"] != "sh" {
				t.Errorf("comm %v, want sh", row["comm"])
			}
			count = histCount(row["usecs"])
		}
	}
	if count == 0 {
		t.Errorf("no run queue latency counted for PID %d:\n%s", pid, js.stdout)
	}
	heading := fields(text.line("msecs"))
	if strings.Join(heading, " ") != "msecs : count distribution" {
		t.Errorf("heading %q", heading)
	}
	var total int
	for _, l := range text.lines() {
		if f := fields(l); len(f) >= 5 && f[1] == "->" && f[3] == ":" {
			total += atoi(f[4])
		}
	}
	if total == 0 {
		t.Errorf("-p %d counted nothing:\n%s", pid, text.stdout)
	}
}

func TestRunqlatUsage(t *testing.T) {
	usageErrors(t, "runqlat", map[string]string{"-P -L": "-P and -L are exclusive"})
}
