package verify

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// This file is the one place that reads a kernel verifier log: which line
// explains a rejection, which instruction it is about, and where that
// instruction came from. ktrace's runtime (KernelRejection) and ktrace
// verify --kernel (LoadKernel, KernelFinding) both go through it, so that
// they word one rejection the same way.

// logTrailers start the lines the kernel prints after its reason: the
// statistics, and for a loop the two states it found equal. None of them
// says why the program was rejected.
var logTrailers = []string{"processed ", "verification time", "stack depth", "max_states_per_insn", "cur state:", "old state:"}

// KernelReason picks the line of a kernel verifier log that explains why the
// program was rejected: the last line that is not a trailer (see
// logTrailers). A bounds error is printed as the access on one line and
// the bound it breaks on the next; the two are joined, since either alone
// leaves out what was accessed or what went wrong. It returns "" when the
// log explains nothing.
func KernelReason(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		l := strings.TrimSpace(log[i])
		if isTrailer(l) {
			continue
		}
		if strings.Contains(l, "value is outside of the allowed memory range") ||
			strings.Contains(l, "unbounded memory access, make sure") {
			if i > 0 && strings.HasPrefix(strings.TrimSpace(log[i-1]), "invalid access to") {
				return strings.TrimSpace(log[i-1]) + ": " + l
			}
		}
		return l
	}
	return ""
}

func isTrailer(l string) bool {
	if l == "" {
		return true
	}
	for _, t := range logTrailers {
		if strings.HasPrefix(l, t) {
			return true
		}
	}
	return false
}

var (
	insnLine = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\)`)
	fromLine = regexp.MustCompile(`^from \d+ to (\d+):`)
	stateLn  = regexp.MustCompile(`^(\d+): R\d`)
	// insnInReason finds the instruction a structural error names
	// ("unreachable insn 4"): the kernel logs no instructions before it
	// has walked the program.
	insnInReason = regexp.MustCompile(`insn (\d+)`)
)

// logInsn returns the raw instruction a log line is about: the one being
// checked ("12: (85) call ..."), the one a branch resumes at ("from 4 to
// 12: ...") or the one whose entry state is printed ("12: R1=...").
func logInsn(l string) (int, bool) {
	l = strings.TrimSpace(l)
	m := insnLine.FindStringSubmatch(l)
	if m == nil {
		if m = fromLine.FindStringSubmatch(l); m == nil {
			m = stateLn.FindStringSubmatch(l)
		}
	}
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// KernelLine is one line of a kernel verifier log, mapped back to the
// instruction it is about and, through the instruction's source, to the
// script line.
type KernelLine struct {
	Text string `json:"text"`
	// Insn is the raw instruction index the line is about, or -1.
	Insn int `json:"insn"`
	// Index is the position of that instruction in the asm.Instructions,
	// or -1.
	Index      int    `json:"index"`
	Pos        string `json:"pos,omitempty"`
	SourceLine string `json:"source_line,omitempty"`
}

// MapKernelLog annotates each line of a kernel verifier log with the
// instruction it refers to and that instruction's source position.
func MapKernelLog(log []string, insns asm.Instructions) []KernelLine {
	return mapKernelLog(log, linkForLog(insns))
}

// linkForLog encodes insns as the kernel numbered them in its log. Maps
// need no specs: only the instruction slots and their sources matter.
func linkForLog(insns asm.Instructions) *program { return link(insns, &Options{}) }

func mapKernelLog(log []string, p *program) []KernelLine {
	out := make([]KernelLine, 0, len(log))
	for _, l := range log {
		kl := KernelLine{Text: l, Insn: -1, Index: -1}
		if n, ok := logInsn(l); ok && n < len(p.insns) {
			kl.Insn, kl.Index = n, p.index[n]
			kl.Pos, kl.SourceLine = sourceText(p.srcs[n])
		}
		out = append(out, kl)
	}
	return out
}

// rejection is what a kernel verifier log says about a rejected program.
type rejection struct {
	// reason is the KernelReason of the log, followed by loopHint when
	// the rejection is about a loop as a whole.
	reason   string
	category Category
	// insn is the raw instruction the rejection is about and index its
	// position in the asm.Instructions, or -1.
	insn, index     int
	pos, sourceLine string
}

// readRejection reads a kernel verifier log of program p: the reason, and
// the instruction refused, which is the last one the log shows or, when
// it shows none, the one a structural error names. A rejection of a loop
// as a whole is moved to the loop's back-edge (see loopRejection).
func readRejection(log []string, p *program) rejection {
	r := rejection{reason: KernelReason(log), insn: -1, index: -1}
	r.category = KernelCategory(r.reason)
	for i := len(log) - 1; i >= 0 && r.insn < 0; i-- {
		if n, ok := logInsn(log[i]); ok && n < len(p.insns) {
			r.insn = n
		}
	}
	if r.insn < 0 {
		if m := insnInReason.FindStringSubmatch(r.reason); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n < len(p.insns) {
				r.insn = n
			}
		}
	}
	if r.insn < 0 {
		return r
	}
	r.insn, r.reason = loopRejection(p, r.insn, r.reason)
	r.index = p.index[r.insn]
	r.pos, r.sourceLine = sourceText(p.srcs[r.insn])
	return r
}

// finding is the rejection as a Finding.
func (r rejection) finding() *Finding {
	return &Finding{Severity: Error, Category: r.category, Insn: r.insn, Index: r.index,
		Pos: r.pos, SourceLine: r.sourceLine, Message: r.reason}
}

// loopHint follows the reason of a rejection moved to a loop's back-edge:
// the kernel's words name an instruction, not the loop the user wrote.
const loopHint = " (the kernel verifier must be able to prove that a loop ends: loop over a counter it can follow, or use a for loop)"

// loopRejection moves a rejection that is about a loop as a whole (the
// verifier could not prove that it ends, or ran out of its instruction
// budget walking it) from insn, where the verifier happened to stop, to
// the back-edge of the innermost loop around insn, which a compiler
// attributes to the loop statement; the reason gets loopHint. Other
// rejections are left alone.
func loopRejection(p *program, insn int, reason string) (int, string) {
	if !strings.HasPrefix(reason, "infinite loop detected") && !strings.HasPrefix(reason, "BPF program is too large") &&
		!strings.Contains(reason, "too complex") {
		return insn, reason
	}
	best, span := -1, 0
	for pc, in := range p.insns {
		if !isBranch(in) {
			continue
		}
		t := jumpTarget(pc, in)
		if t <= insn && insn <= pc && (best < 0 || pc-t < span) {
			best, span = pc, pc-t
		}
	}
	if best < 0 {
		return insn, reason
	}
	return best, reason + loopHint
}
