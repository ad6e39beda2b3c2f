package kernel

import (
	"bufio"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sampleKallsyms = `ffffffff81000000 T _stext
ffffffff81000010 t __pfx_do_thing
ffffffff81000020 t do_thing
ffffffff81000080 T vfs_read
ffffffff81000080 T vfs_read_alias
ffffffff81000100 W weak_fn
ffffffff81000200 d some_data
ffffffff81000300 T _sinittext
ffffffff81000310 t init_only
ffffffff81000400 T _einittext
ffffffff81000500 t do_thing
ffffffffc0001000 t nft_do_chain	[nf_tables]
ffffffffc0000800 t mod_first	[a_mod]
zzzz t bad_address
ffffffff81000600 bad_type_column
ffffffff81000700 t
`

func TestParseKallsyms(t *testing.T) {
	k, err := ParseKallsyms([]byte(sampleKallsyms))
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 13 {
		t.Errorf("Len = %d, want 13", k.Len())
	}
	if k.Hidden() {
		t.Error("Hidden")
	}
	s, ok := k.Lookup("nft_do_chain")
	if !ok || s != (Symbol{Addr: 0xffffffffc0001000, Type: 't', Name: "nft_do_chain", Module: "nf_tables"}) {
		t.Errorf("Lookup(nft_do_chain) = %+v, %v", s, ok)
	}
	if all := k.LookupAll("do_thing"); len(all) != 2 || all[0].Addr != 0xffffffff81000020 || all[1].Addr != 0xffffffff81000500 {
		t.Errorf("LookupAll(do_thing) = %+v", all)
	}
	if !k.HasFunction("weak_fn") || k.HasFunction("some_data") || k.HasFunction("nope") {
		t.Error("HasFunction")
	}
	if _, ok := k.Lookup("some_data"); !ok {
		t.Error("data symbols must be found by Lookup")
	}
	wantFns := []string{"__pfx_do_thing", "_einittext", "_sinittext", "_stext", "do_thing", "init_only", "mod_first", "nft_do_chain", "vfs_read", "vfs_read_alias", "weak_fn"}
	if got := k.Functions(); !slices.Equal(got, wantFns) {
		t.Errorf("Functions = %v", got)
	}
	wantTraceable := []string{"_einittext", "_stext", "do_thing", "mod_first", "nft_do_chain", "vfs_read", "vfs_read_alias", "weak_fn"}
	if got := k.TraceableFunctions(); !slices.Equal(got, wantTraceable) {
		t.Errorf("TraceableFunctions = %v", got)
	}
	resolve := []struct {
		addr uint64
		want string
	}{
		{0xffffffff81000020, "do_thing"},
		{0xffffffff81000025, "do_thing+0x5"},
		{0xffffffff81000090, "vfs_read+0x10"}, // first name at a shared address
		{0xffffffffc0000804, "mod_first+0x4 [a_mod]"},
		{0xffffffffc0001000 + 100, "nft_do_chain+0x64 [nf_tables]"},
		{0xffffffff80000000, "0xffffffff80000000"},
		{0xffffffffc0001000 + 2<<20, "0xffffffffc0201000"},
	}
	for _, tt := range resolve {
		if got := k.Symbolize(tt.addr); got != tt.want {
			t.Errorf("Symbolize(%#x) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if _, err := ParseKallsyms([]byte("garbage\n")); err == nil || err.Error() != "no symbols" {
		t.Errorf("garbage: %v", err)
	}
	hidden, err := ParseKallsyms([]byte("0000000000000000 T a\n0000000000000000 T b\n"))
	if err != nil || !hidden.Hidden() {
		t.Fatalf("hidden: %v", err)
	}
	if _, _, ok := hidden.Resolve(0); ok {
		t.Error("Resolve must fail when addresses are hidden")
	}
}

// TestResolveFunctionsOnly: addresses resolve to the function containing
// them, never to data: a data symbol inside a function's range does not
// end it, and per-CPU variables listed at small addresses (kernels before
// 6.15 list fixed_percpu_data at 0) do not name NULL or user addresses.
func TestResolveFunctionsOnly(t *testing.T) {
	k, err := ParseKallsyms([]byte(`0000000000000000 D fixed_percpu_data
0000000000000040 d per_cpu_thing
0000000000001000 T a
0000000000001000 T a_alias
0000000000001800 D data
0000000000002000 t b
`))
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[uint64]string{0x1000: "a+0", 0x1900: "a+2304", 0x2010: "b+16"} {
		s, off, ok := k.Resolve(addr)
		if got := s.Name + "+" + strconv.FormatUint(off, 10); !ok || got != want || !s.IsFunction() {
			t.Errorf("Resolve(%#x) = %s (%c), %v; want %s", addr, got, s.Type, ok, want)
		}
	}
	for _, addr := range []uint64{0, 0x10, 0x40, 0xfff, 0x2000 + 1<<21} {
		if s, off, ok := k.Resolve(addr); ok {
			t.Errorf("Resolve(%#x) = %s+%d, want no symbol", addr, s.Name, off)
		}
	}
}

// readKallsymsIndependently parses /proc/kallsyms the obvious, slow way,
// leaving out the symbols of BPF programs ("[bpf]"), which come and go as
// other tests load programs: two reads never agree on them.
func readKallsymsIndependently(t *testing.T) map[string]uint64 {
	t.Helper()
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || !strings.ContainsAny(fields[1], "tTwW") || len(fields) > 3 && fields[3] == "[bpf]" {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := first[fields[2]]; !dup {
			first[fields[2]] = addr
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return first
}

func TestKallsymsLive(t *testing.T) {
	requireRoot(t)
	k, err := LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := LoadKallsyms(); k2 != k {
		t.Error("not memoized")
	}
	if k.Hidden() {
		t.Fatal("addresses hidden from root")
	}
	want := readKallsymsIndependently(t)
	for _, name := range []string{"vfs_read", "do_sys_openat2", "schedule"} {
		s, ok := k.Lookup(name)
		if !ok || s.Addr != want[name] || !s.IsFunction() {
			t.Errorf("Lookup(%s) = %+v, want addr %#x", name, s, want[name])
		}
		if got := k.Symbolize(want[name] + 0x10); got != name+"+0x10" {
			t.Errorf("Symbolize(%s+0x10) = %q", name, got)
		}
		if ok, err := FunctionExists(name); !ok || err != nil {
			t.Errorf("FunctionExists(%s) = %v, %v", name, ok, err)
		}
	}
	if ok, err := FunctionExists("no_such_function_ktrace"); ok || err != nil {
		t.Errorf("FunctionExists(no_such) = %v, %v", ok, err)
	}
	// Functions must list exactly the independent parse's names, but for
	// those of BPF programs (bpf_prog_TAG_NAME, only ever in "[bpf]").
	bpfOnly := map[string]bool{}
	for s := range k.All() {
		if s.Module == "bpf" {
			bpfOnly[s.Name] = true
		}
	}
	n := 0
	for _, f := range k.Functions() {
		if _, ok := want[f]; ok {
			n++
		} else if !bpfOnly[f] {
			t.Errorf("Functions has %s, which the independent parse has not", f)
		}
	}
	if n != len(want) {
		t.Errorf("Functions: %d of the independent parse's %d names", n, len(want))
	}
	for _, f := range k.TraceableFunctions() {
		if strings.HasPrefix(f, "__pfx_") {
			t.Fatalf("TraceableFunctions has %s", f)
		}
	}
}

func TestDropFunction(t *testing.T) {
	requireRoot(t)
	isolateCache(t)
	want := ""
	syms := readKallsymsIndependently(t)
	for _, c := range DropCandidates {
		if _, ok := syms[c]; ok {
			want = c
			break
		}
	}
	got, err := DropFunction()
	if err != nil || got != want {
		t.Errorf("DropFunction() = %q, %v; kallsyms says %q", got, err, want)
	}
	resetFactMemory()
	if again, _ := DropFunction(); again != want {
		t.Errorf("cached DropFunction() = %q", again)
	}
}

func TestParseFilterFunctions(t *testing.T) {
	got := parseFilterFunctions([]byte("vfs_read\nnft_do_chain [nf_tables]\nvfs_read\n\n  do_thing  \n"))
	if want := []string{"do_thing", "nft_do_chain", "vfs_read"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestKprobeFunctions(t *testing.T) {
	requireRoot(t)
	fns, err := KprobeFunctions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(fns) || len(slices.Compact(slices.Clone(fns))) != len(fns) {
		t.Error("not sorted and distinct")
	}
	if _, ok := slices.BinarySearch(fns, "vfs_read"); !ok {
		t.Error("vfs_read missing")
	}
	// available_filter_functions, when readable, is the authority; else
	// the kallsyms approximation must be what was returned.
	root, _ := Tracefs()
	if data, err := os.ReadFile(root + "/available_filter_functions"); err == nil && len(data) > 0 {
		if want := parseFilterFunctions(data); !slices.Equal(fns, want) {
			t.Errorf("%d functions, available_filter_functions has %d", len(fns), len(want))
		}
	} else {
		k, err := LoadKallsyms()
		if err != nil {
			t.Fatal(err)
		}
		if want := k.TraceableFunctions(); !slices.Equal(fns, want) {
			t.Errorf("%d functions, kallsyms has %d traceable", len(fns), len(want))
		}
	}
}

// kernelFrames returns n addresses inside this kernel's functions, as a
// profile's kernel stacks would have them.
func kernelFrames(tb testing.TB, n int) (*Kallsyms, []uint64) {
	requireRoot(tb)
	k, err := LoadKallsyms()
	if err != nil {
		tb.Fatal(err)
	}
	if k.Hidden() {
		tb.Fatal("kernel addresses are hidden from root")
	}
	var funcs []uint64
	for s := range k.All() {
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
func symbolizeAll(k *Kallsyms, addrs []uint64, buf []byte) []byte {
	buf = buf[:0]
	for _, a := range addrs {
		s, off, _ := k.Resolve(a)
		buf = append(buf, s.Name...)
		buf = append(buf, '+')
		buf = strconv.AppendUint(buf, off, 10)
		buf = append(buf, '\n')
	}
	return buf
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestKernelFramesBudget checks the symbolization budget in CPU time (a
// loaded machine stretches wall time), with a wide margin: 100,000 frames
// in well under half a second (BenchmarkKernelFrames shows the real
// figure, about 15 ms).
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
