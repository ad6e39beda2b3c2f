package uprobe

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Note is one USDT probe location from a .note.stapsdt section (SystemTap
// SDT, version 3: what <sys/sdt.h> DTRACE_PROBE and STAP_PROBE emit).
type Note struct {
	Provider string
	Name     string
	// PC is the probe's address as recorded; Address is PC adjusted for
	// prelinking through .stapsdt.base, the one to attach at.
	PC, Address uint64
	// Base is the link-time address of .stapsdt.base.
	Base uint64
	// Semaphore is the address of the probe's is-enabled counter, 0 if it
	// has none.
	Semaphore uint64
	// Args is the argument specification, e.g. "-4@%eax 8@-16(%rbp)".
	Args string
}

// ntStapSDT is the note type of SDT version 3 notes.
const ntStapSDT = 3

// ParseNotes reads the notes of a .note.stapsdt section. Notes of other
// owners or types are skipped; a truncated or inconsistent note ends the
// parse with an error, keeping the notes read before it.
func ParseNotes(data []byte, order binary.ByteOrder, is64 bool) ([]Note, error) {
	addrSize := 4
	if is64 {
		addrSize = 8
	}
	var out []Note
	for off := 0; off < len(data); {
		if len(data)-off < 12 {
			return out, fmt.Errorf("truncated note header at offset %d", off)
		}
		namesz := uint64(order.Uint32(data[off:]))
		descsz := uint64(order.Uint32(data[off+4:]))
		typ := order.Uint32(data[off+8:])
		off += 12
		nameEnd := uint64(off) + namesz
		descStart := align4(nameEnd)
		descEnd := descStart + descsz
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) || descStart > uint64(len(data)) {
			return out, fmt.Errorf("truncated note at offset %d", off-12)
		}
		name := strings.TrimRight(string(data[off:nameEnd]), "\x00")
		desc := data[descStart:descEnd]
		next := align4(descEnd)
		if next > uint64(len(data)) {
			next = uint64(len(data))
		}
		off = int(next)
		if name != "stapsdt" || typ != ntStapSDT {
			continue
		}
		if len(desc) < 3*addrSize {
			return out, fmt.Errorf("stapsdt note too short (%d bytes)", len(desc))
		}
		addr := func(i int) uint64 {
			if is64 {
				return order.Uint64(desc[i*8:])
			}
			return uint64(order.Uint32(desc[i*4:]))
		}
		n := Note{PC: addr(0), Base: addr(1), Semaphore: addr(2)}
		n.Address = n.PC
		strs := strings.SplitN(string(desc[3*addrSize:]), "\x00", 4)
		if len(strs) < 3 {
			return out, fmt.Errorf("stapsdt note at 0x%x has no provider, name and arguments", n.PC)
		}
		n.Provider, n.Name, n.Args = strs[0], strs[1], strs[2]
		if n.Provider == "" || n.Name == "" {
			return out, fmt.Errorf("stapsdt note at 0x%x has an empty provider or name", n.PC)
		}
		out = append(out, n)
	}
	return out, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// ArgKind says where a USDT argument's value comes from.
type ArgKind int

// Argument kinds.
const (
	// ArgConst is an immediate: "4@$42".
	ArgConst ArgKind = iota + 1
	// ArgReg is a register: "-4@%eax".
	ArgReg
	// ArgMem is memory at base + index*scale + displacement:
	// "8@-16(%rbp)", "-8@8(%rax,%rdx,8)". With Symbol set, the
	// displacement is a symbol's address relative to the instruction
	// pointer: "4@counter(%rip)".
	ArgMem
)

// Arg is one parsed USDT argument (x86-64 AT&T operand syntax).
type Arg struct {
	// Size is the value's size in bytes (1, 2, 4 or 8) and Signed its
	// signedness, from the "N@" prefix (a negative N is signed).
	Size   int
	Signed bool
	Kind   ArgKind
	// Value is the constant of ArgConst.
	Value int64
	// Reg is the register of ArgReg and the base register of ArgMem
	// (empty for an absolute address), as written without '%'.
	Reg string
	// Index and Scale are ArgMem's optional index register and its
	// multiplier (1, 2, 4 or 8).
	Index string
	Scale int
	// Disp is ArgMem's displacement; with Symbol, the addend to it.
	Disp int64
	// Symbol names a data symbol of a %rip-relative operand; SymbolAddr
	// is its address in the binary, filled in by Locate.
	Symbol     string
	SymbolAddr uint64
	// Text is the operand as written.
	Text string
}

// String returns the argument as written in the note.
func (a Arg) String() string { return a.Text }

// ParseArgs parses a note's argument specification: operands separated
// by spaces, each "N@OPERAND".
func ParseArgs(spec string) ([]Arg, error) {
	var out []Arg
	for _, field := range strings.Fields(spec) {
		a, err := ParseArg(field)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) > 12 {
		return nil, fmt.Errorf("%d USDT arguments; <sys/sdt.h> allows at most 12", len(out))
	}
	return out, nil
}

// ParseArg parses one "N@OPERAND" argument.
func ParseArg(text string) (Arg, error) {
	a := Arg{Text: text}
	sz, op, ok := strings.Cut(text, "@")
	if !ok {
		// Very old notes have no size: the value is a long.
		sz, op = "8", text
	}
	n, err := strconv.Atoi(sz)
	if err != nil {
		return a, fmt.Errorf("USDT argument %q: bad size %q", text, sz)
	}
	if n < 0 {
		a.Signed, n = true, -n
	}
	switch n {
	case 1, 2, 4, 8:
		a.Size = n
	default:
		return a, fmt.Errorf("USDT argument %q: unsupported size %d", text, n)
	}
	switch {
	case op == "":
		return a, fmt.Errorf("USDT argument %q has no operand", text)
	case op[0] == '$':
		v, err := parseInt(op[1:])
		if err != nil {
			return a, fmt.Errorf("USDT argument %q: bad constant %q", text, op[1:])
		}
		a.Kind, a.Value = ArgConst, v
	case op[0] == '%':
		r := op[1:]
		if _, _, ok := RegOffset(r); !ok || r == "rip" {
			return a, fmt.Errorf("USDT argument %q: register %%%s is not supported", text, r)
		}
		a.Kind, a.Reg = ArgReg, r
	default:
		if err := parseMem(&a, op); err != nil {
			return a, fmt.Errorf("USDT argument %q: %v", text, err)
		}
	}
	return a, nil
}

// parseMem parses "DISP(%BASE,%INDEX,SCALE)" and its shorter forms, where
// DISP is a number, a symbol, or symbol+number.
func parseMem(a *Arg, op string) error {
	a.Kind = ArgMem
	disp, rest, hasParen := strings.Cut(op, "(")
	if strings.Contains(disp, ":") {
		return fmt.Errorf("segment registers are not supported")
	}
	if disp != "" {
		sym, add := disp, ""
		if i := strings.LastIndexAny(disp, "+-"); i > 0 {
			sym, add = disp[:i], disp[i:]
		}
		if v, err := parseInt(disp); err == nil {
			a.Disp = v
		} else {
			if !isSymbolName(sym) {
				return fmt.Errorf("bad displacement %q", disp)
			}
			a.Symbol = sym
			if add != "" {
				v, err := parseInt(add)
				if err != nil {
					return fmt.Errorf("bad displacement %q", disp)
				}
				a.Disp = v
			}
		}
	}
	if !hasParen {
		if a.Symbol == "" && disp == "" {
			return fmt.Errorf("empty memory operand")
		}
		// An absolute address (or symbol) without registers.
		return nil
	}
	inner, ok := strings.CutSuffix(rest, ")")
	if !ok || strings.ContainsAny(inner, "()") {
		return fmt.Errorf("unbalanced parentheses")
	}
	parts := strings.Split(inner, ",")
	if len(parts) > 3 {
		return fmt.Errorf("too many operands in parentheses")
	}
	reg := func(s string) (string, error) {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "%") {
			return "", fmt.Errorf("expected a register, got %q", s)
		}
		r := s[1:]
		if _, _, ok := RegOffset(r); !ok {
			return "", fmt.Errorf("register %%%s is not supported", r)
		}
		return r, nil
	}
	var err error
	if strings.TrimSpace(parts[0]) != "" {
		if a.Reg, err = reg(parts[0]); err != nil {
			return err
		}
	}
	if len(parts) >= 2 {
		if a.Index, err = reg(parts[1]); err != nil {
			return err
		}
		if a.Index == "rip" || a.Index == "rsp" {
			return fmt.Errorf("%%%s cannot be an index register", a.Index)
		}
		a.Scale = 1
		if len(parts) == 3 {
			sc, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil || (sc != 1 && sc != 2 && sc != 4 && sc != 8) {
				return fmt.Errorf("bad scale %q", parts[2])
			}
			a.Scale = sc
		}
	}
	if a.Reg == "rip" && a.Index != "" {
		return fmt.Errorf("%%rip cannot be combined with an index register")
	}
	if a.Symbol != "" && a.Reg != "rip" && a.Reg != "" {
		return fmt.Errorf("symbol %s relative to %%%s is not supported", a.Symbol, a.Reg)
	}
	if a.Reg == "rip" && a.Symbol == "" {
		// A numeric displacement from the next instruction, which the
		// note does not record.
		return fmt.Errorf("a numeric %%rip-relative operand is not supported")
	}
	if a.Reg == "" && a.Index == "" && a.Symbol == "" && !hasParen {
		return fmt.Errorf("empty memory operand")
	}
	return nil
}

func parseInt(s string) (int64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

func isSymbolName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// x86-64 struct pt_regs: the offset of each register's 8-byte slot.
var ptRegs = map[string]int{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "rbp": 32, "rbx": 40, "r11": 48,
	"r10": 56, "r9": 64, "r8": 72, "rax": 80, "rcx": 88, "rdx": 96, "rsi": 104,
	"rdi": 112, "rip": 128, "rsp": 152,
}

// subRegs maps the 32-, 16- and 8-bit register names to their 64-bit
// register, size and byte offset within it.
var subRegs = map[string]subReg{}

type subReg struct {
	full       string
	size, byte int
}

func init() {
	for _, r := range []string{"a", "b", "c", "d"} {
		full := "r" + r + "x"
		subRegs["e"+r+"x"] = subReg{full, 4, 0}
		subRegs[r+"x"] = subReg{full, 2, 0}
		subRegs[r+"l"] = subReg{full, 1, 0}
		subRegs[r+"h"] = subReg{full, 1, 1}
	}
	for _, r := range []string{"si", "di", "bp", "sp"} {
		full := "r" + r
		subRegs["e"+r] = subReg{full, 4, 0}
		subRegs[r] = subReg{full, 2, 0}
		subRegs[r+"l"] = subReg{full, 1, 0}
	}
	for i := 8; i <= 15; i++ {
		full := "r" + strconv.Itoa(i)
		subRegs[full+"d"] = subReg{full, 4, 0}
		subRegs[full+"w"] = subReg{full, 2, 0}
		subRegs[full+"b"] = subReg{full, 1, 0}
	}
	subRegs["eip"] = subReg{"rip", 4, 0}
}

// RegOffset returns where an x86-64 register (named without '%': "rax",
// "eax", "al", "ah", "r8d", ...) lives in struct pt_regs: the byte offset
// of its value and its size in bytes.
func RegOffset(name string) (offset, size int, ok bool) {
	if off, ok := ptRegs[name]; ok {
		return off, 8, true
	}
	if s, ok := subRegs[name]; ok {
		return ptRegs[s.full] + s.byte, s.size, true
	}
	return 0, 0, false
}
