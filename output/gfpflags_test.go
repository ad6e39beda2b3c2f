package output

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestGFPNamesBpftraceTable checks the default table against the values
// bpftrace's own unit test prints (tests/utils.cpp, gfp_flags_format).
func TestGFPNamesBpftraceTable(t *testing.T) {
	for _, tc := range []struct {
		flags uint64
		want  string
	}{
		{0, "0"},
		{0x02, "__GFP_HIGHMEM"},
		{0x40, "__GFP_IO"},
		{0x80, "__GFP_FS"},
		{0xC0, "__GFP_IO|__GFP_FS"},
		{0x820, "GFP_ATOMIC"},
		{0x2800, "GFP_NOWAIT"},
		{0x21C24CA, "GFP_TRANSHUGE"},
		{0x21C20CA, "GFP_TRANSHUGE_LIGHT"},
		{0x2100CCA, "GFP_HIGHUSER_MOVABLE"},
		{0x100CC2, "GFP_HIGHUSER"},
		{0x100CC0, "GFP_USER"},
		{0x400CC0, "GFP_KERNEL_ACCOUNT"},
		{0xCC0, "GFP_KERNEL"},
		{0xC40, "GFP_NOFS"},
		{0xC00, "GFP_NOIO"},
		{0x01, "GFP_DMA"},
		{0x04, "GFP_DMA32"},
		{0xCE0, "GFP_KERNEL|__GFP_HIGH"},
		{0x41, "GFP_DMA|__GFP_IO"},
		// GFP_NOIO comes before GFP_NOWAIT, so NOWARN is left alone.
		{0x2c00, "GFP_NOIO|__GFP_NOWARN"},
		{0x80000000, "0x80000000"},
		{0x80000001, "GFP_DMA|0x80000000"},
		{0xDC0, "GFP_KERNEL|__GFP_ZERO"},
		{0x200, "0x200"}, // bit 9 is unused since 6.3
		// ktrace names the bits bpftrace's table prints in hex, as the
		// kernel does.
		{0x8, "__GFP_MOVABLE"},
		{0x10CC0, "GFP_KERNEL|__GFP_NORETRY"},
		{0x10, "__GFP_RECLAIMABLE"},
	} {
		if got := defaultGFP.String(tc.flags); got != tc.want {
			t.Errorf("%#x: got %q, want %q", tc.flags, got, tc.want)
		}
	}
}

// TestGFPNamesLayouts checks the names built from other kernels' layouts:
// 6.18 as its BTF has it (no KASAN hardware tags, so no __GFP_SKIP_*
// bits and __GFP_NO_OBJ_EXT at 24) and 6.1 from the version table
// (__GFP_ATOMIC at 9, GFP_NOWAIT without __GFP_NOWARN).
func TestGFPNamesLayouts(t *testing.T) {
	bits := func(names ...string) map[string]uint {
		m := map[string]uint{}
		for i, n := range names {
			if n != "" {
				m[n] = uint(i)
			}
		}
		return m
	}
	common := []string{"DMA", "HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "IO", "FS", "ZERO"}
	upper := []string{"DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN", "RETRY_MAYFAIL",
		"NOFAIL", "NORETRY", "MEMALLOC", "COMP", "NOMEMALLOC", "HARDWALL", "THISNODE", "ACCOUNT", "ZEROTAGS"}
	v618 := NewGFPNames(GFPLayout{Bits: bits(append(append(append([]string{}, common...), ""), append(upper, "NO_OBJ_EXT")...)...), NowaitNoWarn: true})
	v61 := NewGFPNames(GFPLayout{Bits: bits(append(append(append([]string{}, common...), "ATOMIC"), upper...)...)})
	for _, tc := range []struct {
		names *GFPNames
		flags uint64
		want  string
	}{
		{v618, 0x100cca, "GFP_HIGHUSER_MOVABLE"},
		{v618, 0x1000000, "__GFP_NO_OBJ_EXT"},
		{v618, 0x1000cc0, "GFP_KERNEL|__GFP_NO_OBJ_EXT"},
		{v618, 0x2800, "GFP_NOWAIT"},
		{v618, 0x800, "__GFP_KSWAPD_RECLAIM"},
		{v618, 0x1c20ca, "GFP_TRANSHUGE_LIGHT"},
		{v618, 0x1c24ca, "GFP_TRANSHUGE"},
		{v61, 0xa20, "GFP_ATOMIC"},
		{v61, 0x820, "GFP_NOWAIT|__GFP_HIGH"},
		{v61, 0x200, "__GFP_ATOMIC"},
		{v61, 0x800, "GFP_NOWAIT"},
		{v61, 0x2800, "GFP_NOWAIT|__GFP_NOWARN"},
		{v61, 0x2000000, "0x2000000"},
		// The kernel's own compound values win over those from the bits.
		{NewGFPNames(GFPLayout{Bits: BpftraceGFPLayout().Bits, Compounds: map[string]uint64{"GFP_NOWAIT": 0x2800}}), 0x2800, "GFP_NOWAIT"},
		{NewGFPNames(GFPLayout{Bits: BpftraceGFPLayout().Bits, Compounds: map[string]uint64{"GFP_NOWAIT": 0x2800}}), 0x800, "__GFP_KSWAPD_RECLAIM"},
	} {
		if got := tc.names.String(tc.flags); got != tc.want {
			t.Errorf("%#x: got %q, want %q", tc.flags, got, tc.want)
		}
	}
}

// TestPrintfGFPVerb checks %gr through printf: widths, a session's
// names, and a value no integer conversion can read.
func TestPrintfGFPVerb(t *testing.T) {
	l := BpftraceGFPLayout()
	l.Bits["ATOMIC"] = 9
	withAtomic := NewGFPNames(l)
	for _, tc := range []struct {
		format string
		arg    any
		env    *Env
		want   string
	}{
		{"%gr", int64(0xcc0), nil, "GFP_KERNEL"},
		{"%gr", uint64(1), nil, "GFP_DMA"},
		{"[%12gr]", int64(0xc0), nil, "[__GFP_IO|__GFP_FS]"},
		{"[%-12gr]", int64(0x40), nil, "[__GFP_IO    ]"},
		{"[%12gr]", int64(0x40), nil, "[    __GFP_IO]"},
		{"%gr", int64(0xa20), &Env{GFP: withAtomic}, "GFP_ATOMIC"},
		{"%gr", int64(0xa20), nil, "GFP_ATOMIC|0x200"},
		{"%gr", "x", nil, "!{invalid GFP flags conversion: x}"},
		{"%gr", nil, nil, "!{invalid GFP flags conversion: null}"},
		{"%gr", Enum{Value: 0x40, Name: "X"}, nil, "__GFP_IO"},
	} {
		f, err := types.ParseFormat(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		if got := SprintfEnv(f, []any{tc.arg}, tc.env); got != tc.want {
			t.Errorf("%s of %v: got %q, want %q", tc.format, tc.arg, got, tc.want)
		}
	}
}
