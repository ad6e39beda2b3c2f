package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
)

// soakScript is what the tracer runs: a syscount-like aggregation over every
// system call, a printf stream of the load's getppid() calls and, every
// second, a timestamp and the top entries of both maps.
//
// Every record the programs send shows in the output in a way the counting
// writer recognises, so the records delivered can be counted exactly:
//
//	E <pid> <nsecs>     one printf record (one getppid() call of soakload)
//	T <HH:MM:SS>        one time() record
//	@syscall[...]: N    a run of these lines is one print(@syscall, 10) record
//	@process[...]: N    a run of these lines is one print(@process, 5) record
//
// Each interval run sends three records; the maps are never empty then, as
// raw_syscalls:sys_enter is attached first and fires all the time.
const soakScript = `tracepoint:raw_syscalls:sys_enter { @syscall[args->id] = count(); @process[comm] = count(); }
tracepoint:syscalls:sys_enter_getppid /comm == "soakload"/ { printf("E %d %llu\n", pid, nsecs); }
interval:s:1 { time("T %H:%M:%S\n"); print(@syscall, 10); print(@process, 5); }
`

// intervalRecords is how many records one run of the interval probe sends.
const intervalRecords = 3

// snapshot is what the tracer reports about itself on request.
type snapshot struct {
	Kind   string `json:"kind"` // "ready", "snap" or "exit"
	PID    int    `json:"pid"`
	Error  string `json:"error,omitempty"`
	BootNs int64  `json:"boot_ns"` // CLOCK_BOOTTIME, the clock of nsecs

	Goroutines int    `json:"goroutines"`
	RSSKiB     int64  `json:"rss_kib"`
	FDs        int    `json:"fds"`
	HeapInuse  uint64 `json:"heap_inuse"`
	GoSys      uint64 `json:"go_sys"`
	NumGC      uint32 `json:"num_gc"`

	Lost uint64 `json:"lost"` // Session.Lost()
	outCounts
	errCounts

	// ExitLines are the Errors lines PrintExit wrote ("exit" only).
	ExitLines []string `json:"exit_lines,omitempty"`
}

// runTracer is the tracer child: it compiles and starts the soak script
// through the public API, then answers the parent's requests, one a line
// on stdin ("snap", "exit"), with one JSON line each on fd 3. When stdin
// closes it closes the session and exits.
func runTracer(args []string) {
	fs := flag.NewFlagSet("tracer", flag.ExitOnError)
	dir := fs.String("dir", ".", "where to write output.txt and errors.txt")
	rbPages := fs.Int("rb-pages", 0, "the script's perf_rb_pages (0: ktrace's default ring buffer)")
	fs.Parse(args)
	script := soakScript
	if *rbPages > 0 {
		script = fmt.Sprintf("config = { perf_rb_pages = %d }\n", *rbPages) + script
	}

	resp := os.NewFile(3, "responses")
	enc := json.NewEncoder(resp)
	fail := func(err error) {
		enc.Encode(snapshot{Kind: "ready", PID: os.Getpid(), Error: err.Error()})
		os.Exit(1)
	}
	outFile, err := os.Create(filepath.Join(*dir, "output.txt"))
	if err != nil {
		fail(err)
	}
	errFile, err := os.Create(filepath.Join(*dir, "errors.txt"))
	if err != nil {
		fail(err)
	}
	out := &countingWriter{w: outFile, pids: map[int]uint64{}}
	errw := &errWriter{w: errFile}

	prog, err := ktrace.Compile("soak.bt", []byte(script), nil)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	sess, err := prog.Start(ctx, &ktrace.StartOptions{Output: out, Errors: errw})
	cancel()
	if err != nil {
		fail(err)
	}
	report := func(kind string) snapshot {
		s := snapshot{Kind: kind, PID: os.Getpid()}
		s.BootNs = bootNs()
		s.Goroutines = runtime.NumGoroutine()
		s.RSSKiB = rssKiB()
		s.FDs = fdCount()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.HeapInuse, s.GoSys, s.NumGC = ms.HeapInuse, ms.Sys, ms.NumGC
		// Lost first: a record counted lost is never delivered later, so
		// reading it before the delivered counts cannot show more
		// records than were sent.
		s.Lost = sess.Lost()
		s.outCounts = out.counts()
		s.errCounts = errw.counts()
		return s
	}
	enc.Encode(report("ready"))

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "snap":
			enc.Encode(report("snap"))
		case "exit":
			// Without Stop: the session keeps running, so the parent can
			// kill it with its probes attached.
			errw.startExit()
			err := sess.PrintExit()
			s := report("exit")
			s.ExitLines = errw.exitLines()
			if err != nil {
				s.Error = err.Error()
			}
			enc.Encode(s)
		}
	}
	sess.Close()
}

// outCounts are the records delivered to Output, by kind.
type outCounts struct {
	E         uint64         `json:"e"`         // printf records
	T         uint64         `json:"t"`         // time() records
	S         uint64         `json:"s"`         // print(@syscall) records
	P         uint64         `json:"p"`         // print(@process) records
	Other     uint64         `json:"other"`     // other lines
	Malformed uint64         `json:"malformed"` // E lines that do not parse
	Bytes     uint64         `json:"bytes"`
	Pids      map[int]uint64 `json:"pids"`     // E lines by pid
	MaxENs    int64          `json:"max_e_ns"` // the latest nsecs of an E line
	OtherText []string       `json:"other_text,omitempty"`
	// OtherLost counts other lines that contain "lost": loss warnings
	// written to Output instead of Errors.
	OtherLost     uint64 `json:"other_lost"`
	OtherLostText string `json:"other_lost_text,omitempty"` // the first
}

// countingWriter writes the session's output to w and counts the records
// in it, line by line (a Write may carry several lines or part of one).
type countingWriter struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	prev    byte // the kind of the previous line: 'E', 'T', 'S', 'P' or 0
	c       outCounts
	pids    map[int]uint64
}

func (cw *countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.mu.Lock()
	defer cw.mu.Unlock()
	cw.c.Bytes += uint64(len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			cw.partial = append(cw.partial, b...)
			break
		}
		line := b[:i]
		if len(cw.partial) > 0 {
			cw.partial = append(cw.partial, line...)
			line = cw.partial
		}
		cw.line(line)
		cw.partial = cw.partial[:0]
		b = b[i+1:]
	}
	return n, err
}

var (
	prefixSyscall = []byte("@syscall[")
	prefixProcess = []byte("@process[")
)

func (cw *countingWriter) line(l []byte) {
	kind := byte(0)
	switch {
	case len(l) > 2 && l[0] == 'E' && l[1] == ' ':
		kind = 'E'
		cw.c.E++
		pid, rest, ok1 := parseUint(l[2:])
		ns, rest, ok2 := parseUint(bytes.TrimPrefix(rest, []byte(" ")))
		if !ok1 || !ok2 || len(rest) != 0 {
			cw.c.Malformed++
			break
		}
		cw.pids[int(pid)]++
		if int64(ns) > cw.c.MaxENs {
			cw.c.MaxENs = int64(ns)
		}
	case len(l) > 2 && l[0] == 'T' && l[1] == ' ':
		kind = 'T'
		cw.c.T++
	case bytes.HasPrefix(l, prefixSyscall):
		kind = 'S'
		if cw.prev != 'S' {
			cw.c.S++
		}
	case bytes.HasPrefix(l, prefixProcess):
		kind = 'P'
		if cw.prev != 'P' {
			cw.c.P++
		}
	default:
		cw.c.Other++
		if len(cw.c.OtherText) < 5 {
			cw.c.OtherText = append(cw.c.OtherText, string(l))
		}
		if bytes.Contains(bytes.ToLower(l), []byte("lost")) {
			cw.c.OtherLost++
			if cw.c.OtherLost == 1 {
				cw.c.OtherLostText = string(l)
			}
		}
	}
	cw.prev = kind
}

// parseUint parses the decimal number b starts with.
func parseUint(b []byte) (v uint64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, b[i:], i > 0
}

func (cw *countingWriter) counts() outCounts {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	c := cw.c
	c.Pids = make(map[int]uint64, len(cw.pids))
	for k, v := range cw.pids {
		c.Pids[k] = v
	}
	c.OtherText = append([]string(nil), cw.c.OtherText...)
	return c
}

// errCounts summarise what the session wrote to Errors before PrintExit.
type errCounts struct {
	// Warnings are the lines that contain "lost" in any case: the
	// runtime's running loss warnings.
	Warnings int `json:"warnings"`
	// WarnSum is the sum of the number each warning reports (see
	// lostNumber); WarnUnparsed counts warnings without a number.
	WarnSum      uint64 `json:"warn_sum"`
	WarnUnparsed int    `json:"warn_unparsed"`
	// WarnLastNums are every number in the latest warning, for a
	// warning that reports a running total.
	WarnLastNums []uint64 `json:"warn_last_nums,omitempty"`
	WarnFirst    []string `json:"warn_first,omitempty"` // the first 3
	WarnLast     []string `json:"warn_last,omitempty"`  // the last 3
	// Others are the other lines.
	Others     int      `json:"others"`
	OthersText []string `json:"others_text,omitempty"` // the first 5
}

// errWriter writes the session's Errors to w and sorts its lines: loss
// warnings while the session runs, and what PrintExit writes.
type errWriter struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	exiting bool
	c       errCounts
	exit    []string
}

func (ew *errWriter) Write(b []byte) (int, error) {
	n, err := ew.w.Write(b)
	ew.mu.Lock()
	defer ew.mu.Unlock()
	ew.partial = append(ew.partial, b...)
	for {
		i := bytes.IndexByte(ew.partial, '\n')
		if i < 0 {
			break
		}
		ew.line(string(ew.partial[:i]))
		ew.partial = ew.partial[i+1:]
	}
	ew.partial = append([]byte(nil), ew.partial...)
	return n, err
}

func (ew *errWriter) line(l string) {
	switch {
	case ew.exiting:
		if len(ew.exit) < 50 {
			ew.exit = append(ew.exit, l)
		}
	case strings.Contains(strings.ToLower(l), "lost"):
		ew.c.Warnings++
		if n, ok := lostNumber(l); ok {
			ew.c.WarnSum += n
		} else {
			ew.c.WarnUnparsed++
		}
		ew.c.WarnLastNums = allNumbers(l)
		if len(ew.c.WarnFirst) < 3 {
			ew.c.WarnFirst = append(ew.c.WarnFirst, l)
		}
		ew.c.WarnLast = append(ew.c.WarnLast, l)
		if len(ew.c.WarnLast) > 3 {
			ew.c.WarnLast = ew.c.WarnLast[1:]
		}
	default:
		ew.c.Others++
		if len(ew.c.OthersText) < 5 {
			ew.c.OthersText = append(ew.c.OthersText, l)
		}
	}
}

func (ew *errWriter) startExit() {
	ew.mu.Lock()
	ew.exiting = true
	ew.mu.Unlock()
}

func (ew *errWriter) exitLines() []string {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	return append([]string(nil), ew.exit...)
}

func (ew *errWriter) counts() errCounts {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	c := ew.c
	c.WarnLastNums = append([]uint64(nil), c.WarnLastNums...)
	c.WarnFirst = append([]string(nil), c.WarnFirst...)
	c.WarnLast = append([]string(nil), c.WarnLast...)
	c.OthersText = append([]string(nil), c.OthersText...)
	return c
}

var (
	numberRightAfterLost = regexp.MustCompile(`(?i)lost\s+(\d+)`)
	numberBeforeEvents   = regexp.MustCompile(`(?i)(\d+)\s+(?:events?|records?)`)
	numberAfterLost      = regexp.MustCompile(`(?i)lost\D*?(\d+)`)
	anyNumber            = regexp.MustCompile(`\d+`)
)

// lostNumber is the count a loss warning reports: the number right after
// "lost", else the one before "events" or "records", else the first after
// "lost", else the first.
func lostNumber(l string) (uint64, bool) {
	for _, re := range []*regexp.Regexp{numberRightAfterLost, numberBeforeEvents, numberAfterLost} {
		if m := re.FindStringSubmatch(l); m != nil {
			n, err := strconv.ParseUint(m[1], 10, 64)
			return n, err == nil
		}
	}
	if m := anyNumber.FindString(l); m != "" {
		n, err := strconv.ParseUint(m, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func allNumbers(l string) []uint64 {
	var ns []uint64
	for _, m := range anyNumber.FindAllString(l, -1) {
		if n, err := strconv.ParseUint(m, 10, 64); err == nil {
			ns = append(ns, n)
		}
	}
	return ns
}

// rssKiB is this process's resident set size (VmRSS).
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return -1
}

// fdCount is how many file descriptors this process has open (the one
// reading the directory included).
func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// bootNs is CLOCK_BOOTTIME in nanoseconds: the clock of nsecs.
func bootNs() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		panic(fmt.Sprint("clock_gettime: ", err))
	}
	return ts.Nano()
}
