package tools_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sleeper starts a shell that waits for go() and then execs sleep 2 with
// its own PID (so -p can name it before it sleeps), and returns it.
func sleeper(t *testing.T) (cmd *exec.Cmd, goSleep func()) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "go")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sh", "-c", "read x < "+fifo+"; exec sleep 2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, func() {
		if err := os.WriteFile(fifo, []byte("go\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// about2s reports whether a total in microseconds is about 2 s.
func about2s(us float64) bool { return us >= 1.95e6 && us < 2.5e6 }

// TestOffcputime: a process that sleeps 2 s is off CPU about 2e6 us with
// a kernel stack through do_nanosleep and schedule, in JSON, in the
// default text output (its stack, "- sleep (PID)", the total) and folded
// (-f: the command first, the kernel frames outermost first).
func TestOffcputime(t *testing.T) {
	cmd, goSleep := sleeper(t)
	pid := strconv.Itoa(cmd.Process.Pid)
	js := startTool(t, "offcputime", "-j", "-p", pid)
	text := startTool(t, "offcputime", "-K", "-p", pid)
	folded := startTool(t, "offcputime", "-f", "-p", pid)
	goSleep()
	for _, r := range []*toolRun{js, text, folded} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}

	var found bool
	for _, row := range reportRows(t, js) {
		if row["pid"] != float64(cmd.Process.Pid) || row["tid"] != float64(cmd.Process.Pid) {
			t.Errorf("-p %s: a stack of another process: %v", pid, row)
		}
		var kstack []string
		for _, f := range row["kstack"].([]any) {
			kstack = append(kstack, f.(string))
		}
		if row["comm"] == "sleep" && slices.Contains(kstack, "do_nanosleep") && slices.Contains(kstack, "schedule") {
			found = true
			if !about2s(row["total_us"].(float64)) {
				t.Errorf("%v us off CPU in nanosleep, want about 2e6", row["total_us"])
			}
			if _, ok := row["ustack"].([]any); !ok {
				t.Errorf("no user stack in %v", row)
			}
		}
	}
	if !found {
		t.Errorf("no do_nanosleep stack for sleep in:\n%s", js.stdout)
	}

	// The text blocks: frames, "    -                sleep (PID)", the total.
	lines := text.lines()
	found = false
	for i, l := range lines {
		if strings.Join(fields(l), " ") != "- sleep ("+pid+")" {
			continue
		}
		var frames []string
		for j := i - 1; j >= 0 && strings.TrimSpace(lines[j]) != ""; j-- {
			frames = append(frames, strings.TrimSpace(lines[j]))
		}
		total, _ := strconv.ParseFloat(strings.TrimSpace(lines[i+1]), 64)
		if slices.Contains(frames, "do_nanosleep") && about2s(total) {
			found = true
			if !strings.HasPrefix(l, "    -                sleep (") {
				t.Errorf("line %q: want BCC's layout", l)
			}
		}
	}
	if !found {
		t.Errorf("no do_nanosleep block of about 2e6 us in:\n%s", text.stdout)
	}

	found = false
	for _, l := range folded.lines() {
		i := strings.LastIndexByte(l, ' ')
		total, _ := strconv.ParseFloat(l[i+1:], 64)
		if strings.HasPrefix(l, "sleep;") && strings.Contains(l, ";hrtimer_nanosleep;do_nanosleep;schedule;") && about2s(total) {
			found = true
		}
	}
	if !found {
		t.Errorf("no folded do_nanosleep line of about 2e6 us in:\n%s", folded.stdout)
	}
}

func TestOffcputimeUsage(t *testing.T) {
	usageErrors(t, "offcputime", map[string]string{
		"-u -k":      "-u and -k are exclusive",
		"-U -K":      "-U and -K are exclusive",
		"-m 10 -M 5": "-M 5 is below the minimum, 10",
		"1 2":        `unexpected argument "2": the argument is [duration]`,
	})
}
