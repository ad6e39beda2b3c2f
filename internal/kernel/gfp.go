package kernel

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// GFPLayout is where the running kernel keeps its GFP allocation flags
// (include/linux/gfp_types.h), for printing them by name.
type GFPLayout struct {
	// Bits maps each flag's name without its ___GFP_ prefix ("IO",
	// "KSWAPD_RECLAIM") to its bit number. A flag the kernel is built
	// without is missing: the kernel defines it as zero.
	Bits map[string]uint
	// Compounds holds the values of the compound masks ("GFP_KERNEL",
	// "GFP_NOWAIT") as the kernel's own trace output names them, from
	// the __print_flags table of kmem:kmalloc's print format. The masks
	// are macros, which BTF does not record, and GFP_NOWAIT gained
	// __GFP_NOWARN in a stable update (Debian's 6.12.118 has it, its
	// 6.1.192 not), which no version number tells. Nil when tracefs or
	// the event is missing.
	Compounds map[string]uint64
	// NowaitNoWarn is true when GFP_NOWAIT includes __GFP_NOWARN, for
	// when Compounds is nil: guessed from the version (6.12 and later).
	NowaitNoWarn bool
	// FromBTF is true when Bits came from the kernel's BTF rather than
	// from the table of the kernel's version.
	FromBTF bool
}

// gfpBitPrefix and gfpBitSuffix frame the members of the anonymous enum
// that numbers the GFP bits since 6.10 ("___GFP_IO_BIT"). Its members
// follow the kernel's configuration: ___GFP_SKIP_KASAN_BIT only with
// KASAN hardware tags, ___GFP_NO_OBJ_EXT_BIT only with slab extensions,
// so the bits above ___GFP_ZEROTAGS_BIT differ between builds of one
// version.
const (
	gfpBitPrefix = "___GFP_"
	gfpBitSuffix = "_BIT"
)

// KernelGFPLayout returns the running kernel's GFP layout: the bits from
// the enum in its BTF where it has one (6.10 and later), otherwise from
// the table of its version.
func KernelGFPLayout() GFPLayout {
	major, minor := releaseVersion(unameRelease())
	l := GFPLayout{NowaitNoWarn: versionAtLeast(major, minor, 6, 12), Compounds: gfpCompounds()}
	if b, release, err := openVmlinuxBTF(); err == nil {
		bits, err := b.gfpBits()
		release()
		if err == nil && bits != nil {
			l.Bits, l.FromBTF = bits, true
			return l
		}
	}
	l.Bits = gfpBitsOfVersion(major, minor)
	return l
}

// gfpCompounds reads the compound GFP masks from the kernel's table of
// names for kmem:kmalloc's gfp_flags; nil when it cannot.
func gfpCompounds() map[string]uint64 {
	f, err := TracepointFormat("kmem", "kmalloc")
	if err != nil {
		return nil
	}
	table, ok := f.Flags["gfp_flags"]
	if !ok {
		return nil
	}
	var out map[string]uint64
	for _, fl := range table.Flags {
		if strings.HasPrefix(fl.Name, "GFP_") && fl.Value != 0 {
			if out == nil {
				out = map[string]uint64{}
			}
			out[fl.Name] = fl.Value
		}
	}
	return out
}

// gfpBits reads the GFP bit numbers from the enum that defines
// ___GFP_DMA_BIT; nil when no enum does.
func (b *rawBTF) gfpBits() (map[string]uint, error) {
	var bits map[string]uint
	err := b.walk(func(t *btfType) bool {
		if t.kind != btfKindEnum || t.vlen == 0 {
			return true
		}
		const entry = 8
		first := t.off + btfTypeHdrLen
		if first+entry > len(b.types) || !b.nameIs(b.u32(first), gfpBitPrefix+"DMA"+gfpBitSuffix) {
			return true
		}
		bits = map[string]uint{}
		for i := 0; i < int(t.vlen); i++ {
			off := first + i*entry
			if off+entry > len(b.types) {
				break
			}
			name := string(b.name(b.u32(off)))
			flag, ok := strings.CutPrefix(name, gfpBitPrefix)
			if flag, ok = strings.CutSuffix(flag, gfpBitSuffix); !ok {
				continue
			}
			if flag == "LAST" || flag == "UNUSED" {
				continue
			}
			bits[flag] = uint(b.u32(off + 4))
		}
		return false
	})
	return bits, err
}

// gfpBitsOfVersion is the GFP layout of kernels before the enum (6.9 and
// earlier), which defined each flag as a hex constant. Bits 0-22 have
// been where they are since 4.13 (when __GFP_REPEAT became
// __GFP_RETRY_MAYFAIL); __GFP_ZEROTAGS took bit 23 in 5.14; __GFP_ATOMIC
// held bit 9 until 6.3. The bits above depend on the configuration
// (KASAN hardware tags, lockdep) and are left unnamed, so they print in
// hex.
func gfpBitsOfVersion(major, minor int) map[string]uint {
	bits := map[string]uint{
		"DMA": 0, "HIGHMEM": 1, "DMA32": 2, "MOVABLE": 3, "RECLAIMABLE": 4,
		"HIGH": 5, "IO": 6, "FS": 7, "ZERO": 8, "DIRECT_RECLAIM": 10,
		"KSWAPD_RECLAIM": 11, "WRITE": 12, "NOWARN": 13, "RETRY_MAYFAIL": 14,
		"NOFAIL": 15, "NORETRY": 16, "MEMALLOC": 17, "COMP": 18,
		"NOMEMALLOC": 19, "HARDWALL": 20, "THISNODE": 21, "ACCOUNT": 22,
	}
	if !versionAtLeast(major, minor, 6, 3) {
		bits["ATOMIC"] = 9
	}
	if versionAtLeast(major, minor, 5, 14) {
		bits["ZEROTAGS"] = 23
	}
	return bits
}

func unameRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// releaseVersion parses the major and minor version of a kernel release
// ("6.1.0-57-cloud-amd64" is 6, 1); 0, 0 when it cannot.
func releaseVersion(release string) (major, minor int) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, err1 := strconv.Atoi(parts[0])
	end := 0
	for end < len(parts[1]) && parts[1][end] >= '0' && parts[1][end] <= '9' {
		end++
	}
	minor, err2 := strconv.Atoi(parts[1][:end])
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return major, minor
}

func versionAtLeast(major, minor, wantMajor, wantMinor int) bool {
	return major > wantMajor || major == wantMajor && minor >= wantMinor
}
