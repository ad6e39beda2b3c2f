package ktrace

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestChildWithoutShell holds a child without /bin/sh: this test binary,
// re-executed, waits and then executes the command with the same pid.
func TestChildWithoutShell(t *testing.T) {
	saved := holderShell
	holderShell = "/nonexistent/sh"
	defer func() { holderShell = saved }()
	var out bytes.Buffer
	c, err := StartChild("readlink /proc/self", nil, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Terminate()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-c.Done():
		t.Fatal("the child ran before it was released")
	default:
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if want := strconv.Itoa(c.PID) + "\n"; out.String() != want || c.ExitCode() != 0 {
		t.Errorf("child printed %q and exited %d; want %q (its pid) and 0", out.String(), c.ExitCode(), want)
	}
}

// TestChildNotReleased checks that a child never released exits without
// running the command.
func TestChildNotReleased(t *testing.T) {
	dir := t.TempDir()
	marker := dir + "/ran"
	c, err := StartChild("touch "+marker, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Terminate()
	if _, err := os.Stat(marker); err == nil || c.ExitCode() == 0 {
		t.Errorf("the command ran (exit %d)", c.ExitCode())
	}
	if _, err := StartChild("  ", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "empty command") {
		t.Errorf("empty command: %v", err)
	}
}
