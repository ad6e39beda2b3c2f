// Package conformance holds ktrace's conformance suite for bpftrace's
// language: one case per behaviour, each a program, how to run it, and
// what it must print and return. The cases live in cases/*.txt; goldens
// for multi-line outputs (histograms, stats, tuples, nested maps, JSON)
// live in golden/. conformance_test.go runs them against the real kernel.
//
// # Case files
//
// A case file holds many cases. Each case starts with a header line
//
//	=== NAME
//
// (NAME is unique across all files: letters, digits, '_', '-', '.'),
// followed by fields. A field is a line "KEY:" at column 0, with KEY one
// of the keys below. A field's value is either the rest of that line
// (after "KEY: ") or, when the rest is empty, the block of lines that
// follows, up to the next field, the next "===" header or the end of the
// file. Trailing blank lines of a block are dropped.
//
// Lines starting with "##" are comments everywhere (inside blocks too).
// Lines starting with "#" are comments outside blocks only, so program
// text may contain "#include" or "#!" lines.
//
// Keys:
//
//	PROG:            the program (block or one line)
//	CMD:             ktrace's arguments, split like a shell does ('…', "…",
//	                 \); placeholders: {prog} the program text as one
//	                 argument, {file} a file holding the program, {tmp} the
//	                 case's temporary directory, and the placeholders below.
//	                 Default: -e {prog}
//	ARGS:            arguments inserted before -e {prog} (default CMD only)
//	PARAMS:          arguments appended after -e {prog} (default CMD only)
//	STDIN:           text fed to ktrace's standard input
//	ENV:             KEY=VALUE set in ktrace's environment (one per ENV line)
//	SETUP:           a shell command (sh -c) run to completion in {tmp}
//	                 before ktrace starts: files the program reads
//	HELPER:          a shell command (sh -c) started before ktrace and killed
//	                 after it; its pid is {helper} (for -p)
//	WORKLOAD:        a shell command (sh -c) the runner runs over and over,
//	                 every 50 ms, while ktrace runs: events for tracepoint
//	                 cases that do not use -c
//	TIMEOUT:         seconds before the case fails as hung (default 15)
//	INTERRUPT:       seconds after which ktrace gets SIGINT (for programs
//	                 that run until Ctrl-C)
//	EXPECT:          stdout, exactly (trailing blank lines ignored)
//	EXPECT_REGEX:    stdout, line by line: each line a fully anchored RE2
//	                 regular expression, same number of lines
//	EXPECT_FILE:     stdout, exactly, from a golden file under conformance/
//	EXPECT_JSON:     stdout, line by line: every line must be valid JSON and
//	                 equal the expected line byte for byte
//	EXPECT_JSON_FILE: as EXPECT_JSON, from a golden file
//	STDOUT_HAS:      each line of the block occurs somewhere in stdout
//	EXPECT_STDERR:   stderr, exactly (trailing blank lines ignored)
//	EXPECT_STDERR_REGEX: stderr, line by line, as EXPECT_REGEX
//	STDERR_HAS:      each line of the block occurs somewhere in stderr
//	OUTFILE:         a file (relative to {tmp}) whose content is checked
//	EXPECT_OUTFILE:  the content OUTFILE must have, exactly
//	EXIT:            the exit code (default 0); a case may expect only this
//	XFAIL:           the case is known to fail, with the reason; it still
//	                 runs, and passing is reported as an error so that the
//	                 marker gets removed
//	FLAKY:           the case fails only sometimes, because of a known ktrace
//	                 bug (the reason says which); it still runs: a failure
//	                 is logged as known-flaky, not an error, and the summary
//	                 lists it. Remove the marker once the bug is fixed.
//	CONFIRMED:       how the expectation was checked against bpftrace.
//	                 "bpftrace 0.17" cases are re-checked against a real
//	                 bpftrace by TestBpftraceReference when
//	                 KTRACE_CONFORMANCE_BPFTRACE names its binary; a note
//	                 "(but for ...)" marks a whitespace-only difference of
//	                 that old version (empty lines, trailing spaces)
//	NOTE:            free text; informational
//
// Placeholders, replaced in CMD, ARGS, PARAMS, WORKLOAD and in every
// expectation: {pid} ktrace's pid (expectations only), {ppid} the test
// process's pid (ktrace's parent), {helper} the HELPER's pid, {ncpus} the
// number of possible CPUs, {user} and {uid} the user running the tests,
// {cgroup} the test process's cgroup v2 id, {cgroup2} the directory where
// the cgroup v2 hierarchy is mounted, {tmp} the case's directory,
// {testdata} the absolute path of conformance/testdata.
//
// Whatever a case expects, stderr must never contain a Go panic or ktrace's
// "internal error".
//
// # Running
//
//	./test.sh ./conformance                            # as root; part of ./test.sh
//	go test -count=1 ./conformance -run 'TestConformance/hist_'
//	KTRACE_BIN=/path/to/ktrace go test ./conformance   # test a prebuilt binary
//	KTRACE_CONFORMANCE_BPFTRACE=$(which bpftrace) go test ./conformance -run TestBpftraceReference
//
// TestMain builds cmd/ktrace once into a temporary directory. Cases run in
// parallel (8 at a time unless -parallel says otherwise). Without root the
// suite skips, except under CI=true, where it fails instead.
package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Case is one conformance case.
type Case struct {
	Name string
	File string // case file, for messages
	Line int    // line of the === header

	Prog      string
	Cmd       string // raw CMD; "" means the default
	Args      string
	Params    string
	Stdin     *string
	Env       []string
	Workload  string
	Helper    string
	Setup     string
	Timeout   float64
	Interrupt float64

	Expect            *string
	ExpectRegex       *string
	ExpectFile        string
	ExpectJSON        *string
	ExpectJSONFile    string
	StdoutHas         []string
	ExpectStderr      *string
	ExpectStderrRegex *string
	StderrHas         []string
	Outfile           string
	ExpectOutfile     *string
	Exit              int
	ExitSet           bool

	XFail     string
	Flaky     string
	Confirmed string
	Note      string
}

// blockKeys take a multi-line value; the others are one line.
var blockKeys = map[string]bool{
	"PROG": true, "STDIN": true, "EXPECT": true, "EXPECT_REGEX": true,
	"EXPECT_JSON": true, "STDOUT_HAS": true, "EXPECT_STDERR": true,
	"EXPECT_STDERR_REGEX": true, "STDERR_HAS": true, "EXPECT_OUTFILE": true,
}

var lineKeys = map[string]bool{
	"CMD": true, "ARGS": true, "PARAMS": true, "ENV": true, "WORKLOAD": true, "HELPER": true, "SETUP": true, "TIMEOUT": true,
	"INTERRUPT": true, "EXPECT_FILE": true, "EXPECT_JSON_FILE": true,
	"OUTFILE": true, "EXIT": true, "XFAIL": true, "FLAKY": true, "CONFIRMED": true, "NOTE": true,
}

var (
	keyLine  = regexp.MustCompile(`^([A-Z_]+):(.*)$`)
	nameRule = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// ParseFile reads the cases of one case file.
func ParseFile(path string) ([]*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), string(data))
}

// Parse reads the cases of a case file's text; name is used in messages.
func Parse(name, text string) ([]*Case, error) {
	var (
		cases []*Case
		cur   *Case
		key   string   // the open block's key, "" when no block is open
		block []string // the open block's lines
		seen  map[string]bool
	)
	errorf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	closeBlock := func(line int) error {
		if key == "" {
			return nil
		}
		for len(block) > 0 && strings.TrimSpace(block[len(block)-1]) == "" {
			block = block[:len(block)-1]
		}
		v := strings.Join(block, "\n")
		k := key
		key, block = "", nil
		return cur.set(k, v, true, line)
	}
	finish := func(line int) error {
		if err := closeBlock(line); err != nil {
			return err
		}
		if cur == nil {
			return nil
		}
		if err := cur.validate(); err != nil {
			return errorf(cur.Line, "case %s: %v", cur.Name, err)
		}
		cases = append(cases, cur)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "##") {
			continue
		}
		if strings.HasPrefix(line, "=== ") || line == "===" {
			if err := finish(n); err != nil {
				return nil, err
			}
			nm := strings.TrimSpace(strings.TrimPrefix(line, "==="))
			if !nameRule.MatchString(nm) {
				return nil, errorf(n, "bad case name %q", nm)
			}
			cur = &Case{Name: nm, File: name, Line: n, Timeout: 15}
			seen = map[string]bool{}
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil && (blockKeys[m[1]] || lineKeys[m[1]]) {
			if cur == nil {
				return nil, errorf(n, "%s: outside a case", m[1])
			}
			if err := closeBlock(n); err != nil {
				return nil, err
			}
			k := m[1]
			if seen[k] && k != "ENV" {
				return nil, errorf(n, "case %s: %s given twice", cur.Name, k)
			}
			seen[k] = true
			rest := strings.TrimPrefix(m[2], " ")
			if strings.TrimSpace(rest) == "" && blockKeys[k] {
				key = k
				continue
			}
			if err := cur.set(k, rest, false, n); err != nil {
				return nil, errorf(n, "case %s: %v", cur.Name, err)
			}
			continue
		}
		if key != "" {
			block = append(block, line)
			continue
		}
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if cur == nil {
			return nil, errorf(n, "text outside a case: %q", line)
		}
		return nil, errorf(n, "case %s: text outside a field: %q", cur.Name, line)
	}
	if err := finish(n); err != nil {
		return nil, err
	}
	return cases, nil
}

func (c *Case) set(k, v string, isBlock bool, line int) error {
	str := func() *string { s := v; return &s }
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(v, "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	switch k {
	case "PROG":
		c.Prog = v
	case "CMD":
		c.Cmd = v
	case "ARGS":
		c.Args = v
	case "PARAMS":
		c.Params = v
	case "STDIN":
		c.Stdin = str()
	case "WORKLOAD":
		c.Workload = v
	case "HELPER":
		c.Helper = v
	case "SETUP":
		c.Setup = v
	case "ENV":
		if !strings.Contains(v, "=") {
			return fmt.Errorf("ENV %q is not KEY=VALUE", v)
		}
		c.Env = append(c.Env, v)
	case "TIMEOUT", "INTERRUPT":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("%s %q is not a positive number of seconds", k, v)
		}
		if k == "TIMEOUT" {
			c.Timeout = f
		} else {
			c.Interrupt = f
		}
	case "EXPECT":
		c.Expect = str()
	case "EXPECT_REGEX":
		c.ExpectRegex = str()
	case "EXPECT_FILE":
		c.ExpectFile = strings.TrimSpace(v)
	case "EXPECT_JSON":
		c.ExpectJSON = str()
	case "EXPECT_JSON_FILE":
		c.ExpectJSONFile = strings.TrimSpace(v)
	case "STDOUT_HAS":
		c.StdoutHas = lines()
	case "EXPECT_STDERR":
		c.ExpectStderr = str()
	case "EXPECT_STDERR_REGEX":
		c.ExpectStderrRegex = str()
	case "STDERR_HAS":
		c.StderrHas = lines()
	case "OUTFILE":
		c.Outfile = strings.TrimSpace(v)
	case "EXPECT_OUTFILE":
		c.ExpectOutfile = str()
	case "EXIT":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("EXIT %q is not an integer", v)
		}
		c.Exit = n
		c.ExitSet = true
	case "XFAIL":
		c.XFail = strings.TrimSpace(v)
		if c.XFail == "" {
			return fmt.Errorf("XFAIL needs a reason")
		}
	case "FLAKY":
		c.Flaky = strings.TrimSpace(v)
		if c.Flaky == "" {
			return fmt.Errorf("FLAKY needs a reason")
		}
	case "CONFIRMED":
		c.Confirmed = strings.TrimSpace(v)
	case "NOTE":
		c.Note = strings.TrimSpace(v)
	default:
		return fmt.Errorf("unknown key %s", k)
	}
	return nil
}

func (c *Case) validate() error {
	if c.Prog == "" && c.Cmd == "" {
		return fmt.Errorf("no PROG and no CMD")
	}
	if c.Cmd != "" && (c.Args != "" || c.Params != "") {
		return fmt.Errorf("ARGS and PARAMS only apply to the default CMD")
	}
	if c.Expect == nil && c.ExpectRegex == nil && c.ExpectFile == "" && c.ExpectJSON == nil &&
		c.ExpectJSONFile == "" && c.StdoutHas == nil && c.ExpectStderr == nil &&
		c.ExpectStderrRegex == nil && c.StderrHas == nil && c.ExpectOutfile == nil && !c.ExitSet {
		return fmt.Errorf("nothing is expected (give EXPECT, EXPECT_STDERR, EXIT, ...)")
	}
	n := 0
	for _, set := range []bool{c.Expect != nil, c.ExpectRegex != nil, c.ExpectFile != "", c.ExpectJSON != nil, c.ExpectJSONFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("at most one of EXPECT, EXPECT_REGEX, EXPECT_FILE, EXPECT_JSON, EXPECT_JSON_FILE")
	}
	if c.ExpectStderr != nil && c.ExpectStderrRegex != nil {
		return fmt.Errorf("at most one of EXPECT_STDERR, EXPECT_STDERR_REGEX")
	}
	if c.XFail != "" && c.Flaky != "" {
		return fmt.Errorf("XFAIL and FLAKY exclude each other")
	}
	if (c.Outfile == "") != (c.ExpectOutfile == nil) {
		return fmt.Errorf("OUTFILE and EXPECT_OUTFILE go together")
	}
	for _, re := range []*string{c.ExpectRegex, c.ExpectStderrRegex} {
		if re == nil {
			continue
		}
		for _, l := range strings.Split(*re, "\n") {
			if _, err := regexp.Compile("^(?:" + l + ")$"); err != nil {
				return fmt.Errorf("bad regular expression %q: %v", l, err)
			}
		}
	}
	if _, err := SplitArgs(c.Cmd + " " + c.Args + " " + c.Params); err != nil {
		return err
	}
	return nil
}

// Argv is the case's ktrace argument list, with {prog} and {file}
// replaced, and the other placeholders replaced from vars.
func (c *Case) Argv(progFile string, vars map[string]string) ([]string, error) {
	cmd := c.Cmd
	if cmd == "" {
		cmd = strings.TrimSpace(c.Args + " -e {prog} " + c.Params)
	}
	words, err := SplitArgs(cmd)
	if err != nil {
		return nil, err
	}
	for i, w := range words {
		if w == "{prog}" {
			words[i] = c.Prog // verbatim: the program may contain "{...}"
			continue
		}
		w = strings.ReplaceAll(w, "{file}", progFile)
		words[i] = Expand(w, vars)
	}
	return words, nil
}

// Expand replaces each {name} of vars in s.
func Expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// SplitArgs splits a command line as a POSIX shell splits words: single
// quotes keep everything, double quotes keep everything but \" and \\,
// and a backslash outside quotes escapes the next character.
func SplitArgs(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			in = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case unicode.IsSpace(rune(ch)):
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// LoadDir reads every cases/*.txt file under dir and checks that case
// names are unique.
func LoadDir(dir string) ([]*Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "cases", "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []*Case
	names := map[string]*Case{}
	for _, f := range files {
		cs, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, ok := names[c.Name]; ok {
				return nil, fmt.Errorf("%s:%d: case %s already defined at %s:%d", c.File, c.Line, c.Name, prev.File, prev.Line)
			}
			names[c.Name] = c
		}
		all = append(all, cs...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no cases under %s", dir)
	}
	return all, nil
}
