// Command soak is ktrace's soak test (issue 14): it runs a syscount-like
// aggregation, a printf stream and interval prints under a steady syscall
// load for a long time, through the public API, and checks that the tracer
// stays flat and accounts for every event. It is not part of CI; run it
// with bench/soak.sh [MINUTES] (as root; 30 minutes by default).
//
// The program runs as three processes, all this binary:
//
//   - the parent (no role argument): drives the run and checks it;
//   - the tracer ("tracer", run as ktrace-soak): compiles soakScript with
//     ktrace.Compile, starts it with Program.Start, writing its Output to
//     output.txt through a writer that counts the records in it and its
//     Errors to errors.txt through one that sorts loss warnings from the
//     rest, and reports its own goroutines, RSS, open fds and counts as a
//     JSON line on fd 3 whenever the parent asks on stdin;
//   - the load ("load", run as soakload, the comm the script filters on):
//     getppid() at a fixed rate (20,000/s by default), counted exactly.
//
// The run:
//
//  1. Steady phase (MINUTES): the load runs; every 10 s the parent samples
//     the tracer. RSS, goroutines and fds must not grow by more than 10%
//     after the first minute (the maximum of every later sample, the
//     SIGSTOP phase's included, against the sample at 1:00; a count under
//     10 may grow by one).
//  2. SIGSTOP phase: the tracer is stopped for 5 s while the load goes on,
//     which overflows the ring buffer (the script sets perf_rb_pages = 64:
//     256 KiB, about 8,000 printf records, where ktrace's default of 8 MiB
//     would hold 13 s of the load), then continued and watched for 30 s: the loss must be counted
//     (Session.Lost grows), reported while the session runs (a line on
//     Errors containing "lost", in any case), and delivery must resume (an
//     event fired after SIGCONT is delivered, and no loss in the last 10 s).
//  3. Accounting: the load stops, and the records the programs sent must
//     equal the records delivered plus Session.Lost(), exactly. Sent is the
//     load's own count of getppid() calls (one printf record each) plus 3
//     records per run of the interval program, whose run count is the
//     kernel's (BPF statistics are enabled for the run). The kernel's run
//     count of the getppid program must be at least the load's count (it is
//     more by the getppid() calls of other processes). The loss warnings
//     must add up to Session.Lost(): either the numbers they report sum to
//     it (each reports the loss since the one before) or the latest one
//     carries it (each reports the running total).
//  4. Exit report: Session.PrintExit (without Stop) must write "Lost N
//     events" to Errors with N = Session.Lost().
//  5. SIGKILL: with the load running again, the tracer is killed; none of
//     the BPF programs, maps and links it held (the prog_id, map_id and
//     link_id lines of /proc/PID/fdinfo) may remain (bpftool -j prog/map/
//     link show), after at most 20 s for the kernel's deferred frees.
//
// It prints a Markdown summary on stdout and exits 1 if a check failed.
//
// What it relies on in the tracer's output: text format; printf, time()
// and print(@map, N) write their text to Output, one map entry a line as
// "@name[key]: value"; loss warnings while running are lines on Errors
// containing "lost" (any case), whose count is the number right after
// "lost", else the one before "events" or "records", else the first after
// "lost", else the first (see lostNumber), and whose counts either add up
// to Session.Lost() or of which the latest carries it; PrintExit writes
// "Lost N events" as a line of its own on Errors.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "tracer":
			runTracer(os.Args[2:])
			return
		case "load":
			runLoad(os.Args[2:])
			return
		}
	}
	os.Exit(runParent(os.Args[1:]))
}

// config is the parent's flags.
type config struct {
	minutes   float64
	rate      float64
	stopFor   time.Duration
	watch     time.Duration
	every     time.Duration
	maxGrowth float64
	rbPages   int
	dir       string
	keep      bool
}

// sample is one reading of the tracer.
type sample struct {
	At    time.Duration `json:"at_ns"` // since the load started
	Phase string        `json:"phase"`
	Load  uint64        `json:"load"` // the load's count, about then
	snapshot
}

// check is one line of the verdict.
type check struct {
	name, result, detail string
}

type soak struct {
	cfg     config
	dir     string
	tr      *tracerProc
	ld      *loadProc
	start   time.Time
	samples []sample
	checks  []check
	facts   []string // lines of the summary's figures
	log     *os.File // samples.jsonl
}

func runParent(args []string) int {
	var cfg config
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	fs.Float64Var(&cfg.minutes, "minutes", 30, "length of the steady phase, in minutes")
	fs.Float64Var(&cfg.rate, "rate", 20000, "getppid() calls per second of the load")
	fs.DurationVar(&cfg.stopFor, "stop", 5*time.Second, "how long the tracer is stopped with SIGSTOP")
	fs.DurationVar(&cfg.watch, "watch", 30*time.Second, "how long the tracer is watched after SIGCONT")
	fs.DurationVar(&cfg.every, "every", 10*time.Second, "sampling interval")
	fs.Float64Var(&cfg.maxGrowth, "growth", 0.10, "largest growth of RSS, goroutines and fds allowed after the first minute")
	fs.IntVar(&cfg.rbPages, "rb-pages", 64, "the script's perf_rb_pages: the ring buffer's size in pages, small enough that the SIGSTOP loses events (0: ktrace's default)")
	fs.StringVar(&cfg.dir, "dir", "", "work directory (default: a new temporary one, removed at the end)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work directory (output.txt, errors.txt, tracer.log, samples.jsonl)")
	fs.Parse(args)
	if cfg.watch < 15*time.Second {
		cfg.watch = 15 * time.Second
	}

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "soak: run as root (it loads BPF programs)")
		return 2
	}
	if _, err := exec.LookPath("bpftool"); err != nil {
		fmt.Fprintln(os.Stderr, "soak: bpftool is missing (apt-get install bpftool)")
		return 2
	}
	s := &soak{cfg: cfg}
	if err := s.setup(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	err := s.run()
	if err != nil {
		s.fail("the run", err.Error())
	}
	s.summary()
	failed := false
	for _, c := range s.checks {
		if c.result == "FAIL" {
			failed = true
		}
	}
	s.cleanup(failed)
	if failed {
		return 1
	}
	return 0
}

// setup makes the work directory and the two names the children run as.
func (s *soak) setup() error {
	s.dir = s.cfg.dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "ktrace-soak-")
		if err != nil {
			return err
		}
		s.dir = d
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// comm is the name of the file executed: soakload for the script's
	// filter, ktrace-soak to tell the tracer apart.
	for _, name := range []string{"soakload", "ktrace-soak"} {
		p := filepath.Join(s.dir, name)
		os.Remove(p)
		if err := os.Symlink(exe, p); err != nil {
			return err
		}
	}
	s.log, err = os.Create(filepath.Join(s.dir, "samples.jsonl"))
	return err
}

func (s *soak) cleanup(failed bool) {
	s.log.Close()
	switch {
	case s.cfg.keep:
		fmt.Fprintf(os.Stderr, "soak: kept %s\n", s.dir)
	case failed:
		// The output is large; the rest is what explains a failure.
		os.Remove(filepath.Join(s.dir, "output.txt"))
		fmt.Fprintf(os.Stderr, "soak: kept %s (without output.txt)\n", s.dir)
	case s.cfg.dir == "":
		os.RemoveAll(s.dir)
	}
}

func (s *soak) add(name, result, detail string) {
	s.checks = append(s.checks, check{name, result, detail})
	fmt.Fprintf(os.Stderr, "soak: %s: %s: %s\n", result, name, detail)
}

func (s *soak) pass(name, detail string, ok bool) {
	if ok {
		s.add(name, "PASS", detail)
	} else {
		s.add(name, "FAIL", detail)
	}
}

func (s *soak) fail(name, detail string) { s.add(name, "FAIL", detail) }
func (s *soak) info(name, detail string) { s.add(name, "info", detail) }

func (s *soak) fact(format string, args ...any) {
	s.facts = append(s.facts, fmt.Sprintf(format, args...))
}

// progress prints a line on stderr.
func (s *soak) progress(format string, args ...any) {
	at := time.Duration(0)
	if !s.start.IsZero() {
		at = time.Since(s.start).Round(time.Second)
	}
	fmt.Fprintf(os.Stderr, "[%8v] %s\n", at, fmt.Sprintf(format, args...))
}

// snap asks the tracer for a snapshot and, with a phase, keeps it as a
// sample.
func (s *soak) snap(phase string) (snapshot, error) {
	snap, err := s.tr.request("snap")
	if err != nil {
		return snap, err
	}
	if phase != "" {
		smp := sample{At: time.Since(s.start), Phase: phase, snapshot: snap}
		if s.ld != nil {
			smp.Load = s.ld.latest.Load()
		}
		s.samples = append(s.samples, smp)
		json.NewEncoder(s.log).Encode(smp)
		s.progress("%-7s rss %s, goroutines %d, fds %d, heap %s; delivered %s, lost %s, load %s",
			phase, mib(snap.RSSKiB*1024), snap.Goroutines, snap.FDs, mib(int64(snap.HeapInuse)),
			num(snap.E), num(snap.Lost), num(smp.Load))
	}
	return snap, nil
}

// programs are the tracer's BPF programs, by what they do.
type programs struct {
	raw, getppid, interval uint32
}

// findPrograms identifies the tracer's programs: the perf_event one is the
// interval, the tracepoint whose name has sys_enter_ge in it is getppid's.
func findPrograms(pid int) (programs, error) {
	var p programs
	held, err := heldObjects(pid)
	if err != nil {
		return p, err
	}
	for _, id := range held.ids("prog") {
		info, err := showProg(id)
		if err != nil {
			return p, err
		}
		switch {
		case info.Type == "perf_event":
			p.interval = id
		case info.Type == "tracepoint" && strings.Contains(info.Name, "sys_enter_ge"):
			p.getppid = id
		case info.Type == "tracepoint":
			p.raw = id
		}
	}
	if p.raw == 0 || p.getppid == 0 || p.interval == 0 {
		return p, fmt.Errorf("the tracer's programs are not the three expected (%s)", held)
	}
	return p, nil
}

func (s *soak) run() error {
	// The kernel counts program runs while a BPF_ENABLE_STATS fd is open
	// (or kernel.bpf_stats_enabled=1); the fd goes with this process.
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return fmt.Errorf("enabling BPF statistics: %v", err)
	}
	defer stats.Close()
	before, err := systemObjects()
	if err != nil {
		return err
	}

	s.progress("starting the tracer (%s)", s.dir)
	tr, ready, err := startTracer(s.dir, s.cfg.rbPages)
	if err != nil {
		return err
	}
	s.tr = tr
	defer func() {
		select {
		case <-tr.done:
		default:
			tr.close()
		}
	}()
	progs, err := findPrograms(tr.pid())
	if err != nil {
		return err
	}
	s.progress("tracer pid %d ready: rss %s, goroutines %d, fds %d; programs: raw_syscalls %d, getppid %d, interval %d",
		tr.pid(), mib(ready.RSSKiB*1024), ready.Goroutines, ready.FDs, progs.raw, progs.getppid, progs.interval)

	ld, err := startLoad(s.dir, s.cfg.rate)
	if err != nil {
		return err
	}
	s.ld = ld
	s.start = time.Now()
	defer func() {
		if s.ld != nil {
			s.ld.stop()
		}
	}()

	// 1. Steady phase.
	steady := time.Duration(s.cfg.minutes * float64(time.Minute))
	for next := s.cfg.every; next <= steady; next += s.cfg.every {
		time.Sleep(time.Until(s.start.Add(next)))
		if _, err := s.snap("steady"); err != nil {
			return err
		}
	}
	if d := time.Until(s.start.Add(steady)); d > 0 {
		time.Sleep(d)
	}

	// 2. SIGSTOP phase.
	if err := s.stopPhase(); err != nil {
		return err
	}

	// 3. Accounting.
	loadPID := s.ld.pid()
	calls, err := s.ld.stop()
	s.ld = nil
	if err != nil {
		return err
	}
	loadTime := time.Since(s.start)
	final, err := s.account(progs, calls, loadPID, loadTime)
	if err != nil {
		return err
	}
	s.flat()

	// 4. Exit report.
	if err := s.exitReport(final); err != nil {
		return err
	}

	// 5. SIGKILL.
	return s.kill(before)
}

// stopPhase stops the tracer with SIGSTOP while the load goes on, continues
// it and watches it recover.
func (s *soak) stopPhase() error {
	pre, err := s.snap("")
	if err != nil {
		return err
	}
	pid := s.tr.pid()
	s.progress("SIGSTOP the tracer for %v", s.cfg.stopFor)
	loadAtStop := s.ld.latest.Load()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(s.cfg.stopFor)
	contNs := bootNs()
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		return err
	}
	loadAtCont := s.ld.latest.Load()
	cont := time.Now()
	s.progress("SIGCONT; watching for %v", s.cfg.watch)

	// One snapshot a second; every tenth is a sample too.
	var watch []snapshot
	var firstWarn, firstResumed time.Duration = -1, -1
	var warnLine string
	for i := 1; time.Duration(i)*time.Second <= s.cfg.watch; i++ {
		time.Sleep(time.Until(cont.Add(time.Duration(i) * time.Second)))
		phase := ""
		if i%10 == 0 {
			phase = "resumed"
		}
		sn, err := s.snap(phase)
		if err != nil {
			return err
		}
		watch = append(watch, sn)
		at := time.Duration(i) * time.Second
		if firstWarn < 0 && sn.Warnings > pre.Warnings {
			firstWarn = at
			if len(sn.WarnLast) > 0 {
				warnLine = sn.WarnLast[len(sn.WarnLast)-1]
				// The first new one, if the last three hold it.
				if k := sn.Warnings - pre.Warnings; k <= len(sn.WarnLast) {
					warnLine = sn.WarnLast[len(sn.WarnLast)-k]
				}
			}
		}
		if firstResumed < 0 && sn.MaxENs > contNs {
			firstResumed = at
		}
	}
	last := watch[len(watch)-1]
	ten := watch[len(watch)-11] // 10 s before the last
	s.fact("SIGSTOP at %s delivered, %s lost; the load made about %s calls in the %v stop",
		num(pre.E), num(pre.Lost), num(loadAtCont-loadAtStop), s.cfg.stopFor)

	lost := last.Lost - pre.Lost
	s.pass("SIGSTOP: loss is counted", fmt.Sprintf("Session.Lost() grew by %s over the stop (%s before it)",
		num(lost), num(pre.Lost)), lost > 0)

	if firstWarn >= 0 {
		s.pass("SIGSTOP: loss is reported while running",
			fmt.Sprintf("%s after SIGCONT, the first within %v: %q", plural(last.Warnings-pre.Warnings, "warning line"), firstWarn, warnLine), true)
	} else {
		detail := fmt.Sprintf("no running loss warning seen (no line containing \"lost\" on Errors within %v of SIGCONT)", s.cfg.watch)
		if last.OtherLost > 0 {
			detail += fmt.Sprintf("; %d such lines went to Output, the first: %q", last.OtherLost, last.OtherLostText)
		}
		s.fail("SIGSTOP: loss is reported while running", detail)
	}

	// When the loss stopped: the last snapshot that saw it grow.
	settled := "no loss after SIGCONT"
	for i := len(watch) - 1; i >= 0; i-- {
		prev := pre.Lost
		if i > 0 {
			prev = watch[i-1].Lost
		}
		if watch[i].Lost != prev {
			settled = fmt.Sprintf("loss stopped within %ds of SIGCONT", i+1)
			break
		}
	}
	rate := float64(last.E-ten.E) / 10
	ok := firstResumed >= 0 && last.Lost == ten.Lost && last.E > ten.E
	resumed := "no event fired after SIGCONT was delivered"
	if firstResumed >= 0 {
		resumed = fmt.Sprintf("the first event fired after SIGCONT was delivered within %v", firstResumed)
	}
	s.pass("SIGSTOP: delivery resumes", fmt.Sprintf("%s; %s; %s events/s delivered in the last 10 s (load %s/s), %s lost then",
		resumed, settled, num(uint64(rate)), num(uint64(s.cfg.rate)), num(last.Lost-ten.Lost)), ok)
	return nil
}

// account checks that every record sent is delivered or counted lost.
func (s *soak) account(progs programs, calls uint64, loadPID int, loadTime time.Duration) (snapshot, error) {
	s.progress("load stopped after %s getppid() calls; accounting", num(calls))
	var sn snapshot
	var runs uint64
	matched := false
	deadline := time.Now().Add(30 * time.Second)
	for tries := 0; time.Now().Before(deadline); tries++ {
		if tries > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		r1, err := showProg(progs.interval)
		if err != nil {
			return sn, err
		}
		sn, err = s.tr.request("snap")
		if err != nil {
			return sn, err
		}
		r2, err := showProg(progs.interval)
		if err != nil {
			return sn, err
		}
		if r1.RunCnt != r2.RunCnt {
			continue // the interval fired meanwhile: its records may be in flight
		}
		runs = r1.RunCnt
		if calls+intervalRecords*runs == sn.E+sn.T+sn.S+sn.P+sn.Lost {
			matched = true
			break
		}
	}
	sent := calls + intervalRecords*runs
	delivered := sn.E + sn.T + sn.S + sn.P
	detail := fmt.Sprintf("sent %s = %s printf (the load's calls) + %d × %s interval runs; delivered %s (%s printf, %s time, %s + %s map prints) + lost %s = %s",
		num(sent), num(calls), intervalRecords, num(runs), num(delivered), num(sn.E), num(sn.T), num(sn.S), num(sn.P), num(sn.Lost), num(delivered+sn.Lost))
	s.pass("zero unexplained loss", detail, matched)
	if matched && sn.E <= calls {
		s.fact("lost: %s printf records and %s interval records", num(calls-sn.E), num(sent-calls-(sn.T+sn.S+sn.P)))
	}

	// The printf records are the load's, well formed.
	var others []string
	for pid, n := range sn.Pids {
		if pid != loadPID {
			others = append(others, fmt.Sprintf("pid %d: %s", pid, num(n)))
		}
	}
	s.pass("printf records are the load's", fmt.Sprintf("%s from pid %d, %d malformed, other pids: %v",
		num(sn.Pids[loadPID]), loadPID, sn.Malformed, others), len(others) == 0 && sn.Malformed == 0 && sn.Pids[loadPID] == sn.E)

	g, err := showProg(progs.getppid)
	if err != nil {
		return sn, err
	}
	s.pass("the load's count vs the kernel's", fmt.Sprintf("getppid program ran %s times (kernel run_cnt), the load called getppid() %s times: %s by other processes while attached; %.0f ns a run",
		num(g.RunCnt), num(calls), plural(int(g.RunCnt-min(g.RunCnt, calls)), "call"), float64(g.RunTimeNs)/float64(max(g.RunCnt, 1))), g.RunCnt >= calls)
	s.fact("load: %s getppid() calls in %v: %s/s (target %s/s)", num(calls), loadTime.Round(time.Second),
		num(uint64(float64(calls)/loadTime.Seconds())), num(uint64(s.cfg.rate)))

	// The running warnings add up to the total.
	switch {
	case sn.Warnings == 0:
		s.fail("loss warnings add up to Session.Lost()", "no running loss warning seen")
	case sn.WarnUnparsed == 0 && sn.WarnSum == sn.Lost:
		s.pass("loss warnings add up to Session.Lost()", fmt.Sprintf("the counts of %s sum to %s", plural(sn.Warnings, "warning"), num(sn.Lost)), true)
	case contains(sn.WarnLastNums, sn.Lost):
		s.pass("loss warnings add up to Session.Lost()", fmt.Sprintf("the last of %s carries the total %s: %q", plural(sn.Warnings, "warning"), num(sn.Lost), last(sn.WarnLast)), true)
	default:
		s.fail("loss warnings add up to Session.Lost()", fmt.Sprintf("%d warnings (%d without a number) sum to %s, the last one's numbers are %v, Session.Lost() is %s; first %q, last %q",
			sn.Warnings, sn.WarnUnparsed, num(sn.WarnSum), sn.WarnLastNums, num(sn.Lost), first(sn.WarnFirst), last(sn.WarnLast)))
	}
	if sn.Others > 0 {
		s.info("other lines on Errors", fmt.Sprintf("%d, the first: %q", sn.Others, sn.OthersText))
	}
	return sn, nil
}

// flat checks that RSS, goroutines and fds did not grow after the first
// minute.
func (s *soak) flat() {
	var base *sample
	for i := range s.samples {
		if s.samples[i].At >= time.Minute {
			base = &s.samples[i]
			break
		}
	}
	steadyMax := func(get func(*sample) float64) float64 {
		m := 0.0
		for i := range s.samples {
			if s.samples[i].Phase == "steady" {
				m = max(m, get(&s.samples[i]))
			}
		}
		return m
	}
	type metric struct {
		name string
		get  func(*sample) float64
		text func(float64) string
	}
	metrics := []metric{
		{"RSS", func(x *sample) float64 { return float64(x.RSSKiB) * 1024 }, func(v float64) string { return mib(int64(v)) }},
		{"goroutines", func(x *sample) float64 { return float64(x.Goroutines) }, func(v float64) string { return strconv.Itoa(int(v)) }},
		{"fds", func(x *sample) float64 { return float64(x.FDs) }, func(v float64) string { return strconv.Itoa(int(v)) }},
		{"Go heap in use", func(x *sample) float64 { return float64(x.HeapInuse) }, func(v float64) string { return mib(int64(v)) }},
	}
	s.fact("| | first sample (%v) | at 1 min | max after 1 min | max of the steady phase | end | growth after 1 min |", s.samples[0].At.Round(time.Second))
	s.fact("|---|---|---|---|---|---|---|")
	for _, m := range metrics {
		if base == nil {
			s.fact("| %s | %s | – | – | %s | %s | – |", m.name, m.text(m.get(&s.samples[0])),
				m.text(steadyMax(m.get)), m.text(m.get(&s.samples[len(s.samples)-1])))
			continue
		}
		b, top := m.get(base), 0.0
		for i := range s.samples {
			if s.samples[i].At >= base.At {
				top = max(top, m.get(&s.samples[i]))
			}
		}
		growth := (top - b) / b
		s.fact("| %s | %s | %s | %s | %s | %s | %+.1f%% |", m.name, m.text(m.get(&s.samples[0])), m.text(b), m.text(top),
			m.text(steadyMax(m.get)), m.text(m.get(&s.samples[len(s.samples)-1])), 100*growth)
		if m.name == "Go heap in use" {
			continue // a figure, not a check
		}
		// A count of a few goroutines cannot grow by 10%: one more is
		// allowed, so that a goroutine that comes and goes is no leak.
		limit, limitText := b*s.cfg.maxGrowth, fmt.Sprintf("%+.0f%%", 100*s.cfg.maxGrowth)
		if m.name != "RSS" && limit < 1 {
			limit, limitText = 1, "+1"
		}
		s.pass(m.name+" flat", fmt.Sprintf("%s at %v, at most %s after it (%+.1f%%, limit %s)",
			m.text(b), base.At.Round(time.Second), m.text(top), 100*growth, limitText), top-b <= limit)
	}
	if base == nil {
		s.add("RSS, goroutines and fds flat", "skipped", "the run is shorter than a minute")
	}
}

var lostLine = regexp.MustCompile(`^Lost (\d+) events$`)

// exitReport checks what PrintExit reports of the loss.
func (s *soak) exitReport(before snapshot) error {
	sn, err := s.tr.request("exit")
	if err != nil {
		return err
	}
	var reported []string
	var n uint64
	found := false
	for _, l := range sn.ExitLines {
		if m := lostLine.FindStringSubmatch(l); m != nil {
			n, _ = strconv.ParseUint(m[1], 10, 64)
			found = true
			reported = append(reported, l)
		}
	}
	switch {
	case sn.Error != "":
		s.fail("exit report", "PrintExit: "+sn.Error)
	case sn.Lost == 0 && !found:
		s.pass("exit report", "nothing was lost and PrintExit reports no loss", true)
	case !found:
		s.fail("exit report", fmt.Sprintf("PrintExit wrote no \"Lost N events\" line on Errors; it wrote %q", sn.ExitLines))
	default:
		s.pass("exit report", fmt.Sprintf("PrintExit wrote %q; Session.Lost() is %s", reported, num(sn.Lost)), len(reported) == 1 && n == sn.Lost)
	}
	if sn.Lost != before.Lost {
		s.info("loss after the accounting", fmt.Sprintf("Session.Lost() went from %s to %s", num(before.Lost), num(sn.Lost)))
	}
	return nil
}

// kill kills the tracer with its probes attached under load and checks
// that the kernel frees every object it held.
func (s *soak) kill(before objects) error {
	ld, err := startLoad(s.dir, s.cfg.rate)
	if err != nil {
		return err
	}
	defer ld.stop()
	time.Sleep(3 * time.Second)
	sn, err := s.tr.request("snap")
	if err != nil {
		return err
	}
	held, err := heldObjects(s.tr.pid())
	if err != nil {
		return err
	}
	busy := fmt.Sprintf("delivering the new load's events (%s so far)", num(sn.Pids[ld.pid()]))
	s.progress("SIGKILL the tracer, %s; it holds %s", busy, held)
	if err := syscall.Kill(s.tr.pid(), syscall.SIGKILL); err != nil {
		return err
	}
	killed := time.Now()
	select {
	case <-s.tr.done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the tracer did not die within 10 s of SIGKILL")
	}
	var left objects
	var gone time.Duration
	for {
		now, err := systemObjects()
		if err != nil {
			return err
		}
		left = remaining(held, now)
		if left.count() == 0 {
			gone = time.Since(killed)
			break
		}
		if time.Since(killed) > 20*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	enough := len(held["prog"]) >= 3 && len(held["map"]) >= 1 && len(held["link"]) >= 3
	if left.count() == 0 {
		s.pass("SIGKILL: no program, map or link remains", fmt.Sprintf("killed while %s, holding %s; all gone %v after the kill",
			busy, held, gone.Round(time.Millisecond)), enough && sn.Pids[ld.pid()] > 0)
	} else {
		s.fail("SIGKILL: no program, map or link remains", fmt.Sprintf("held %s; still there 20 s after the kill: %s", held, left))
	}
	if after, err := systemObjects(); err == nil {
		s.fact("BPF objects on the system before the tracer started and after the kill: %d → %d programs, %d → %d maps, %d → %d links",
			len(before["prog"]), len(after["prog"]), len(before["map"]), len(after["map"]), len(before["link"]), len(after["link"]))
	}
	return nil
}

// summary prints the Markdown summary on stdout.
func (s *soak) summary() {
	host, _ := os.Hostname()
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Printf("## ktrace soak test, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	ring := "ktrace's default ring buffer"
	if s.cfg.rbPages > 0 {
		ring = fmt.Sprintf("perf_rb_pages = %d", s.cfg.rbPages)
	}
	fmt.Printf("Kernel %s, %d CPUs, %s (%s). Steady phase %v at %s getppid()/s (%s), then SIGSTOP for %v and %v of watching, the accounting and the SIGKILL; %s in all.\n\n",
		unix.ByteSliceToString(uts.Release[:]), runtime.NumCPU(), host, runtime.Version(),
		time.Duration(s.cfg.minutes*float64(time.Minute)), num(uint64(s.cfg.rate)), ring, s.cfg.stopFor, s.cfg.watch, time.Since(s.start).Round(time.Second))
	fmt.Printf("Script:\n\n```\n%s```\n\n", soakScript)
	fmt.Println("| check | result | detail |")
	fmt.Println("|---|---|---|")
	for _, c := range s.checks {
		fmt.Printf("| %s | **%s** | %s |\n", c.name, c.result, strings.ReplaceAll(c.detail, "|", `\|`))
	}
	fmt.Println()
	var rows, lines []string
	for _, f := range s.facts {
		if strings.HasPrefix(f, "|") {
			rows = append(rows, f)
		} else {
			lines = append(lines, "- "+f)
		}
	}
	if len(rows) > 0 {
		fmt.Println(strings.Join(rows, "\n"))
		fmt.Println()
	}
	if len(lines) > 0 {
		fmt.Println(strings.Join(lines, "\n"))
		fmt.Println()
	}
	if len(s.samples) > 0 {
		fmt.Println("| time | phase | RSS | goroutines | fds | Go heap | delivered | lost |")
		fmt.Println("|---|---|---|---|---|---|---|---|")
		for i, x := range s.samples {
			// Every sample of a short run; a sample a minute of a long one.
			if len(s.samples) > 30 && x.Phase == "steady" && i != 0 && x.At.Round(time.Second)%time.Minute != 0 {
				continue
			}
			fmt.Printf("| %v | %s | %s | %d | %d | %s | %s | %s |\n", x.At.Round(time.Second), x.Phase, mib(x.RSSKiB*1024),
				x.Goroutines, x.FDs, mib(int64(x.HeapInuse)), num(x.E), num(x.Lost))
		}
	}
}

func contains(ns []uint64, n uint64) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// plural is n and what, plural unless n is 1.
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return num(uint64(n)) + " " + what + "s"
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func last(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[len(ss)-1]
}

// num formats n with thousands separators.
func num(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
