package listing

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

func TestSplitSearch(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", []string{"*:*"}},
		{"*", []string{"*:*"}},
		{"kprobe:vfs_read", []string{"kprobe:vfs_read"}},
		{"struct  task_struct , struct file", []string{"struct task_struct", "struct file"}},
		{"k:*socket*,tracepoint:syscalls:*tcp*", []string{"k:*socket*", "tracepoint:syscalls:*tcp*"}},
	} {
		if got := splitSearch(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitSearch(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestListErrors checks the errors of searches that cannot be listed,
// word for word.
func TestListErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"kprob:vfs_read", `unknown probe type "kprob"; did you mean "kprobe"?`},
		{"nosuchkind:*", `unknown probe type "nosuchkind"`},
		{"BEGIN:*", "listing BEGIN probes is not supported"},
		{"end:x", "listing END probes is not supported"},
		{"watchpoint:*", "listing watchpoint probes is not supported"},
		{"self:*", "listing self probes is not supported"},
		{"uprobe:*", "listing uprobe probes needs a binary, e.g. uprobe:/bin/bash:*, or -p PID"},
		{"usdt:", "listing usdt probes needs a binary, e.g. usdt:/bin/bash:*, or -p PID"},
		{"software:*,kprob:x", `unknown probe type "kprob"; did you mean "kprobe"?`},
	} {
		got, err := List(tt.in, Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("List(%q) = %q, %v; want error %q", tt.in, got, err, tt.want)
		}
	}
}

// TestListFixedKinds lists the kinds whose names are bpftrace's own, the
// same on every kernel.
func TestListFixedKinds(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"interval:*", []string{"interval:hz:", "interval:ms:", "interval:s:", "interval:us:"}},
		{"i:*", []string{"interval:hz:", "interval:ms:", "interval:s:", "interval:us:"}},
		{"profile:h*", []string{"profile:hz:"}},
		{"Profile:s:", []string{"profile:s:"}},
		{"software:cpu*", []string{"software:cpu-clock:", "software:cpu-migrations:", "software:cpu:"}},
		{"s:faults:", []string{"software:faults:"}},
		{"software:faults", nil}, // the name is "faults:", as bpftrace has it
		{"hardware:*cycles*", []string{"hardware:bus-cycles:", "hardware:cpu-cycles:", "hardware:cycles:", "hardware:ref-cycles:"}},
		{"*ware:cache-*", []string{"hardware:cache-misses:", "hardware:cache-references:"}},
		{"interval:*,profile:ms:", []string{"interval:hz:", "interval:ms:", "interval:s:", "interval:us:", "profile:ms:"}},
	} {
		got, err := List(tt.in, Options{Verbose: true})
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	all, err := List("software:*", Options{})
	if err != nil || len(all) != 14 || all[0] != "software:alignment-faults:" {
		t.Errorf("software:* = %q, %v", all, err)
	}
}

func TestAttachPoint(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"BEGIN", nil},
		{"END", nil},
		{"interval:s:1", []string{"interval:s:"}},
		{"profile:hz:99", []string{"profile:hz:"}},
		{"software:cpu-clock:1000", []string{"software:cpu-clock:"}},
		{"hardware:cache-misses", []string{"hardware:cache-misses:"}},
		{"kprobe:vfs_read+4", []string{"kprobe:vfs_read+4"}},
		{"kprobe:mymod:myfunc", []string{"kprobe:mymod:myfunc"}},
		{"rawtracepoint:mymod:myevent", []string{"rawtracepoint:mymod:myevent"}},
		{"uprobe:/bin/bash:readline", []string{"uprobe:/bin/bash:readline"}},
		{"usdt:/usr/bin/x:prov:name", []string{"usdt:/usr/bin/x:prov:name"}},
	} {
		if got := AttachPoint(tt.in, false); !slices.Equal(got, tt.want) {
			t.Errorf("AttachPoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecl(t *testing.T) {
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	file := &btf.Struct{Name: "file"}
	for _, tt := range []struct {
		t    btf.Type
		want string
	}{
		{i32, "int"},
		{&btf.Typedef{Name: "size_t", Type: i32}, "size_t"},
		{&btf.Pointer{Target: file}, "struct file *"},
		{&btf.Pointer{Target: &btf.Const{Type: char}}, "const char *"},
		{&btf.Pointer{Target: &btf.Pointer{Target: char}}, "char **"},
		{&btf.Const{Type: &btf.Pointer{Target: char}}, "char * const"},
		{&btf.Pointer{Target: &btf.Void{}}, "void *"},
		{&btf.Pointer{Target: &btf.TypeTag{Value: "user", Type: char}}, "char *"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Type: i32}, {Type: &btf.Pointer{Target: file}}}}}, "void (*)(int, struct file *)"},
		{&btf.Pointer{Target: &btf.FuncProto{Return: i32}}, "int (*)(void)"},
		{&btf.Enum{Name: "pid_type"}, "enum pid_type"},
		{&btf.Union{Name: "u"}, "union u"},
	} {
		if got := decl(tt.t); got != tt.want {
			t.Errorf("decl(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestCachedNames(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	calls := 0
	compute := func() ([]string, error) {
		calls++
		return []string{"a", "b"}, nil
	}
	for _, variant := range []string{"v1", "v1", "v2"} {
		got, err := cachedNames("test", variant, compute)
		if err != nil || !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("cachedNames = %q, %v", got, err)
		}
	}
	if calls != 2 {
		t.Errorf("computed %d times for two variants, want 2", calls)
	}
	failing := func() ([]string, error) { return nil, errors.New("no") }
	if _, err := cachedNames("failing", "", failing); err == nil {
		t.Error("an error was not returned")
	}
	if _, ok := kernel.ReadCacheFile("list-failing", ""); ok {
		t.Error("a failure was cached")
	}
}

// TestListKernel lists the running kernel's probes and types.
func TestListKernel(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	has := func(in string, verbose bool, want ...string) []string {
		t.Helper()
		got, err := List(in, Options{Verbose: verbose})
		if err != nil {
			t.Fatalf("List(%q): %v", in, err)
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("List(%q) lacks %q: %q", in, w, got)
			}
		}
		return got
	}
	if got := has("tracepoint:sched:sched_switch", false); !slices.Equal(got, []string{"tracepoint:sched:sched_switch"}) {
		t.Errorf("exact tracepoint: %q", got)
	}
	// A bare name matches whole names of every kind.
	got := has("sched_switch", false, "tracepoint:sched:sched_switch", "rawtracepoint:vmlinux:sched_switch")
	for _, l := range got {
		if !strings.HasSuffix(l, ":sched_switch") {
			t.Errorf("sched_switch lists %s", l)
		}
	}
	has("*sched_switch*", false, "tracepoint:sched:sched_switch")
	has("rt:sched_switch", true, "rawtracepoint:vmlinux:sched_switch", "    struct task_struct * next")
	has("struct list_h*", false, "struct list_head")
	if got := has("struct list_head,enum pid_type", true); !slices.Equal(got[:4], []string{
		"vmlinux: struct list_head {", "\tstruct list_head *next;", "\tstruct list_head *prev;", "};"}) ||
		got[4] != "vmlinux: enum pid_type {" || got[5] != "\tPIDTYPE_PID = 0," {
		t.Errorf("struct and enum: %q", got)
	}
	if _, err := List("struct no_such_struct_at_all", Options{}); err == nil || !strings.HasPrefix(err.Error(), `unknown type "struct no_such_struct_at_all"`) {
		t.Errorf("unknown struct: %v", err)
	}

	// kprobe:vfs_read lists its arguments from BTF whether or not
	// kprobes attach here, with a warning when they do not.
	var warnings []string
	got, err := List("kprobe:vfs_read", Options{Verbose: true, Warn: func(m string) { warnings = append(warnings, m) }})
	want := []string{"kprobe:vfs_read", "    struct file * arg0", "    char * arg1", "    size_t arg2", "    loff_t * arg3"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("-lv kprobe:vfs_read = %q, %v; want %q", got, err, want)
	}
	if kprobesOK := kernel.HaveKprobes() == nil; kprobesOK != (len(warnings) == 0) {
		t.Errorf("kprobes attach: %v, warnings %q", kprobesOK, warnings)
	}
	got, _ = List("fexit:vfs_read", Options{Verbose: true})
	if want := []string{"fexit:vmlinux:vfs_read", "    struct file * file", "    char * buf", "    size_t count", "    loff_t * pos", "    ssize_t retval"}; !slices.Equal(got, want) {
		t.Errorf("-lv fexit:vfs_read = %q; want %q", got, want)
	}
	got, _ = List("kretprobe:vfs_read", Options{Verbose: true})
	if want := []string{"kretprobe:vfs_read", "    ssize_t retval"}; !slices.Equal(got, want) {
		t.Errorf("-lv kretprobe:vfs_read = %q; want %q", got, want)
	}
	has("iter:task*", true, "iter:task", "    struct task_struct * task", "iter:task_file", "iter:task_vma")
	if kernel.HaveIter() == nil {
		has("", false, "iter:task", "iter:task_vma")
	}

	// The full listing leaves out what cannot attach here.
	all := has("", false, "tracepoint:sched:sched_switch", "software:cpu-clock:", "hardware:cycles:")
	for _, l := range all {
		if strings.HasPrefix(l, "iter:") && kernel.HaveIter() != nil || strings.HasPrefix(l, "interval:") ||
			strings.HasPrefix(l, "kprobe:") && kernel.HaveKprobes() != nil ||
			strings.HasPrefix(l, "fentry:") && kernel.HaveFentry() != nil {
			t.Errorf("full listing has %s", l)
			break
		}
	}
	if !slices.IsSortedFunc(all, func(a, b string) int {
		ka, _, _ := strings.Cut(a, ":")
		kb, _, _ := strings.Cut(b, ":")
		return strings.Compare(ka, kb)
	}) {
		t.Error("kinds are not listed in name order")
	}
	// A second, cached listing is the same.
	if again := has("", false); !slices.Equal(all, again) {
		t.Errorf("cached listing differs: %d lines, then %d", len(all), len(again))
	}
}

// TestListTracepointFields compares -v fields with the raw format file,
// read here with nothing but string functions.
func TestListTracepointFields(t *testing.T) {
	testutil.RequireRoot(t)
	got, err := List("tracepoint:skb:kfree_skb", Options{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := kernel.Tracefs()
	raw, err := os.ReadFile(filepath.Join(root, "events/skb/kfree_skb/format"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tracepoint:skb:kfree_skb"}
	for _, line := range strings.Split(string(raw), "\n") {
		decl, ok := strings.CutPrefix(strings.TrimSpace(line), "field:")
		if !ok || strings.Contains(decl, "common_") {
			continue
		}
		decl, _, _ = strings.Cut(decl, ";")
		want = append(want, "    "+decl)
	}
	if !slices.Equal(got, want) {
		t.Errorf("-lv:\n got %q\nwant %q", got, want)
	}
}
