package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// maxErrors stops the dry run after this many distinct errors.
const maxErrors = 16

// findKey is what makes a finding distinct: a path that fails the same way
// at the same instruction as an earlier one adds nothing to the report.
type findKey struct {
	pc  int
	cat Category
}

// add records a finding once per instruction and category.
func (v *verifier) add(f Finding) {
	if v.seen == nil {
		v.seen = map[findKey]bool{}
	}
	k := findKey{f.Insn, f.Category}
	if v.seen[k] {
		return
	}
	v.seen[k] = true
	if f.Index == 0 && f.Insn >= 0 && f.Insn < len(v.p.index) {
		f.Index = v.p.index[f.Insn]
	}
	if f.source == nil && f.Insn >= 0 && f.Insn < len(v.p.srcs) {
		f.source = v.p.srcs[f.Insn]
	}
	v.findings = append(v.findings, f)
	if f.Severity == Error {
		v.nerr++
		if v.nerr >= maxErrors {
			v.aborted = true
		}
	}
}

func (v *verifier) errorf(pc int, cat Category, msg, hint string) {
	v.add(Finding{Severity: Error, Category: cat, Insn: pc, Message: msg, Hint: hint})
}

func (v *verifier) warnf(pc int, cat Category, msg, hint string) {
	v.add(Finding{Severity: Warning, Category: cat, Insn: pc, Message: msg, Hint: hint})
}

// lineOf returns the source line number of instruction pc, if known.
func (v *verifier) lineOf(pc int) (int, bool) {
	if pc < 0 || pc >= len(v.p.srcs) || v.p.srcs[pc] == nil {
		return 0, false
	}
	return parseLine(sourcePos(v.p.srcs[pc]))
}

// parseLine extracts the line from "file:line:col" or "file:line".
func parseLine(pos string) (int, bool) {
	parts := strings.Split(pos, ":")
	for i := len(parts) - 1; i >= 1 && i >= len(parts)-2; i-- {
		if n, err := strconv.Atoi(parts[i]); err == nil && i == len(parts)-2 {
			return n, true
		}
	}
	if len(parts) >= 2 {
		if n, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
			return n, true
		}
	}
	return 0, false
}

// where names instruction pc for a message: "line N" when the source is
// known, else "instruction N".
func (v *verifier) where(pc int) string {
	if l, ok := v.lineOf(pc); ok {
		return fmt.Sprintf("line %d", l)
	}
	return fmt.Sprintf("instruction %d", pc)
}

// loopError reports a loop that the dry run could not prove terminates.
func (v *verifier) loopError(pc int, why string) { v.loopErrorCat(pc, CatLoop, why) }

// loopErrorCat reports a loop under the given category: CatLoop when the
// loop provably repeats a state, CatTooLarge when simulating it ran out of
// budget (the kernel's categories for the two cases).
func (v *verifier) loopErrorCat(pc int, cat Category, why string) {
	var lines []int
	desc := fmt.Sprintf("instruction %d", pc)
	for _, l := range v.g.loops {
		if l.header != pc && !containsInt(l.body, pc) {
			continue
		}
		seen := map[int]bool{}
		for _, b := range l.body {
			if ln, ok := v.lineOf(b); ok && !seen[ln] {
				seen[ln] = true
				lines = append(lines, ln)
			}
		}
		if len(lines) > 0 {
			desc = "lines " + lineRanges(lines)
			if len(lines) == 1 {
				desc = fmt.Sprintf("line %d", lines[0])
			}
		} else {
			desc = fmt.Sprintf("instructions %d-%d", l.body[0], l.body[len(l.body)-1])
		}
		break
	}
	v.add(Finding{Severity: Error, Category: cat, Insn: pc, Lines: lines,
		Message: fmt.Sprintf("the loop on %s cannot be proven to terminate: %s", desc, why),
		Hint:    "give the loop a counter compared against a constant bound, or use bpf_loop"})
	v.aborted = true
}

func containsInt(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// lineRanges formats sorted-or-not line numbers as "3-5, 9".
func lineRanges(ls []int) string {
	cp := append([]int(nil), ls...)
	for i := 1; i < len(cp); i++ {
		for j := i; j > 0 && cp[j] < cp[j-1]; j-- {
			cp[j], cp[j-1] = cp[j-1], cp[j]
		}
	}
	var parts []string
	for i := 0; i < len(cp); {
		j := i
		for j+1 < len(cp) && cp[j+1] == cp[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(cp[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cp[i], cp[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
