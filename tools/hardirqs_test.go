package tools_test

import (
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// diskIRQ is the prefix of the interrupt names of a virtio disk's device
// ("virtio1-"): its requests complete through them.
func diskIRQ(t *testing.T, disk string) string {
	t.Helper()
	dev, err := filepath.EvalSymlinks("/sys/block/" + disk + "/device")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dev), "virtio") {
		t.Skipf("disk %s is not a virtio device (%s)", disk, dev)
	}
	return filepath.Base(dev) + "-"
}

// TestHardirqs reads 256 blocks of the disk with direct I/O: the disk's
// virtio interrupt handler has a row, with a count, a total time at least
// its longest, in JSON; in text with -C -N its row has a CPU.
func TestHardirqs(t *testing.T) {
	dd, disk := directReads(t)
	irq := diskIRQ(t, disk)
	r := startTool(t, "hardirqs", "-j")
	text := startTool(t, "hardirqs", "-C", "-N", "-T")
	run(t, dd[0], dd[1:]...)
	for _, x := range []*toolRun{r, text} {
		if err := x.stop(); err != nil {
			t.Fatal(err)
		}
	}
	found := false
	for _, row := range reportRows(t, r) {
		name, _ := row["hardirq"].(string)
		if !strings.HasPrefix(name, irq) {
			continue
		}
		found = true
		count, total, max := row["total_count"].(float64), row["total_usecs"].(float64), row["max_usecs"].(float64)
		if count < 1 || total < max {
			t.Errorf("row %v: want a count and total ≥ max", row)
		}
	}
	if !found {
		t.Errorf("no row for %s* in\n%s", irq, r.stdout)
	}
	if h := strings.Join(fields(text.line("HARDIRQ")), " "); h != "HARDIRQ TOTAL_count TOTAL_nsecs MAX_nsecs CPU" {
		t.Errorf("headings %q", h)
	}
	f := fields(text.line(irq))
	if len(f) != 5 {
		t.Fatalf("row %q", f)
	}
	if cpu, err := strconv.Atoi(f[4]); err != nil || cpu < 0 || cpu >= runtime.NumCPU() {
		t.Errorf("CPU of %q", f)
	}
	if n, _ := strconv.Atoi(f[1]); n < 1 {
		t.Errorf("count of %q", f)
	}
	checkClock(t, text.lines()[1])
}

// TestHardirqsDistributed: with -d -C, the disk's interrupt handler has
// a histogram for a CPU, counting at least one run, in JSON and in text;
// with -s 0 every row is CPU 0's.
func TestHardirqsDistributed(t *testing.T) {
	dd, disk := directReads(t)
	irq := diskIRQ(t, disk)
	r := startTool(t, "hardirqs", "-d", "-C", "-j")
	cpu0 := startTool(t, "hardirqs", "-C", "-j", "-s", "0")
	text := startTool(t, "hardirqs", "-d")
	run(t, dd[0], dd[1:]...)
	for _, x := range []*toolRun{r, cpu0, text} {
		if err := x.stop(); err != nil {
			t.Fatal(err)
		}
	}
	var runs float64
	for _, row := range reportRows(t, r) {
		if cpu := row["cpu"].(float64); cpu < 0 || int(cpu) >= runtime.NumCPU() {
			t.Errorf("row %v: a CPU that is not", row)
		}
		if name, _ := row["hardirq"].(string); strings.HasPrefix(name, irq) {
			for _, b := range row["usecs"].([]any) {
				runs += b.(map[string]any)["count"].(float64)
			}
		}
	}
	if runs < 1 {
		t.Errorf("no run of %s* counted:\n%s", irq, r.stdout)
	}
	for _, row := range reportRows(t, cpu0) {
		if row["cpu"] != 0.0 {
			t.Errorf("-s 0 printed %v", row)
		}
	}
	text.line("hardirq = " + irq)
	if got := fields(text.line("usecs")); len(got) != 4 || got[0] != "usecs" || got[3] != "distribution" {
		t.Errorf("histogram heading %q", got)
	}
}
