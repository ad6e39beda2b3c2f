// Command serve measures `ktrace serve` as operators run it: the cost of a
// Prometheus scrape of a map with 10,000 series (time, and the agent's
// extra resident memory), and the CPU the agent uses while idle — scripts
// attached, no events. bench/serve.sh builds ktrace and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	bin := flag.String("ktrace", "ktrace", "the ktrace binary")
	scrapes := flag.Int("scrapes", 50, "scrapes of the 10,000-series map")
	idle := flag.Duration("idle", 30*time.Second, "how long to measure the idle agent")
	flag.Parse()
	if err := run(*bin, *scrapes, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "serve bench:", err)
		os.Exit(1)
	}
}

// bigMap fills one map with 10,000 keys at once, then waits for an event
// that does not come (a script of BEGIN alone ends after it).
const bigMap = `config = { max_map_keys = 10000 }
BEGIN { $n = 10000; for ($i : 0..$n) { @series[$i] = count(); } }
tracepoint:oom:mark_victim { @ooms = count(); }`

// idleScripts are attached to events that do not happen on an idle
// machine, as a production agent waits for drops and resets.
var idleScripts = []string{
	"tracepoint:skb:kfree_skb { @drops[comm] = count(); }",
	"tracepoint:tcp:tcp_send_reset { @resets[comm] = count(); }",
	"tracepoint:oom:mark_victim { @ooms = count(); }",
}

func run(bin string, scrapes int, idle time.Duration) error {
	dir, err := os.MkdirTemp("", "serve-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The scrape: 10,000 series.
	big := filepath.Join(dir, "big.bt")
	os.WriteFile(big, []byte(bigMap), 0o644)
	agent, addr, err := start(bin, "--script", "big="+big, "--max-series", "20000")
	if err != nil {
		return err
	}
	rssBefore := rss(agent.Process.Pid)
	var times []time.Duration
	var peak int64
	for i := 0; i < scrapes; i++ {
		start := time.Now()
		n, err := scrape(addr)
		if err != nil {
			agent.Process.Kill()
			return err
		}
		times = append(times, time.Since(start))
		if n < 10000 {
			agent.Process.Kill()
			return fmt.Errorf("the scrape had %d series of the map, want 10000", n)
		}
		peak = max(peak, rss(agent.Process.Pid))
	}
	stop(agent)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("| scrape of 10,000 series | median %.1f ms, max %.1f ms (%d scrapes) | target ≤ 50 ms |\n",
		ms(times[len(times)/2]), ms(times[len(times)-1]), scrapes)
	fmt.Printf("| extra RSS while scraping | %.1f MiB (%.1f → %.1f MiB) | target ≤ 20 MiB |\n",
		mib(peak-rssBefore), mib(rssBefore), mib(peak))

	// Idle: scripts attached, no events.
	var args []string
	for i, s := range idleScripts {
		f := filepath.Join(dir, fmt.Sprintf("idle%d.bt", i))
		os.WriteFile(f, []byte(s), 0o644)
		args = append(args, "--script", fmt.Sprintf("idle%d=%s", i, f))
	}
	agent, _, err = start(bin, args...)
	if err != nil {
		return err
	}
	cpu0 := cpuTime(agent.Process.Pid)
	time.Sleep(idle)
	cpu1 := cpuTime(agent.Process.Pid)
	stop(agent)
	fmt.Printf("| idle agent, %d scripts attached | %.3f%% of one CPU (%v CPU in %v) | target ≤ 1%% |\n",
		len(idleScripts), 100*float64(cpu1-cpu0)/float64(idle), cpu1-cpu0, idle)
	return nil
}

// start runs the agent on a free port and waits until it is ready.
func start(bin string, args ...string) (*exec.Cmd, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append(append([]string{"serve"}, args...), "--listen", addr)...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, addr, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return nil, "", fmt.Errorf("ktrace serve %s: not healthy within 30s", strings.Join(args, " "))
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(unix.SIGTERM)
	cmd.Wait()
}

// scrape reads /metrics and counts the big map's series.
func scrape(addr string) (int, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strings.Count(string(body), "\nktrace_big_series_total{"), nil
}

// rss is the process's resident memory in bytes.
func rss(pid int) int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the process's user and system time so far.
func cpuTime(pid int) time.Duration {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ
	return time.Duration(utime+stime) * time.Second / ticks
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
