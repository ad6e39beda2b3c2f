package tools_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/tools"
)

// fileSector returns the disk sector (512 bytes, counted from the start
// of the whole disk) that holds byte offset of file path, from the
// file's extents (filefrag) and its partition's start.
func fileSector(t *testing.T, path string, offset uint64) uint64 {
	t.Helper()
	filefrag := testutil.RequireTool(t, "filefrag", "e2fsprogs")
	out, err := exec.Command(filefrag, "-v", path).CombinedOutput()
	if err != nil {
		t.Fatalf("filefrag: %v: %s", err, out)
	}
	bs := regexp.MustCompile(`blocks of (\d+) bytes`).FindSubmatch(out)
	if bs == nil {
		t.Fatalf("filefrag printed no block size:\n%s", out)
	}
	blockSize, _ := strconv.ParseUint(string(bs[1]), 10, 64)
	block := offset / blockSize
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	var partStart uint64
	if data, err := os.ReadFile(filepath.Join("/sys/dev/block", strconv.Itoa(int(unix.Major(st.Dev)))+":"+strconv.Itoa(int(unix.Minor(st.Dev))), "start")); err == nil {
		partStart, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	}
	extent := regexp.MustCompile(`(?m)^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.`)
	for _, m := range extent.FindAllSubmatch(out, -1) {
		first, _ := strconv.ParseUint(string(m[1]), 10, 64)
		last, _ := strconv.ParseUint(string(m[2]), 10, 64)
		phys, _ := strconv.ParseUint(string(m[3]), 10, 64)
		if block >= first && block <= last {
			return partStart + ((phys+block-first)*blockSize+offset%blockSize)/512
		}
	}
	t.Fatalf("no extent of %s holds block %d:\n%s", path, block, out)
	return 0
}

// TestBiosnoop reads block 100 of a file with direct I/O: dd's line shows
// its PID, the file's disk, a read (R...), the block's first sector and
// 4096 bytes, in text with -d and in JSON with -Q.
func TestBiosnoop(t *testing.T) {
	dd, disk := directReads(t)
	data := strings.TrimPrefix(dd[1], "if=")
	sector := strconv.FormatUint(fileSector(t, data, 100*4096), 10)
	text := startTool(t, "biosnoop", "-d", disk)
	js := startTool(t, "biosnoop", "-j", "-Q", "-t")
	cmd := run(t, "dd", "if="+data, "of=/dev/null", "bs=4k", "skip=100", "count=1", "iflag=direct", "status=none")
	pid := strconv.Itoa(cmd.Process.Pid)

	// Match by sector: dd could also page in its own files.
	ev := js.jsonEvent("sector", func(v any) bool { f, ok := v.(float64); return ok && strconv.FormatFloat(f, 'f', 0, 64) == sector })
	if ev["pid"] != float64(cmd.Process.Pid) || ev["comm"] != "dd" || ev["disk"] != disk || ev["bytes"] != 4096.0 || !strings.HasPrefix(ev["type"].(string), "R") {
		t.Errorf("JSON event %v: want dd (PID %s), disk %s, a read of 4096 bytes", ev, pid, disk)
	}
	if lat, ok := ev["lat_ms"].(float64); !ok || lat <= 0 {
		t.Errorf("lat_ms %v: want a positive number", ev["lat_ms"])
	}
	if _, ok := ev["que_ms"].(float64); !ok {
		t.Errorf("que_ms %v: want a number with -Q", ev["que_ms"])
	}
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\d$`).MatchString(ev["timestamp"].(string)) {
		t.Errorf("timestamp %q: want HH:MM:SS.mmm", ev["timestamp"])
	}

	f := fields(text.line(" " + sector + " "))
	if len(f) != 8 || f[1] != "dd" || f[2] != pid || f[3] != disk || !strings.HasPrefix(f[4], "R") || f[5] != sector || f[6] != "4096" {
		t.Errorf("line %q: want dd %s %s R.. %s 4096", f, pid, disk, sector)
	}
	if strings.Contains(js.stderr.String(), "WARNING") {
		t.Errorf("warnings: %s", js.stderr)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "TIME(s) COMM PID DISK T SECTOR BYTES LAT(ms)" {
		t.Errorf("headings %q", h)
	}
}

// TestBiosnoopCgroup reads block 100 of a file with direct I/O from a
// process in a new cgroup, and block 200 from one outside it. With -c
// and -C, the first read's line shows the cgroup, dd and its PID, though
// the request completes in interrupt context, and the second read is
// not printed; in JSON with -C, each read carries its process's cgroup.
func TestBiosnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	dd, disk := directReads(t)
	data := strings.TrimPrefix(dd[1], "if=")
	in := strconv.FormatUint(fileSector(t, data, 100*4096), 10)
	out := strconv.FormatUint(fileSector(t, data, 200*4096), 10)
	text := startTool(t, "biosnoop", "-c", name, "-C", "-d", disk)
	js := startTool(t, "biosnoop", "-j", "--show-cgroup")
	run(t, "dd", "if="+data, "of=/dev/null", "bs=4k", "skip=200", "count=1", "iflag=direct", "status=none")
	cmd := run(t, "sh", "-c", "echo $$ > "+dir+"/cgroup.procs && exec dd if="+data+" of=/dev/null bs=4k skip=100 count=1 iflag=direct status=none")
	pid := strconv.Itoa(cmd.Process.Pid)

	f := fields(text.line(" " + in + " "))
	if len(f) != 9 || f[1] != name || f[2] != "dd" || f[3] != pid || f[4] != disk || f[6] != in || f[7] != "4096" {
		t.Errorf("line %q: want %s dd %s %s R.. %s 4096", f, name, pid, disk, in)
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME(s) CGROUP COMM PID DISK T SECTOR BYTES LAT(ms)" {
		t.Errorf("headings %q", h)
	}
	for sector, cg := range map[string]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("sector", func(v any) bool { f, ok := v.(float64); return ok && strconv.FormatFloat(f, 'f', 0, 64) == sector })
		if ev["cgroup"] != cg || ev["comm"] != "dd" {
			t.Errorf("JSON event %v: want dd in cgroup %s", ev, cg)
		}
	}
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) != 9 || f[1] != name || f[6] == out {
			t.Errorf("-c %s printed %q: want only requests of processes in %s", name, l, name)
		}
	}
}

// TestBiosnoopDuration: the positional duration stops the tool.
func TestBiosnoopDuration(t *testing.T) {
	r := startTool(t, "biosnoop", "1")
	if err := r.wait(15e9); err != nil {
		t.Fatal(err)
	}
}

func TestBiosnoopUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"1", "2"}, `unexpected argument "2": the argument is [duration] (see ktrace biosnoop -h)`},
		{[]string{"0"}, `the duration must be a positive number of seconds, not "0" (see ktrace biosnoop -h)`},
		{[]string{"-m", "-1"}, "-m needs a number of milliseconds, not -1 (see ktrace biosnoop -h)"},
		{[]string{"-d", "nodisk"}, "no block device called nodisk (see ktrace biosnoop -h)"},
	} {
		_, err := tools.Lookup("biosnoop").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("ktrace biosnoop %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// TestBlockFallbackScripts compiles biosnoop's and biotop's scripts as
// they are on kernels without block:block_io_start (before 6.5), where
// the process is taken at the request's insertion or issue.
func TestBlockFallbackScripts(t *testing.T) {
	for _, tool := range []*tools.Tool{tools.Biosnoop, tools.Biotop} {
		old := *tool
		old.Script = strings.ReplaceAll(tool.Script, `.Kernel.Tracepoint "block:block_io_start"`, "false")
		if old.Script == tool.Script {
			t.Fatalf("%s: no block_io_start test in the script", tool.Name)
		}
		for _, args := range [][]string{nil, {"-Q"}} {
			if tool == tools.Biotop && args != nil {
				continue
			}
			c, err := old.Parse(args)
			if err != nil {
				t.Fatal(err)
			}
			c.Kernel = tools.NewKernel()
			src, err := c.Script(false)
			if err == nil {
				_, err = ktrace.Compile(tool.Name+".bt", []byte(src), nil)
			}
			if err != nil || !strings.Contains(src, "tracepoint:block:block_rq_insert, tracepoint:block:block_rq_issue") {
				t.Errorf("%s %v without block_io_start: %v\n%s", tool.Name, args, err, src)
			}
		}
	}
}
