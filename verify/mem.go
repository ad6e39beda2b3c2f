package verify

import (
	"fmt"
	"math"
)

// stepLoad handles LDX: dst = *(size *)(src + off).
func (v *verifier) stepLoad(st *state, pc int, in insn) bool {
	if in.mode() == modeMEMSX && in.size() == 8 {
		v.unknownOpcode(pc, in)
		return false
	}
	base, ok := v.srcReg(st, pc, in.src)
	if !ok {
		return false
	}
	if !v.dstReg(pc, in.dst) {
		return false
	}
	res, ok := v.access(st, pc, in.src, *base, int(in.off), in.size(), false, nil, in.mode() == modeMEMSX)
	if !ok {
		return false
	}
	st.cur().regs[in.dst] = res
	return true
}

// stepStore handles ST and STX (plain stores and atomics).
func (v *verifier) stepStore(st *state, pc int, in insn) bool {
	if in.class() == clsST {
		if in.mode() != modeMEM || in.src != 0 {
			if in.mode() != modeMEM {
				v.unknownOpcode(pc, in)
				return false
			}
			return v.reserved(pc, "store")
		}
		base, ok := v.srcReg(st, pc, in.dst)
		if !ok {
			return false
		}
		val := constReg(uint64(int64(in.imm)))
		v.storeIsST = true
		_, ok = v.access(st, pc, in.dst, *base, int(in.off), in.size(), true, &val, false)
		v.storeIsST = false
		return ok
	}
	switch in.mode() {
	case modeMEM:
		if in.imm != 0 {
			return v.reserved(pc, "store")
		}
	case modeATOMIC:
		return v.stepAtomic(st, pc, in)
	default:
		v.unknownOpcode(pc, in)
		return false
	}
	src, ok := v.srcReg(st, pc, in.src)
	if !ok {
		return false
	}
	base, ok := v.srcReg(st, pc, in.dst)
	if !ok {
		return false
	}
	val := *src
	v.storeSrc = src
	_, ok = v.access(st, pc, in.dst, *base, int(in.off), in.size(), true, &val, false)
	v.storeSrc = nil
	return ok
}

const (
	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpXchg = 0xf0 | atomicFetch
)

func (v *verifier) stepAtomic(st *state, pc int, in insn) bool {
	imm := uint32(in.imm)
	switch imm {
	case opAdd, opAnd, opOr, opXor, opAdd | atomicFetch, opAnd | atomicFetch, opOr | atomicFetch, opXor | atomicFetch, atomicXchg, atomicCmpXchg:
	case 0x100, 0x110:
		v.errorf(pc, CatUnsupport, "load-acquire and store-release instructions are not modelled by this verifier", "use plain loads and stores")
		return false
	default:
		v.errorf(pc, CatOpcode, fmt.Sprintf("atomic operation code %#x is not valid", imm), "this is an encoding bug in the code generator")
		return false
	}
	if in.size() != 4 && in.size() != 8 {
		v.errorf(pc, CatOpcode, "atomic operations work only on 4- and 8-byte values", "use a 32- or 64-bit atomic")
		return false
	}
	src, ok := v.srcReg(st, pc, in.src)
	if !ok {
		return false
	}
	base, ok := v.srcReg(st, pc, in.dst)
	if !ok {
		return false
	}
	if imm == atomicCmpXchg {
		if _, ok := v.srcReg(st, pc, 0); !ok {
			return false
		}
	}
	if src.isPtr() && v.opts.Unprivileged {
		v.errorf(pc, CatPtrLeak, fmt.Sprintf("R%d holds a pointer; atomic operations on it would leak a kernel address", in.src), "")
		return false
	}
	switch base.typ {
	case tStack, tMapValue, tMem:
		if base.null {
			break
		}
	case tCtx:
		v.errorf(pc, CatCtx, "atomic operations on the program context are not allowed", "")
		return false
	}
	b := *base
	if b.isPtr() && !b.null {
		t := b.s.t.add(tconst(uint64(int64(b.off) + int64(in.off))))
		if (t.value|t.mask)&uint64(in.size()-1) != 0 {
			cat := CatMem
			switch b.typ {
			case tStack:
				cat = CatStack
			case tMapValue:
				cat = CatMapValue
			}
			v.errorf(pc, cat, fmt.Sprintf("the %d-byte atomic operation is not aligned to %d bytes", in.size(), in.size()),
				"atomic operations need naturally aligned addresses")
			return false
		}
	}
	if _, ok := v.access(st, pc, in.dst, b, int(in.off), in.size(), false, nil, false); !ok {
		return false
	}
	val := unknownReg()
	if _, ok := v.access(st, pc, in.dst, b, int(in.off), in.size(), true, &val, false); !ok {
		return false
	}
	if imm&atomicFetch != 0 {
		r := unknownScalar()
		if in.size() == 4 {
			r = r.zext32()
		}
		if imm == atomicCmpXchg {
			if !v.dstReg(pc, 0) {
				return false
			}
			st.cur().regs[0] = scalarReg(r)
		} else {
			if !v.dstReg(pc, in.src) {
				return false
			}
			st.cur().regs[in.src] = scalarReg(r)
		}
	}
	return true
}

// loadResult is the value of a size-byte load of unknown data.
func loadResult(size int, signExt bool) reg {
	if size == 8 {
		return unknownReg()
	}
	r := rangeScalar(0, uint64(1)<<(uint(size)*8)-1)
	if signExt {
		r = r.signExtend(size)
	}
	return scalarReg(r)
}

// access checks a load (write=false) or store of size bytes at base+off
// through register regno and returns the loaded value.
func (v *verifier) access(st *state, pc int, regno uint8, base reg, off, size int, write bool, val *reg, signExt bool) (reg, bool) {
	verb := "read"
	if write {
		verb = "write"
	}
	if base.null {
		v.add(Finding{Severity: Error, Category: CatNull, Insn: pc,
			Message: fmt.Sprintf("R%d may be NULL: %s; the %s through it is not checked", regno, v.originText(base), verb),
			Hint:    fmt.Sprintf("test R%d against 0 (if (p) ...) before reading or writing through it", regno)})
		return reg{}, false
	}
	if write && val != nil && val.isPtr() && v.opts.Unprivileged && base.typ != tStack {
		v.errorf(pc, CatPtrLeak, fmt.Sprintf("storing the pointer in R%d into memory would leak a kernel address", regno), "")
		return reg{}, false
	}
	switch base.typ {
	case tScalar:
		v.errorf(pc, CatMem, fmt.Sprintf("R%d holds an integer, not a pointer, so the %s through it is not allowed", regno, verb),
			"only pointers from the context, the stack, map lookups or helpers may be dereferenced; read other memory with bpf_probe_read")
		return reg{}, false
	case tStack:
		return v.stackAccess(st, pc, regno, base, off, size, write, val, signExt)
	case tMapValue:
		spec := v.p.maps[base.mapi].spec
		if write && spec != nil && spec.Flags&flagRdonlyProg != 0 {
			v.errorf(pc, CatMapValue, fmt.Sprintf("map %s is read-only for programs; the write is not allowed", v.p.maps[base.mapi].name), "")
			return reg{}, false
		}
		vs := 0
		if spec != nil {
			vs = int(spec.ValueSize)
		}
		if !v.regionAccess(pc, regno, base, off, size, vs, CatMapValue, fmt.Sprintf("the %d-byte value of map %s", vs, v.p.maps[base.mapi].name)) {
			return reg{}, false
		}
		return loadResult(size, signExt), true
	case tMem:
		if !v.regionAccess(pc, regno, base, off, size, int(base.size), CatMem, fmt.Sprintf("the %d-byte memory region", base.size)) {
			return reg{}, false
		}
		return loadResult(size, signExt), true
	case tRdonlyMem:
		if write {
			v.errorf(pc, CatMem, fmt.Sprintf("R%d points to kernel memory programs may only read (%s)", regno, btfName(base.btf)), "")
			return reg{}, false
		}
		if !v.regionAccess(pc, regno, base, off, size, int(base.size), CatMem, fmt.Sprintf("the %d-byte %s", base.size, btfName(base.btf))) {
			return reg{}, false
		}
		return loadResult(size, signExt), true
	case tMapKey:
		if !v.mapKeyAccess(pc, regno, base, off, size, write) {
			return reg{}, false
		}
		return loadResult(size, signExt), true
	case tCtx:
		return v.ctxAccess(pc, regno, base, off, size, write, signExt)
	case tBTF:
		return v.btfAccess(pc, regno, base, off, size, write, signExt)
	default:
		v.errorf(pc, CatMem, fmt.Sprintf("R%d is a %s pointer, which cannot be dereferenced", regno, base.typeName()), "")
		return reg{}, false
	}
}

const flagRdonlyProg = 1 << 7

// mapKeyAccess checks an access through a pointer to a map's key (the key
// argument of a bpf_for_each_map_elem callback): reads within key_size;
// the kernel refuses any write ("write to change key").
func (v *verifier) mapKeyAccess(pc int, regno uint8, base reg, off, size int, write bool) bool {
	name := v.p.maps[base.mapi].name
	if write {
		v.errorf(pc, CatMem, fmt.Sprintf("R%d points to the key of map %s, which programs may not change", regno, name),
			"copy the key to the stack and change the copy")
		return false
	}
	ks := 0
	if spec := v.p.maps[base.mapi].spec; spec != nil {
		ks = int(spec.KeySize)
	}
	return v.regionAccess(pc, regno, base, off, size, ks, CatMapValue, fmt.Sprintf("the %d-byte key of map %s", ks, name))
}

// regionAccess checks an access to [off, off+size) of a region of n bytes
// through a pointer with fixed and variable offsets.
func (v *verifier) regionAccess(pc int, regno uint8, base reg, off, size, n int, cat Category, what string) bool {
	o := int64(base.off) + int64(off)
	s := base.s
	if s.smin < 0 && (s.smin == math.MinInt64 || o+s.smin != int64(int32(o+s.smin)) || o+s.smin < 0) {
		v.errorf(pc, cat, fmt.Sprintf("R%d's offset may be negative, so the access may fall before the start of %s", regno, what),
			"use an unsigned index, or check that the index is >= 0 first")
		return false
	}
	lo := o + s.smin
	if lo < 0 || lo+int64(size) > int64(n) {
		v.errorf(pc, cat, fmt.Sprintf("the %d-byte access at offset %d is outside %s", size, lo, what),
			fmt.Sprintf("keep accesses within the first %d bytes", n))
		return false
	}
	if s.umax >= maxVarOff {
		v.errorf(pc, cat, fmt.Sprintf("R%d's offset has no upper bound, so the access may fall outside %s", regno, what),
			"bound the index with a comparison (if (i < N)) or a mask first")
		return false
	}
	hi := o + int64(s.umax)
	if hi+int64(size) > int64(n) {
		v.errorf(pc, cat, fmt.Sprintf("the access may reach offset %d, past the end of %s", hi+int64(size), what),
			fmt.Sprintf("check the index so that index + %d <= %d", size, n))
		return false
	}
	return true
}

// stackBounds checks a stack access and returns its byte range relative to
// the frame pointer.
func (v *verifier) stackBounds(pc int, regno uint8, base reg, off, size int, verb string) (lo, hi int64, ok bool) {
	o := int64(base.off) + int64(off)
	s := base.s
	if s.isConst() {
		lo = o + int64(s.constVal())
		hi = lo
	} else {
		if s.smax >= maxVarOff || s.smin <= -maxVarOff {
			v.errorf(pc, CatStack, fmt.Sprintf("R%d's stack offset is unbounded", regno), "bound the index before using it as a stack offset")
			return 0, 0, false
		}
		lo, hi = o+s.smin, o+s.smax
	}
	if lo < -stackSize || hi+int64(max(size, 1)) > 0 {
		if s.isConst() {
			v.errorf(pc, CatStack, fmt.Sprintf("the %d-byte stack %s at offset %d is outside the %d-byte stack frame", size, verb, lo, stackSize),
				"stack offsets run from -512 to -1 relative to R10")
		} else {
			v.errorf(pc, CatStack, fmt.Sprintf("the %d-byte stack %s at offsets %d..%d may fall outside the %d-byte stack frame", size, verb, lo, hi, stackSize),
				"bound the index so the access stays within the stack frame")
		}
		return 0, 0, false
	}
	return lo, hi, true
}

func (v *verifier) stackAccess(st *state, pc int, regno uint8, base reg, off, size int, write bool, val *reg, signExt bool) (reg, bool) {
	verb := "read"
	if write {
		verb = "write"
	}
	// Stack accesses must be aligned to their size.
	t := base.s.t.add(tconst(uint64(int64(base.off) + int64(off))))
	if (t.value|t.mask)&uint64(size-1) != 0 {
		v.errorf(pc, CatStack, fmt.Sprintf("the %d-byte stack %s is not aligned to %d bytes", size, verb, size),
			"align stack slots to the size of the access")
		return reg{}, false
	}
	lo, hi, ok := v.stackBounds(pc, regno, base, off, size, verb)
	if !ok {
		return reg{}, false
	}
	if int(base.frame) >= len(st.frames) {
		v.errorf(pc, CatInternal, "stack pointer into a frame that no longer exists", "")
		return reg{}, false
	}
	fr := st.frames[base.frame]
	fr.depth = max(fr.depth, int(-lo))
	v.noteDepth(fr)
	if write {
		if val != nil && val.isPtr() && base.frame != uint8(len(st.frames)-1) && val.typ == tStack {
			v.errorf(pc, CatStack, "a pointer to the stack is stored into the caller's stack frame", "")
			return reg{}, false
		}
		if lo == hi {
			return reg{}, v.stackWriteFixed(pc, fr, int(lo), size, val, v.storeSrc, v.storeIsST)
		}
		v.stackWriteVar(fr, int(lo), int(hi)+size, val != nil && val.isConst() && val.s.constVal() == 0)
		return reg{}, true
	}
	if lo == hi {
		return v.stackReadFixed(pc, fr, int(lo), size, signExt)
	}
	if !v.stackRangeInit(pc, regno, fr, int(lo), int(hi)+size, "read") {
		return reg{}, false
	}
	return loadResult(size, signExt), true
}

func (v *verifier) noteDepth(fr *frame) {
	if fr.subprog < len(v.subDepth) {
		v.subDepth[fr.subprog] = max(v.subDepth[fr.subprog], fr.depth)
	}
}

// slotOf maps a frame offset (negative) to slot index and byte index.
// Byte 0 of a slot is its lowest address (fp-8 for slot 0).
func slotOf(off int) (int, int) {
	i := (-off - 1) / 8
	b := off + (i+1)*8
	return i, b
}

// spillSize counts the spilled bytes at the start of a slot.
func (s *slot) spillSize() int {
	n := 0
	for n < 8 && s.kind[n] == sSpill {
		n++
	}
	return n
}

// hasSpillBytes reports whether any byte of the slot belongs to a spill.
func (s *slot) hasSpillBytes() bool {
	for _, k := range s.kind {
		if k == sSpill {
			return true
		}
	}
	return false
}

// stackWriteFixed models a store of size bytes at frame offset off. The
// kernel keeps scalars stored at 8-byte aligned offsets as (possibly
// narrow) spills, and pointers only as whole 8-byte spills; any other
// store turns bytes into plain data and destroys the spilled register of
// the slot.
func (v *verifier) stackWriteFixed(pc int, fr *frame, off, size int, val, srcReg *reg, isST bool) bool {
	si, bi := slotOf(off)
	fr.ensure(si)
	s := &fr.stack[si]
	priv := !v.opts.Unprivileged
	if val != nil && val.isPtr() {
		if size != 8 {
			v.errorf(pc, CatStack, fmt.Sprintf("a pointer is stored with a %d-byte write; pointers can only be spilled whole (8 bytes)", size),
				"store pointers with 8-byte writes")
			return false
		}
		s.spill = *val
		s.kind = [8]uint8{sSpill, sSpill, sSpill, sSpill, sSpill, sSpill, sSpill, sSpill}
		return true
	}
	if bi == 0 && priv && val != nil && (val.typ == tScalar) {
		sp := *val
		fits := size == 8 || sp.s.umax < uint64(1)<<(uint(size)*8)
		if !isST && srcReg != nil && fits && srcReg.typ == tScalar && srcReg.id == 0 && !srcReg.s.isConst() {
			srcReg.id = v.newID()
			sp.id = srcReg.id
		}
		if !fits {
			sp.id = 0
		}
		s.spill = sp
		for b := 0; b < 8; b++ {
			switch {
			case b < size:
				s.kind[b] = sSpill
			case s.kind[b] == sZero || s.kind[b] == sInvalid:
			default:
				s.kind[b] = sMisc
			}
		}
		return true
	}
	k := sMisc
	if val != nil && val.typ == tScalar && val.s.isConst() && val.s.constVal() == 0 {
		k = sZero
	}
	scrub(s)
	for b := bi; b < bi+size && b < 8; b++ {
		s.kind[b] = k
	}
	return true
}

// scrub turns a spilled register into plain data: a partial overwrite
// leaves the other bytes readable as unknown values.
func scrub(s *slot) {
	if !s.hasSpillBytes() {
		return
	}
	for b := range s.kind {
		if s.kind[b] == sSpill {
			s.kind[b] = sMisc
		}
	}
	s.spill = reg{}
}

// stackWriteVar models a write that may touch any byte of [lo, hi).
func (v *verifier) stackWriteVar(fr *frame, lo, hi int, zero bool) {
	for o := lo; o < hi; o++ {
		si, bi := slotOf(o)
		fr.ensure(si)
		s := &fr.stack[si]
		scrub(s)
		if !(zero && s.kind[bi] == sZero) {
			s.kind[bi] = sMisc
		}
	}
}

func (v *verifier) corruptSpill(pc, off, size int) (reg, bool) {
	v.errorf(pc, CatStack, fmt.Sprintf("the %d-byte stack read at offset %d reads part of a spilled register that was partly overwritten", size, off),
		"read back spilled values with the size they were stored with")
	return reg{}, false
}

func (v *verifier) stackReadFixed(pc int, fr *frame, off, size int, signExt bool) (reg, bool) {
	si, bi := slotOf(off)
	var s slot
	if si < len(fr.stack) {
		s = fr.stack[si]
	}
	finish := func(r scalar) (reg, bool) {
		if size < 8 {
			r = r.truncate(size)
			if signExt {
				r = r.signExtend(size)
			}
		}
		return scalarReg(r), true
	}
	if s.kind[0] == sSpill {
		n := s.spillSize()
		if size == 8 && n == 8 {
			return s.spill, true
		}
		if s.spill.typ != tScalar {
			v.errorf(pc, CatStack, fmt.Sprintf("a %d-byte read of a spilled pointer; pointers can only be filled whole (8 bytes)", size),
				"reload the pointer with an 8-byte read")
			return reg{}, false
		}
		if bi == 0 && size == n {
			return finish(s.spill.s)
		}
		if bi == 0 && n == 8 && s.spill.s.umax < uint64(1)<<(uint(size)*8) {
			// A narrow read of the low bytes of a spilled integer that
			// fits in them.
			return finish(s.spill.s)
		}
		spills, zeros := 0, 0
		for b := bi; b < bi+size; b++ {
			switch s.kind[b] {
			case sSpill:
				spills++
			case sZero:
				zeros++
			case sInvalid:
				if !v.uninitStack(pc, off, size) {
					return reg{}, false
				}
			}
		}
		if (spills == size && s.spill.s.isConst() && s.spill.s.constVal() == 0) || zeros == size {
			return constReg(0), true
		}
		return loadResult(size, signExt), true
	}
	allZero := true
	uninit := false
	for b := bi; b < bi+size; b++ {
		switch s.kind[b] {
		case sSpill:
			return v.corruptSpill(pc, off, size)
		case sInvalid:
			uninit = true
			allZero = false
		case sMisc:
			allZero = false
		}
	}
	if uninit && !v.uninitStack(pc, off, size) {
		return reg{}, false
	}
	if allZero {
		return constReg(0), true
	}
	return loadResult(size, signExt), true
}

// uninitStack reports a read of never-written stack bytes. Privileged
// programs may do it (the value is garbage); unprivileged ones may not.
func (v *verifier) uninitStack(pc, off, size int) bool {
	msg := fmt.Sprintf("the %d bytes of stack at offset %d are read before anything was written there", size, off)
	hint := "initialize the stack slot (or the whole buffer) before reading it"
	if v.opts.Unprivileged {
		v.errorf(pc, CatStackInit, msg, hint)
		return false
	}
	v.warnf(pc, CatStackInit, msg+"; the value is garbage", hint)
	return true
}

// stackRangeInit checks that [lo, hi) of the frame may be read.
func (v *verifier) stackRangeInit(pc int, regno uint8, fr *frame, lo, hi int, what string) bool {
	warned := false
	for o := lo; o < hi; o++ {
		si, bi := slotOf(o)
		var s slot
		if si < len(fr.stack) {
			s = fr.stack[si]
		}
		switch s.kind[bi] {
		case sInvalid:
			if !warned {
				warned = true
				if !v.uninitStack(pc, lo, hi-lo) {
					return false
				}
			}
		case sSpill:
			if s.kind[0] != sSpill {
				_, ok := v.corruptSpill(pc, lo, hi-lo)
				return ok
			}
			if s.spill.typ != tScalar && v.opts.Unprivileged {
				v.errorf(pc, CatPtrLeak, "a helper would read a spilled pointer from the stack", "")
				return false
			}
		}
	}
	return true
}

// stackClobber marks [lo, hi) as written with unknown data (a helper wrote
// there).
func (v *verifier) stackClobber(fr *frame, lo, hi int) {
	v.stackWriteVar(fr, lo, hi, false)
}
