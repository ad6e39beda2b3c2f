package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root (CI=true forbids skipping)")
	}
	t.Skip("needs root")
}

func mustParse(t *testing.T, s string) probe.Spec {
	t.Helper()
	spec, err := probe.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func specStrings(specs []probe.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.String()
	}
	return out
}

// eventDirs lists tracepoints from the tracefs directory tree, the
// independent source for the expectations below.
func eventDirs(t *testing.T, glob string) []string {
	t.Helper()
	root, err := kernel.Tracefs()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, "events", glob, "format"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		ev := filepath.Base(filepath.Dir(p))
		cat := filepath.Base(filepath.Dir(filepath.Dir(p)))
		if cat != "ftrace" {
			out = append(out, "tracepoint:"+cat+":"+ev)
		}
	}
	slices.Sort(out)
	return out
}

func TestExpandTracepoints(t *testing.T) {
	requireRoot(t)
	got, err := Expand(mustParse(t, "tracepoint:skb:kfree_skb"))
	if err != nil || len(got) != 1 || got[0].String() != "tracepoint:skb:kfree_skb" {
		t.Errorf("plain: %v, %v", got, err)
	}
	for _, pat := range []string{"sched:sched_switch*", "skb:*", "*:sched_process_*", "sk?:*"} {
		got, err := Expand(mustParse(t, "tracepoint:"+pat))
		if err != nil {
			t.Errorf("%s: %v", pat, err)
			continue
		}
		want := eventDirs(t, strings.Replace(pat, ":", "/", 1))
		if !slices.Equal(specStrings(got), want) {
			t.Errorf("%s:\n got %v\nwant %v", pat, specStrings(got), want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	requireRoot(t)
	tests := []struct{ in, want string }{
		{"tracepoint:skb:kfree_sbk", "No matches for tracepoint skb:kfree_sbk; did you mean tracepoint:skb:kfree_skb?"},
		{"tracepoint:skbb:kfree_skb", "No matches for tracepoint skbb:kfree_skb; did you mean tracepoint:skb:kfree_skb?"},
		{"tracepoint:zzzzqqq:xxxxyyy", "No matches for tracepoint zzzzqqq:xxxxyyy."},
		{"tracepoint:nosuch*:x", "tracepoint:nosuch*:x matches no tracepoint"},
		{"kprobe:no_such_function_zzzqqq", "No matches for kprobe no_such_function_zzzqqq."},
		{"kprobe:zzz_no_such_*", "kprobe:zzz_no_such_* matches no kernel function"},
		{"fentry:no_such_function_zzzqqq", "No matches for fentry no_such_function_zzzqqq."},
		{"rawtracepoint:sched_swich", "No matches for rawtracepoint sched_swich; did you mean rawtracepoint:sched_switch?"},
		{"kprobe:no_such_mod_zz:foo", "No matches for kprobe no_such_mod_zz:foo."},
		{"kprobe:no_such_mod_zz:*", "kprobe:no_such_mod_zz:* matches no kernel function"},
	}
	// A function later kernels renamed: the error names the new one when
	// the running kernel has it and not the old.
	for old, to := range functionRenames {
		if ok, _ := kernel.FunctionExists(old); ok {
			continue
		}
		// The new name must be one kprobes may attach to (in the lab's
		// 6.12, blk_account_io_done exists but is notrace).
		if names, err := kernel.KprobeFunctions(); err == nil && slices.Contains(names, to) {
			tests = append(tests, struct{ in, want string }{"kprobe:" + old,
				"No matches for kprobe " + old + ": later kernels renamed it " + to + ", which this kernel has; use kprobe:" + to})
		}
	}
	for _, tt := range tests {
		_, err := Expand(mustParse(t, tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Expand(%s):\n got %v\nwant %q", tt.in, err, tt.want)
		}
	}
	if _, err := Expand(probe.Spec{}); err == nil {
		t.Error("invalid spec expanded")
	}
}

func TestExpandFunctions(t *testing.T) {
	requireRoot(t)
	for _, in := range []string{"kprobe:vfs_read", "kretprobe:vfs_read", "fentry:vfs_read", "fexit:vfs_read", "rawtracepoint:sched_switch"} {
		got, err := Expand(mustParse(t, in))
		if err != nil || len(got) != 1 || got[0].String() != in {
			t.Errorf("%s: %v, %v", in, specStrings(got), err)
		}
	}

	// A typo suggests the function first.
	_, err := Expand(mustParse(t, "kprobe:vfs_raed"))
	if err == nil || !strings.HasPrefix(err.Error(), "No matches for kprobe vfs_raed; did you mean kprobe:vfs_read") {
		t.Errorf("vfs_raed: %v", err)
	}

	// Wildcards expand to exactly the matching names of the kernel lists.
	fns, err := kernel.KprobeFunctions()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range fns {
		if strings.HasPrefix(f, "vfs_rea") {
			want = append(want, "kretprobe:"+f)
		}
	}
	got, err := Expand(mustParse(t, "kretprobe:vfs_rea*"))
	if err != nil || !slices.Equal(specStrings(got), want) {
		t.Errorf("kretprobe:vfs_rea*:\n got %v %v\nwant %v", specStrings(got), err, want)
	}
	if !slices.Contains(want, "kretprobe:vfs_read") {
		t.Error("vfs_read missing from kprobe functions")
	}
	for _, s := range got {
		if strings.HasPrefix(s.Name, "__pfx_") {
			t.Errorf("untraceable %s listed", s.Name)
		}
	}

	btfFns, err := kernel.BTFFunctions()
	if err != nil {
		t.Fatal(err)
	}
	got, err = Expand(mustParse(t, "fentry:vfs_rea?"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if _, ok := slices.BinarySearch(btfFns, s.Name); !ok || len(s.Name) != len("vfs_read") {
			t.Errorf("fentry:vfs_rea? gave %s", s)
		}
	}
}

func TestExpandPassThrough(t *testing.T) {
	for _, in := range []string{"BEGIN", "END", "interval:s:1", "profile:hz:99", "software:cs", "hardware:cycles"} {
		got, err := Expand(mustParse(t, in))
		if err != nil || len(got) != 1 || got[0].String() != in {
			t.Errorf("%s: %v, %v", in, specStrings(got), err)
		}
	}
}

func TestList(t *testing.T) {
	requireRoot(t)
	got, err := List("tracepoint:skb:kfree_skb")
	if err != nil || !slices.Equal(got, []string{"tracepoint:skb:kfree_skb"}) {
		t.Errorf("exact: %v, %v", got, err)
	}
	got, err = List("t:skb:*")
	if err != nil || !slices.Equal(got, eventDirs(t, "skb/*")) {
		t.Errorf("t:skb:*: %v, %v", got, err)
	}

	got, err = List("kfree_skb")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tracepoint:skb:kfree_skb", "rawtracepoint:kfree_skb"} {
		if !slices.Contains(got, want) {
			t.Errorf("List(kfree_skb) lacks %s: %v", want, got)
		}
	}
	kprobesOK := kernel.HaveKprobes() == nil
	fentryOK := kernel.HaveFentry() == nil
	for _, line := range got {
		if !strings.Contains(line, "kfree_skb") {
			t.Errorf("List(kfree_skb) has %s", line)
		}
		if strings.HasPrefix(line, "kprobe:") && !kprobesOK {
			t.Errorf("kprobes listed although unavailable: %s", line)
		}
		if strings.HasPrefix(line, "fentry:") && !fentryOK {
			t.Errorf("fentry listed although unavailable: %s", line)
		}
	}
	if kprobesOK {
		// The drop function is kfree_skb_reason up to 6.10 but
		// sk_skb_reason_drop from 6.11 on, a name without "kfree_skb"
		// (kfree_skb_reason is then inline): list it by its own name.
		fn, err := kernel.DropFunction()
		if err != nil {
			t.Fatal(err)
		}
		drops, err := List(fn)
		if err != nil || !slices.Contains(drops, "kprobe:"+fn) {
			t.Errorf("kprobes available but List(%s) lacks kprobe:%s: %v, %v", fn, fn, drops, err)
		}
	}

	all, err := List("")
	if err != nil {
		t.Fatal(err)
	}
	tps, _ := kernel.Tracepoints()
	if len(all) < len(tps) {
		t.Errorf("List(\"\") has %d lines, fewer than %d tracepoints", len(all), len(tps))
	}

	_, err = List("kprobe:vfs_*")
	if kprobesOK {
		if err != nil {
			t.Errorf("kprobe:vfs_*: %v", err)
		}
	} else {
		var fe *kernel.FeatureError
		if !errors.As(err, &fe) || !errors.Is(err, kernel.ErrNotSupported) || !strings.HasPrefix(err.Error(), "kprobe probes are not available on this kernel: kprobe: ") {
			t.Errorf("kprobe:vfs_* on a kernel without kprobes: %v", err)
		}
	}
	got, err = List("rt:sched_switch")
	if err != nil || !slices.Equal(got, []string{"rawtracepoint:sched_switch"}) {
		t.Errorf("rt:sched_switch: %v, %v", got, err)
	}
	got, err = List("*:sched_switch")
	if err != nil || !slices.Contains(got, "tracepoint:sched:sched_switch") {
		t.Errorf("*:sched_switch: %v, %v", got, err)
	}
}

// TestModuleFunctions compares module function lookup with a plain read
// of /proc/kallsyms, using a module other than the churning "bpf" one.
func TestModuleFunctions(t *testing.T) {
	requireRoot(t)
	raw, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	byModule := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && strings.ContainsAny(f[1], "tTwW") && f[3] != "[bpf]" && !strings.HasPrefix(f[2], "__pfx_") {
			mod := strings.Trim(f[3], "[]")
			byModule[mod] = append(byModule[mod], f[2])
		}
	}
	if len(byModule) == 0 {
		t.Log("no module functions on this kernel; only the not-found path is checked")
	}
	for mod, want := range byModule {
		slices.Sort(want)
		want = slices.Compact(want)
		got, err := moduleFunctions(mod)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("moduleFunctions(%s) = %v, %v; want %v", mod, got, err, want)
		}
		specs, err := Expand(mustParse(t, "kprobe:"+mod+":*"))
		if err != nil || len(specs) != len(want) || specs[0].Module != mod {
			t.Errorf("Expand(kprobe:%s:*) = %v, %v", mod, specStrings(specs), err)
		}
		break
	}
}

// TestMain keeps the test binary away from the real on-disk cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ktrace-probe-test-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestSuggest(t *testing.T) {
	cands := []string{"kfree_skb", "consume_skb", "skb_copy_datagram_iovec", "kfree_skb_list", "kfree_skbs"}
	got := closeNames("kfree_sbk", cands, 3)
	want := []string{"kfree_skb", "kfree_skbs"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("closeNames = %v, want %v", got, want)
	}
	if got := closeNames("zzzz", cands, 3); len(got) != 0 {
		t.Errorf("closeNames(zzzz) = %v", got)
	}
	if got := joinOr([]string{"a", "b", "c"}); got != "a, b or c" {
		t.Errorf("joinOr = %q", got)
	}
}
