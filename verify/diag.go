package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity says whether a finding makes the kernel reject the program.
type Severity int

const (
	// Error findings make the program unloadable.
	Error Severity = iota
	// Warning findings are accepted by the kernel but are probably bugs.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("verify: unknown severity %q", b)
	}
	return nil
}

// Category classifies a finding. The same categories classify kernel
// verifier messages (see KernelCategory), so that the two verifiers' reasons
// can be compared.
type Category string

// The categories of findings.
const (
	CatOpcode    Category = "opcode"       // invalid instruction encoding or reserved fields
	CatLdImm64   Category = "ld_imm64"     // broken 64-bit immediate load or bad map reference
	CatJump      Category = "jump"         // jump outside the program or into the middle of an instruction
	CatUnreach   Category = "unreachable"  // instruction no path reaches
	CatCFG       Category = "cfg"          // last instruction falls off the end, bad subprogram layout
	CatLoop      Category = "loop"         // loop the verifier cannot prove bounded
	CatTooLarge  Category = "too-large"    // instruction or complexity limit
	CatUninit    Category = "uninit"       // register read before it was written
	CatFramePtr  Category = "frame-ptr"    // write to the read-only frame pointer R10
	CatNull      Category = "null"         // pointer that may be NULL used before a NULL check
	CatMem       Category = "mem"          // memory access through a non-pointer or bad pointer
	CatStack     Category = "stack"        // stack access outside the 512-byte frame or misaligned
	CatStackInit Category = "stack-uninit" // read of stack bytes never written
	CatMapValue  Category = "map-value"    // access outside a map value
	CatCtx       Category = "ctx"          // invalid access to the program context
	CatHelper    Category = "helper"       // unknown helper or helper not allowed for the program type
	CatHelperArg Category = "helper-arg"   // helper argument of the wrong kind or size
	CatPtrArith  Category = "ptr-arith"    // forbidden pointer arithmetic
	CatDivZero   Category = "div-zero"     // division or modulo by zero
	CatReturn    Category = "return"       // bad return value at exit
	CatReference Category = "reference"    // acquired reference (ring buffer record) not released
	CatCall      Category = "call"         // bad bpf-to-bpf call: recursion, depth, stack size
	CatPtrLeak   Category = "ptr-leak"     // pointer leaked where unprivileged programs may not
	CatUnsupport Category = "unsupported"  // feature this verifier does not model; rejected to stay safe
	CatInternal  Category = "internal"     // a bug in this verifier
)

// Finding is one problem the verifier found.
type Finding struct {
	Severity Severity `json:"severity"`
	Category Category `json:"category"`
	// Insn is the raw instruction index as the kernel counts it (a 64-bit
	// immediate load takes two slots).
	Insn int `json:"insn"`
	// Index is the position of the instruction in the asm.Instructions slice
	// that was verified.
	Index int `json:"index"`
	// Pos is the source position ("file:line:col") when the instruction
	// carries one, else empty.
	Pos string `json:"pos,omitempty"`
	// SourceLine is the text of that source line, when known.
	SourceLine string `json:"source_line,omitempty"`
	// Message explains the problem in one sentence.
	Message string `json:"message"`
	// Hint suggests a fix.
	Hint string `json:"hint,omitempty"`
	// Lines lists the source lines involved (for example a loop's body).
	Lines []int `json:"lines,omitempty"`

	source fmt.Stringer
}

// String formats the finding on one line: position, category, explanation
// and hint.
func (f Finding) String() string {
	var b strings.Builder
	if f.Pos != "" {
		b.WriteString(f.Pos)
	} else {
		fmt.Fprintf(&b, "insn %d", f.Insn)
	}
	fmt.Fprintf(&b, ": %s", f.Category)
	if f.Severity == Warning {
		b.WriteString(" (warning)")
	}
	fmt.Fprintf(&b, ": %s", f.Message)
	if f.Hint != "" {
		fmt.Fprintf(&b, " (hint: %s)", f.Hint)
	}
	return b.String()
}

// Report is the result of verifying one program.
type Report struct {
	// Program is the program's name, when known.
	Program string `json:"program,omitempty"`
	// Findings lists errors and warnings, the most important first: the
	// first error is the one the kernel would most likely report.
	Findings []Finding `json:"findings"`
	// Insns is the number of raw instruction slots.
	Insns int `json:"insns"`
	// Processed counts instructions the dry run simulated, over all paths.
	Processed int `json:"processed"`
	// States is the number of saved states used for pruning and merging.
	States int `json:"states"`
	// Merges counts join points where states were merged to bound the work.
	Merges int `json:"merges"`
	// StackDepth is the deepest stack use, in bytes, of the main program.
	StackDepth int `json:"stack_depth"`
	// Loops lists the loops found, by header instruction.
	Loops []LoopInfo `json:"loops,omitempty"`
}

// LoopInfo describes one loop of the program.
type LoopInfo struct {
	Header int   `json:"header"` // first instruction of the loop
	Latch  int   `json:"latch"`  // instruction jumping back to the header
	Lines  []int `json:"lines,omitempty"`
}

// OK reports whether the program has no error findings, i.e. whether it is
// expected to pass the kernel verifier.
func (r *Report) OK() bool { return r.FirstError() == nil }

// FirstError returns the primary error finding, or nil.
func (r *Report) FirstError() *Finding {
	for i := range r.Findings {
		if r.Findings[i].Severity == Error {
			return &r.Findings[i]
		}
	}
	return nil
}

// Errors returns only the error findings.
func (r *Report) Errors() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == Error {
			out = append(out, f)
		}
	}
	return out
}

// Err returns nil when the program passes, else an error describing every
// error finding.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return &RejectError{Report: r}
}

// RejectError is returned by Report.Err for a rejected program.
type RejectError struct{ Report *Report }

// Error formats every error finding.
func (e *RejectError) Error() string {
	var parts []string
	for _, f := range e.Report.Errors() {
		parts = append(parts, f.String())
	}
	return "verify: " + strings.Join(parts, "; ")
}

// WriteText writes the findings in the text format: one
// "file:line:col: category: explanation (hint: ...)" line per finding,
// followed by the source line when it is known.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
		if f.SourceLine != "" {
			fmt.Fprintf(&b, "    %s\n", strings.TrimRight(f.SourceLine, " \t"))
		}
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "ok: %d instructions, %d processed\n", r.Insns, r.Processed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String returns the text format.
func (r *Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	cp := *r
	if cp.Findings == nil {
		cp.Findings = []Finding{}
	}
	return json.MarshalIndent(&cp, "", "  ")
}

// ByInsn returns the findings attached to raw instruction index insn, for
// printing beside a disassembly.
func (r *Report) ByInsn() map[int][]Finding {
	m := map[int][]Finding{}
	for _, f := range r.Findings {
		m[f.Insn] = append(m[f.Insn], f)
	}
	return m
}

// sortFindings puts errors before warnings, keeping discovery order.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity < fs[j].Severity })
}
