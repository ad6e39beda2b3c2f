package kernel

import (
	"maps"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestReleaseVersion(t *testing.T) {
	for _, tc := range []struct {
		release      string
		major, minor int
	}{
		{"6.18.44-fc-v1272", 6, 18},
		{"6.1.0-57-cloud-amd64", 6, 1},
		{"6.12.118+deb12-cloud-amd64", 6, 12},
		{"5.14", 5, 14},
		{"6.9-rc3", 6, 9},
		{"", 0, 0},
		{"six.one", 0, 0},
		{"6", 0, 0},
	} {
		major, minor := releaseVersion(tc.release)
		if major != tc.major || minor != tc.minor {
			t.Errorf("releaseVersion(%q) = %d, %d, want %d, %d", tc.release, major, minor, tc.major, tc.minor)
		}
	}
}

func TestGFPBitsOfVersion(t *testing.T) {
	for _, tc := range []struct {
		major, minor int
		atomic       bool
		zerotags     bool
	}{
		{5, 10, true, false},
		{5, 14, true, true},
		{6, 1, true, true},
		{6, 2, true, true},
		{6, 3, false, true},
		{6, 9, false, true},
	} {
		bits := gfpBitsOfVersion(tc.major, tc.minor)
		if b, ok := bits["ATOMIC"]; ok != tc.atomic || ok && b != 9 {
			t.Errorf("%d.%d: ATOMIC %d, %v; want present %v at 9", tc.major, tc.minor, b, ok, tc.atomic)
		}
		if b, ok := bits["ZEROTAGS"]; ok != tc.zerotags || ok && b != 23 {
			t.Errorf("%d.%d: ZEROTAGS %d, %v; want present %v at 23", tc.major, tc.minor, b, ok, tc.zerotags)
		}
		if bits["IO"] != 6 || bits["KSWAPD_RECLAIM"] != 11 || bits["ACCOUNT"] != 22 {
			t.Errorf("%d.%d: IO %d KSWAPD_RECLAIM %d ACCOUNT %d, want 6, 11, 22", tc.major, tc.minor, bits["IO"], bits["KSWAPD_RECLAIM"], bits["ACCOUNT"])
		}
	}
}

// TestKernelGFPLayoutMatchesCilium checks the GFP bits read from the
// running kernel's raw BTF against the enum cilium/ebpf decodes. On a
// kernel without the enum (before 6.10) the layout comes from the
// version table instead, and cilium must find no enum either.
func TestKernelGFPLayoutMatchesCilium(t *testing.T) {
	requireRoot(t)
	want := map[string]uint{}
	found := false
	for typ, err := range loadKernelSpec(t).All() {
		if err != nil {
			t.Fatal(err)
		}
		e, ok := typ.(*btf.Enum)
		if !ok || len(e.Values) == 0 || e.Values[0].Name != "___GFP_DMA_BIT" {
			continue
		}
		found = true
		for _, v := range e.Values {
			name := strings.TrimSuffix(strings.TrimPrefix(v.Name, "___GFP_"), "_BIT")
			if name != "LAST" && name != "UNUSED" {
				want[name] = uint(v.Value)
			}
		}
		break
	}
	l := KernelGFPLayout()
	if l.FromBTF != found {
		t.Fatalf("FromBTF = %v, cilium found the enum: %v", l.FromBTF, found)
	}
	if !found {
		t.Logf("no GFP enum in this kernel's BTF; the version table gave %d bits", len(l.Bits))
		return
	}
	if !maps.Equal(l.Bits, want) {
		t.Errorf("bits from raw BTF:\n%v\ncilium:\n%v", l.Bits, want)
	}
	if l.Bits["KSWAPD_RECLAIM"] != 11 || l.Bits["IO"] != 6 {
		t.Errorf("KSWAPD_RECLAIM at %d, IO at %d; want 11 and 6", l.Bits["KSWAPD_RECLAIM"], l.Bits["IO"])
	}
}
