package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseScriptArgs checks that each long form is its short form's
// twin, in both --opt VALUE and --opt=VALUE spellings, and that options
// combine and permute as with getopt_long.
func TestParseScriptArgs(t *testing.T) {
	cases := []struct {
		args []string
		want scriptOptions
	}{
		{[]string{"--list"}, scriptOptions{list: true}},
		{[]string{"-l", "kprobe:*"}, scriptOptions{list: true, params: []string{"kprobe:*"}}},
		{[]string{"--verbose", "--quiet", "-e", "P"}, scriptOptions{verbose: true, quiet: true, program: "P", hasProgram: true}},
		{[]string{"-e", "P", "--output", "f.txt"}, scriptOptions{output: "f.txt", program: "P", hasProgram: true}},
		{[]string{"--output=f.txt", "-e", "P"}, scriptOptions{output: "f.txt", program: "P", hasProgram: true}},
		{[]string{"-of.txt", "-eP"}, scriptOptions{output: "f.txt", program: "P", hasProgram: true}},
		{[]string{"-qo", "f.txt", "x.bt"}, scriptOptions{quiet: true, output: "f.txt", file: "x.bt"}},
		{[]string{"--cmd", "sleep 1", "x.bt"}, scriptOptions{child: "sleep 1", hasChild: true, file: "x.bt"}},
		{[]string{"--cmd=sleep 1", "x.bt"}, scriptOptions{child: "sleep 1", hasChild: true, file: "x.bt"}},
		{[]string{"--pid", "42", "x.bt"}, scriptOptions{pid: 42, file: "x.bt"}},
		{[]string{"-B", "full", "-Bline", "x.bt"}, scriptOptions{buffering: "line", file: "x.bt"}},
		{[]string{"--debuginfo=/a:./b", "--debuginfo", "+c", "x.bt"}, scriptOptions{debugDirs: []string{"/a", "./b", "+c"}, file: "x.bt"}},
		{[]string{"--pid=42", "x.bt"}, scriptOptions{pid: 42, file: "x.bt"}},
		{[]string{"-f", "json", "x.bt"}, scriptOptions{format: "json", file: "x.bt"}},
		{[]string{"--include", "linux/sched.h", "--include=errno.h", "-I", "/a", "-I/b", "x.bt"},
			scriptOptions{includes: []string{"linux/sched.h", "errno.h"}, includeDirs: []string{"/a", "/b"}, file: "x.bt"}},
		{[]string{"-k", "x.bt"}, scriptOptions{helperWarnings: 1, file: "x.bt"}},
		{[]string{"--warnings", "x.bt"}, scriptOptions{helperWarnings: 1, file: "x.bt"}},
		{[]string{"--no-warnings", "--unsafe", "--dry-run", "-d", "x.bt"}, scriptOptions{noWarnings: true, unsafe: true, dryRun: true, dump: true, file: "x.bt"}},
		{[]string{"--usdt-file-activation", "-b", "--btf", "--no-feature", "kprobe_multi,uprobe_multi", "x.bt"}, scriptOptions{file: "x.bt", noUprobeMulti: true}},
		{[]string{"--no-feature", "kprobe_multi,kprobe_session", "x.bt"}, scriptOptions{file: "x.bt"}},
		{[]string{"--traceable-functions", "funcs.txt", "x.bt"}, scriptOptions{traceableFunctions: "funcs.txt", file: "x.bt"}},
		// getopt_long takes an unambiguous prefix of a long option.
		{[]string{"--quie", "--outp=o", "x.bt"}, scriptOptions{quiet: true, output: "o", file: "x.bt"}},
		// Options after the program; a negative number is a parameter.
		{[]string{"x.bt", "-5", "--quiet", "a"}, scriptOptions{quiet: true, file: "x.bt", params: []string{"-5", "a"}}},
		{[]string{"-e", "P", "a", "--", "--name=v", "--flag", "b"}, scriptOptions{program: "P", hasProgram: true,
			params: []string{"a", "b"}, named: map[string]string{"name": "v", "flag": "true"}}},
	}
	for _, c := range cases {
		got, err := parseScriptArgs(c.args)
		if err != nil {
			t.Errorf("parseScriptArgs(%q): %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("parseScriptArgs(%q) =\n%+v\nwant\n%+v", c.args, *got, c.want)
		}
	}
}

func TestParseProbeFilter(t *testing.T) {
	for _, args := range [][]string{{"--probe-filter", "ms:(2|3)00$", "x.bt"}, {"--probe-filter=ms:(2|3)00$", "x.bt"}} {
		o, err := parseScriptArgs(args)
		if err != nil {
			t.Fatalf("parseScriptArgs(%q): %v", args, err)
		}
		if o.probeFilter == nil || !o.probeFilter.MatchString("interval:ms:300") || o.probeFilter.MatchString("interval:ms:100") {
			t.Errorf("parseScriptArgs(%q): probe filter %v", args, o.probeFilter)
		}
	}
}

// TestParseScriptArgsErrors checks every refusal's message verbatim, and
// which ones are usage errors (followed by the usage).
func TestParseScriptArgsErrors(t *testing.T) {
	cases := []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"--nosuch"}, "unknown option --nosuch", true},
		{[]string{"-lz"}, "unknown option -z", true},
		{[]string{"--"}, "", false},
		{[]string{"--output"}, "option -o needs a file name", true},
		{[]string{"--pid"}, "option -p needs a process id", true},
		{[]string{"--include"}, "option --include needs a header name", true},
		{[]string{"-e", "P", "-c"}, "option -c needs a command", true},
		{[]string{"--quiet=yes"}, "option --quiet takes no value", true},
		{[]string{"--ver"}, "option --ver is ambiguous: --verbose, --version, --verify-llvm-ir", true},
		{[]string{"--u"}, "option --u is ambiguous: --usdt-file-activation, --unsafe", true},
		{[]string{"-f", "yaml"}, `unknown output format "yaml": use text or json`, false},
		{[]string{"--pid=x1"}, "pid 'x1' is not a valid decimal number", false},
		{[]string{"--pid", "1", "--cmd", "true"}, "cannot use both -c and -p", false},
		{[]string{"-kk"}, "-kk is no longer supported (as in bpftrace): use a single -k", false},
		{[]string{"--no-warnings", "-k"}, "-k (--warnings) conflicts with --no-warnings", false},
		{[]string{"-k", "--no-warnings"}, "-k (--warnings) conflicts with --no-warnings", false},
		{[]string{"--no-feature", "kprobe_multi,fast"}, `--no-feature can only have values 'kprobe_multi,kprobe_session,uprobe_multi', not "fast"`, false},
		{[]string{"--probe-filter", "[x"}, "invalid --probe-filter regex '[x': error parsing regexp: missing closing ]: `[x`", false},
		{[]string{"--dwarf-pid", "1"}, "--dwarf-pid: ktrace has no DWARF stack unwinder (bpftrace's dw_ustack), so there is no process to add to it; ustack is the kernel's frame-pointer walk", false},
		{[]string{"-B", "fast"}, `-B: the buffering mode must be none, line or full, not "fast"`, false},
		{[]string{"--debug", "ast"}, "--debug: ktrace has no debug stages; -d (without a stage) prints the BPF instructions with the verifier's findings", false},
		{[]string{"--mode=test"}, "--mode: ktrace has no test, bench, codegen or format mode", false},
		{[]string{"--fmt"}, "--fmt: ktrace has no script formatter", false},
		{[]string{"--emit-elf", "x.o"}, "--emit-elf: ktrace does not write ELF files; -d prints the BPF instructions", false},
	}
	for _, c := range cases {
		_, err := parseScriptArgs(c.args)
		if c.want == "" {
			if err != nil {
				t.Errorf("parseScriptArgs(%q): %v", c.args, err)
			}
			continue
		}
		var usageErr *usageError
		if err == nil || err.Error() != c.want || errors.As(err, &usageErr) != c.usage {
			t.Errorf("parseScriptArgs(%q) = %v (usage error: %v)\nwant %q (usage error: %v)", c.args, err, errors.As(err, &usageErr), c.want, c.usage)
		}
	}
	for args, want := range map[string]error{"-h": errHelp, "--help": errHelp, "-V": errVersion, "--version": errVersion, "--info": errInfo} {
		if _, err := parseScriptArgs([]string{args, "x.bt"}); !errors.Is(err, want) {
			t.Errorf("parseScriptArgs(%q): %v, want %v", args, err, want)
		}
	}
}

// TestUsageListsEveryOption keeps --help complete: every option of the
// table appears in it, in each of its forms.
func TestUsageListsEveryOption(t *testing.T) {
	for _, opt := range scriptOptionTable {
		if opt.short != 0 && !strings.Contains(usage, "-"+string(opt.short)) {
			t.Errorf("usage lacks -%c", opt.short)
		}
		if opt.long != "" && !strings.Contains(usage, "--"+opt.long) {
			t.Errorf("usage lacks --%s", opt.long)
		}
	}
}

// TestBadOptionShowsUsage checks what the user sees: one line, then the
// usage, on stderr, with exit code 1 as bpftrace.
func TestBadOptionShowsUsage(t *testing.T) {
	stdout, stderr, code := runCLI("", "--nosuch", "-e", "BEGIN {}")
	if stdout != "" || stderr != "ktrace: unknown option --nosuch\n"+usage || code != 1 {
		t.Errorf("ktrace --nosuch: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI("", "--dwarf-pid=1", "-e", "BEGIN {}")
	if stdout != "" || strings.Contains(stderr, "USAGE") || !strings.HasPrefix(stderr, "ktrace: --dwarf-pid: ") || code != 1 {
		t.Errorf("ktrace --dwarf-pid: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestTraceableFunctionsMissingFile checks the file is read before
// anything else happens.
func TestTraceableFunctionsMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "funcs.txt")
	_, stderr, code := runCLI("", "--traceable-functions", missing, "-e", "BEGIN {}")
	if want := "ktrace: --traceable-functions: open " + missing + ": no such file or directory\n"; stderr != want || code != 1 {
		t.Errorf("exit %d, stderr %q, want %q", code, stderr, want)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("the file appeared")
	}
}
