package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

var updateELF = flag.Bool("update-elf", false, "rewrite testdata/progs.o")

// elfProgram is one program of a hand-written BPF ELF object.
type elfProgram struct {
	section, symbol string
	insns           asm.Instructions
	// lines is the program's BTF line info, as clang -g records it: the
	// C source line of instructions, from the one at insn on.
	lines []elfLine
}

// elfLine is one line info record: instruction (slot) insn and those
// after it came from line:col of the object's source file.
type elfLine struct {
	insn, line, col int
	text            string
}

// elfSourceFile is the C file the test objects' line info names.
const elfSourceFile = "progs.c"

// writeBPFELF writes a minimal relocatable BPF object, as clang -target
// bpf would for programs without maps or calls: one section per program,
// a license section, a symbol table naming each program and the string
// tables. (clang is not available where ktrace is developed; this is
// enough for ebpf.LoadCollectionSpec.)
func writeBPFELF(progs []elfProgram) ([]byte, error) {
	type section struct {
		name             string
		typ              elf.SectionType
		flags            elf.SectionFlag
		data             []byte
		link, info       uint32
		align, entsize   uint64
		nameOff, dataOff uint64
	}
	secs := []*section{{}} // the null section
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	type sym struct {
		name  uint32
		shndx uint16
		size  uint64
	}
	var syms []sym
	for _, p := range progs {
		var code bytes.Buffer
		if err := p.insns.Marshal(&code, binary.LittleEndian); err != nil {
			return nil, err
		}
		secs = append(secs, &section{name: p.section, typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, data: code.Bytes(), align: 8})
		syms = append(syms, sym{name: uint32(strtab.Len()), shndx: uint16(len(secs) - 1), size: uint64(code.Len())})
		strtab.WriteString(p.symbol)
		strtab.WriteByte(0)
	}
	secs = append(secs, &section{name: "license", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: []byte("GPL\x00"), align: 1})
	if btfData, extData := programBTF(progs); btfData != nil {
		secs = append(secs, &section{name: ".BTF", typ: elf.SHT_PROGBITS, data: btfData, align: 4})
		secs = append(secs, &section{name: ".BTF.ext", typ: elf.SHT_PROGBITS, data: extData, align: 4})
	}
	symtabIdx := len(secs)
	var symtab bytes.Buffer
	symtab.Write(make([]byte, 24)) // the null symbol
	for _, s := range syms {
		binary.Write(&symtab, binary.LittleEndian, elf.Sym64{
			Name: s.name, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Shndx: s.shndx, Size: s.size,
		})
	}
	secs = append(secs, &section{name: ".symtab", typ: elf.SHT_SYMTAB, data: symtab.Bytes(), link: uint32(symtabIdx + 1), info: 1, align: 8, entsize: 24})
	secs = append(secs, &section{name: ".strtab", typ: elf.SHT_STRTAB, data: strtab.Bytes(), align: 1})
	shstrtab := &section{name: ".shstrtab", typ: elf.SHT_STRTAB, align: 1}
	secs = append(secs, shstrtab)
	var shs bytes.Buffer
	shs.WriteByte(0)
	for _, s := range secs[1:] {
		s.nameOff = uint64(shs.Len())
		shs.WriteString(s.name)
		shs.WriteByte(0)
	}
	shstrtab.data = shs.Bytes()

	var body bytes.Buffer
	off := uint64(64) // after the ELF header
	for _, s := range secs[1:] {
		for off%8 != 0 {
			body.WriteByte(0)
			off++
		}
		s.dataOff = off
		body.Write(s.data)
		off += uint64(len(s.data))
	}
	for off%8 != 0 {
		body.WriteByte(0)
		off++
	}
	shoff := off
	var out bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_BPF), Version: uint32(elf.EV_CURRENT),
		Shoff: shoff, Ehsize: 64, Shentsize: 64, Shnum: uint16(len(secs)), Shstrndx: uint16(len(secs) - 1),
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&out, binary.LittleEndian, hdr)
	out.Write(body.Bytes())
	for _, s := range secs {
		binary.Write(&out, binary.LittleEndian, elf.Section64{
			Name: uint32(s.nameOff), Type: uint32(s.typ), Flags: uint64(s.flags), Off: s.dataOff,
			Size: uint64(len(s.data)), Link: s.link, Info: s.info, Addralign: s.align, Entsize: s.entsize,
		})
	}
	return out.Bytes(), nil
}

// programBTF encodes the .BTF and .BTF.ext sections clang -g would emit
// for the programs, when any has line info: an int, a prototype int(void)
// and a FUNC per program, and per program section a func info record and
// its line info records. It returns nil when no program has line info.
func programBTF(progs []elfProgram) (btfData, extData []byte) {
	withLines := false
	for _, p := range progs {
		withLines = withLines || len(p.lines) > 0
	}
	if !withLines {
		return nil, nil
	}
	le := binary.LittleEndian
	var strs bytes.Buffer
	strs.WriteByte(0)
	str := func(s string) uint32 {
		off := uint32(strs.Len())
		strs.WriteString(s)
		strs.WriteByte(0)
		return off
	}
	const (
		kindInt       = 1
		kindFunc      = 12
		kindFuncProto = 13
		linkageGlobal = 1
	)
	var types bytes.Buffer
	u32 := func(b *bytes.Buffer, vs ...uint32) {
		for _, v := range vs {
			binary.Write(b, le, v)
		}
	}
	u32(&types, str("int"), kindInt<<24, 4, 1<<24|32) // [1] int: signed, 32 bits
	u32(&types, 0, kindFuncProto<<24, 1)              // [2] int (void)
	funcID := map[string]uint32{}
	for i, p := range progs {
		u32(&types, str(p.symbol), kindFunc<<24|linkageGlobal, 2) // [3+i]
		funcID[p.symbol] = uint32(3 + i)
	}
	file := str(elfSourceFile)
	var funcInfo, lineInfo bytes.Buffer
	u32(&funcInfo, 8)
	u32(&lineInfo, 16)
	for _, p := range progs {
		sec := str(p.section)
		u32(&funcInfo, sec, 1, 0, funcID[p.symbol])
		u32(&lineInfo, sec, uint32(len(p.lines)))
		for _, l := range p.lines {
			u32(&lineInfo, uint32(l.insn*asm.InstructionSize), file, str(l.text), uint32(l.line)<<10|uint32(l.col))
		}
	}
	var b bytes.Buffer
	binary.Write(&b, le, uint16(0xeb9f))
	b.Write([]byte{1, 0})
	u32(&b, 24, 0, uint32(types.Len()), uint32(types.Len()), uint32(strs.Len()))
	b.Write(types.Bytes())
	b.Write(strs.Bytes())
	var ext bytes.Buffer
	binary.Write(&ext, le, uint16(0xeb9f))
	ext.Write([]byte{1, 0})
	u32(&ext, 32, 0, uint32(funcInfo.Len()), uint32(funcInfo.Len()), uint32(lineInfo.Len()), 0, 0)
	ext.Write(funcInfo.Bytes())
	ext.Write(lineInfo.Bytes())
	return b.Bytes(), ext.Bytes()
}

// testObjectPrograms are the programs of testdata/progs.o: one valid, one
// that reads a register never written.
func testObjectPrograms() []elfProgram {
	return []elfProgram{
		{"raw_tracepoint/sys_enter", "count_enter", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadMem(asm.R0, asm.R6, 8, asm.DWord),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}, []elfLine{
			{0, 5, 0, "int count_enter(struct bpf_raw_tracepoint_args *ctx)"},
			{1, 7, 14, "\tlong id = ctx->args[1];"},
			{2, 8, 2, "\treturn 0;"},
		}},
		{"raw_tracepoint/sys_exit", "bad_exit", asm.Instructions{
			asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord),
			asm.Return(),
		}, []elfLine{
			{0, 14, 9, "\treturn *(long *)stale;"},
		}},
	}
}

// TestELFObject checks that testdata/progs.o is what writeBPFELF makes
// (go test ./verify -run TestELFObject -update-elf rewrites it), and that
// File verifies both of its programs, with the kernel's verdicts.
func TestELFObject(t *testing.T) {
	b, err := writeBPFELF(testObjectPrograms())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "progs.o")
	if *updateELF {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, b) {
		t.Fatalf("%s differs from what writeBPFELF makes; rerun with -update-elf", path)
	}
	reports, err := File(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reports {
		s := r.Program + ": "
		if f := r.FirstError(); f != nil {
			s += f.String()
		} else {
			s += "ok"
		}
		got = append(got, s)
	}
	// The object has BTF line info: the finding is at the C line.
	want := []string{
		"bad_exit: progs.c:14:9: uninit: R2 is read before any value was written to it on this path (hint: set the register before using it)",
		"count_enter: ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := reports[0].FirstError(); f == nil || f.Pos != "progs.c:14:9" || f.SourceLine != "\treturn *(long *)stale;" {
		t.Errorf("bad_exit's finding: %+v", f)
	}
	// Without line info the finding can only name the instruction.
	noLines := testObjectPrograms()
	for i := range noLines {
		noLines[i].lines = nil
	}
	plain, err := writeBPFELF(noLines)
	if err != nil {
		t.Fatal(err)
	}
	plainPath := filepath.Join(t.TempDir(), "plain.o")
	if err := os.WriteFile(plainPath, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	reports, err = File(plainPath)
	if err != nil {
		t.Fatal(err)
	}
	const wantPlain = "insn 0: uninit: R2 is read before any value was written to it on this path (hint: set the register before using it)"
	if f := reports[0].FirstError(); f == nil || f.String() != wantPlain {
		t.Errorf("without line info: %v, want %s", f, wantPlain)
	}
	oracleAvailable(t)
	for _, p := range testObjectPrograms() {
		k := kernelCheck(t, p.insns, Options{Type: ebpf.RawTracepoint})
		wantOK := p.symbol == "count_enter"
		if k.OK != wantOK {
			t.Errorf("kernel on %s: accepted=%v (%s), want %v", p.symbol, k.OK, k.Reason, wantOK)
		}
	}
}
