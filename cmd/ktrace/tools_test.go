package main

import (
	"strings"
	"testing"
)

// TestToolCommands: ktrace tools lists the tools, ktrace TOOL runs one,
// and a bad command line, an unknown tool, a missing process or cgroup
// end with status 2 and these messages, verbatim.
func TestToolCommands(t *testing.T) {
	out, _, code := runCLI("", "tools")
	if code != 0 || !strings.Contains(out, "execsnoop  ") || !strings.Contains(out, "dropcount  ") || !strings.Contains(out, "Run ktrace TOOL -h") {
		t.Errorf("ktrace tools: code %d, output %q", code, out)
	}
	out, _, code = runCLI("", "execsnoop", "--script")
	if code != 0 || !strings.Contains(out, "tracepoint:syscalls:sys_enter_execve") {
		t.Errorf("ktrace execsnoop --script: code %d, output %q", code, out)
	}
	out, _, code = runCLI("", "execsnoop", "-h")
	if code != 0 || !strings.HasPrefix(out, "usage: ktrace execsnoop [-u UID]") {
		t.Errorf("ktrace execsnoop -h: code %d, output %q", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"execsnop"}, `ktrace: "execsnop" is not a tool, a command or a script file (ktrace tools lists the tools; did you mean execsnoop?)` + "\n"},
		{[]string{"nosuchtool"}, `ktrace: "nosuchtool" is not a tool, a command or a script file (ktrace tools lists the tools)` + "\n"},
		{[]string{"execsnoop", "-z"}, "ktrace execsnoop: unknown option -z (see ktrace execsnoop -h)\n"},
		{[]string{"syscount", "-p", "2147483600"}, "ktrace syscount: -p 2147483600: no such process (see ktrace syscount -h)\n"},
		{[]string{"execsnoop", "--cgroup", "/sys/fs/cgroup/nonexistent-ktrace"}, "ktrace execsnoop: -c /sys/fs/cgroup/nonexistent-ktrace: no such cgroup (looked for the directory " + "/sys/fs/cgroup/nonexistent-ktrace" + ") (see ktrace execsnoop -h)\n"},
		{[]string{"tools", "x"}, "ktrace tools: unexpected argument \"x\"\n"},
	} {
		_, stderr, code := runCLI("", c.args...)
		if code != 2 || stderr != c.want {
			t.Errorf("ktrace %s: code %d, stderr %q; want 2, %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}
