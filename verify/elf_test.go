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
}

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

// testObjectPrograms are the programs of testdata/progs.o: one valid, one
// that reads a register never written.
func testObjectPrograms() []elfProgram {
	return []elfProgram{
		{"raw_tracepoint/sys_enter", "count_enter", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadMem(asm.R0, asm.R6, 8, asm.DWord),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}},
		{"raw_tracepoint/sys_exit", "bad_exit", asm.Instructions{
			asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord),
			asm.Return(),
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
	want := []string{
		"bad_exit: insn 0: uninit: R2 is read before any value was written to it on this path (hint: set the register before using it)",
		"count_enter: ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
