package symbol_test

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/symbol"
)

// TestResolveGoProgram builds a Go program, runs it and symbolizes one of
// its functions through a snapshot of its mappings: /proc/PID/maps, the
// ELF file, its load segments and symbol table. (The test binary itself
// will not do: go test links it without a symbol table.)
func TestResolveGoProgram(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(`package main

import (
	"fmt"
	"os"
	"reflect"
	"time"
)

//go:noinline
func markerFunction(x int) int { return x*7 + 1 }

func main() {
	fmt.Printf("%x\n", reflect.ValueOf(markerFunction).Pointer())
	os.Stdout.Sync()
	time.Sleep(300 * time.Millisecond)
}
`), 0o644)
	bin := filepath.Join(dir, "marker")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p, addr := runAndSnapshot(t, bin)
	for _, delta := range []uint64{0, 3} {
		f := p.Resolve(addr + delta)
		if f.Symbol != "main.markerFunction" || f.Offset != delta || f.Module != bin {
			t.Errorf("entry+%d: got %q+%d in %q, want main.markerFunction+%d in %s", delta, f.Symbol, f.Offset, f.Module, delta, bin)
		}
	}
	if f := p.Resolve(1); f.Symbol != "" || f.Module != "" {
		t.Errorf("address 1 resolved to %+v", f)
	}
}

// runAndSnapshot runs a program that prints an address in hex and then
// waits a moment; it snapshots the process while it runs and returns
// once it has exited.
func runAndSnapshot(t *testing.T, bin string) (*symbol.Process, uint64) {
	t.Helper()
	cmd := exec.Command(bin)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := stdout.Read(buf)
	addr, err := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 16, 64)
	if err != nil {
		t.Fatalf("reading the function's address: %v (%q)", err, buf[:n])
	}
	p, err := symbol.Snapshot(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return p, addr
}

// TestResolveCPlusPlus builds a position-independent C++ program, runs it
// and symbolizes one of its functions from a snapshot taken while it ran,
// after it has exited: the load bias of a PIE executable and demangling.
func TestResolveCPlusPlus(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("g++ is missing (.ci/run installs it)")
		}
		t.Skip("needs g++")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "p.cc")
	os.WriteFile(src, []byte(`#include <cstdio>
#include <unistd.h>
namespace ns { struct Widget { __attribute__((noinline)) long spin(int n); }; }
long ns::Widget::spin(int n) { long s = 0; for (int i = 0; i < n; i++) s += i; return s; }
int main() {
	printf("%lx\n", (unsigned long)(void *)&ns::Widget::spin);
	fflush(stdout);
	usleep(300000);
	return 0;
}
`), 0o644)
	bin := filepath.Join(dir, "p")
	if out, err := exec.Command("g++", "-O1", "-fPIE", "-pie", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	p, addr := runAndSnapshot(t, bin)
	os.Remove(bin) // gone, like a short-lived tool's temporary build
	f := p.Resolve(addr + 2)
	if f.Symbol != "ns::Widget::spin(int)" || f.Offset != 2 || f.Module != bin {
		t.Errorf("got %q+%d in %q, want ns::Widget::spin(int)+2 in %q", f.Symbol, f.Offset, f.Module, bin)
	}
}

func TestParseMaps(t *testing.T) {
	maps := symbol.ParseMaps([]byte(`55d6c5e00000-55d6c5e02000 r--p 00000000 fd:01 1234 /usr/bin/my tool
55d6c5e02000-55d6c5e08000 r-xp 00002000 fd:01 1234 /usr/bin/my tool
7f0000000000-7f0000010000 r-xp 00010000 08:02 99 /tmp/lib.so (deleted)
7ffd1c3e5000-7ffd1c3e7000 r-xp 00000000 00:00 0 [vdso]
7ffd1c3e8000-7ffd1c3e9000 rw-p 00000000 00:00 0 [stack]
`))
	if len(maps) != 3 {
		t.Fatalf("want the 3 executable mappings, got %+v", maps)
	}
	m := maps[0]
	if m.Start != 0x55d6c5e02000 || m.End != 0x55d6c5e08000 || m.Offset != 0x2000 || m.Inode != 1234 || m.Path != "/usr/bin/my tool" {
		t.Errorf("first mapping %+v", m)
	}
	if maps[1].Path != "/tmp/lib.so (deleted)" || maps[2].Path != "[vdso]" {
		t.Errorf("paths %q, %q", maps[1].Path, maps[2].Path)
	}
}

func TestDemangle(t *testing.T) {
	for in, want := range map[string]string{
		"_ZN3foo3barEi":                          "foo::bar(int)",
		"_ZNSt6vectorIiSaIiEE9push_backERKi":     "std::vector<int, std::allocator<int> >::push_back(int const&)",
		"_RNvCs1234_7mycrate3foo":                "mycrate::foo",
		"_ZN4core3fmt5write17h0123456789abcdefE": "core::fmt::write",
		"main":                                   "main",
		"_Zfoo":                                  "_Zfoo", // not a valid mangled name: unchanged
	} {
		if got := symbol.Demangle(in); got != want {
			t.Errorf("Demangle(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKernelResolve(t *testing.T) {
	k := symbol.NewKernel([]kernel.Symbol{
		{Addr: 0x1000, Type: 'T', Name: "a"},
		{Addr: 0x1000, Type: 'T', Name: "a_alias"},
		{Addr: 0x1800, Type: 'D', Name: "data"},
		{Addr: 0x2000, Type: 't', Name: "b"},
	})
	for addr, want := range map[uint64]string{0x1000: "a+0", 0x1900: "a+2304", 0x2010: "b+16"} {
		name, off, ok := k.Resolve(addr)
		if got := name + "+" + strconv.FormatUint(off, 10); !ok || got != want {
			t.Errorf("Resolve(%#x) = %s, %v; want %s", addr, got, ok, want)
		}
	}
	if _, _, ok := k.Resolve(0xfff); ok {
		t.Error("an address below every symbol resolved")
	}
	if _, _, ok := k.Resolve(0x2000 + 1<<21); ok {
		t.Error("an address far past the last symbol resolved")
	}
}

// kernelFrames returns n addresses inside this kernel's functions, as a
// profile's kernel stacks would have them.
func kernelFrames(tb testing.TB, n int) (*symbol.Kernel, []uint64) {
	k, err := symbol.LoadKernel()
	if err != nil {
		if os.Geteuid() == 0 && os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	ks, _ := kernel.LoadKallsyms()
	var funcs []uint64
	for s := range ks.All() {
		if s.IsFunction() && s.Module == "" {
			funcs = append(funcs, s.Addr)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	addrs := make([]uint64, n)
	for i := range addrs {
		addrs[i] = funcs[r.IntN(len(funcs))] + uint64(r.IntN(64))
	}
	return k, addrs
}

// symbolizeAll formats every frame as bpftrace does: name+offset.
func symbolizeAll(k *symbol.Kernel, addrs []uint64, buf []byte) []byte {
	buf = buf[:0]
	for _, a := range addrs {
		name, off, _ := k.Resolve(a)
		buf = append(buf, name...)
		buf = append(buf, '+')
		buf = strconv.AppendUint(buf, off, 10)
		buf = append(buf, '\n')
	}
	return buf
}

// BenchmarkKernelFrames symbolizes 100,000 kernel stack frames per
// operation (the budget is 50 ms), kallsyms already loaded.
// Besides wall time it reports the thread's CPU time per operation,
// which a busy machine does not inflate.
func BenchmarkKernelFrames(b *testing.B) {
	k, addrs := kernelFrames(b, 100000)
	var buf []byte
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	b.ResetTimer()
	for range b.N {
		buf = symbolizeAll(k, addrs, buf)
	}
	b.StopTimer()
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestKernelFramesBudget checks the symbolization budget in CPU time (a
// loaded machine stretches wall time), with a wide margin: 100,000 frames
// in well under half a second (the benchmark shows the real figure, about
// 20 ms).
func TestKernelFramesBudget(t *testing.T) {
	k, addrs := kernelFrames(t, 100000)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	out := symbolizeAll(k, addrs, nil)
	if d := threadCPU() - start; d > 500*time.Millisecond {
		t.Errorf("symbolizing 100,000 frames took %v of CPU", d)
	}
	if strings.Count(string(out), "\n") != 100000 || strings.Contains(string(out), "\n+") {
		t.Error("some frames did not resolve")
	}
}

//go:noinline
func markerFunction(x int) int { return x*7 + 1 }

// TestResolveOwnProcess symbolizes a function of this test binary, which
// go test links without a symbol table: the functions come from the Go
// runtime's own table, .gopclntab.
func TestResolveOwnProcess(t *testing.T) {
	p, err := symbol.Snapshot(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	entry := uint64(reflect.ValueOf(markerFunction).Pointer())
	want := runtime.FuncForPC(uintptr(entry)).Name()
	if f := p.Resolve(entry + 2); f.Symbol != want || f.Offset != 2 {
		t.Errorf("got %q+%d, want %q+2", f.Symbol, f.Offset, want)
	}
}
