package verify

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// regType is the kind of value a register holds.
type regType uint8

const (
	tNotInit   regType = iota
	tScalar            // an integer
	tCtx               // the program's context
	tStack             // a pointer into a stack frame
	tMapPtr            // a map (from ld_imm64)
	tMapValue          // a pointer into a map value
	tMem               // a pointer to a fixed-size memory region (ring buffer record)
	tBTF               // a pointer to a kernel object with a BTF type
	tFunc              // a pointer to a subprogram (bpf_loop callback)
	tMapKey            // a pointer to a map's key (bpf_for_each_map_elem callbacks); read-only
	tPercpu            // a per-CPU kernel variable (ld_imm64 of its BTF id): only bpf_per_cpu_ptr and bpf_this_cpu_ptr take it
	tRdonlyMem         // a pointer to a fixed-size region programs may only read (one CPU's copy of a per-CPU variable)
)

var regTypeNames = [...]string{"uninitialized", "scalar", "ctx", "fp", "map_ptr", "map_value", "mem", "ptr_btf", "func", "map_key", "percpu_ptr", "rdonly_mem"}

// reg is the abstract value of one register or spilled stack slot.
type reg struct {
	typ  regType
	null bool // the pointer may be NULL (map_value_or_null, mem_or_null)
	// s is the value of a scalar, or the variable part of a pointer's offset.
	s   scalar
	off int32 // fixed offset of a pointer
	// id links registers that are copies of the same value: NULL checks and
	// bound checks on one apply to all.
	id uint32
	// ref is the id of the acquired reference this pointer holds (ring
	// buffer records), or 0.
	ref   uint32
	mapi  int16  // map index (tMapPtr, tMapValue, tMapKey)
	frame uint8  // stack frame (tStack)
	size  uint32 // region size (tMem, tRdonlyMem, tBTF, tPercpu)
	// origin is the instruction that created the pointer (helper call,
	// ld_imm64), or, for tNotInit, the call that clobbered the register
	// (-1 if none).
	origin int32
	btf    btf.Type // pointee type for tBTF and tPercpu
	fn     int32    // target instruction of tFunc
}

func notInit() reg              { return reg{origin: -1} }
func scalarReg(s scalar) reg    { return reg{typ: tScalar, s: s, origin: -1} }
func unknownReg() reg           { return scalarReg(unknownScalar()) }
func constReg(v uint64) reg     { return scalarReg(constScalar(v)) }
func (r *reg) isPtr() bool      { return r.typ > tScalar }
func (r *reg) isScalar() bool   { return r.typ == tScalar }
func (r *reg) isConst() bool    { return r.typ == tScalar && r.s.isConst() }
func (r *reg) isNullable() bool { return r.isPtr() && r.null }

// typeName names the register's type like the kernel does.
func (r *reg) typeName() string {
	n := regTypeNames[r.typ]
	if r.typ == tMem && r.ref != 0 {
		n = "ringbuf_mem"
	}
	if r.null {
		n += "_or_null"
	}
	return n
}

func (r reg) String() string {
	switch r.typ {
	case tScalar:
		return "scalar(" + r.s.String() + ")"
	case tNotInit:
		return "?"
	}
	s := r.typeName()
	if r.off != 0 || !r.s.isConst() || r.s.constVal() != 0 {
		s += fmt.Sprintf("(off=%d", r.off)
		if !r.s.isConst() || r.s.constVal() != 0 {
			s += ",var=" + r.s.String()
		}
		s += ")"
	}
	return s
}

// Stack slot byte kinds.
const (
	sInvalid uint8 = iota // never written
	sMisc                 // written with unknown data
	sZero                 // written with zero
	sSpill                // part of a spilled register
)

// slot is 8 bytes of stack.
type slot struct {
	kind  [8]uint8
	spill reg // the spilled register when all 8 bytes are sSpill
}

func (s *slot) isSpill() bool {
	for _, k := range s.kind {
		if k != sSpill {
			return false
		}
	}
	return true
}

// frame is the state of one function invocation.
type frame struct {
	regs     [11]reg
	stack    []slot // stack[i] covers bytes [-(i+1)*8, -i*8) of the frame
	callsite int    // instruction of the call that created the frame, -1 for main
	subprog  int    // index of the subprogram the frame runs
	callback bool   // the frame is a callback invoked by a helper (bpf_loop, bpf_for_each_map_elem)
	cbRet    [2]int64
	cbArgs   [5]reg // the callback's arguments R1-R5, for re-invocation
	depth    int    // deepest stack byte used
}

func (f *frame) clone() *frame {
	n := *f
	n.stack = append([]slot(nil), f.stack...)
	return &n
}

// ensure grows the stack to cover slot i.
func (f *frame) ensure(i int) {
	for len(f.stack) <= i {
		f.stack = append(f.stack, slot{})
	}
}

// refState is an acquired reference that must be released before exit.
type refState struct {
	id    uint32
	insn  int
	kfunc string // the kfunc that acquired it; "" for a ring buffer record
}

// state is the whole abstract machine state on one path.
type state struct {
	frames []*frame
	refs   []refState
	parent *checkpoint
	// loopDepth counts how many times this path re-entered callbacks, to
	// force widening.
	cbIters int
}

func (s *state) cur() *frame { return s.frames[len(s.frames)-1] }

func (s *state) clone() *state {
	n := &state{frames: make([]*frame, len(s.frames)), refs: append([]refState(nil), s.refs...), parent: s.parent, cbIters: s.cbIters}
	for i, f := range s.frames {
		n.frames[i] = f.clone()
	}
	return n
}

// checkpoint is a saved state at a join point, used to prune paths already
// covered and to detect loops that make no progress.
type checkpoint struct {
	st       *state
	insn     int
	branches int // paths still being explored below this checkpoint
	parent   *checkpoint
	fp       uint64 // fingerprint, for exact comparisons at loop headers
}

// forEachReg calls f on every register and spilled register in all frames.
func (s *state) forEachReg(f func(r *reg)) {
	for _, fr := range s.frames {
		for i := range fr.regs {
			f(&fr.regs[i])
		}
		for i := range fr.stack {
			if fr.stack[i].isSpill() {
				f(&fr.stack[i].spill)
			}
		}
	}
}

// idMap checks that ids in two states correspond one to one.
type idMap struct {
	m map[uint32]uint32
}

func (im *idMap) match(old, cur uint32) bool {
	if old == 0 && cur == 0 {
		return true
	}
	if old == 0 || cur == 0 {
		return false
	}
	if im.m == nil {
		im.m = map[uint32]uint32{}
	}
	if v, ok := im.m[old]; ok {
		return v == cur
	}
	im.m[old] = cur
	return true
}

// regCovers reports whether every behaviour of cur is a behaviour of old:
// a path arriving with cur is safe if a path with old was proven safe.
func regCovers(old, cur *reg, im *idMap, exact bool) bool {
	if old.typ == tNotInit {
		// The old path never read it (or reading it was an error there too).
		return !exact || cur.typ == tNotInit
	}
	if old.typ != cur.typ {
		return false
	}
	if exact {
		return regsEqual(old, cur, im)
	}
	switch old.typ {
	case tScalar:
		if !old.s.contains(cur.s) {
			return false
		}
		// Linked scalars: a bound check on one copy refines the others, so
		// the links must correspond when old relies on them.
		if old.id != 0 && !im.match(old.id, cur.id) {
			return false
		}
		return true
	default:
		if old.null != cur.null || old.off != cur.off || old.mapi != cur.mapi || old.frame != cur.frame ||
			old.size != cur.size || old.btf != cur.btf || old.fn != cur.fn {
			return false
		}
		if !old.s.contains(cur.s) {
			return false
		}
		if (old.null || cur.null) && !im.match(old.id, cur.id) {
			return false
		}
		if !im.match(old.ref, cur.ref) {
			return false
		}
		return true
	}
}

func regsEqual(a, b *reg, im *idMap) bool {
	if a.typ != b.typ {
		return false
	}
	if a.typ == tNotInit {
		return true
	}
	if a.s != b.s || a.null != b.null || a.off != b.off || a.mapi != b.mapi || a.frame != b.frame ||
		a.size != b.size || a.btf != b.btf || a.fn != b.fn {
		return false
	}
	return im.match(a.id, b.id) && im.match(a.ref, b.ref)
}

// slotsEqual compares two stack slots exactly.
func slotsEqual(old, cur *slot, im *idMap) bool {
	if old.kind != cur.kind {
		return false
	}
	if old.kind[0] == sSpill {
		return regsEqual(&old.spill, &cur.spill, im)
	}
	return true
}

// slotCovers compares one stack slot.
func slotCovers(old, cur *slot, im *idMap, exact bool) bool {
	if exact {
		return slotsEqual(old, cur, im)
	}
	if old.isSpill() {
		if cur.isSpill() {
			return regCovers(&old.spill, &cur.spill, im, false)
		}
		// An unknown spilled scalar covers plain data.
		if old.spill.typ == tScalar && old.spill.id == 0 && old.spill.s == unknownScalar() && !cur.hasSpillBytes() {
			for _, k := range cur.kind {
				if k != sMisc && k != sZero {
					return false
				}
			}
			return true
		}
		return false
	}
	if old.hasSpillBytes() || (cur.hasSpillBytes() && !(cur.isSpill() && cur.spill.typ == tScalar)) {
		return slotsEqual(old, cur, im)
	}
	for i := 0; i < 8; i++ {
		o, c := old.kind[i], cur.kind[i]
		switch o {
		case sInvalid:
		case sMisc:
			if c == sInvalid {
				return false
			}
		case sZero:
			if c == sZero {
				continue
			}
			if c == sSpill && cur.spill.isConst() && cur.spill.s.constVal() == 0 {
				continue
			}
			return false
		}
	}
	return true
}

// covers reports whether old (a state already proven safe, or an ancestor
// for loop detection when exact) covers cur at the same instruction.
// live gives the live registers of each frame.
// liveFunc gives, for frame fi, the live registers, the registers whose
// scalar values matter and the stack slots whose scalar values matter.
type liveFunc func(fi int, f *frame) (uint16, uint16, uint64)

func covers(old, cur *state, live liveFunc, exact bool) bool {
	if len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return false
	}
	im := &idMap{}
	for fi := range old.frames {
		of, cf := old.frames[fi], cur.frames[fi]
		if of.callsite != cf.callsite || of.subprog != cf.subprog || of.callback != cf.callback {
			return false
		}
		mask, rel, srel := live(fi, cf)
		for r := 0; r < 10; r++ {
			if mask&(1<<r) == 0 {
				continue
			}
			o, c := &of.regs[r], &cf.regs[r]
			if rel&(1<<r) == 0 && o.typ == tScalar && c.typ == tScalar {
				// The value cannot influence any later check.
				continue
			}
			if !regCovers(o, c, im, exact) {
				return false
			}
		}
		n := max(len(of.stack), len(cf.stack))
		var empty slot
		for i := 0; i < n; i++ {
			os, cs := &empty, &empty
			if i < len(of.stack) {
				os = &of.stack[i]
			}
			if i < len(cf.stack) {
				cs = &cf.stack[i]
			}
			if i < 64 && srel&(1<<uint(i)) == 0 && scalarSlot(os) && scalarSlot(cs) {
				// Only the kinds matter: the values are never used.
				if !dataCovers(os, cs) {
					return false
				}
				continue
			}
			if !slotCovers(os, cs, im, exact) {
				return false
			}
		}
		if of.callback {
			for i := range of.cbArgs {
				if !regCovers(&of.cbArgs[i], &cf.cbArgs[i], im, exact) {
					return false
				}
			}
		}
	}
	for i := range old.refs {
		if !im.match(old.refs[i].id, cur.refs[i].id) {
			return false
		}
	}
	return true
}

// joinReg returns a register covering both a and b, or false when they
// cannot be merged without losing the type.
func joinReg(a, b *reg) (reg, bool) {
	if a.typ == tNotInit || b.typ == tNotInit {
		return notInit(), true
	}
	if a.typ != b.typ {
		return reg{}, false
	}
	if a.typ == tScalar {
		r := scalarReg(a.s.union(b.s))
		return r, true
	}
	if a.null != b.null || a.off != b.off || a.mapi != b.mapi || a.frame != b.frame || a.size != b.size ||
		a.btf != b.btf || a.fn != b.fn || a.id != b.id || a.ref != b.ref {
		return reg{}, false
	}
	r := *a
	r.s = a.s.union(b.s)
	return r, true
}

// join merges cur into old (both at the same instruction) and returns a
// state covering both, or nil if they differ in ways that cannot be merged.
// A register the two hold in kinds that do not join (a pointer on one
// path, a number on the other) is left uninitialised when it is dead
// there; when it is live, the states are not merged, since the register's
// next read would then fail on a path where it is fine.
func join(old, cur *state, live liveFunc) *state {
	if len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return nil
	}
	for i := range old.refs {
		if old.refs[i].id != cur.refs[i].id {
			return nil
		}
	}
	n := cur.clone()
	for fi := range n.frames {
		of, nf := old.frames[fi], n.frames[fi]
		if of.callsite != nf.callsite || of.subprog != nf.subprog || of.callback != nf.callback {
			return nil
		}
		liveRegs, _, _ := live(fi, nf)
		for r := 0; r < 10; r++ {
			j, ok := joinReg(&of.regs[r], &nf.regs[r])
			if !ok {
				if liveRegs&(1<<r) != 0 {
					return nil
				}
				j = notInit()
			}
			nf.regs[r] = j
		}
		cnt := max(len(of.stack), len(nf.stack))
		nf.ensure(cnt - 1)
		for i := 0; i < cnt; i++ {
			var os slot
			if i < len(of.stack) {
				os = of.stack[i]
			}
			ns := &nf.stack[i]
			if slotsEqual(&os, ns, &idMap{}) {
				continue
			}
			if os.isSpill() && ns.isSpill() {
				if j, ok := joinReg(&os.spill, &ns.spill); ok && j.typ != tNotInit {
					ns.spill = j
					continue
				}
				return nil
			}
			if os.hasSpillBytes() || ns.hasSpillBytes() {
				return nil
			}
			for b := 0; b < 8; b++ {
				ok, nk := os.kind[b], ns.kind[b]
				switch {
				case ok == nk:
				case ok == sInvalid || nk == sInvalid:
					ns.kind[b] = sInvalid
				default:
					ns.kind[b] = sMisc
				}
			}
		}
		nf.depth = max(of.depth, nf.depth)
	}
	return n
}

// fingerprint hashes the parts of a state that exact comparison looks at
// (ignoring id numbering), so that most non-equal states are told apart
// without a full comparison.
func fingerprint(st *state, live liveFunc) uint64 {
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		h ^= x
		h *= 1099511628211
	}
	mixReg := func(r *reg, valueMatters bool) {
		mix(uint64(r.typ))
		if r.typ == tNotInit || (r.typ == tScalar && !valueMatters) {
			return
		}
		mix(r.s.t.value)
		mix(r.s.t.mask)
		mix(uint64(r.s.smin))
		mix(uint64(r.s.smax))
		mix(r.s.umin)
		mix(r.s.umax)
		mix(uint64(r.off)<<32 | uint64(uint16(r.mapi))<<16 | uint64(r.frame)<<8 | uint64(b2i(r.null)))
		mix(uint64(r.size)<<32 | uint64(uint32(r.fn)))
	}
	mix(uint64(len(st.frames)))
	mix(uint64(len(st.refs)))
	for fi, f := range st.frames {
		mix(uint64(f.callsite))
		mask, rel, srel := live(fi, f)
		for r := 0; r < 10; r++ {
			if mask&(1<<r) != 0 {
				mixReg(&f.regs[r], rel&(1<<r) != 0)
			}
		}
		n := len(f.stack)
		for n > 0 && f.stack[n-1].kind == [8]uint8{} {
			n--
		}
		for i := 0; i < n; i++ {
			s := &f.stack[i]
			if i < 64 && srel&(1<<uint(i)) == 0 && scalarSlot(s) {
				// Irrelevant data: only whether bytes are initialized.
				var init uint64
				for b, k := range s.kind {
					if k != sInvalid {
						init |= 1 << b
					}
				}
				mix(init | 1<<9)
				continue
			}
			mix(uint64(s.kind[0]) | uint64(s.kind[1])<<8 | uint64(s.kind[2])<<16 | uint64(s.kind[3])<<24 |
				uint64(s.kind[4])<<32 | uint64(s.kind[5])<<40 | uint64(s.kind[6])<<48 | uint64(s.kind[7])<<56)
			if s.kind[0] == sSpill {
				mixReg(&s.spill, true)
			}
		}
	}
	return h
}

// scalarSlot reports whether a slot holds only data (no spilled pointer).
func scalarSlot(s *slot) bool {
	return s.kind[0] != sSpill || s.spill.typ == tScalar
}

// dataCovers compares two data slots whose values do not matter: a byte
// old never initialized covers anything, and initialized bytes must stay
// initialized.
func dataCovers(old, cur *slot) bool {
	for b := 0; b < 8; b++ {
		if old.kind[b] != sInvalid && cur.kind[b] == sInvalid {
			return false
		}
	}
	return true
}
