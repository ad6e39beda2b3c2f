package ktrace_test

import (
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// watchSymbol returns the address of a symbol of the (not
// position-independent) watch program, from its ELF symbol table.
func watchSymbol(t *testing.T, bin, name string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", bin, name)
	return 0
}

// TestWatchpointChild watches the watch program's global from a -c child:
// it writes the global exactly 7 times and reads it 7 times, so a write
// watchpoint fires 7 times, a read-write one 14, and an execution
// breakpoint on the function that writes 7; each in the child (pid is
// cpid) and in user mode. With "thread" the writes come from a thread the
// child creates once attached, which inherits the breakpoints.
func TestWatchpointChild(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Watch)
	data := watchSymbol(t, bin, "ktest_watched")
	fn := watchSymbol(t, bin, "ktest_write")
	for _, mode := range []string{"main", "thread"} {
		t.Run(mode, func(t *testing.T) {
			var out strings.Builder
			child, err := ktrace.StartChild(bin+" 7 "+mode, nil, &out, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer child.Terminate()
			src := fmt.Sprintf(`watchpoint:%#x:8:w { @w[pid == cpid, usermode, probe] = count(); }
watchpoint:%#x:8:rw { @rw = count(); }
watchpoint:%#x:1:x { @x = count(); }`, data, data, fn)
			r := runFuncScript(t, src, &ktrace.Options{ChildPID: child.PID}, &ktrace.StartOptions{Child: child}, nil)
			rw := 14
			if os.Getenv("KTRACE_LAB") == "1" {
				// QEMU's TCG (the kernel lab's guests) traps the writes
				// of a read-write debug register but not the reads.
				rw = 7
			}
			want := fmt.Sprintf("@rw: %d\n@w[true, 1, watchpoint:%d:8:w]: 7\n@x: 7\n", rw, data)
			if r.maps != want || r.errors != "" {
				t.Errorf("maps:\n%s\nwant:\n%s\nerrors %q", r.maps, want, r.errors)
			}
			// The last value written, 6, read 7 times.
			if out.String() != "sum 42\n" {
				t.Errorf("the child printed %q, want %q", out.String(), "sum 42\n")
			}
		})
	}
}

// TestWatchpointPID watches a running process: given as -p, when a
// breakpoint follows each of its threads, and without -p, when one on
// every CPU watches the address in every process (the script keeps the
// process's hits by pid). The watch program waits until the probes are
// attached, then writes its global 5 times.
func TestWatchpointPID(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Watch)
	data := watchSymbol(t, bin, "ktest_watched")
	for _, filter := range []bool{true, false} {
		t.Run(fmt.Sprintf("filter=%v", filter), func(t *testing.T) {
			cmd := exec.Command(bin, "5", "wait")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewReader(stdout)
			if l, err := lines.ReadString('\n'); l != "ready\n" {
				t.Fatalf("watch printed %q (%v), want ready", l, err)
			}
			pid := cmd.Process.Pid
			opts := &ktrace.Options{Params: []string{fmt.Sprint(pid)}}
			if filter {
				opts.FilterPID = pid
			}
			src := fmt.Sprintf(`watchpoint:%#x:8:w /pid == $1/ { @[pid, tid == pid] = count(); @n++; if (@n == 5) { exit(); } }`, data)
			r := runFuncScript(t, src, opts, nil, func() {
				io.WriteString(stdin, "go\n")
			})
			cmd.Wait()
			if want := fmt.Sprintf("@[%d, true]: 5\n@n: 5\n", pid); r.maps != want {
				t.Errorf("maps %q, want %q; errors %q", r.maps, want, r.errors)
			}
		})
	}
}

// TestWatchpointErrors checks what the kernel's refusals of a watchpoint
// say, word for word.
func TestWatchpointErrors(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Watch)
	data := watchSymbol(t, bin, "ktest_watched")
	child, err := ktrace.StartChild(bin+" 1", nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Terminate()
	src := fmt.Sprintf(`watchpoint:%#x:8:w { @ = count(); }`, data+4)
	prog, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{ChildPID: child.PID})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: io.Discard, Errors: io.Discard})
	if err == nil {
		sess.Close()
		t.Fatal("a watchpoint on a misaligned address attached")
	}
	want := fmt.Sprintf("attaching watchpoint:%d:8:w: the kernel refused the breakpoint: address %#x is not aligned to its length 8, as hardware breakpoints must be (opening a perf event for process %d: invalid argument)", data+4, data+4, child.PID)
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}
