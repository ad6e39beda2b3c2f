package proto

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestResultRoundTrip(t *testing.T) {
	tests := []Result{
		{Kernel: "6.1.0-56-cloud-amd64", Attach: "kprobe", Test: "getppid-count", Tested: true, Works: true, Detail: "25/25 calls"},
		{Kernel: "6.12.117+deb12-cloud-amd64", Attach: "kprobe.multi", Test: "x", Tested: true, Works: false, Detail: `attach: "bad" = no\nsupport`},
		{Kernel: "k", Attach: "fentry", Test: "", Tested: false, Works: false},
		{Kernel: "k", Attach: "tracepoint", Test: "skb/kfree_skb-drops", Tested: true, Works: true, Detail: "a=b"},
	}
	for _, want := range tests {
		line := want.String()
		if !strings.HasPrefix(line, MarkResult+" ") || strings.Contains(line, "\n") {
			t.Errorf("String() = %q: want one line starting with the marker", line)
		}
		for _, prefix := range []string{"", "[6.1] ", "junk from printk "} {
			got, ok, err := ParseResult(prefix + line)
			if !ok || err != nil {
				t.Fatalf("ParseResult(%q) = ok %v, err %v", prefix+line, ok, err)
			}
			if got != want {
				t.Errorf("ParseResult(%q) = %+v, want %+v", prefix+line, got, want)
			}
		}
	}
}

func TestParseResultErrors(t *testing.T) {
	tests := []struct {
		line   string
		ok     bool
		errHas string
	}{
		{"=== RUN TestX", false, ""},
		{"KTRACE-LAB-RESULTS kernel=x", false, ""},
		{"KTRACE-LAB-RESULT kernel=k attach=a tested=maybe works=yes", true, "tested"},
		{"KTRACE-LAB-RESULT kernel=k attach=a tested=yes works=", true, "works"},
		{"KTRACE-LAB-RESULT attach=a tested=yes works=yes", true, "kernel"},
		{`KTRACE-LAB-RESULT kernel=k attach=a detail="unterminated`, true, "quoted"},
		{"KTRACE-LAB-RESULT kernel=k kernel=j attach=a tested=yes works=yes", true, "twice"},
		{"KTRACE-LAB-RESULT kernel=k noequals", true, "malformed"},
	}
	for _, tt := range tests {
		_, ok, err := ParseResult(tt.line)
		if ok != tt.ok {
			t.Errorf("ParseResult(%q) ok = %v, want %v", tt.line, ok, tt.ok)
		}
		switch {
		case tt.errHas == "" && err != nil:
			t.Errorf("ParseResult(%q) err = %v, want none", tt.line, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("ParseResult(%q) err = %v, want one mentioning %q", tt.line, err, tt.errHas)
		}
	}
}

func TestVerdict(t *testing.T) {
	tests := []Verdict{
		{Token: "abc", Exit: 0},
		{Token: "abc", Exit: 1, Failed: []string{"guesttest.test", "probe.test"}},
		{Token: "t", Exit: 124, Failed: []string{"x"}},
	}
	for _, want := range tests {
		got, ok, err := ParseVerdict("[6.12] " + want.String())
		if !ok || err != nil {
			t.Fatalf("ParseVerdict(%q): ok %v err %v", want.String(), ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseVerdict(%q) = %+v, want %+v", want.String(), got, want)
		}
	}
	if _, ok, err := ParseVerdict("KTRACE-LAB-VERDICT exit=0"); !ok || err == nil {
		t.Errorf("verdict without token: ok %v err %v, want an error", ok, err)
	}
	if _, ok, err := ParseVerdict("KTRACE-LAB-VERDICT token=a exit=zero"); !ok || err == nil {
		t.Errorf("verdict with bad exit: ok %v err %v, want an error", ok, err)
	}
}

func TestFormatLine(t *testing.T) {
	tests := []struct {
		kv   []string
		want string
	}{
		{[]string{"name", "x"}, "M name=x"},
		{[]string{"name", "x", "note", ""}, "M name=x"},
		{[]string{"note", "two words"}, `M note="two words"`},
		{[]string{"note", `a"b`}, `M note="a\"b"`},
		{[]string{"note", "tab\there"}, `M note="tab\there"`},
	}
	for _, tt := range tests {
		if got := FormatLine("M", tt.kv...); got != tt.want {
			t.Errorf("FormatLine(%q) = %q, want %q", tt.kv, got, tt.want)
		}
	}
}

func TestPlanRoundTrip(t *testing.T) {
	want := Plan{Token: "tok", Commands: []Command{
		{Name: "a", Path: "/bin/a", Args: []string{"-test.v"}, Dir: "/src/a", Env: []string{"X=1"}, TimeoutSeconds: 60},
		{Name: "b", Path: "/bin/b", TimeoutSeconds: 5},
	}, Env: []string{"KTRACE_TEST_CPROGS=/lab/cprogs"}}
	b, err := EncodePlan(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
	if _, err := DecodePlan([]byte(`{"commands":[{"name":"x"}]}`)); err == nil {
		t.Error("DecodePlan accepted a command without a path")
	}
	if _, err := DecodePlan([]byte(`{`)); err == nil {
		t.Error("DecodePlan accepted bad JSON")
	}
}

func TestSortResults(t *testing.T) {
	rs := []Result{
		{Kernel: "b", Attach: "kprobe", Test: "2"},
		{Kernel: "a", Attach: "kretprobe", Test: "1"},
		{Kernel: "a", Attach: "kprobe", Test: "2"},
		{Kernel: "a", Attach: "kprobe", Test: "1"},
	}
	SortResults(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.Kernel+"/"+r.Attach+"/"+r.Test)
	}
	want := []string{"a/kprobe/1", "a/kprobe/2", "a/kretprobe/1", "b/kprobe/2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SortResults: %v, want %v", got, want)
	}
}

func TestReadResultsAndWorks(t *testing.T) {
	data := strings.Join([]string{
		Result{Kernel: "k", Attach: "kprobe", Test: "a", Tested: true, Works: true}.String(),
		"noise",
		Result{Kernel: "k", Attach: "kprobe", Test: "b", Tested: true, Works: true}.String(),
		Result{Kernel: "k", Attach: "fentry", Test: "a", Tested: true, Works: true}.String(),
		Result{Kernel: "k", Attach: "fentry", Test: "b", Tested: true, Works: false}.String(),
		Result{Kernel: "k", Attach: "uprobe", Test: "a", Tested: false}.String(),
		"",
	}, "\n")
	rs, err := ReadResults([]byte(data))
	if err != nil || len(rs) != 5 {
		t.Fatalf("ReadResults: %d results, %v", len(rs), err)
	}
	tests := []struct {
		attach        string
		tested, works bool
	}{
		{"kprobe", true, true},
		{"fentry", true, false},
		{"uprobe", false, false},
		{"fexit", false, false},
	}
	for _, tt := range tests {
		tested, works := Works(rs, tt.attach)
		if tested != tt.tested || works != tt.works {
			t.Errorf("Works(%s) = %v, %v; want %v, %v", tt.attach, tested, works, tt.tested, tt.works)
		}
	}
	if _, err := ReadResults([]byte("KTRACE-LAB-RESULT kernel=k")); err == nil {
		t.Error("ReadResults accepted a malformed result")
	}
}

func TestRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.txt")
	t.Setenv(EnvResults, path)
	t.Setenv(EnvKernel, "6.1.0-test")
	rs := []Result{
		{Attach: "kprobe", Test: "ktrace-a", Tested: true, Works: true, Detail: "x = 1"},
		{Kernel: "other", Attach: "fexit", Test: "ktrace-b", Tested: true},
	}
	for _, r := range rs {
		if err := Record(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := Record(Result{Test: "no attach"}); err == nil {
		t.Error("Record accepted a result without an attach type")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadResults(data)
	rs[0].Kernel = "6.1.0-test"
	if err != nil || !reflect.DeepEqual(got, rs) {
		t.Errorf("results file holds %+v, %v; want %+v", got, err, rs)
	}
}
