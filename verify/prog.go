package verify

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// Raw opcode fields, as the kernel encodes them.
const (
	clsLD    = 0x00
	clsLDX   = 0x01
	clsST    = 0x02
	clsSTX   = 0x03
	clsALU   = 0x04
	clsJMP   = 0x05
	clsJMP32 = 0x06
	clsALU64 = 0x07

	srcK = 0x00
	srcX = 0x08

	modeIMM    = 0x00
	modeABS    = 0x20
	modeIND    = 0x40
	modeMEM    = 0x60
	modeMEMSX  = 0x80
	modeATOMIC = 0xc0

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	opAdd  = 0x00
	opSub  = 0x10
	opMul  = 0x20
	opDiv  = 0x30
	opOr   = 0x40
	opAnd  = 0x50
	opLsh  = 0x60
	opRsh  = 0x70
	opNeg  = 0x80
	opMod  = 0x90
	opXor  = 0xa0
	opMov  = 0xb0
	opArsh = 0xc0
	opEnd  = 0xd0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
	jmpJNE  = 0x50
	jmpJSGT = 0x60
	jmpJSGE = 0x70
	jmpCALL = 0x80
	jmpEXIT = 0x90
	jmpJLT  = 0xa0
	jmpJLE  = 0xb0
	jmpJSLT = 0xc0
	jmpJSLE = 0xd0
	jmpCOND = 0xe0

	pseudoMapFD       = 1
	pseudoMapValue    = 2
	pseudoBTFID       = 3
	pseudoFunc        = 4
	pseudoMapIdx      = 5
	pseudoMapIdxValue = 6

	pseudoCall      = 1
	pseudoKfuncCall = 2
)

var ja32 = asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja).SetSource(asm.ImmSource)

// insn is one raw 8-byte instruction slot, as the kernel sees it.
type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func (i insn) class() uint8 { return i.code & 0x07 }
func (i insn) op() uint8    { return i.code & 0xf0 }
func (i insn) srcBit() uint8 {
	return i.code & 0x08
}
func (i insn) mode() uint8 { return i.code & 0xe0 }
func (i insn) size() int {
	switch i.code & 0x18 {
	case sizeW:
		return 4
	case sizeH:
		return 2
	case sizeB:
		return 1
	}
	return 8
}

func (i insn) isLdImm64() bool { return i.code == clsLD|modeIMM|sizeDW }

// mapRef is a map an instruction refers to.
type mapRef struct {
	name string
	spec *ebpf.MapSpec
}

// program is the linked, raw form of the instructions being verified.
type program struct {
	insns []insn
	index []int          // raw slot -> index into the asm.Instructions
	srcs  []fmt.Stringer // raw slot -> source position (may be nil)
	maps  []mapRef
	// funcInfo marks slots whose instruction carries BTF function
	// information (the start of a function, for func_info).
	funcInfo []bool
	// funcGlobal marks slots whose function information has global (not
	// static) linkage.
	funcGlobal map[int]bool
	mapAt      map[int]int // raw slot of a ld_imm64 -> index into maps
	issues     []Finding   // problems found while linking
}

// link resolves symbolic jump and call targets, encodes every instruction
// exactly as it will be sent to the kernel and binds map references.
func link(in asm.Instructions, opts *Options) *program {
	p := &program{mapAt: map[int]int{}}
	insns := make(asm.Instructions, len(in))
	copy(insns, in)

	// Raw offsets of every instruction and of every symbol.
	offsets := make([]int, len(insns))
	symbols := map[string]int{}
	raw := 0
	for i := range insns {
		offsets[i] = raw
		if s := insns[i].Symbol(); s != "" {
			if _, dup := symbols[s]; !dup {
				symbols[s] = raw
			}
		}
		raw += int(insns[i].Width())
	}

	for i := range insns {
		ins := &insns[i]
		ref := ins.Reference()
		if ref == "" {
			continue
		}
		target, ok := symbols[ref]
		switch {
		case ins.IsFunctionReference() && ins.Constant == -1,
			ins.OpCode == ja32 && ins.Constant == -1:
			if !ok {
				p.issues = append(p.issues, p.linkIssue(i, offsets[i], ins, ref))
				continue
			}
			ins.Constant = int64(target - offsets[i] - 1)
		case ins.OpCode.Class().IsJump() && ins.Offset == -1:
			if !ok {
				p.issues = append(p.issues, p.linkIssue(i, offsets[i], ins, ref))
				continue
			}
			ins.Offset = int16(target - offsets[i] - 1)
		}
	}

	var buf bytes.Buffer
	for i := range insns {
		ins := insns[i]
		buf.Reset()
		var src fmt.Stringer
		if s := ins.Source(); s != nil {
			if _, isComment := s.(asm.Comment); !isComment {
				src = s
			}
		}
		if _, err := ins.Marshal(&buf, binary.LittleEndian); err != nil {
			p.issues = append(p.issues, Finding{
				Severity: Error, Category: CatOpcode, Insn: offsets[i], Index: i, source: src,
				Message: fmt.Sprintf("instruction %d cannot be encoded: %v", i, err),
				Hint:    "check the opcode, registers and operands of this instruction",
			})
			// Keep the slot count right with a placeholder the checker rejects.
			for w := 0; w < int(ins.Width()); w++ {
				p.insns = append(p.insns, insn{code: 0xff})
				p.funcInfo = append(p.funcInfo, false)
				p.index = append(p.index, i)
				p.srcs = append(p.srcs, src)
			}
			continue
		}
		b := buf.Bytes()
		fm := btf.FuncMetadata(&ins)
		fi := fm != nil
		if fm != nil && fm.Linkage != btf.StaticFunc {
			if p.funcGlobal == nil {
				p.funcGlobal = map[int]bool{}
			}
			p.funcGlobal[len(p.insns)] = true
		}
		for len(b) >= 8 {
			p.funcInfo = append(p.funcInfo, fi)
			p.insns = append(p.insns, insn{
				code: b[0], dst: b[1] & 0xf, src: b[1] >> 4,
				off: int16(binary.LittleEndian.Uint16(b[2:])),
				imm: int32(binary.LittleEndian.Uint32(b[4:])),
			})
			p.index = append(p.index, i)
			p.srcs = append(p.srcs, src)
			b = b[8:]
		}
		if ins.IsLoadFromMap() {
			p.bindMap(offsets[i], &ins, opts)
		}
	}
	return p
}

func (p *program) linkIssue(i, raw int, ins *asm.Instruction, ref string) Finding {
	var src fmt.Stringer
	if s := ins.Source(); s != nil {
		if _, isComment := s.(asm.Comment); !isComment {
			src = s
		}
	}
	return Finding{
		Severity: Error, Category: CatJump, Insn: raw, Index: i, source: src,
		Message: fmt.Sprintf("the jump or call refers to label %q, which is not defined in the program", ref),
		Hint:    "define the label on an instruction of this program (Instruction.WithSymbol)",
	}
}

// bindMap records which map a ld_imm64 instruction loads.
func (p *program) bindMap(raw int, ins *asm.Instruction, opts *Options) {
	name := ins.Reference()
	var spec *ebpf.MapSpec
	if name != "" && opts.Maps != nil {
		spec = opts.Maps[name]
	}
	if spec == nil {
		if m, ok := ins.Map().(*ebpf.Map); ok && m != nil {
			info, err := m.Info()
			if err == nil {
				spec = &ebpf.MapSpec{Name: info.Name, Type: info.Type, KeySize: info.KeySize,
					ValueSize: info.ValueSize, MaxEntries: info.MaxEntries, Flags: info.Flags}
				if name == "" {
					name = info.Name
				}
			}
		}
	}
	if spec == nil {
		if name == "" {
			name = fmt.Sprintf("fd %d", uint32(ins.Constant))
		}
		p.mapAt[raw] = -1
		p.maps = append(p.maps, mapRef{name: name})
		p.mapAt[raw] = len(p.maps) - 1
		return
	}
	for i, m := range p.maps {
		if m.spec == spec {
			p.mapAt[raw] = i
			return
		}
	}
	p.maps = append(p.maps, mapRef{name: name, spec: spec})
	p.mapAt[raw] = len(p.maps) - 1
}

// imm64 is the 64-bit constant of the ld_imm64 starting at slot pc.
func (p *program) imm64(pc int) uint64 {
	return uint64(uint32(p.insns[pc].imm)) | uint64(uint32(p.insns[pc+1].imm))<<32
}
