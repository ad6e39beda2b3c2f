// Command tools measures ktrace's ready tools side by side with bpftrace's
// tools of the same name, in one run: startup (wall time from launch to
// attached, when the tool prints its header) and per-event cost (the
// kernel's bpf_stats run time of the tracer's programs over a workload of
// a known number of events, divided by that number). It prints a Markdown
// table; bench/tools.sh builds what it needs and runs it.
//
//	tools -ktrace BIN [-rounds N] [-only execsnoop,biolatency]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
)

// tool is one comparison: how each tracer runs it and the workload.
type tool struct {
	name string
	// ktrace is the ktrace command line after the binary.
	ktrace []string
	// bpftrace is bpftrace's tool: a file, or a script for -e when
	// Debian's tool needs kprobes (which this machine lacks), written
	// with the same tracepoints as ktrace's tool.
	bpftrace string
	// note says how the bpftrace side differs.
	note string
	// workload makes n events and returns their number.
	workload func() (int, error)
}

// The bpftrace 0.17 versions of the tools whose Debian scripts use
// kprobes, with the probes ktrace's tools use here.
const biolatencyBT = `BEGIN { printf("Tracing block device I/O... Hit Ctrl-C to end.\n"); }
tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}
END { clear(@start); }`

const runqlatBT = `BEGIN { printf("Tracing CPU scheduler... Hit Ctrl-C to end.\n"); }
tracepoint:sched:sched_wakeup, tracepoint:sched:sched_wakeup_new { @qtime[args->pid] = nsecs; }
tracepoint:sched:sched_switch {
	if (args->prev_state == 0) { @qtime[args->prev_pid] = nsecs; }
	$ns = @qtime[args->next_pid];
	if ($ns) { @usecs = hist((nsecs - $ns) / 1000); }
	delete(@qtime[args->next_pid]);
}
END { clear(@qtime); }`

const tcplifeBT = `BEGIN { printf("%-5s %-10s %-15s %-5s %-15s %-5s ", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT");
	printf("%5s %5s %s\n", "TX_KB", "RX_KB", "MS"); }
tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
	$sk = args->skaddr;
	if (args->newstate < 4 && !@birth[$sk]) { @birth[$sk] = nsecs; @skpid[$sk] = pid; @skcomm[$sk] = comm; }
	if (args->newstate == 7 && @birth[$sk]) {
		$tp = (struct tcp_sock *)$sk;
		printf("%-5d %-10.10s %-15s %-5d %-15s %-5d ", @skpid[$sk], @skcomm[$sk], ntop(args->saddr), args->sport, ntop(args->daddr), args->dport);
		printf("%5d %5d %d\n", $tp->bytes_acked / 1024, $tp->bytes_received / 1024, (nsecs - @birth[$sk]) / 1000000);
		delete(@birth[$sk]); delete(@skpid[$sk]); delete(@skcomm[$sk]);
	}
}
END { clear(@birth); clear(@skpid); clear(@skcomm); }`

func main() {
	bin := flag.String("ktrace", "", "the ktrace binary")
	rounds := flag.Int("rounds", 5, "startup measurements per tool and tracer")
	only := flag.String("only", "", "comma-separated tools to measure (default: all)")
	startupAll := flag.Bool("startup-all", false, "measure only the startup of every tool ktrace tools lists")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: tools -ktrace BIN [-rounds N]")
		os.Exit(2)
	}
	work, err := os.MkdirTemp("", "ktrace-toolbench")
	check(err)
	defer os.RemoveAll(work)
	all := []tool{
		{name: "execsnoop", ktrace: []string{"execsnoop"}, bpftrace: "/usr/sbin/execsnoop.bt",
			note: "bpftrace's prints at entry only; ktrace's at exit, with RET", workload: execs(200)},
		{name: "opensnoop", ktrace: []string{"opensnoop"}, bpftrace: "/usr/sbin/opensnoop.bt", workload: opens(work, 20000)},
		{name: "biolatency", ktrace: []string{"biolatency"}, bpftrace: biolatencyBT,
			note: "Debian's biolatency.bt needs kprobes; the same tracepoints in bpftrace", workload: directReads(work, 2000)},
		{name: "runqlat", ktrace: []string{"runqlat"}, bpftrace: runqlatBT,
			note: "Debian's runqlat.bt includes kernel headers, absent here; its probes without them", workload: pingPong(20000)},
		{name: "tcplife", ktrace: []string{"tcplife"}, bpftrace: tcplifeBT,
			note: "Debian's tcplife.bt needs kprobes; the same tracepoint in bpftrace", workload: connections(500)},
	}
	if *startupAll {
		startupTable(*bin, *rounds)
		return
	}
	check(os.WriteFile("/proc/sys/kernel/bpf_stats_enabled", []byte("1"), 0))
	defer os.WriteFile("/proc/sys/kernel/bpf_stats_enabled", []byte("0"), 0)

	fmt.Printf("Tools benchmark: %s, kernel %s, %d CPUs; startup and cost are medians of %d runs (the cost ratio the median of the runs' ratios).\n\n", time.Now().UTC().Format("2006-01-02"), release(), numCPU(), *rounds)
	fmt.Println("| tool | events | ktrace ns/event | bpftrace ns/event | cost ratio | ktrace startup | bpftrace startup | note |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|---|")
	for _, t := range all {
		if *only != "" && !strings.Contains(","+*only+",", ","+t.name+",") {
			continue
		}
		kcmd := append([]string{*bin}, t.ktrace...)
		bcmd := []string{"bpftrace", t.bpftrace}
		if strings.Contains(t.bpftrace, "\n") {
			bcmd = []string{"bpftrace", "-e", t.bpftrace}
		}
		kstart, bstart := median(startups(kcmd, *rounds)), median(startups(bcmd, *rounds))
		// Costs alternate between the tracers, round by round, and the
		// ratio is the median of the rounds' ratios: background load
		// then weighs on both alike.
		var n int
		var kcosts, bcosts, ratios []float64
		for i := 0; i < *rounds; i++ {
			var kns, bns float64
			var err error
			n, kns, err = cost(kcmd, t.workload)
			check(err)
			_, bns, err = cost(bcmd, t.workload)
			check(err)
			kcosts, bcosts, ratios = append(kcosts, kns), append(bcosts, bns), append(ratios, kns/bns)
		}
		kns, bns, ratio := medianFloat(kcosts), medianFloat(bcosts), medianFloat(ratios)
		fmt.Printf("| %s | %d | %.0f | %.0f | **%.2f×** | %d ms | %d ms | %s |\n", t.name, n, kns, bns, ratio,
			kstart.Milliseconds(), bstart.Milliseconds(), t.note)
	}
}

// startupTable prints the launch-to-attached time of every ready tool
// with its default arguments (dropcount's needs none either), slowest
// first.
func startupTable(bin string, rounds int) {
	out, err := exec.Command(bin, "tools").Output()
	check(err)
	type row struct {
		name string
		d    time.Duration
	}
	var rows []row
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == "Run" {
			continue
		}
		argv := []string{bin, f[0]}
		switch f[0] {
		case "funccount", "stackcount":
			argv = append(argv, "t:syscalls:sys_enter_getppid")
		case "argdist":
			argv = append(argv, "-C", "t:syscalls:sys_enter_getppid():u32:pid")
		case "trace":
			argv = append(argv, "t:syscalls:sys_enter_getppid")
		case "bashreadline", "gethostlatency", "threadsnoop":
			// uprobes on the system's libraries, as they are
		}
		rows = append(rows, row{f[0], median(startups(argv, rounds))})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].d > rows[j].d })
	fmt.Printf("Tool startup: %s, kernel %s, %d CPUs; launch to attached, median of %d runs.\n\n", time.Now().UTC().Format("2006-01-02"), release(), numCPU(), rounds)
	fmt.Println("| tool | startup |")
	fmt.Println("|---|--:|")
	for _, r := range rows {
		fmt.Printf("| %s | %d ms |\n", r.name, r.d.Milliseconds())
	}
}

// tracer is a running tracer whose output is watched for readiness.
type tracer struct {
	cmd   *exec.Cmd
	ready chan struct{}
}

// start runs argv and returns once it has printed a line other than
// bpftrace's "Attaching N probes..." (printed before it attaches), which
// the tools print once attached.
func start(argv []string) (*tracer, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w.Close()
	t := &tracer{cmd: cmd, ready: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		signalled := false
		for sc.Scan() {
			// bpftrace 0.17 prints "Attaching N probes..." before it
			// attaches, and a warning about RLIMIT_MEMLOCK first.
			line := sc.Text()
			if !signalled && !strings.HasPrefix(line, "Attaching ") && !strings.Contains(line, "RLIMIT_MEMLOCK") {
				close(t.ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case <-t.ready:
		return t, nil
	case <-time.After(60 * time.Second):
		t.stop()
		return nil, fmt.Errorf("%s did not attach in 60 s", strings.Join(argv, " "))
	}
}

func (t *tracer) stop() {
	t.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// startups measures launch-to-attached wall times.
func startups(argv []string, rounds int) []time.Duration {
	var d []time.Duration
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		t, err := start(argv)
		check(err)
		d = append(d, time.Since(t0))
		// What it printed must have been its header, not an error.
		time.Sleep(100 * time.Millisecond)
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", t.cmd.Process.Pid)); err != nil || strings.Contains(string(stat), ") Z ") {
			check(fmt.Errorf("%s ended by itself instead of tracing", strings.Join(argv, " ")))
		}
		t.stop()
	}
	return d
}

// cost runs the workload under the tracer and returns the number of
// events and the tracer's BPF run time per event, in ns.
func cost(argv []string, workload func() (int, error)) (int, float64, error) {
	t, err := start(argv)
	if err != nil {
		return 0, 0, err
	}
	defer t.stop()
	time.Sleep(200 * time.Millisecond)
	before, err := runTime(t.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	n, err := workload()
	if err != nil {
		return 0, 0, err
	}
	after, err := runTime(t.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	return n, float64(after-before) / float64(n), nil
}

// runTime sums the bpf_stats run time of the programs process pid holds.
func runTime(pid int) (time.Duration, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fdinfo", pid))
	if err != nil {
		return 0, err
	}
	seen := map[uint32]bool{}
	var total time.Duration
	for _, fd := range fds {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			v, ok := strings.CutPrefix(line, "prog_id:")
			if !ok {
				continue
			}
			id, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if seen[uint32(id)] {
				continue
			}
			seen[uint32(id)] = true
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if err != nil {
				continue
			}
			if s, err := p.Stats(); err == nil {
				total += s.Runtime
			}
			p.Close()
		}
	}
	return total, nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func medianFloat(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tools:", err)
		os.Exit(1)
	}
}

func release() string {
	var u syscall.Utsname
	syscall.Uname(&u)
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func numCPU() int {
	data, _ := os.ReadFile("/sys/devices/system/cpu/online")
	var lo, hi int
	if n, _ := fmt.Sscanf(strings.TrimSpace(string(data)), "%d-%d", &lo, &hi); n == 2 {
		return hi - lo + 1
	}
	return 1
}
