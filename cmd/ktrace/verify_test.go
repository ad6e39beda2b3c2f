package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// endlessLoop is a script the kernel rejects: the loop never changes its
// counter.
const endlessLoop = "BEGIN {\n\t$i = 0;\n\twhile ($i < 10) {\n\t\tprintf(\"x\\n\");\n\t}\n}\n"

const cleanScript = "BEGIN { @n = 1; printf(\"hello\\n\"); }\nEND { printf(\"%d\\n\", @n); }\n"

// writeScripts writes the test scripts and returns their paths.
func writeScripts(t *testing.T) (loop, clean string) {
	dir := t.TempDir()
	loop = filepath.Join(dir, "loop.bt")
	clean = filepath.Join(dir, "clean.bt")
	os.WriteFile(loop, []byte(endlessLoop), 0o644)
	os.WriteFile(clean, []byte(cleanScript), 0o644)
	return loop, clean
}

// TestVerifyCommand checks ktrace verify's text output verbatim, for a
// script with an endless loop, a clean script and the ELF object of the
// verify package's tests.
func TestVerifyCommand(t *testing.T) {
	loop, clean := writeScripts(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", loop}, 1, `PROGRAM   PROBES  KTRACE
p0_BEGIN  BEGIN   rejected

p0_BEGIN:
  ktrace: loop.bt:4:3: loop: the loop on lines 3-4 cannot be proven to terminate: the loop comes back to the same state, so it never ends (hint: give the loop a counter compared against a constant bound, or use bpf_loop)
      printf("x\n");
`},
		{[]string{"verify", clean}, 0, `PROGRAM   PROBES  KTRACE
p0_BEGIN  BEGIN   ok
p1_END    END     ok
`},
		{[]string{"verify", "-e", `BEGIN { printf("%d\n", $1); }`, "7"}, 0, `PROGRAM   PROBES  KTRACE
p0_BEGIN  BEGIN   ok
`},
		{[]string{"verify", "../../verify/testdata/progs.o"}, 1, `PROGRAM      PROBES                    KTRACE
bad_exit     raw_tracepoint/sys_exit   rejected
count_enter  raw_tracepoint/sys_enter  ok

bad_exit:
  ktrace: progs.c:14:9: uninit: R2 is read before any value was written to it on this path (hint: set the register before using it)
      return *(long *)stale;
`},
	}
	for _, c := range cases {
		stdout, stderr, code := runCLI("", c.args...)
		stdout = strings.ReplaceAll(stdout, filepath.Dir(loop)+"/", "")
		if code != c.code || stderr != "" || stdout != c.want {
			t.Errorf("ktrace %s: exit %d (want %d), stderr %q, stdout:\n%s\nwant:\n%s", strings.Join(c.args, " "), code, c.code, stderr, stdout, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "ktrace verify: no program given: a script, -e 'PROGRAM' or an ELF object (see ktrace verify -h)\n"},
		{[]string{"verify", "-f", "yaml", clean}, "ktrace verify: unknown format \"yaml\": use text or json\n"},
		{[]string{"verify", "/nonexistent/x.bt"}, "ktrace verify: open /nonexistent/x.bt: no such file or directory\n"},
	} {
		stdout, stderr, code := runCLI("", c.args...)
		if code != 1 || stdout != "" || stderr != c.want {
			t.Errorf("ktrace %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(c.args, " "), code, stdout, stderr, c.want)
		}
	}
}

// TestVerifyJSON checks the JSON report of a rejected script.
func TestVerifyJSON(t *testing.T) {
	loop, _ := writeScripts(t)
	stdout, _, code := runCLI("", "verify", "-f", "json", loop)
	var out struct {
		OK       bool `json:"ok"`
		Programs []struct {
			Name   string   `json:"name"`
			Probes []string `json:"probes"`
			OK     bool     `json:"ok"`
			Report struct {
				Findings []struct {
					Category, Pos, Message string
					Lines                  []int
				} `json:"findings"`
			} `json:"report"`
		} `json:"programs"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if code != 1 || out.OK || len(out.Programs) != 1 || out.Programs[0].Name != "p0_BEGIN" || out.Programs[0].OK {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	f := out.Programs[0].Report.Findings
	if len(f) != 1 || f[0].Category != "loop" || f[0].Pos != loop+":4:3" || len(f[0].Lines) != 2 {
		t.Errorf("findings: %+v", f)
	}
}

// TestVerifyKernel puts the kernel's verdict beside ktrace's: both reject
// the endless loop, and the kernel's log is mapped to the script lines.
func TestVerifyKernel(t *testing.T) {
	testutil.RequireRoot(t)
	loop, clean := writeScripts(t)
	stdout, stderr, code := runCLI("", "verify", "--kernel", loop)
	stdout = strings.ReplaceAll(stdout, filepath.Dir(loop)+"/", "")
	for _, want := range []string{
		"PROGRAM   PROBES  KTRACE    KERNEL\np0_BEGIN  BEGIN   rejected  rejected\n",
		"  ktrace: loop.bt:4:3: loop: the loop on lines 3-4 cannot be proven to terminate",
		// The kernel stops inside the body; its rejection of the loop is
		// moved to the loop's back-edge, which is the while statement.
		"  kernel: loop.bt:3:2: loop: infinite loop detected at insn ",
		"  kernel log",
		"    ; loop.bt:3:9: while ($i < 10) {\n",
		"    ; loop.bt:4:3: printf(\"x\\n\");\n",
		"    infinite loop detected at insn ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in:\n%s", want, stdout)
		}
	}
	if code != 1 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	stdout, stderr, code = runCLI("", "verify", clean, "--kernel")
	if want := "PROGRAM   PROBES  KTRACE  KERNEL\np0_BEGIN  BEGIN   ok      ok\np1_END    END     ok      ok\n"; code != 0 || stderr != "" || stdout != want {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
	stdout, _, code = runCLI("", "verify", "--kernel", "-f", "json", "../../verify/testdata/progs.o")
	if code != 1 || !strings.Contains(stdout, `"reason": "R2 !read_ok"`) || !strings.Contains(stdout, `"accepted": true`) ||
		!strings.Contains(stdout, `"pos": "progs.c:14:9"`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

// TestDumpShowsFindings checks that -d prints the verifier's findings
// under the instruction they concern.
func TestDumpShowsFindings(t *testing.T) {
	testutil.RequireRoot(t)
	loop, _ := writeScripts(t)
	stdout, _, _ := runCLI("", "-d", "--dry-run", loop)
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "      ^ error loop: the loop on lines 3-4 cannot be proven to terminate") {
			if i == 0 || !strings.Contains(lines[i-1], ": ") || strings.HasPrefix(lines[i-1], ";") {
				t.Errorf("the finding does not follow an instruction:\n%s", stdout)
			}
			return
		}
	}
	t.Errorf("no finding in the listing:\n%s", stdout)
}
