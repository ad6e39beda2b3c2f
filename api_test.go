package ktrace_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/verify"
)

// TestProgramDescribesItself checks what a compiled program tells about
// itself without being loaded: its attach points (wildcards expanded),
// its BPF programs with source positions, and its maps.
func TestProgramDescribesItself(t *testing.T) {
	prog, err := ktrace.Compile("desc.bt", []byte(`BEGIN { @start = nsecs; }
tracepoint:syscalls:sys_enter_getppid, tracepoint:syscalls:sys_enter_getpid { @[pid] = count(); }
END { clear(@start); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range prog.Probes() {
		got = append(got, p.Kind.String()+" "+p.Name)
	}
	want := []string{"BEGIN BEGIN", "tracepoint tracepoint:syscalls:sys_enter_getppid", "tracepoint tracepoint:syscalls:sys_enter_getpid", "END END"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Probes = %q, want %q", got, want)
	}
	if n := prog.AttachPoints(); n != len(want) {
		t.Errorf("AttachPoints = %d, want %d", n, len(want))
	}
	if names := strings.Join(prog.MapNames(), " "); names != "@start @" {
		t.Errorf("MapNames = %q, want %q", names, "@start @")
	}
	// The two tracepoints' programs are identical, so they share one.
	progs := prog.BPFPrograms()
	if len(progs) != 3 {
		t.Fatalf("%d BPF programs, want 3 (BEGIN, the shared tracepoint program, END)", len(progs))
	}
	byProgram := map[string]int{}
	for _, p := range prog.Probes() {
		byProgram[p.Program]++
	}
	for _, bp := range progs {
		if byProgram[bp.Name] == 0 {
			t.Errorf("BPF program %s runs no attach point", bp.Name)
		}
		if bp.Maps["@"] == nil || bp.Maps["@start"] == nil {
			t.Errorf("%s: the script's maps are missing from Maps", bp.Name)
		}
		listing := verify.Disassemble(bp.Spec.Instructions)
		if !strings.Contains(listing, "; desc.bt:") {
			t.Errorf("%s: the listing names no script line:\n%s", bp.Name, listing)
		}
	}
}

// TestProbeKindIsHowItAttaches checks that Probes reports the kind a
// probe attaches as.
func TestProbeKindIsHowItAttaches(t *testing.T) {
	prog, err := ktrace.Compile("kinds.bt", []byte(`interval:s:1 { } rawtracepoint:sched_switch { } BEGIN { }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []probe.Kind
	for _, p := range prog.Probes() {
		kinds = append(kinds, p.Kind)
	}
	want := []probe.Kind{probe.Interval, probe.RawTracepoint, probe.Begin}
	if len(kinds) != len(want) || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
}

// TestSessionSentinelErrors checks the errors callers test for with
// errors.Is, and their text.
func TestSessionSentinelErrors(t *testing.T) {
	testutil.RequireRoot(t)
	sess := startScript(t, "maps.bt", `BEGIN { @x = 1; }`, nil)
	if _, err := sess.Map("@nosuch"); !errors.Is(err, ktrace.ErrNoSuchMap) || err.Error() != "the program has no map @nosuch" {
		t.Errorf("Map(@nosuch) = %v, want ErrNoSuchMap", err)
	}
	if _, err := sess.TakeMap("@nosuch"); !errors.Is(err, ktrace.ErrNoSuchMap) {
		t.Errorf("TakeMap(@nosuch) = %v, want ErrNoSuchMap", err)
	}
	m, err := sess.Map("@x")
	if err != nil || len(m.Entries) != 1 {
		t.Fatalf("Map(@x) = %v, %v", m, err)
	}
	sess.Close()
	if _, err := sess.Map("@x"); !errors.Is(err, ktrace.ErrSessionClosed) {
		t.Errorf("Map after Close = %v, want ErrSessionClosed", err)
	}
	_, err = ktrace.Compile("empty.bt", []byte(" \n"), nil)
	if !errors.Is(err, ktrace.ErrEmptyProgram) || err.Error() != "empty.bt: empty program: nothing to run" {
		t.Errorf("empty script: %v, want ErrEmptyProgram", err)
	}
}
