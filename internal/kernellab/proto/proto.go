// Package proto is the contract between the kernel lab's host harness
// (package kernellab), the guest's /init (package guestinit) and the programs
// run inside the guest (such as package guesttest).
//
// Everything crosses the VM boundary in two ways only: the harness writes a
// [Plan] as JSON into the initramfs at [PlanPath], and the guest writes
// marker lines to its serial console, which the harness reads. Marker lines
// start with a fixed word followed by space-separated key=value fields; a
// value that contains spaces, quotes or '=' is written as a Go quoted string.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Paths and environment variables shared by host and guest.
const (
	// PlanPath is where the harness puts the plan inside the initramfs.
	PlanPath = "/lab/plan.json"
	// ResultsPath is the file that guest programs append [Result] lines
	// to (as well as printing them), so that later guest commands can
	// read what earlier ones found. Guest init exports it as EnvResults.
	ResultsPath = "/run/ktrace-lab/results.txt"

	// EnvLab is set to "1" in every guest command's environment. Tests
	// that may only run inside the lab check it.
	EnvLab = "KTRACE_LAB"
	// EnvKernel holds the guest kernel's release (uname -r).
	EnvKernel = "KTRACE_LAB_KERNEL"
	// EnvResults holds ResultsPath.
	EnvResults = "KTRACE_LAB_RESULTS"
	// EnvKtraceBin holds the path of the ktrace binary in the guest when
	// the initramfs has one.
	EnvKtraceBin = "KTRACE_BIN"

	// ModulesDir holds, under the kernel release, the modules of the
	// kernel's package that the guests get (kernellab.LabModules):
	// ModulesDir/RELEASE/NAME.ko, or NAME.ko.xz where Debian compresses
	// them.
	ModulesDir = "/lab/modules"

	// DiskDevice is the guest's disk when the plan asks for one: the
	// harness attaches an image as an NVMe drive, since NVMe is built
	// into Debian's cloud kernels (virtio-blk is a module there).
	DiskDevice = "/dev/nvme0n1"
	// DiskPath is where guest init mounts the disk's ext4 file system.
	DiskPath = "/lab/disk"
)

// Marker words. Each starts a line on the guest's serial console.
const (
	// MarkBoot is printed by guest init once the file systems are up:
	// "KTRACE-LAB-BOOT kernel=<release>".
	MarkBoot = "KTRACE-LAB-BOOT"
	// MarkBegin is printed before each command: "KTRACE-LAB-BEGIN name=<n>".
	MarkBegin = "KTRACE-LAB-BEGIN"
	// MarkEnd is printed after each command:
	// "KTRACE-LAB-END name=<n> exit=<code> seconds=<s>".
	MarkEnd = "KTRACE-LAB-END"
	// MarkVerdict is guest init's last word:
	// "KTRACE-LAB-VERDICT token=<plan token> exit=<code> failed=<names>".
	MarkVerdict = "KTRACE-LAB-VERDICT"
	// MarkResult starts a [Result] line.
	MarkResult = "KTRACE-LAB-RESULT"
)

// Plan tells guest init what to run.
type Plan struct {
	// Token is a random string chosen by the harness for each boot; guest
	// init repeats it in the verdict so that no program output can fake
	// the verdict.
	Token string `json:"token"`
	// Commands run one after the other, in order, whatever their exit
	// status.
	Commands []Command `json:"commands"`
	// Env holds KEY=VALUE pairs added to every command's environment
	// (before the command's own Env).
	Env []string `json:"env,omitempty"`
	// Disk makes guest init mount DiskDevice (ext4) on DiskPath before
	// the commands run.
	Disk bool `json:"disk,omitempty"`
}

// Command is one program run by guest init.
type Command struct {
	// Name labels the command in markers and messages.
	Name string `json:"name"`
	// Path is the program's absolute path in the guest.
	Path string `json:"path"`
	// Args are the arguments after the program name.
	Args []string `json:"args,omitempty"`
	// Dir is the working directory; "/" when empty.
	Dir string `json:"dir,omitempty"`
	// Env holds extra KEY=VALUE pairs added to guest init's environment.
	Env []string `json:"env,omitempty"`
	// TimeoutSeconds bounds the command's run time; guest init kills the
	// command's whole process group when it is exceeded.
	TimeoutSeconds int `json:"timeout_seconds"`
}

// EncodePlan returns the JSON form of p.
func EncodePlan(p Plan) ([]byte, error) {
	return json.MarshalIndent(p, "", "  ")
}

// DecodePlan parses a plan written by EncodePlan.
func DecodePlan(b []byte) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("decode lab plan: %w", err)
	}
	for i, c := range p.Commands {
		if c.Name == "" || c.Path == "" {
			return Plan{}, fmt.Errorf("decode lab plan: command %d has no name or path", i)
		}
	}
	return p, nil
}

// Result is what one guest check found out about one attach type.
type Result struct {
	// Kernel is the guest's release (uname -r).
	Kernel string
	// Attach is the attach type, such as "kprobe" or "fentry".
	Attach string
	// Test names the check that produced the result.
	Test string
	// Tested is true when the check ran to a conclusion.
	Tested bool
	// Works is true when the attach type attached and delivered exactly
	// the expected events.
	Works bool
	// Detail is a short free-form note, such as the error when Works is
	// false.
	Detail string
}

// String formats r as a console line starting with MarkResult.
func (r Result) String() string {
	return FormatLine(MarkResult,
		"kernel", r.Kernel,
		"attach", r.Attach,
		"test", r.Test,
		"tested", yesNo(r.Tested),
		"works", yesNo(r.Works),
		"detail", r.Detail)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ParseResult parses a line produced by Result.String. Text before the
// marker (such as a console prefix) is ignored. ok is false when the line
// holds no result marker; err is set when it holds a malformed one.
func ParseResult(line string) (r Result, ok bool, err error) {
	f, ok, err := ParseLine(MarkResult, line)
	if !ok || err != nil {
		return Result{}, ok, err
	}
	r = Result{Kernel: f["kernel"], Attach: f["attach"], Test: f["test"], Detail: f["detail"]}
	if r.Kernel == "" || r.Attach == "" {
		return Result{}, true, fmt.Errorf("result line lacks kernel or attach: %q", line)
	}
	if r.Tested, err = parseYesNo(f, "tested"); err != nil {
		return Result{}, true, err
	}
	if r.Works, err = parseYesNo(f, "works"); err != nil {
		return Result{}, true, err
	}
	return r, true, nil
}

func parseYesNo(f map[string]string, key string) (bool, error) {
	switch f[key] {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("result field %s=%q: want yes or no", key, f[key])
}

// FormatLine formats a marker line: the marker word, then key=value for each
// pair in kv (which must have even length). Empty values are left out.
func FormatLine(mark string, kv ...string) string {
	var b strings.Builder
	b.WriteString(mark)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(quoteValue(kv[i+1]))
	}
	return b.String()
}

func quoteValue(v string) string {
	plain := !strings.ContainsAny(v, "\"=\\")
	for _, r := range v {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			plain = false
		}
	}
	if plain {
		return v
	}
	return strconv.Quote(v)
}

// ParseLine finds mark in line and parses the key=value fields after it.
// ok reports whether mark was found as a whole word.
func ParseLine(mark, line string) (fields map[string]string, ok bool, err error) {
	i := strings.Index(line, mark)
	if i < 0 {
		return nil, false, nil
	}
	rest := line[i+len(mark):]
	if rest != "" && rest[0] != ' ' {
		return nil, false, nil
	}
	fields = map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return fields, true, nil
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.ContainsAny(rest[:eq], " \"") {
			return nil, true, fmt.Errorf("%s: malformed field at %q", mark, rest)
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, true, fmt.Errorf("%s: bad quoted value for %s: %w", mark, key, err)
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		if _, dup := fields[key]; dup {
			return nil, true, fmt.Errorf("%s: field %s given twice", mark, key)
		}
		fields[key] = val
	}
}

// Verdict is guest init's summary of a boot.
type Verdict struct {
	// Token repeats Plan.Token.
	Token string
	// Exit is 0 when every command exited 0, else the first failing
	// command's exit status (or 1 when that status is unknown).
	Exit int
	// Failed names the failing commands.
	Failed []string
}

// String formats v as a console line starting with MarkVerdict.
func (v Verdict) String() string {
	return FormatLine(MarkVerdict, "token", v.Token, "exit", strconv.Itoa(v.Exit), "failed", strings.Join(v.Failed, ","))
}

// ParseVerdict parses a line produced by Verdict.String.
func ParseVerdict(line string) (v Verdict, ok bool, err error) {
	f, ok, err := ParseLine(MarkVerdict, line)
	if !ok || err != nil {
		return Verdict{}, ok, err
	}
	v.Token = f["token"]
	if v.Exit, err = strconv.Atoi(f["exit"]); err != nil {
		return Verdict{}, true, fmt.Errorf("verdict exit=%q: %w", f["exit"], err)
	}
	if f["failed"] != "" {
		v.Failed = strings.Split(f["failed"], ",")
	}
	if v.Token == "" {
		return Verdict{}, true, errors.New("verdict without token")
	}
	return v, true, nil
}

// SortResults orders results by kernel, attach type and test name.
func SortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Kernel != b.Kernel {
			return a.Kernel < b.Kernel
		}
		if a.Attach != b.Attach {
			return a.Attach < b.Attach
		}
		return a.Test < b.Test
	})
}

// ReadResults parses the result lines in a results file such as
// ResultsPath, skipping other lines.
func ReadResults(data []byte) ([]Result, error) {
	var out []Result
	for _, line := range strings.Split(string(data), "\n") {
		r, ok, err := ParseResult(line)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Works reports whether any result is about attach and whether all such
// results say it works: the lab's verdict on one attach type.
func Works(results []Result, attach string) (tested, works bool) {
	works = true
	for _, r := range results {
		if r.Attach != attach || !r.Tested {
			continue
		}
		tested = true
		works = works && r.Works
	}
	return tested, tested && works
}

var recordMu sync.Mutex

// Record reports r from a program running in a guest: it prints r's line
// on standard output, which guest init passes to the serial console where
// the harness collects it (and, with -update-docs, puts it into
// docs/kernels.md), and appends it to the file named by $KTRACE_LAB_RESULTS
// so that later guest commands can read it. An empty r.Kernel is filled
// from $KTRACE_LAB_KERNEL.
func Record(r Result) error {
	if r.Kernel == "" {
		r.Kernel = os.Getenv(EnvKernel)
	}
	if r.Kernel == "" || r.Attach == "" {
		return fmt.Errorf("lab result without kernel or attach type: %+v", r)
	}
	line := r.String()
	recordMu.Lock()
	defer recordMu.Unlock()
	fmt.Println(line)
	p := os.Getenv(EnvResults)
	if p == "" {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab results file: %w", err)
	}
	_, err = fmt.Fprintln(f, line)
	return errors.Join(err, f.Close())
}
