package uprobe

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// The parsers here read files any user can point ktrace at: garbage must
// give an error, never a panic or a runaway allocation.

func FuzzParseNotes(f *testing.F) {
	var sec []byte
	sec = append(sec, note("stapsdt", 3, sdtDesc(0x1130, 0x2004, 0, "app", "start", "-4@%edi 8@%rsi"))...)
	sec = append(sec, note("stapsdt", 3, sdtDesc(0x1150, 0x2004, 0x4010, "app", "stop", ""))...)
	f.Add(sec, true)
	f.Add(sec[:30], true)
	f.Add(note("stapsdt", 3, []byte("\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00p\x00n\x00\x00")), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, is64 bool) {
		notes, _ := ParseNotes(data, binary.LittleEndian, is64)
		for _, n := range notes {
			if n.Provider == "" || n.Name == "" {
				t.Fatalf("note without provider or name: %+v", n)
			}
			ParseArgs(n.Args)
		}
		ParseNotes(data, binary.BigEndian, is64)
	})
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"-4@%eax 8@%rdx 1@%ah -4@-20(%rbp) -8@8(%rax,%rdx,8) 4@$42 -8@counter+8(%rip) -2@$-7",
		"4@(,%rcx,4)", "4@counter", "4@0x601040", "%rdi", "4@fs:8(%rax)", "8@$0xffffffffffffffff",
		"4@sym-8(%rip)", "1@((%rax))", "2@-0x10(%rsp,%r8,1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		args, err := ParseArgs(spec)
		if err != nil {
			return
		}
		for _, a := range args {
			switch a.Size {
			case 1, 2, 4, 8:
			default:
				t.Fatalf("%q: size %d", a.Text, a.Size)
			}
			for _, r := range []string{a.Reg, a.Index} {
				if _, _, ok := RegOffset(r); r != "" && !ok {
					t.Fatalf("%q: register %q has no pt_regs slot", a.Text, r)
				}
			}
			if a.Kind == ArgReg && a.Reg == "" || a.Kind == ArgMem && a.Reg == "rip" && a.Symbol == "" {
				t.Fatalf("%q: parsed as %+v", a.Text, a)
			}
		}
	})
}

func FuzzParseLDCache(f *testing.F) {
	libs := []Library{
		{Name: "libz.so.1", Path: "/lib/x86_64-linux-gnu/libz.so.1", Flags: NativeFlags},
		{Name: "libc.so.6", Path: "/lib/x86_64-linux-gnu/libc.so.6", Flags: NativeFlags},
	}
	cb := cacheBuilder{libs}
	f.Add(cb.newFormat())
	f.Add(cb.oldFormat())
	f.Add([]byte(oldMagic + "\x00\xff\xff\xff\x7f"))
	if data, err := os.ReadFile(LDCachePath); err == nil && len(data) < 1<<20 {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		libs, err := ParseLDCache(data)
		if err == nil && len(libs) > len(data) {
			t.Fatalf("%d entries from %d bytes", len(libs), len(data))
		}
	})
}

// FuzzRead feeds mutated ELF images to Read: symbol tables, program
// headers and the .note.stapsdt section all come from the input.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
			f.Add(data)
			break
		}
	}
	if data := userProgImage(f); data != nil {
		f.Add(data)
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := Read(bytes.NewReader(data))
		if err != nil {
			if strings.HasPrefix(err.Error(), "malformed ELF file (") && !stdlibPanics(data) {
				t.Fatalf("Read recovered a panic of its own (elfsym's or the USDT note reader's): %v", err)
			}
			return
		}
		for _, s := range ef.Functions() {
			ef.SymbolAt(s.Value)
			ef.FileOffset(s.Value)
		}
		notes, _ := ef.USDT()
		for _, n := range notes {
			ef.Executable(n.Address)
		}
	})
}

// userProgImage builds the USDT test program (testutil.UserProg: USDT
// notes with every operand form, a semaphore, .stapsdt.base) without
// debug information, as a seed; nil where gcc or <sys/sdt.h> is missing.
func userProgImage(tb testing.TB) []byte {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return nil
	}
	p := cprog.User
	p.Flags = []string{"-O2"}
	bin, err := p.Build(gcc, tb.TempDir())
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil
	}
	return data
}

// stdlibPanics reports whether the standard library's ELF and Go symbol
// table readers panic on data, doing what Read asks of them (elfsym.Read, then the notes). Read turns
// any panic into a "malformed ELF file" error; one that these readers do
// not raise comes from ktrace's own code, and is a bug.
func stdlibPanics(data []byte) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return false
	}
	defer ef.Close()
	ef.Symbols()
	ef.DynamicSymbols()
	for _, name := range []string{".note.stapsdt", ".stapsdt.base", ".gopclntab", ".text"} {
		if s := ef.Section(name); s != nil {
			s.Data()
		}
	}
	if pcln, text := ef.Section(".gopclntab"), ef.Section(".text"); pcln != nil && text != nil {
		if d, err := pcln.Data(); err == nil {
			gosym.NewTable(nil, gosym.NewLineTable(d, text.Addr))
		}
	}
	return false
}
