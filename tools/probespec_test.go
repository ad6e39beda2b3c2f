package tools

import (
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestParsePattern: funccount's and stackcount's patterns translate to
// these ktrace probes, and short names.
func TestParsePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern, probe, short string
		kernel                bool
	}{
		{"t:syscalls:sys_enter_getppid", "tracepoint:syscalls:sys_enter_getppid", "syscalls:sys_enter_getppid", false},
		{"t:sched:*", "tracepoint:sched:*", "sched:*", false},
		{"c:malloc", "uprobe:c:malloc", "malloc", false},
		{"p:c:str*", "uprobe:c:str*", "str*", false},
		{"/bin/bash:readline", "uprobe:/bin/bash:readline", "readline", false},
		{"u:pthread:pthread_start", "usdt:pthread:pthread_start", "pthread_start", false},
		{"u:/usr/lib/libfoo.so:prov:probe", "usdt:/usr/lib/libfoo.so:prov:probe", "probe", false},
		{"vfs_read", "kprobe:vfs_read", "vfs_read", true},
		{"p::vfs_*", "kprobe:vfs_*", "vfs_*", true},
		{":tcp_v4_connect", "kprobe:tcp_v4_connect", "tcp_v4_connect", true},
		{"go:main.main", "uprobe:go:main.main", "main.main", false},
	} {
		s, err := parsePattern(tc.pattern, false)
		if err != nil {
			t.Errorf("%s: %v", tc.pattern, err)
			continue
		}
		if s.Probe() != tc.probe || s.Kernel() != tc.kernel || probeShortName(s.Probe()) != tc.short {
			t.Errorf("%s: probe %s (kernel %v, short %s), want %s (%v, %s)", tc.pattern, s.Probe(), s.Kernel(), probeShortName(s.Probe()), tc.probe, tc.kernel, tc.short)
		}
	}
}

// TestParsePatternErrors: bad patterns give these errors, verbatim.
func TestParsePatternErrors(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		regex   bool
		want    string
	}{
		{"", false, "an empty pattern"},
		{"t:syscalls", false, `tracepoint "t:syscalls": the form is t:CATEGORY:EVENT`},
		{"t:syscalls:", false, `tracepoint "t:syscalls:": the form is t:CATEGORY:EVENT`},
		{"t:a:b:c", false, `"t:a:b:c": too many ':'-separated parts`},
		{"p:c:malloc:x", false, `"p:c:malloc:x": too many ':'-separated parts`},
		{"r:c:malloc", false, `"r:c:malloc": the probe type must be p, t or u, not "r" (returns are counted as calls)`},
		{"x:c:malloc", false, `"x:c:malloc": the probe type must be p, r, t or u, not "x"`},
		{"u::probe", false, `USDT probe "u::probe": the form is u:LIBRARY:PROBE (a library or binary is required)`},
		{"u:lib:", false, `USDT probe "u:lib:": bad probe name ""`},
		{"c:", false, `"c:" names no function`},
		{"c:mal{loc", false, `"c:mal{loc": bad function name "mal{loc"`},
		{"t:sched:sched_(switch|wakeup)", false, `tracepoint "t:sched:sched_(switch|wakeup)": bad category or event name`},
		{"my lib:func", false, `"my lib:func": bad library "my lib"`},
		{"c,x:f", true, `"c,x:f": bad library "c,x"`},
	} {
		_, err := parsePattern(tc.pattern, tc.regex)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error %v, want %q", tc.pattern, err, tc.want)
		}
	}
	if _, err := parsePattern("t:sched:sched_(switch|wakeup)", true); err != nil {
		t.Errorf("a regular expression with -r: %v", err)
	}
}

// TestProbeListRegexp: with -r the regular expression selects tracepoints
// by CATEGORY:EVENT, anchored at the start as BCC's re.match is.
func TestProbeListRegexp(t *testing.T) {
	testutil.RequireRoot(t)
	s, err := parsePattern("t:syscalls:sys_enter_getp(p|g)id", true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := probeList(s, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := "tracepoint:syscalls:sys_enter_getpgid,\ntracepoint:syscalls:sys_enter_getppid"; got != want {
		t.Errorf("probes %q, want %q", got, want)
	}
	s, _ = parsePattern("t:syscalls:nothing_(matches)", true)
	if _, err := probeList(s, nil, true); err == nil || err.Error() != `no probe matches the regular expression "syscalls:nothing_(matches)"` {
		t.Errorf("error %v", err)
	}
}
