package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/verify"
)

const verifyUsage = `usage: ktrace verify [--kernel] [-f text|json] SCRIPT [ARGS...]
       ktrace verify [--kernel] [-f text|json] -e 'PROGRAM' [ARGS...]
       ktrace verify [--kernel] [-f text|json] FILE.o

Checks every BPF program of a ktrace script (compiled first; ARGS are its
positional parameters) or of an ELF object built by clang -target bpf with
ktrace's userspace verifier, and explains each problem at its source line.
With --kernel, each program is also loaded into the running kernel: both
verdicts are printed side by side and, where the kernel rejects, its
verifier log with each instruction mapped back to the source line.
The exit status is 1 when any program is rejected.

`

// kernelLogTail is how many lines of a kernel verifier log are shown: the
// end of the log explains the rejection, and a log of a program that runs
// into the kernel's budget has a million lines.
const kernelLogTail = 40

func verifyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	withKernel := fs.Bool("kernel", false, "also load each program into the running kernel and show its verdict")
	format := fs.String("f", "text", "output format: text or json")
	program := fs.String("e", "", "verify PROGRAM instead of a file")
	fs.Usage = func() {
		io.WriteString(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(interspersed(args, map[string]bool{"f": true, "e": true})); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "ktrace verify: unknown format %q: use text or json\n", *format)
		return 1
	}
	rest := fs.Args()
	var progs []verifiedProgram
	var err error
	switch {
	case *program != "":
		progs, err = verifyScript("stdin", []byte(*program), rest)
	case len(rest) == 0:
		fmt.Fprint(stderr, "ktrace verify: no program given: a script, -e 'PROGRAM' or an ELF object (see ktrace verify -h)\n")
		return 1
	default:
		progs, err = verifyPath(rest[0], rest[1:])
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *withKernel {
		for i := range progs {
			progs[i].kernel = verify.LoadKernel(progs[i].insns, progs[i].opts)
		}
	}
	rejected := false
	for _, p := range progs {
		if !p.report.OK() || (p.kernel != nil && !p.kernel.Accepted) {
			rejected = true
		}
	}
	if *format == "json" {
		writeVerifyJSON(stdout, progs)
	} else {
		writeVerifyText(stdout, progs, *withKernel)
	}
	if rejected {
		return 1
	}
	return 0
}

// interspersed moves flags after the first non-flag argument in front of
// it, so that "ktrace verify script.bt --kernel" works; arguments after
// "--" or after the file name that do not start with "-" stay in place.
func interspersed(args []string, takesValue map[string]bool) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && a != "-" && name != "" {
			flags = append(flags, a)
			if takesValue[name] && i+1 < len(args) && !strings.Contains(a, "=") {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, append([]string{"--"}, rest...)...)
}

// verifiedProgram is one program with ktrace's report and, with --kernel,
// the kernel's verdict.
type verifiedProgram struct {
	name   string
	probes []string
	insns  asm.Instructions
	opts   verify.Options
	report *verify.Report
	kernel *verify.KernelResult
}

// verifyPath verifies an ELF object or a script file.
func verifyPath(path string, params []string) ([]verifiedProgram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ktrace verify: %w", err)
	}
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	f.Close()
	if n == 4 && bytes.Equal(magic, []byte("\x7fELF")) {
		return verifyELF(path)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ktrace verify: %w", err)
	}
	return verifyScript(path, src, params)
}

// verifyScript compiles a script and verifies each of its programs as the
// runtime does before loading them.
func verifyScript(name string, src []byte, params []string) ([]verifiedProgram, error) {
	prog, err := ktrace.Compile(name, src, &ktrace.Options{Params: params, Unsafe: true, ChildPID: os.Getpid()})
	if err != nil {
		return nil, err
	}
	reports := prog.Verify()
	var out []verifiedProgram
	for _, bp := range prog.BPFPrograms() {
		rep := reports[bp.Name]
		rep.Program = bp.Name
		spec := bp.Spec
		out = append(out, verifiedProgram{
			name: bp.Name, probes: probesOf(prog, bp.Name), insns: spec.Instructions, report: rep,
			opts: verify.Options{Type: spec.Type, AttachType: spec.AttachType, AttachTo: spec.AttachTo, Maps: bp.Maps},
		})
	}
	sort.Slice(out, func(i, j int) bool { return programLess(out[i].name, out[j].name) })
	return out, nil
}

// programLess orders ktrace's programs p0_..., p1_..., p10_... by number.
func programLess(a, b string) bool {
	na, oka := programNumber(a)
	nb, okb := programNumber(b)
	if oka && okb && na != nb {
		return na < nb
	}
	return a < b
}

func programNumber(s string) (int, bool) {
	if !strings.HasPrefix(s, "p") {
		return 0, false
	}
	digits, _, _ := strings.Cut(s[1:], "_")
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// verifyELF verifies every program of a clang-built object.
func verifyELF(path string) ([]verifiedProgram, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("ktrace verify: %s: %w", path, err)
	}
	reports := verify.Collection(spec, nil)
	var out []verifiedProgram
	for _, rep := range reports {
		ps := spec.Programs[rep.Program]
		out = append(out, verifiedProgram{
			name: rep.Program, probes: []string{ps.SectionName}, insns: ps.Instructions, report: rep,
			opts: verify.Options{Type: ps.Type, AttachType: ps.AttachType, AttachTo: ps.AttachTo, Maps: spec.Maps},
		})
	}
	return out, nil
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "rejected"
}

func writeVerifyText(w io.Writer, progs []verifiedProgram, withKernel bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if withKernel {
		fmt.Fprintln(tw, "PROGRAM\tPROBES\tKTRACE\tKERNEL")
	} else {
		fmt.Fprintln(tw, "PROGRAM\tPROBES\tKTRACE")
	}
	for _, p := range progs {
		fmt.Fprintf(tw, "%s\t%s\t%s", p.name, strings.Join(p.probes, ","), verdict(p.report.OK()))
		if withKernel {
			fmt.Fprintf(tw, "\t%s", verdict(p.kernel.Accepted))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, p := range progs {
		if len(p.report.Findings) == 0 && (p.kernel == nil || p.kernel.Accepted) {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", p.name)
		for _, f := range p.report.Findings {
			fmt.Fprintf(w, "  ktrace: %s\n", f)
			if f.SourceLine != "" {
				fmt.Fprintf(w, "      %s\n", strings.TrimSpace(f.SourceLine))
			}
		}
		k := p.kernel
		if k == nil || k.Accepted {
			continue
		}
		if k.Finding != nil {
			fmt.Fprintf(w, "  kernel: %s\n", k.Finding)
			if k.Finding.SourceLine != "" {
				fmt.Fprintf(w, "      %s\n", strings.TrimSpace(k.Finding.SourceLine))
			}
		} else {
			fmt.Fprintf(w, "  kernel: %s\n", k.Reason)
		}
		writeKernelLog(w, k.Log)
	}
}

// writeKernelLog prints the end of a kernel verifier log, each
// instruction's script line printed once above the log lines about it.
func writeKernelLog(w io.Writer, log []verify.KernelLine) {
	if len(log) == 0 {
		return
	}
	start := max(0, len(log)-kernelLogTail)
	if start > 0 {
		fmt.Fprintf(w, "  kernel log (last %d of %d lines):\n", len(log)-start, len(log))
	} else {
		fmt.Fprintln(w, "  kernel log:")
	}
	last := ""
	for _, l := range log[start:] {
		if l.Pos != "" && l.Pos != last {
			fmt.Fprintf(w, "    ; %s: %s\n", l.Pos, strings.TrimSpace(l.SourceLine))
			last = l.Pos
		}
		fmt.Fprintf(w, "    %s\n", l.Text)
	}
}

type jsonProgram struct {
	Name   string         `json:"name"`
	Probes []string       `json:"probes"`
	OK     bool           `json:"ok"`
	Report *verify.Report `json:"report"`
	Kernel *jsonKernel    `json:"kernel,omitempty"`
}

type jsonKernel struct {
	*verify.KernelResult
	// LogLines is the length of the whole log; Log holds its end.
	LogLines int `json:"log_lines,omitempty"`
}

func writeVerifyJSON(w io.Writer, progs []verifiedProgram) {
	out := struct {
		OK       bool          `json:"ok"`
		Programs []jsonProgram `json:"programs"`
	}{OK: true, Programs: []jsonProgram{}}
	for _, p := range progs {
		jp := jsonProgram{Name: p.name, Probes: p.probes, OK: p.report.OK(), Report: p.report}
		if jp.Probes == nil {
			jp.Probes = []string{}
		}
		if p.report.Findings == nil {
			p.report.Findings = []verify.Finding{}
		}
		if k := p.kernel; k != nil {
			cp := *k
			jk := &jsonKernel{KernelResult: &cp, LogLines: len(k.Log)}
			if n := len(k.Log); n > 4*kernelLogTail {
				cp.Log = k.Log[n-4*kernelLogTail:]
			}
			jp.Kernel = jk
			jp.OK = jp.OK && k.Accepted
		}
		out.OK = out.OK && jp.OK
		out.Programs = append(out.Programs, jp)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error": %q}`, err))
	}
	w.Write(append(b, '\n'))
}

// annotateDisassembly puts the verifier's findings for each instruction
// under that instruction in a verify.Disassemble listing ("  12: ...").
func annotateDisassembly(dis string, rep *verify.Report) string {
	if rep == nil || len(rep.Findings) == 0 {
		return dis
	}
	by := rep.ByInsn()
	var b strings.Builder
	for _, f := range by[-1] {
		fmt.Fprintf(&b, "      ^ %s\n", findingNote(f))
	}
	for _, line := range strings.SplitAfter(dis, "\n") {
		b.WriteString(line)
		head, _, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, ";") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(head))
		if err != nil {
			continue
		}
		for _, f := range by[n] {
			fmt.Fprintf(&b, "      ^ %s\n", findingNote(f))
		}
	}
	return b.String()
}

// findingNote is a finding without its position (the listing shows it).
func findingNote(f verify.Finding) string {
	s := fmt.Sprintf("%s %s: %s", f.Severity, f.Category, f.Message)
	if f.Hint != "" {
		s += " (hint: " + f.Hint + ")"
	}
	return s
}
