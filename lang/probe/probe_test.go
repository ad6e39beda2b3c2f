package probe

import (
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		str  string
	}{
		{"BEGIN", Spec{Kind: Begin}, "BEGIN"},
		{"begin", Spec{Kind: Begin}, "BEGIN"},
		{"END", Spec{Kind: End}, "END"},
		{" end ", Spec{Kind: End}, "END"},
		{"tracepoint:skb:kfree_skb", Spec{Kind: Tracepoint, Category: "skb", Name: "kfree_skb"}, "tracepoint:skb:kfree_skb"},
		{"t:sched:sched_switch", Spec{Kind: Tracepoint, Category: "sched", Name: "sched_switch"}, "tracepoint:sched:sched_switch"},
		{"tracepoint:*:*sched*", Spec{Kind: Tracepoint, Category: "*", Name: "*sched*"}, "tracepoint:*:*sched*"},
		{"tracepoint:sk?:kfree_skb", Spec{Kind: Tracepoint, Category: "sk?", Name: "kfree_skb"}, "tracepoint:sk?:kfree_skb"},
		{"kprobe:vfs_read", Spec{Kind: Kprobe, Name: "vfs_read"}, "kprobe:vfs_read"},
		{"k:vfs_read+0x10", Spec{Kind: Kprobe, Name: "vfs_read", Offset: 16}, "kprobe:vfs_read+16"},
		{"kprobe:vfs_read+9", Spec{Kind: Kprobe, Name: "vfs_read", Offset: 9}, "kprobe:vfs_read+9"},
		{"kprobe:udp_send_skb.isra.0", Spec{Kind: Kprobe, Name: "udp_send_skb.isra.0"}, "kprobe:udp_send_skb.isra.0"},
		{"kr:nf_tables:nft_do_chain", Spec{Kind: Kretprobe, Module: "nf_tables", Name: "nft_do_chain"}, "kretprobe:nf_tables:nft_do_chain"},
		{"kretprobe:vfs_*", Spec{Kind: Kretprobe, Name: "vfs_*"}, "kretprobe:vfs_*"},
		{"rawtracepoint:sched_switch", Spec{Kind: RawTracepoint, Name: "sched_switch"}, "rawtracepoint:sched_switch"},
		{"rt:sys_enter", Spec{Kind: RawTracepoint, Name: "sys_enter"}, "rawtracepoint:sys_enter"},
		{"fentry:vfs_read", Spec{Kind: Fentry, Name: "vfs_read"}, "fentry:vfs_read"},
		{"f:vfs_read", Spec{Kind: Fentry, Name: "vfs_read"}, "fentry:vfs_read"},
		{"kfunc:vfs_read", Spec{Kind: Fentry, Name: "vfs_read"}, "fentry:vfs_read"},
		{"fexit:vfs_read", Spec{Kind: Fexit, Name: "vfs_read"}, "fexit:vfs_read"},
		{"fr:vfs_read", Spec{Kind: Fexit, Name: "vfs_read"}, "fexit:vfs_read"},
		{"kretfunc:mod:fn", Spec{Kind: Fexit, Module: "mod", Name: "fn"}, "fexit:mod:fn"},
		{"uprobe:/bin/bash:readline", Spec{Kind: Uprobe, Path: "/bin/bash", Name: "readline"}, "uprobe:/bin/bash:readline"},
		{"u:/bin/bash:readline+4", Spec{Kind: Uprobe, Path: "/bin/bash", Name: "readline", Offset: 4}, "uprobe:/bin/bash:readline+4"},
		{"ur:libc:malloc", Spec{Kind: Uretprobe, Path: "libc", Name: "malloc"}, "uretprobe:libc:malloc"},
		{"uprobe:/lib/libc.so.6:0x1234", Spec{Kind: Uprobe, Path: "/lib/libc.so.6", Address: 0x1234}, "uprobe:/lib/libc.so.6:0x1234"},
		{"usdt:/usr/bin/python3:python:function__entry", Spec{Kind: USDT, Path: "/usr/bin/python3", Category: "python", Name: "function__entry"}, "usdt:/usr/bin/python3:python:function__entry"},
		{"U:/bin/x:probe", Spec{Kind: USDT, Path: "/bin/x", Name: "probe"}, "usdt:/bin/x:probe"},
		{"usdt:/bin/x::probe", Spec{Kind: USDT, Path: "/bin/x", Name: "probe"}, "usdt:/bin/x:probe"},
		{"usdt:./bin/x*::*", Spec{Kind: USDT, Path: "./bin/x*", Name: "*"}, "usdt:./bin/x*:*"},
		// Without a binary: the -p process's executables and libraries.
		{"usdt:probe", Spec{Kind: USDT, Name: "probe"}, "usdt::probe"},
		{"usdt::probe", Spec{Kind: USDT, Name: "probe"}, "usdt::probe"},
		{"usdt::p:probe", Spec{Kind: USDT, Category: "p", Name: "probe"}, "usdt::p:probe"},
		{"usdt:::*probe2", Spec{Kind: USDT, Name: "*probe2"}, "usdt::*probe2"},
		{"usdt:*", Spec{Kind: USDT, Name: "*"}, "usdt::*"},
		{"usdt:*:p:n", Spec{Kind: USDT, Path: "*", Category: "p", Name: "n"}, "usdt:*:p:n"},
		// Quoted parts hold any character; String quotes what needs it.
		{`usdt:/bin/x:"provider":"probe.with.dots"`, Spec{Kind: USDT, Path: "/bin/x", Category: "provider", Name: "probe.with.dots"}, "usdt:/bin/x:provider:probe.with.dots"},
		{`usdt:./x:test:"\"probe1\""`, Spec{Kind: USDT, Path: "./x", Category: "test", Name: `"probe1"`}, `usdt:./x:test:"\"probe1\""`},
		{`uprobe:/bin/app:"ns::f(int)"`, Spec{Kind: Uprobe, Path: "/bin/app", Name: "ns::f(int)"}, `uprobe:/bin/app:"ns::f(int)"`},
		{`uprobe:/bin/bash:"echo_builtin"+4`, Spec{Kind: Uprobe, Path: "/bin/bash", Name: "echo_builtin", Offset: 4}, "uprobe:/bin/bash:echo_builtin+4"},
		{`uprobe:"/a b/c:d":"1st"`, Spec{Kind: Uprobe, Path: "/a b/c:d", Name: "1st"}, `uprobe:"/a b/c:d":"1st"`},
		{`u:"/x@y"@"a:b.c":3`, Spec{Kind: Uprobe, Path: "/x@y", Source: SourceLine{File: "a:b.c", Line: 3}}, `uprobe:"/x@y"@"a:b.c":3`},
		{`kprobe:"vfs_read"`, Spec{Kind: Kprobe, Name: "vfs_read"}, "kprobe:vfs_read"},
		{"uprobe:readline", Spec{Kind: Uprobe, Name: "readline"}, "uprobe::readline"},
		{"uprobe::readline", Spec{Kind: Uprobe, Name: "readline"}, "uprobe::readline"},
		{"ur:*:read*", Spec{Kind: Uretprobe, Path: "*", Name: "read*"}, "uretprobe:*:read*"},
		{"uprobe:/usr/lib/*/libc.so.6:malloc", Spec{Kind: Uprobe, Path: "/usr/lib/*/libc.so.6", Name: "malloc"}, "uprobe:/usr/lib/*/libc.so.6:malloc"},
		{"interval:s:1", Spec{Kind: Interval, Unit: "s", Count: 1}, "interval:s:1"},
		{"i:ms:100", Spec{Kind: Interval, Unit: "ms", Count: 100}, "interval:ms:100"},
		{"interval:us:50", Spec{Kind: Interval, Unit: "us", Count: 50}, "interval:us:50"},
		{"interval:hz:10", Spec{Kind: Interval, Unit: "hz", Count: 10}, "interval:hz:10"},
		{"interval:1s", Spec{Kind: Interval, Unit: "s", Count: 1}, "interval:s:1"},
		{"interval:250ms", Spec{Kind: Interval, Unit: "ms", Count: 250}, "interval:ms:250"},
		{"profile:hz:99", Spec{Kind: Profile, Unit: "hz", Count: 99}, "profile:hz:99"},
		{"p:s:2", Spec{Kind: Profile, Unit: "s", Count: 2}, "profile:s:2"},
		{"profile:ms:5", Spec{Kind: Profile, Unit: "ms", Count: 5}, "profile:ms:5"},
		{"profile:us:500", Spec{Kind: Profile, Unit: "us", Count: 500}, "profile:us:500"},
		{"software:page-faults:100", Spec{Kind: Software, Name: "page-faults", Count: 100}, "software:page-faults:100"},
		{"s:cs", Spec{Kind: Software, Name: "cs"}, "software:cs"},
		{"hardware:cache-misses:1000000", Spec{Kind: Hardware, Name: "cache-misses", Count: 1000000}, "hardware:cache-misses:1000000"},
		{"h:cycles:", Spec{Kind: Hardware, Name: "cycles"}, "hardware:cycles"},
		{"software:cpu-clock:1e6", Spec{Kind: Software, Name: "cpu-clock", Count: 1000000}, "software:cpu-clock:1000000"},
		{"uprobe:/bin/bash@readline.c:362", Spec{Kind: Uprobe, Path: "/bin/bash", Source: SourceLine{File: "readline.c", Line: 362}}, "uprobe:/bin/bash@readline.c:362"},
		{"u:./app@src/main.c:10:5", Spec{Kind: Uprobe, Path: "./app", Source: SourceLine{File: "src/main.c", Line: 10, Column: 5}}, "uprobe:./app@src/main.c:10:5"},
		{"interval:ms:1_000", Spec{Kind: Interval, Unit: "ms", Count: 1000}, "interval:ms:1000"},
		{"profile:hz:1e2", Spec{Kind: Profile, Unit: "hz", Count: 100}, "profile:hz:100"},
		{"watchpoint:0x10000000:8:w", Spec{Kind: Watchpoint, Address: 0x10000000, Length: 8, Mode: "w"}, "watchpoint:268435456:8:w"},
		{"w:268435456:1:wr", Spec{Kind: Watchpoint, Address: 0x10000000, Length: 1, Mode: "rw"}, "watchpoint:268435456:1:rw"},
		{"watchpoint:0xffffffff82a0b000:4:x", Spec{Kind: Watchpoint, Address: 0xffffffff82a0b000, Length: 4, Mode: "x"}, "watchpoint:18446744071606153216:4:x"},
		{"iter:task", Spec{Kind: Iter, Name: "task"}, "iter:task"},
		{"it:task_vma", Spec{Kind: Iter, Name: "task_vma"}, "iter:task_vma"},
		{"iter:task_file:/sys/fs/bpf/files", Spec{Kind: Iter, Name: "task_file", Path: "/sys/fs/bpf/files"}, "iter:task_file:/sys/fs/bpf/files"},
		{"iter:task:list", Spec{Kind: Iter, Name: "task", Path: "list"}, "iter:task:list"},
		{"self:signal:SIGUSR1", Spec{Kind: Self, Category: "signal", Name: "SIGUSR1"}, "self:signal:SIGUSR1"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v\n want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		// The canonical form must parse back to the same spec.
		again, err := Parse(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q: %+v, %v", got.String(), again, err)
		}
	}
}

// TestParseErrors lists every error Parse can produce, verbatim.
func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty probe"},
		{"   ", "empty probe"},
		{"tracepiont:skb:kfree_skb", `unknown probe type "tracepiont"; did you mean "tracepoint"?`},
		{"Tracepoint:skb:kfree_skb", `unknown probe type "Tracepoint"; did you mean "tracepoint"?`},
		{"kprboe:vfs_read", `unknown probe type "kprboe"; did you mean "kprobe"?`},
		{"kretprobee:vfs_read", `unknown probe type "kretprobee"; did you mean "kretprobe"?`},
		{"intreval:s:1", `unknown probe type "intreval"; did you mean "interval"?`},
		{"Begin", `unknown probe type "Begin"; did you mean "BEGIN"?`},
		{"foo:bar", `unknown probe type "foo"`},
		{"aw:0x10000000:8:rw", "asyncwatchpoint probes are not supported: bpftrace removed them (and watchpoint:FUNC+ARG); use watchpoint:ADDRESS:LENGTH:MODE"},
		{"asyncwatchpoint:f+1:8:w", "asyncwatchpoint probes are not supported: bpftrace removed them (and watchpoint:FUNC+ARG); use watchpoint:ADDRESS:LENGTH:MODE"},
		{"watchpoint", "watchpoint probe needs an address, a length and a mode, e.g. watchpoint:0x10000000:8:w"},
		{"w:0x1000:8", "watchpoint probe needs an address, a length and a mode, e.g. watchpoint:0x10000000:8:w"},
		{"w:0x1000:8:w:x", "watchpoint probe needs an address, a length and a mode, e.g. watchpoint:0x10000000:8:w"},
		{"watchpoint:main+1:8:w", "watchpoint:FUNCTION+ARG is not supported: bpftrace removed it (with asyncwatchpoint); use watchpoint:ADDRESS:LENGTH:MODE"},
		{"watchpoint:0xzz:8:w", `watchpoint address must be a number, got "0xzz"`},
		{"watchpoint::8:w", `watchpoint address must be a number, got ""`},
		{"watchpoint:0:8:w", "watchpoint must be attached to a non-zero address"},
		{"watchpoint:0x1000:3:w", `watchpoint length must be one of (1,2,4,8), got "3"`},
		{"watchpoint:0x1000:16:w", `watchpoint length must be one of (1,2,4,8), got "16"`},
		{"watchpoint:0x1000::w", `watchpoint length must be one of (1,2,4,8), got ""`},
		{"watchpoint:0x1000:8:", `watchpoint mode must be combination of (r,w,x), got ""`},
		{"watchpoint:0x1000:8:q", `watchpoint mode must be combination of (r,w,x), got "q"`},
		{"watchpoint:0x1000:8:ww", `watchpoint modes may not be duplicated, got "ww"`},
		{"watchpoint:0x1000:8:r", "invalid watchpoint mode: r; supported modes on amd64: rw,w,x"},
		{"watchpoint:0x1000:8:wx", "invalid watchpoint mode: wx; supported modes on amd64: rw,w,x"},
		{"iter", "iter probe needs an iterator, e.g. iter:task"},
		{"iter:", "iter probe needs an iterator, e.g. iter:task"},
		{"iter:task*", `iterator name "task*" cannot contain wildcards`},
		{"it:task:", "iter probe has an empty pin path; want iter:task or iter:task:PIN"},
		{"iter:ta/sk", `invalid character '/' in iterator name "ta/sk"`},
		{"self", "self probe needs a trigger and a signal, e.g. self:signal:SIGUSR1"},
		{"self:signal", "self probe needs a trigger and a signal, e.g. self:signal:SIGUSR1"},
		{"self:signal:SIGUSR1:x", "self probe needs a trigger and a signal, e.g. self:signal:SIGUSR1"},
		{"self:timer:SIGUSR1", "timer is not a supported trigger: self probes have signal alone, e.g. self:signal:SIGUSR1"},
		{"self:signal:SIGUSR2", "SIGUSR2 is not a supported signal: self:signal probes take SIGUSR1"},
		{"self:signal:USR1", "USR1 is not a supported signal: self:signal probes take SIGUSR1"},
		{"watchpiont:0x1000:8:w", `unknown probe type "watchpiont"; did you mean "watchpoint"?`},
		{"x", `unknown probe type "x"`},
		{"BEGIN:x", "BEGIN probe takes no arguments"},
		{"end:", "END probe takes no arguments"},
		{"tracepoint", "tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb"},
		{"tracepoint:skb", "tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb"},
		{"tracepoint:skb:", "tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb"},
		{"t::kfree_skb", "tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb"},
		{"tracepoint:a:b:c", "tracepoint probe has too many parts; want tracepoint:CATEGORY:EVENT"},
		{"tracepoint:sk/b:x", `invalid character '/' in tracepoint category "sk/b"`},
		{"tracepoint:skb:kfree skb", `invalid character ' ' in tracepoint event "kfree skb"`},
		{"kprobe", "kprobe probe needs a function name, e.g. kprobe:vfs_read"},
		{"kprobe:", "kprobe probe needs a function name, e.g. kprobe:vfs_read"},
		{"kretprobe:", "kretprobe probe needs a function name, e.g. kretprobe:vfs_read"},
		{"kprobe:+8", "kprobe probe needs a function name, e.g. kprobe:vfs_read"},
		{"kprobe:vfs_read+zz", `kprobe offset must be a number, got "zz"`},
		{"kprobe:vfs_read+", `kprobe offset must be a number, got ""`},
		{"kretprobe:vfs_read+8", "kretprobe cannot have an offset"},
		{"kprobe:vfs_*+8", "kprobe offset cannot be combined with a wildcard"},
		{"kprobe:a:b:c", "kprobe probe has too many parts; want kprobe:NAME or kprobe:MODULE:NAME"},
		{"kprobe::vfs_read", "kprobe probe has an empty module name"},
		{"kprobe:mod:", "kprobe probe needs a function name, e.g. kprobe:vfs_read"},
		{"kprobe:vfs read", `invalid character ' ' in function name "vfs read"`},
		{"kprobe:m/x:vfs_read", `invalid character '/' in module name "m/x"`},
		{"rawtracepoint", "rawtracepoint probe needs a tracepoint name, e.g. rawtracepoint:sched_switch"},
		{"rt:sched(", `invalid character '(' in tracepoint name "sched("`},
		{"fentry:", "fentry probe needs a function name, e.g. fentry:vfs_read"},
		{"kfunc", "fentry probe needs a function name, e.g. fentry:vfs_read"},
		{"fexit:", "fexit probe needs a function name, e.g. fexit:vfs_read"},
		{"uprobe", "uprobe probe needs a binary and a function, e.g. uprobe:/bin/bash:readline"},
		{"uprobe:/bin/bash", "uprobe probe needs a binary and a function, e.g. uprobe:/bin/bash:readline"},
		{"uprobe:/bin/bash:", "uprobe probe needs a binary and a function, e.g. uprobe:/bin/bash:readline"},
		{"uprobe:/bin/bash:+4", "uprobe probe needs a binary and a function, e.g. uprobe:/bin/bash:readline"},
		{"uretprobe:/bin/bash", "uretprobe probe needs a binary and a function, e.g. uretprobe:/bin/bash:readline"},
		{"uprobe:/bin/bash:0xzz", `uprobe address must be a number, got "0xzz"`},
		{"uprobe:/bin/bash:readline+q", `uprobe offset must be a number, got "q"`},
		{"uretprobe:/bin/bash:readline+4", "uretprobe cannot have an offset"},
		{"uprobe:/bin/bash:read line", `invalid character ' ' in function name "read line"`},
		{"usdt", "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{"usdt:/bin/x", "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{"usdt:/bin/x:", "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{"usdt::", "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{"usdt:/bin/x:a:b:c", "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{"usdt:/bin/x:p!:n", `invalid character '!' in usdt provider "p!"`},
		{`usdt:/bin/x:p:"n`, `unterminated quote in probe usdt:/bin/x:p:"n`},
		{`usdt:/bin/x:p:""`, `empty quotes in probe usdt:/bin/x:p:""`},
		{"usdt:/bin/x:p:\ue000", "invalid character in probe: private use characters must be quoted"},
		{`usdt:/bin/x:"a":"b":"c":"d"`, "usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry"},
		{`tracepoint:"a b":c!`, `invalid character '!' in tracepoint event "c!"`},
		{`uprobe:/bin/x:"f"+q`, `uprobe offset must be a number, got "q"`},
		{"usdt:/bin/x:n!", `invalid character '!' in usdt probe name "n!"`},
		{"interval", "interval probe needs a unit and a count, e.g. interval:s:1"},
		{"interval:", "interval probe needs a unit and a count, e.g. interval:s:1"},
		{"interval:s", "interval probe needs a unit and a count, e.g. interval:s:1"},
		{"interval:s:", "interval probe needs a unit and a count, e.g. interval:s:1"},
		{"interval::1", "interval probe needs a unit and a count, e.g. interval:s:1"},
		{"interval:m:1", `unknown interval unit "m"; use s, ms, us or hz`},
		{"interval:1x", `unknown interval unit "x"; use s, ms, us or hz`},
		{"interval:s:abc", `interval count must be a positive integer, got "abc"`},
		{"interval:s:0", `interval count must be a positive integer, got "0"`},
		{"interval:s:-1", `interval count must be a positive integer, got "-1"`},
		{"interval:s:*", `interval count must be a positive integer, got "*"`},
		{"interval:s:99999999999", "interval count 99999999999 is too large"},
		{"interval:s:1:2", "interval probe has too many parts; want interval:UNIT:COUNT"},
		{"profile", "profile probe needs a unit and a count, e.g. profile:hz:99"},
		{"p:hz", "profile probe needs a unit and a count, e.g. profile:hz:99"},
		{"profile:khz:1", `unknown profile unit "khz"; use s, ms, us or hz`},
		{"profile:hz:0", `profile count must be a positive integer, got "0"`},
		{"software", "software probe needs an event, e.g. software:page-faults:100"},
		{"software:", "software probe needs an event, e.g. software:page-faults:100"},
		{"software:page-fault:1", `unknown software event "page-fault"; did you mean "page-faults"?`},
		{"software:zzzzzz", `unknown software event "zzzzzz"`},
		{"software:cs:0", `software count must be a positive integer, got "0"`},
		{"software:cs:1:2", "software probe has too many parts; want software:EVENT:COUNT"},
		{"hardware", "hardware probe needs an event, e.g. hardware:cache-misses:1000000"},
		{"hardware:cycle", `unknown hardware event "cycle"; did you mean "cycles"?`},
		{"hardware:cycles:x", `hardware count must be a positive integer, got "x"`},
		{"software:cpu-clock:1e", `software count must be a positive integer, got "1e"`},
		{"uprobe:/bin/bash@readline.c", `uprobe source location must be FILE:LINE or FILE:LINE:COLUMN, e.g. uprobe:/bin/bash@readline.c:362, got "readline.c"`},
		{"uprobe:/bin/bash@readline.c:0", `uprobe source line and column must be positive numbers, got "0"`},
		{"uprobe:/bin/bash@readline.c:x:1", `uprobe source line and column must be positive numbers, got "x"`},
		{"software:cpu-clock:1e30", `software count must be a positive integer, got "1e30"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.in, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %q\nwant %q", tt.in, err, tt.want)
		}
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"interval:s:2", 2 * time.Second},
		{"interval:ms:100", 100 * time.Millisecond},
		{"interval:us:50", 50 * time.Microsecond},
		{"interval:hz:4", 250 * time.Millisecond},
		{"profile:hz:99", time.Second / 99},
		{"tracepoint:a:b", 0},
	}
	for _, tt := range tests {
		s, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Period(); got != tt.want {
			t.Errorf("%s: Period = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsWildcard(t *testing.T) {
	for in, want := range map[string]bool{
		"tracepoint:skb:kfree_skb": false,
		"tracepoint:skb:*":         true,
		"tracepoint:s?b:kfree_skb": true,
		"kprobe:vfs_*":             true,
		"kprobe:*:vfs_read":        true,
		"interval:s:1":             false,
		"BEGIN":                    false,
	} {
		s, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.IsWildcard() != want {
			t.Errorf("%s: IsWildcard = %v", in, !want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k := Invalid; k <= Self; k++ {
		if s := k.String(); s == "" || s[0] == 'K' {
			t.Errorf("Kind %d has no name", k)
		}
	}
	if s := Kind(99).String(); s != "Kind(99)" {
		t.Errorf("Kind(99) = %q", s)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"vfs_*", "vfs_read", true},
		{"vfs_*", "do_vfs_read", false},
		{"*read", "vfs_read", true},
		{"*read*", "vfs_readv", true},
		{"vfs_rea?", "vfs_read", true},
		{"vfs_rea?", "vfs_readv", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**", "a", true},
		{"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"exact", "exact", true},
		{"exact", "exacts", false},
		{"?", "", false},
		{"*", "*000", true},
		{"a*", "a*b", true},
		{"*b", "*ab", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
