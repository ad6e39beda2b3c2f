package kernel

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
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

// readKallsymsIndependently parses /proc/kallsyms the obvious, slow way.
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
		if len(fields) < 3 || !strings.ContainsAny(fields[1], "tTwW") {
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
	fns := k.Functions()
	if len(fns) != len(want) {
		t.Errorf("Functions: %d names, independent parse %d", len(fns), len(want))
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
