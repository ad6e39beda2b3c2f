package output

import (
	"strconv"

	"github.com/ktrace/ktrace/lang/types"
)

// GFPNames names the bits of a GFP (get free pages) allocation mask for
// printf's %gr, as bpftrace prints them: the names that match, in a fixed
// order, joined by "|", with the bits no name covers after them in hex
// ("GFP_KERNEL|__GFP_ZERO", "GFP_DMA|0x80000000"); zero prints as "0".
//
// The order is the kernel's (include/trace/events/mmflags.h): compound
// masks first, largest first, so that GFP_KERNEL is printed rather than
// its four bits, then the single bits. A mask matches when all its bits
// are set, and its bits are then taken out of what later masks can match.
type GFPNames struct {
	masks []gfpMask
}

type gfpMask struct {
	mask uint64
	name string
}

// GFPLayout says where a kernel keeps each GFP bit and which variant of
// the compound masks it has: the bits differ between kernel versions and
// configurations (__GFP_ATOMIC was bit 9 until 6.3; the KASAN and
// slab-extension bits exist only when configured).
type GFPLayout struct {
	// Bits maps a flag's name without its ___GFP_ prefix ("IO",
	// "KSWAPD_RECLAIM") to its bit number. A flag missing here is zero in
	// this kernel, as the kernel defines flags it is built without.
	Bits map[string]uint
	// NowaitNoWarn is true when GFP_NOWAIT includes __GFP_NOWARN (as
	// on 6.12 and later).
	NowaitNoWarn bool
	// Compounds, when set, are the kernel's own values of compound masks
	// by name ("GFP_NOWAIT"), which replace the definitions from Bits.
	Compounds map[string]uint64
}

// BpftraceGFPLayout is the layout bpftrace's table is built for (the
// kernel's gfp_types.h as of 6.12 with KASAN hardware tags and slab
// extensions configured): what %gr uses when no kernel's layout is known.
func BpftraceGFPLayout() GFPLayout {
	names := []string{
		"DMA", "HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "IO", "FS",
		"ZERO", "", "DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN",
		"RETRY_MAYFAIL", "NOFAIL", "NORETRY", "MEMALLOC", "COMP", "NOMEMALLOC",
		"HARDWALL", "THISNODE", "ACCOUNT", "ZEROTAGS", "SKIP_ZERO", "SKIP_KASAN",
		"NO_OBJ_EXT",
	}
	bits := make(map[string]uint, len(names))
	for i, n := range names {
		if n != "" {
			bits[n] = uint(i)
		}
	}
	return GFPLayout{Bits: bits, NowaitNoWarn: true}
}

// defaultGFP names flags when the session has no kernel layout (printf
// formatted outside a session, as in tests and tools).
var defaultGFP = NewGFPNames(BpftraceGFPLayout())

// gfpSingles are the single-bit flags in the order they print after the
// compound masks. bpftrace's table leaves out __GFP_MOVABLE and
// __GFP_RECLAIMABLE (it prints them as hex); the kernel names them, and
// so does ktrace, where the kernel has them. __GFP_ATOMIC exists only
// before 6.3.
var gfpSingles = []string{
	"HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "ATOMIC", "IO", "FS",
	"ZERO", "DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN",
	"RETRY_MAYFAIL", "NOFAIL", "NORETRY", "MEMALLOC", "COMP", "NOMEMALLOC",
	"HARDWALL", "THISNODE", "ACCOUNT", "ZEROTAGS", "SKIP_ZERO", "SKIP_KASAN",
	"NO_OBJ_EXT",
}

// NewGFPNames builds the names of a kernel's GFP masks from its layout,
// with the compound masks defined as gfp_types.h defines them.
func NewGFPNames(l GFPLayout) *GFPNames {
	bit := func(name string) uint64 {
		if b, ok := l.Bits[name]; ok && b < 64 {
			return 1 << b
		}
		return 0
	}
	reclaim := bit("DIRECT_RECLAIM") | bit("KSWAPD_RECLAIM")
	noio := reclaim
	nofs := noio | bit("IO")
	kernel := nofs | bit("FS")
	user := kernel | bit("HARDWALL")
	highuser := user | bit("HIGHMEM")
	movable := highuser | bit("MOVABLE") | bit("SKIP_KASAN")
	light := (movable | bit("COMP") | bit("NOMEMALLOC") | bit("NOWARN")) &^ reclaim
	nowait := bit("KSWAPD_RECLAIM")
	if l.NowaitNoWarn {
		nowait |= bit("NOWARN")
	}
	g := &GFPNames{}
	add := func(mask uint64, name string) {
		// A flag this kernel is built without is zero: it would match
		// every value, and the kernel leaves it out of its table too.
		if v, ok := l.Compounds[name]; ok {
			mask = v
		}
		if mask != 0 {
			g.masks = append(g.masks, gfpMask{mask, name})
		}
	}
	add(light|bit("DIRECT_RECLAIM"), "GFP_TRANSHUGE")
	add(light, "GFP_TRANSHUGE_LIGHT")
	add(movable, "GFP_HIGHUSER_MOVABLE")
	add(highuser, "GFP_HIGHUSER")
	add(user, "GFP_USER")
	add(kernel|bit("ACCOUNT"), "GFP_KERNEL_ACCOUNT")
	add(kernel, "GFP_KERNEL")
	add(nofs, "GFP_NOFS")
	add(bit("HIGH")|bit("ATOMIC")|bit("KSWAPD_RECLAIM"), "GFP_ATOMIC")
	add(noio, "GFP_NOIO")
	add(nowait, "GFP_NOWAIT")
	add(bit("DMA"), "GFP_DMA")
	for _, s := range gfpSingles {
		name := "__GFP_" + s
		if s == "DMA32" {
			name = "GFP_DMA32"
		}
		add(bit(s), name)
	}
	return g
}

// Append appends the names of flags to dst.
func (g *GFPNames) Append(dst []byte, flags uint64) []byte {
	if flags == 0 {
		return append(dst, '0')
	}
	start := len(dst)
	for _, m := range g.masks {
		if flags&m.mask != m.mask {
			continue
		}
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = append(dst, m.name...)
		flags &^= m.mask
	}
	if flags != 0 {
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = append(dst, "0x"...)
		dst = strconv.AppendUint(dst, flags, 16)
	}
	return dst
}

// String returns the names of flags.
func (g *GFPNames) String(flags uint64) string { return string(g.Append(nil, flags)) }

// GFP is an integer printed by %gr with the names of the kernel it was
// recorded on. A plain integer under %gr is named with bpftrace's table.
type GFP struct {
	Flags uint64
	Names *GFPNames
}

// verbArg is the argument printf's verb v formats for the decoded value
// arg: for %gr, the integer with the session's GFP names.
func (e *Env) verbArg(v *types.Verb, arg any) any {
	if v.Conv != 'g' || e == nil || e.GFP == nil {
		return arg
	}
	if n, ok := asInt(arg); ok {
		return GFP{Flags: uint64(n), Names: e.GFP}
	}
	return arg
}
