package probe

import "testing"

// FuzzParse checks that Parse never panics and that whatever it accepts
// prints back (String) to text that parses to the same Spec.
// Run: go test ./probe -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"BEGIN", "end", "tracepoint:skb:kfree_skb", "t:*:*", "kprobe:vfs_read+0x10",
		"kr:mod:fn", "rt:sys_enter", "f:vfs_read", "fr:x", "uprobe:/bin/bash:readline+4",
		"ur:/lib/x.so:0x10", "usdt:/bin/x:p:n", "interval:s:1", "i:100ms", "p:hz:99",
		"software:cs:10", "h:cycles", "tracepiont:a:b", "interval:s:0",
		`usdt:/bin/x:"p":"a.b"`, `uprobe:"/a b":"ns::f(int)"+2`, `u:x:"1"`, `usdt::"\"q\""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error for %q", text)
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its String %q does not parse: %v", text, s, s.String(), err)
		}
		if again != s {
			t.Fatalf("Parse(%q) = %+v, String %q parses to %+v", text, s, s.String(), again)
		}
		s.IsWildcard()
		s.Period()
	})
}

// FuzzMatch checks the glob matcher against a few properties.
func FuzzMatch(f *testing.F) {
	f.Add("vfs_*", "vfs_read")
	f.Add("a*b?c", "axxbyc")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !HasWildcard(name) && !Match(name, name) {
			t.Fatalf("%q does not match itself", name)
		}
		if !Match("*", name) {
			t.Fatalf("* does not match %q", name)
		}
		Match(pattern, name)
	})
}
