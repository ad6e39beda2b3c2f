package main

// Tests that run only inside the kernel lab (bash .ci/kernellab), where
// real Debian kernels with kprobes, kretprobes, fentry and fexit boot in
// QEMU. The development VM has no kprobes and refuses fentry, so these
// paths of ktrace run nowhere else. Each test also reports a result line
// that goes into docs/kernels.md.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
)

// labDrops is how many drops each lab test generates.
const labDrops = 200

// labSendtos is how many sendto calls the argument tests trace.
const labSendtos = 25

// requireLab skips t outside a kernel lab guest. Inside one, CI=true, so
// the RequireRoot that follows cannot skip.
func requireLab(t *testing.T) {
	t.Helper()
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("needs kprobes and fentry: runs only inside the kernel lab (bash .ci/kernellab)")
	}
	testutil.RequireRoot(t)
}

// record reports one ktrace-level check as a lab result line. Test names
// start with "ktrace-" so that they can be told from the attach-type
// facts of package guesttest.
func record(t *testing.T, attach, test string, works bool, detail string) {
	t.Helper()
	if err := proto.Record(proto.Result{Attach: attach, Test: "ktrace-" + test, Tested: true, Works: works, Detail: detail}); err != nil {
		t.Error(err)
	}
}

// ktraceBin is the ktrace binary the lab put into the guest.
func ktraceBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(proto.EnvKtraceBin)
	if bin == "" {
		t.Fatalf("$%s is not set: the kernel lab ships ktrace as /bin/ktrace", proto.EnvKtraceBin)
	}
	return bin
}

// dropFunction is the function ktrace's kprobe drop counting attaches to
// on this kernel (sk_skb_reason_drop on 6.12, kfree_skb_reason on 6.1).
func dropFunction(t *testing.T) string {
	t.Helper()
	fn, err := kernel.DropFunction()
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// dropcountTotal adds up dropcount's rows for pid. It returns the number
// of reports and an error for any row that is not pid's, has another
// comm, or (with reasons) another reason than NO_SOCKET.
func dropcountTotal(out string, pid int, comm string, reasons bool) (total, reports int, err error) {
	header := "PID      COMM             DROP_COUNTS"
	if reasons {
		header = "PID      COMM             REASON                   DROP_COUNTS"
	}
	var bad []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case line == header:
			reports++
		case len(f) == 1 && strings.Count(f[0], ":") == 2, line == "":
			// the time stamp above each report, and the blank line after it
		case len(f) >= 3 && f[0] == strconv.Itoa(pid) && f[1] == comm && (!reasons || len(f) == 4 && f[2] == "NO_SOCKET"):
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				bad = append(bad, line)
			}
			total += n
		default:
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		return total, reports, fmt.Errorf("unexpected lines: %q", bad)
	}
	return total, reports, nil
}

// TestLabDropcountKprobe runs `ktrace dropcount --probe kprobe|kretprobe
// -p CHILD -i 1` while the child makes exactly labDrops drops: the
// reports must add up to exactly labDrops for the child's PID and
// comm, with reason NO_SOCKET under --reasons. ktrace picks the drop
// function (and for --reasons the argument holding the reason) itself.
func TestLabDropcountKprobe(t *testing.T) {
	requireLab(t)
	fn := dropFunction(t)
	for _, c := range []struct {
		probe   string
		reasons bool
	}{{"kprobe", false}, {"kretprobe", false}, {"kprobe", true}} {
		name := c.probe
		if c.reasons {
			name += "-reasons"
		}
		t.Run(name, func(t *testing.T) {
			sender := testutil.StartDropSender(t, labDrops)
			args := []string{"dropcount", "--probe", c.probe, "-p", strconv.Itoa(sender.PID), "-i", "1"}
			if c.reasons {
				args = append(args, "--reasons")
			}
			stdout, stderr, code := dropcountDuring(t, args, sender, 60*time.Second)
			if code != 0 {
				t.Fatalf("ktrace %s: exit %d: %s", strings.Join(args, " "), code, stderr)
			}
			total, reports, err := dropcountTotal(stdout, sender.PID, sender.Comm, c.reasons)
			if err == nil && (reports < 2 || total != labDrops) {
				err = fmt.Errorf("%d reports adding up to %d drops, want at least 2 and %d", reports, total, labDrops)
			}
			detail := fmt.Sprintf("ktrace dropcount --probe %s on %s: %d/%d drops for the sender's pid and comm", c.probe, fn, total, labDrops)
			if c.reasons {
				detail += ", all NO_SOCKET"
			}
			if err != nil {
				t.Errorf("ktrace %s: %v; output:\n%s", strings.Join(args, " "), err, stdout)
				detail = err.Error()
			}
			record(t, c.probe, "dropcount"+strings.TrimPrefix(name, c.probe), err == nil, detail)
		})
	}
	t.Run("kretprobe-reasons", func(t *testing.T) {
		// A kretprobe cannot see the reason argument; TestErrors leaves
		// this case to the lab because elsewhere kprobes may be missing,
		// which is reported first.
		_, stderr, code := runCLI("", "dropcount", "--probe", "kretprobe", "--reasons")
		want := "ktrace dropcount: --reasons needs --probe tracepoint or kprobe: a kretprobe cannot see the function's arguments\n"
		if code != 1 || stderr != want {
			t.Errorf("exit %d, stderr %q; want exit 1, %q", code, stderr, want)
		}
	})
}

// ktraceProc is a ktrace process started from $KTRACE_BIN.
type ktraceProc struct {
	cmd            *exec.Cmd
	stdout, stderr testutil.SyncBuffer
	exited         chan struct{}
	err            error // Wait's error, once exited is closed
}

func startKtrace(t *testing.T, args ...string) *ktraceProc {
	t.Helper()
	p := &ktraceProc{cmd: exec.Command(ktraceBin(t), args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// bpfObjects are the BPF objects one process holds open, by ID, as its
// /proc/PID/fdinfo tells.
type bpfObjects struct {
	progs, maps, links []uint32
}

func processBPFObjects(pid int) (bpfObjects, error) {
	var o bpfObjects
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return o, err
	}
	for _, e := range ents {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		var key string
		var ids *[]uint32
		switch target {
		case "anon_inode:bpf-prog":
			key, ids = "prog_id:", &o.progs
		case "anon_inode:bpf-map":
			key, ids = "map_id:", &o.maps
		case "anon_inode:bpf_link":
			key, ids = "link_id:", &o.links
		default:
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, key); ok {
				id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
				if err != nil {
					return o, fmt.Errorf("%s of fd %s: %q", key, e.Name(), line)
				}
				*ids = append(*ids, uint32(id))
			}
		}
	}
	return o, nil
}

// waitAttached waits until ktrace holds n BPF links: the links show
// that every probe is in place without reading ktrace's stderr, whose
// "Attached N probes" the tests compare once ktrace has exited (on the
// lab's kernels kprobes and fentry both attach through BPF links).
func (p *ktraceProc) waitAttached(t *testing.T, n int) bpfObjects {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("ktrace exited before attaching (%v): stdout %q, stderr %q", p.err, p.stdout.String(), p.stderr.String())
		default:
		}
		o, err := processBPFObjects(p.cmd.Process.Pid)
		if err == nil && len(o.links) >= n {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("ktrace holds %d BPF links after 60s, want %d (%v); stderr %q", len(o.links), n, err, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// interrupt stops ktrace as Ctrl-C does and returns its output.
func (p *ktraceProc) interrupt(t *testing.T) (stdout, stderr string, code int) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("ktrace did not exit within 60s of SIGINT; stderr %q", p.stderr.String())
	}
	code = 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return p.stdout.String(), p.stderr.String(), code
}

// TestLabScriptKprobeCount runs `ktrace -e 'kprobe:<drop function> /pid ==
// CHILD/ { @[pid, comm] = count(); }'` (and the kretprobe form) as its own
// process, makes the child drop exactly labDrops packets, stops ktrace
// with SIGINT and compares the printed map with the exact count.
func TestLabScriptKprobeCount(t *testing.T) {
	requireLab(t)
	fn := dropFunction(t)
	for _, kind := range []string{"kprobe", "kretprobe"} {
		t.Run(kind, func(t *testing.T) {
			sender := testutil.StartDropSender(t, labDrops)
			src := fmt.Sprintf("%s:%s /pid == %d/ { @[pid, comm] = count(); }", kind, fn, sender.PID)
			p := startKtrace(t, "-e", src)
			p.waitAttached(t, 1)
			sender.Go(t)
			stdout, stderr, code := p.interrupt(t)
			want := fmt.Sprintf("\n\n@[%d, %s]: %d\n", sender.PID, sender.Comm, labDrops)
			ok := code == 0 && stdout == want && stderr == "Attached 1 probe\n"
			detail := fmt.Sprintf("ktrace -e '%s:%s /pid == CHILD/ { @[pid, comm] = count(); }': %d/%d drops", kind, fn, labDrops, labDrops)
			if !ok {
				t.Errorf("ktrace -e %q: exit %d\nstdout %q\nstderr %q\nwant exit 0, stdout %q, stderr \"Attached 1 probe\\n\"", src, code, stdout, stderr, want)
				detail = fmt.Sprintf("exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
			}
			record(t, kind, "e-count", ok, detail)
		})
	}
}

// TestLabScriptArgs runs testutil.SendtoScript with ktrace -e on
// __sys_sendto while this process calls sendto(2) with known arguments:
// kprobe arg0..arg5 and func, kretprobe retval and func must print and
// count exactly those values.
func TestLabScriptArgs(t *testing.T) {
	requireLab(t)
	s := testutil.NewSendto(t, 41)
	p := startKtrace(t, "-e", testutil.SendtoScript, strconv.Itoa(os.Getpid()))
	p.waitAttached(t, 2)
	if err := s.Send(labSendtos); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := p.interrupt(t)
	printed, maps := s.WantSendtoScript(labSendtos)
	want := printed + "\n\n" + maps
	ok := code == 0 && stdout == want && stderr == "Attached 2 probes\n"
	detail := fmt.Sprintf("ktrace -e on %s: %d calls; kprobe arg0..arg5 and func, kretprobe retval %d and func match", testutil.SendtoFunction, labSendtos, s.Args()[2])
	if !ok {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant exit 0, stderr \"Attached 2 probes\\n\", stdout:\n%s", code, stderr, stdout, want)
		detail = fmt.Sprintf("exit %d, stderr %q, stdout starts %q; want %q", code, stderr, firstLines(stdout, 3), firstLines(want, 3))
	}
	record(t, "kprobe", "e-args", ok, detail)
	record(t, "kretprobe", "e-retval", ok, detail)
}

// TestLabBTFArgs runs probes on __sys_sendto that name its arguments,
// typed from the kernel's BTF: fentry and fexit (args.fd, args.buff,
// args.len, args.flags, args.addr, args.addr_len; fexit's retval), and a
// kprobe whose args.NAME ktrace reads from pt_regs by the BTF prototype.
// The maps must hold exactly the arguments this process passed, labSendtos
// times, and curtask->tgid must be the probe's pid.
func TestLabBTFArgs(t *testing.T) {
	requireLab(t)
	s := testutil.NewSendto(t, 43)
	src := `fentry:__sys_sendto /pid == $1/ {
	@fentry[args.fd, (uint64)args.buff, args.len, args.flags, (uint64)args.addr, args.addr_len, curtask->tgid == pid] = count();
}
fexit:__sys_sendto /pid == $1/ { @fexit[args.fd, args.len, retval] = count(); }
kprobe:__sys_sendto /pid == $1/ { @kprobe[args.fd, args.len, args.flags, args.addr_len] = count(); }`
	p := startKtrace(t, "-e", src, strconv.Itoa(os.Getpid()))
	p.waitAttached(t, 3)
	if err := s.Send(labSendtos); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := p.interrupt(t)
	a := s.Args()
	want := fmt.Sprintf("\n\n@fentry[%d, %d, %d, %d, %d, %d, true]: %d\n@fexit[%d, %d, %d]: %d\n@kprobe[%d, %d, %d, %d]: %d\n",
		a[0], a[1], a[2], a[3], a[4], a[5], labSendtos, a[0], a[2], a[2], labSendtos, a[0], a[2], a[3], a[5], labSendtos)
	ok := code == 0 && stdout == want && stderr == "Attached 3 probes\n"
	detail := fmt.Sprintf("ktrace -e on %s: %d calls; args.fd, args.buff, args.len, args.flags, args.addr, args.addr_len from BTF, retval %d and curtask->tgid match", testutil.SendtoFunction, labSendtos, a[2])
	if !ok {
		t.Errorf("ktrace -e %q: exit %d\nstdout %q\nstderr %q\nwant exit 0, stdout %q, stderr \"Attached 3 probes\\n\"", src, code, stdout, stderr, want)
		detail = fmt.Sprintf("exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
	record(t, "fentry", "btf-args", ok, detail)
	record(t, "fexit", "btf-args+retval", ok, detail)
	record(t, "kprobe", "btf-args", ok, detail)
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "")
}

// labFacts are the attach-type results package guesttest measured earlier
// in this boot, without the ktrace-level results of this package.
func labFacts(t *testing.T) []proto.Result {
	t.Helper()
	path := os.Getenv(proto.EnvResults)
	if path == "" {
		t.Fatalf("$%s is not set", proto.EnvResults)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the guesttest results: %v", err)
	}
	all, err := proto.ReadResults(data)
	if err != nil {
		t.Fatal(err)
	}
	var facts []proto.Result
	for _, r := range all {
		if !strings.HasPrefix(r.Test, "ktrace-") {
			facts = append(facts, r)
		}
	}
	return facts
}

// TestLabInfo compares `ktrace info`'s attach-type lines with what the
// lab measured by attaching programs of each type: ktrace's feature
// probes must agree with reality on every kernel.
func TestLabInfo(t *testing.T) {
	requireLab(t)
	facts := labFacts(t)
	out, err := exec.Command(ktraceBin(t), "info").Output()
	if err != nil {
		t.Fatalf("ktrace info: %v", err)
	}
	says := map[string]string{} // attach type → "yes" or "no: reason"
	inTypes := false
	for _, line := range strings.Split(string(out), "\n") {
		if line == "attach types:" {
			inTypes = true
			continue
		}
		if inTypes && strings.HasPrefix(line, "  ") {
			name, verdict, _ := strings.Cut(strings.TrimSpace(line), " ")
			says[name] = strings.TrimSpace(verdict)
		}
	}
	for _, attach := range []string{"kprobe", "kretprobe", "fentry", "fexit", "tp_btf", "raw_tp"} {
		tested, works := proto.Works(facts, attach)
		verdict, listed := says[attach]
		var problem string
		switch {
		case !tested:
			problem = "the lab did not test " + attach + " in this boot"
		case !listed:
			problem = "ktrace info does not list " + attach
		case works && verdict != "yes":
			problem = fmt.Sprintf("ktrace info says %q but the lab attached %s successfully", verdict, attach)
		case !works && verdict == "yes":
			problem = fmt.Sprintf("ktrace info says yes but the lab's %s checks failed", attach)
		}
		if problem != "" {
			t.Errorf("%s: %s\nktrace info:\n%s", attach, problem, out)
			record(t, attach, "info", false, problem)
			continue
		}
		record(t, attach, "info", true, fmt.Sprintf("ktrace info says %q, as the lab measured", verdict))
	}
}

// bpfIDs lists every BPF program, map and link in the kernel by ID, read
// through the bpf syscall.
func bpfIDs() (progs, maps, links map[uint32]bool, err error) {
	progs, maps, links = map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}
	for id := ebpf.ProgramID(0); ; {
		id, err = ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		} else if err != nil {
			return nil, nil, nil, err
		}
		progs[uint32(id)] = true
	}
	for id := ebpf.MapID(0); ; {
		id, err = ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		} else if err != nil {
			return nil, nil, nil, err
		}
		maps[uint32(id)] = true
	}
	var it link.Iterator
	defer it.Close()
	for it.Next() {
		links[uint32(it.ID)] = true
	}
	return progs, maps, links, it.Err()
}

// kprobeLists returns debugfs' list of every registered kprobe (those made
// through the kprobe PMU, as ktrace's are, included) and tracefs'
// kprobe_events, line by line.
func kprobeLists() ([]string, error) {
	var lines []string
	for _, p := range []string{"/sys/kernel/debug/kprobes/list", "/sys/kernel/tracing/kprobe_events"} {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" {
				lines = append(lines, p+": "+l)
			}
		}
	}
	return lines, nil
}

// TestLabKill9 kills running ktrace processes with SIGKILL, which leaves
// ktrace no chance to detach anything, and checks that the kernel released
// every kprobe, link, program and map of theirs: no ID they held exists
// afterwards, no new ID remains, and the kprobe lists are as before.
func TestLabKill9(t *testing.T) {
	requireLab(t)
	fn := dropFunction(t)
	for _, c := range []struct {
		name    string
		attach  []string
		args    []string
		links   int
		kprobes []string // functions that must show in the kprobe lists meanwhile
	}{
		{"script", []string{"kprobe", "kretprobe"}, []string{"-e", fmt.Sprintf("kprobe:%[1]s { @[comm] = count(); } kretprobe:%[1]s { @r[comm] = count(); }", testutil.SendtoFunction)}, 2, []string{testutil.SendtoFunction}},
		{"dropcount", []string{"kprobe"}, []string{"dropcount", "--probe", "kprobe"}, 1, []string{fn}},
		// The agent with two scripts: one on kprobes, one on a tracepoint.
		{"serve", []string{"kprobe"}, []string{"serve", "--listen", "127.0.0.1:0",
			"--config", "CONFIG"}, 3, []string{testutil.SendtoFunction}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if i := slices.Index(c.args, "CONFIG"); i >= 0 {
				config := filepath.Join(t.TempDir(), "serve.yaml")
				yaml := fmt.Sprintf("scripts:\n  - name: sends\n    program: 'kprobe:%[1]s { @[comm] = count(); } kretprobe:%[1]s { @r[comm] = count(); }'\n"+
					"  - name: drops\n    program: 'tracepoint:skb:kfree_skb { @drops[comm] = count(); }'\n", testutil.SendtoFunction)
				if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
					t.Fatal(err)
				}
				c.args = slices.Clone(c.args)
				c.args[i] = config
			}
			progsBefore, mapsBefore, linksBefore, err := bpfIDs()
			if err != nil {
				t.Fatal(err)
			}
			kprobesBefore, err := kprobeLists()
			if err != nil {
				t.Fatal(err)
			}
			p := startKtrace(t, c.args...)
			held := p.waitAttached(t, c.links)
			if len(held.links) != c.links || len(held.progs) == 0 || len(held.maps) == 0 {
				t.Fatalf("ktrace %s holds progs %v, maps %v, links %v; want %d links and some programs and maps", strings.Join(c.args, " "), held.progs, held.maps, held.links, c.links)
			}
			progs, maps, links, err := bpfIDs()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct {
				what string
				held []uint32
				all  map[uint32]bool
			}{{"program", held.progs, progs}, {"map", held.maps, maps}, {"link", held.links, links}} {
				for _, id := range k.held {
					if !k.all[id] {
						t.Fatalf("%s %d of ktrace's fdinfo is not in the kernel's list of them", k.what, id)
					}
				}
			}
			registered, err := kprobeLists()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.kprobes {
				if !slices.ContainsFunc(registered, func(l string) bool { return strings.Contains(l, " "+f+"+0x") }) {
					t.Fatalf("while ktrace runs, no kprobe on %s is registered:\n%s", f, strings.Join(registered, "\n"))
				}
			}

			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-p.exited

			// The kernel frees programs, maps and links after an RCU grace
			// period and unregisters kprobes from a work queue: poll.
			var leftovers []string
			deadline := time.Now().Add(20 * time.Second)
			for {
				leftovers = leftovers[:0]
				progs, maps, links, err := bpfIDs()
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []struct {
					what          string
					held          []uint32
					before, after map[uint32]bool
				}{{"program", held.progs, progsBefore, progs}, {"map", held.maps, mapsBefore, maps}, {"link", held.links, linksBefore, links}} {
					for _, id := range k.held {
						if k.after[id] {
							leftovers = append(leftovers, fmt.Sprintf("ktrace's %s %d", k.what, id))
						}
					}
					for id := range k.after {
						if !k.before[id] && !slices.Contains(k.held, id) {
							leftovers = append(leftovers, fmt.Sprintf("new %s %d", k.what, id))
						}
					}
				}
				after, err := kprobeLists()
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range after {
					if !slices.Contains(kprobesBefore, l) {
						leftovers = append(leftovers, "kprobe "+l)
					}
				}
				if len(leftovers) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			detail := fmt.Sprintf("ktrace %s killed with SIGKILL: its %d programs, %d maps, %d links and its kprobes on %s are gone",
				c.name, len(held.progs), len(held.maps), len(held.links), strings.Join(c.kprobes, ", "))
			if len(leftovers) > 0 {
				t.Errorf("after kill -9 of ktrace %s, left over: %s", strings.Join(c.args, " "), strings.Join(leftovers, "; "))
				detail = "left over: " + strings.Join(leftovers, "; ")
			}
			for _, attach := range c.attach {
				record(t, attach, "kill-9-"+c.name, len(leftovers) == 0, detail)
			}
		})
	}
}
