package symbol_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/symbol"
	"github.com/ktrace/ktrace/internal/testutil"
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
	gxx := testutil.RequireTool(t, "g++", "g++")
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
	if out, err := exec.Command(gxx, "-O1", "-fPIE", "-pie", "-Wl,--build-id=0x5ca1ab1e", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	p, addr := runAndSnapshot(t, bin)
	os.Remove(bin) // gone, like a short-lived tool's temporary build
	f := p.Resolve(addr + 2)
	if f.Symbol != "ns::Widget::spin(int)" || f.Offset != 2 || f.Module != bin {
		t.Errorf("got %q+%d in %q, want ns::Widget::spin(int)+2 in %q", f.Symbol, f.Offset, f.Module, bin)
	}
	// What a pprof mapping needs: the file's build ID (read from the file
	// kept open, as it is deleted) and the executable mapping holding
	// the address.
	if m := f.Mapping; f.BuildID != "5ca1ab1e" || m.Path != bin || m.Start > addr || addr >= m.End {
		t.Errorf("build ID %q, mapping %+v: want 5ca1ab1e and the mapping of %s holding %#x", f.BuildID, m, bin, addr)
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
