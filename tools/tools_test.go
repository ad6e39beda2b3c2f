package tools_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/tools"
)

// TestDeclarations checks what every tool declares: a name, a summary,
// flags that do not clash, columns with expressions, and either columns
// or a report.
func TestDeclarations(t *testing.T) {
	seen := map[string]bool{}
	for _, tool := range tools.All() {
		if tool.Name == "" || tool.Summary == "" || tool.Script == "" || tool.Probes == "" || tool.MinKernel == "" {
			t.Errorf("%q: name, summary, script, probes and oldest kernel are required", tool.Name)
		}
		if seen[tool.Name] {
			t.Errorf("two tools called %s", tool.Name)
		}
		seen[tool.Name] = true
		if both := len(tool.Columns) > 0 && tool.Report != nil; both && tool.ReportWhen == nil || len(tool.Columns) == 0 && tool.Report == nil {
			t.Errorf("%s: a tool has columns (events) or a report, not both (unless ReportWhen chooses) or neither", tool.Name)
		}
		// Every event tool filters and shows by cgroup (the issue's
		// containers point), through the common options or its own.
		if len(tool.Columns) > 0 {
			if c, err := tool.Parse(append([]string{"--show-cgroup", "--cgroup", "/"}, tool.SampleArgs...)); err != nil || !c.ShowCgroup || len(c.CgroupIDs) == 0 {
				t.Errorf("%s: an event tool takes --cgroup PATH and --show-cgroup (%v)", tool.Name, err)
			}
		}
		for _, c := range tool.Columns {
			if c.Expr == "" || c.JSONKey() == "" {
				t.Errorf("%s: column %q needs an expression and a JSON key", tool.Name, c.Name)
			}
		}
		// Parsing the help flag builds the option table, which must
		// not have two options of one name.
		short, long := map[string]bool{}, map[string]bool{}
		for _, f := range tool.Flags {
			if f.Short != "" && short[f.Short] || f.Long != "" && long[f.Long] {
				t.Errorf("%s: option %s declared twice", tool.Name, f.Name())
			}
			short[f.Short], long[f.Long] = true, true
		}
		help := tool.Help(nil)
		for _, f := range tool.Flags {
			if strings.Count(help, f.Name()+",")+strings.Count(help, f.Name()+" ") == 0 {
				t.Errorf("%s: -h does not show %s", tool.Name, f.Name())
			}
		}
		for _, opt := range []string{"-p", "-T", "-t", "-x", "-c", "-C", "-d", "-j", "-h"} {
			if strings.Count(help, "  "+opt+",") > 1 {
				t.Errorf("%s: option %s is both the tool's and a common one", tool.Name, opt)
			}
		}
	}
}

// TestScriptsCompile compiles every tool's script, as run and as
// --script prints it, with its defaults and with each boolean flag.
func TestScriptsCompile(t *testing.T) {
	for _, tool := range tools.All() {
		variants := [][]string{nil}
		for _, f := range tool.Flags {
			if f.Kind == tools.Bool {
				variants = append(variants, []string{f.Name()})
			}
		}
		if tool.Common&tools.Timestamps != 0 {
			variants = append(variants, []string{"-T"}, []string{"-t"})
		}
		if tool.Common&tools.Failed != 0 {
			variants = append(variants, []string{"-x"})
		}
		if tool.Common&tools.Cgroup != 0 {
			variants = append(variants, []string{"-C"})
		}
		if tool.Common&tools.PID != 0 {
			variants = append(variants, []string{"-p", "1"})
		}
		if tool.Common&tools.Interval != 0 {
			variants = append(variants, []string{"1"})
		}
		for _, args := range variants {
			args = append(append([]string(nil), args...), tool.SampleArgs...)
			c, err := tool.Parse(args)
			if err != nil {
				t.Errorf("ktrace %s %s: %v", tool.Name, strings.Join(args, " "), err)
				continue
			}
			c.Kernel = tools.NewKernel()
			for _, standalone := range []bool{false, true} {
				src, err := c.Script(standalone)
				if err == nil {
					_, err = ktrace.Compile(tool.Name+".bt", []byte(src), nil)
				}
				if err != nil {
					t.Errorf("ktrace %s %s (standalone %v): %v\n%s", tool.Name, strings.Join(args, " "), standalone, err, src)
				}
			}
		}
	}
}

// TestUsageErrors: bad command lines give these errors, verbatim, as
// usage errors (exit status 2).
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		tool string
		args []string
		want string
	}{
		{"execsnoop", []string{"-z"}, "unknown option -z (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"--frobnicate"}, "unknown option --frobnicate (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"-u"}, "-u needs a UID (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"-u", "root"}, `-u needs an integer, not "root" (see ktrace execsnoop -h)`},
		{"execsnoop", []string{"-n", "("}, "--name: error parsing regexp: missing closing ): `(` (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"extra"}, `unexpected argument "extra" (see ktrace execsnoop -h)`},
		{"execsnoop", []string{"-c", "/no-such-cgroup-ktrace"}, "-c /no-such-cgroup-ktrace: no such cgroup (looked for the directory " + cgroupRoot(t) + "/no-such-cgroup-ktrace) (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"--json=yes"}, "--json takes no value (see ktrace execsnoop -h)"},
		{"execsnoop", []string{"-d", "0"}, `-d needs a number of seconds, not "0" (see ktrace execsnoop -h)`},
		{"syscount", []string{"-p", "2147483600"}, "-p 2147483600: no such process (see ktrace syscount -h)"},
		{"syscount", []string{"-p", "abc"}, `-p needs a process ID, not "abc" (see ktrace syscount -h)`},
		{"syscount", []string{"-e", "EWHAT"}, "-e EWHAT: not an errno name or number (see ktrace syscount -h)"},
		{"syscount", []string{"-T", "0"}, "-T needs a positive number (see ktrace syscount -h)"},
		{"biolatency", []string{"1", "2", "3"}, `unexpected argument "3": the arguments are [interval [count]] (see ktrace biolatency -h)`},
		{"biolatency", []string{"0"}, `the interval must be a positive number of seconds, not "0" (see ktrace biolatency -h)`},
		{"biolatency", []string{"1", "x"}, `the count must be a positive integer, not "x" (see ktrace biolatency -h)`},
		{"biolatency", []string{"-d", "nodisk"}, "no block device called nodisk (see ktrace biolatency -h)"},
	} {
		_, err := tools.Lookup(tc.tool).Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("ktrace %s %s: error %v, want %q", tc.tool, strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func cgroupRoot(t *testing.T) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if before, after, ok := strings.Cut(l, " - "); ok && strings.HasPrefix(after, "cgroup2 ") {
			return strings.Fields(before)[4]
		}
	}
	return "(none)"
}

// TestToolsDoc keeps docs/tools.md what the declarations say.
func TestToolsDoc(t *testing.T) {
	const path = "../docs/tools.md"
	want := tools.Markdown()
	if os.Getenv("KTRACE_WRITE_TOOLS_DOC") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("docs/tools.md is stale: run KTRACE_WRITE_TOOLS_DOC=1 go test ./tools -run TestToolsDoc")
	}
}
