package guesttest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// envHolder makes the test binary act as the probe holder of
// TestKill9ReleasesEverything (see TestMain).
const envHolder = "KTRACE_LAB_HOLDER"

// holderPrefix starts the holder's report line.
const holderPrefix = "HOLDING"

// heldProbe is one attachment the holder made.
type heldProbe struct {
	attach string
	prog   ebpf.ProgramID
	link   link.ID // 0 when the attachment is no BPF link
}

// TestMain turns the test binary into the probe holder of
// TestKill9ReleasesEverything when envHolder is set.
func TestMain(m *testing.M) {
	if os.Getenv(envHolder) == "1" {
		if err := holdProbes(); err != nil {
			fmt.Fprintf(os.Stderr, "holder: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdProbes attaches a kprobe, a kretprobe and (where required) an fentry
// program, prints their IDs and waits to be killed.
func holdProbes() error {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8 * numSlots, MaxEntries: 1})
	if err != nil {
		return err
	}
	var held []string
	// keep holds every object until the process dies: otherwise the
	// garbage collector's finalizers would close them early.
	keep := []any{m}
	defer runtime.KeepAlive(&keep)
	hold := func(attach string, prog *ebpf.Program, l link.Link) error {
		keep = append(keep, prog, l)
		pi, err := prog.Info()
		if err != nil {
			return fmt.Errorf("%s program info: %w", attach, err)
		}
		pid, _ := pi.ID()
		var lid link.ID
		if li, err := l.Info(); err == nil {
			lid = li.ID
		}
		held = append(held, fmt.Sprintf("%s:%d:%d", attach, pid, lid))
		return nil
	}
	kp, err := kprobeProg(m, "klab_hold_kp", progOpts{})
	if err != nil {
		return err
	}
	l, err := link.Kprobe(sendtoFn, kp, nil)
	if err != nil {
		return fmt.Errorf("kprobe: %w", err)
	}
	if err := hold("kprobe", kp, l); err != nil {
		return err
	}
	krp, err := kprobeProg(m, "klab_hold_krp", progOpts{})
	if err != nil {
		return err
	}
	l, err = link.Kretprobe(sendtoFn, krp, nil)
	if err != nil {
		return fmt.Errorf("kretprobe: %w", err)
	}
	if err := hold("kretprobe", krp, l); err != nil {
		return err
	}
	if ok, _ := requirement("fentry"); ok {
		fe, err := tracingProg(m, "klab_hold_fe", ebpf.AttachTraceFEntry, sendtoFn, progOpts{})
		if err != nil {
			return err
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: fe})
		if err != nil {
			return fmt.Errorf("fentry: %w", err)
		}
		if err := hold("fentry", fe, l); err != nil {
			return err
		}
	}
	fmt.Printf("%s %s\n", holderPrefix, strings.Join(held, " "))
	os.Stdout.Sync()
	// Wait to be killed; give up eventually so that nothing hangs.
	time.Sleep(2 * time.Minute)
	return errors.New("holder was not killed")
}

// parseHeld parses the holder's line.
func parseHeld(line string) ([]heldProbe, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != holderPrefix {
		return nil, fmt.Errorf("unexpected holder output %q", line)
	}
	var out []heldProbe
	for _, f := range fields[1:] {
		parts := strings.Split(f, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad holder entry %q", f)
		}
		p, err1 := strconv.ParseUint(parts[1], 10, 32)
		l, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad holder entry %q", f)
		}
		out = append(out, heldProbe{attach: parts[0], prog: ebpf.ProgramID(p), link: link.ID(l)})
	}
	return out, nil
}

// registeredKprobes returns debugfs' list of every registered kprobe
// (those made through the perf PMU included) and tracefs' kprobe_events.
func registeredKprobes() (string, error) {
	var b strings.Builder
	for _, p := range []string{"/sys/kernel/debug/kprobes/list", "/sys/kernel/tracing/kprobe_events"} {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s:\n%s", p, data)
	}
	return b.String(), nil
}

func programExists(id ebpf.ProgramID) bool {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	p.Close()
	return true
}

func linkExists(id link.ID) bool {
	l, err := link.NewFromID(id)
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	l.Close()
	return true
}

// programsNamed lists the IDs of loaded programs whose name starts with
// prefix.
func programsNamed(prefix string) []ebpf.ProgramID {
	var ids []ebpf.ProgramID
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return ids
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil && strings.HasPrefix(info.Name, prefix) {
			ids = append(ids, id)
		}
		p.Close()
	}
}

// TestKill9ReleasesEverything kills a process holding kprobe, kretprobe and
// fentry attachments with SIGKILL and checks that the kernel released all
// of them: no program, link or kprobe of it remains.
func TestKill9ReleasesEverything(t *testing.T) {
	requireLab(t)
	before, err := registeredKprobes()
	if err != nil {
		t.Fatalf("read kprobe lists: %v", err)
	}

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHolder+"=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), holderPrefix) {
				lines <- sc.Text()
				break
			}
			fmt.Println("holder:", sc.Text())
		}
		close(lines)
	}()
	var line string
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("holder exited before attaching")
		}
		line = l
	case <-time.After(60 * time.Second):
		t.Fatal("holder did not attach within 60s")
	}
	held, err := parseHeld(line)
	if err != nil {
		t.Fatal(err)
	}
	during, err := registeredKprobes()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(during, sendtoFn) {
		t.Errorf("while held, no kprobe on %s is registered:\n%s", sendtoFn, during)
	}
	for _, h := range held {
		if !programExists(h.prog) {
			t.Fatalf("%s program %d not found while held", h.attach, h.prog)
		}
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// The kernel frees programs and links after an RCU grace period:
	// poll for a while.
	deadline := time.Now().Add(15 * time.Second)
	var leftovers []string
	for {
		leftovers = leftovers[:0]
		for _, h := range held {
			if programExists(h.prog) {
				leftovers = append(leftovers, fmt.Sprintf("%s program %d", h.attach, h.prog))
			}
			if h.link != 0 && linkExists(h.link) {
				leftovers = append(leftovers, fmt.Sprintf("%s link %d", h.attach, h.link))
			}
		}
		if ids := programsNamed("klab_hold"); len(ids) > 0 {
			leftovers = append(leftovers, fmt.Sprintf("programs named klab_hold*: %v", ids))
		}
		after, err := registeredKprobes()
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			leftovers = append(leftovers, "kprobes still registered:\n"+after)
		}
		if len(leftovers) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, h := range held {
		var mine []string
		for _, l := range leftovers {
			if strings.HasPrefix(l, h.attach+" ") || !slices.ContainsFunc(held, func(o heldProbe) bool { return strings.HasPrefix(l, o.attach+" ") }) {
				mine = append(mine, l)
			}
		}
		what := "program"
		if h.link != 0 {
			what = "program and link"
		}
		if len(mine) == 0 {
			report(t, h.attach, "kill-9-releases", true, true, fmt.Sprintf("%s freed and kprobe lists restored after SIGKILL", what))
		} else {
			report(t, h.attach, "kill-9-releases", true, false, strings.Join(mine, "; "))
		}
	}
	if len(leftovers) > 0 {
		t.Errorf("after kill -9 of the holder, left over:\n%s", strings.Join(leftovers, "\n"))
	}
}
