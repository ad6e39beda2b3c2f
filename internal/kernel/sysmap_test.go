package kernel

import (
	"slices"
	"testing"
)

func TestListsDataSymbols(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"local data", "ffffffff81000000 T _text\nffffffff82000000 d local_table\n", true},
		{"bss", "ffffffff81000000 T _text\nffffffff83000000 b counter\n", true},
		// A kernel without CONFIG_KALLSYMS_ALL lists global section
		// bounds ('D', 'R', 'B') and nothing else that is data.
		{"section bounds only", "ffffffff81000000 T _text\nffffffff82400000 D __start_rodata\nffffffff828c1000 R __start_BTF\nffffffff83576000 B __init_begin\n", false},
	} {
		k, err := ParseKallsyms([]byte(tc.text))
		if err != nil {
			t.Fatal(err)
		}
		if got := k.ListsDataSymbols(); got != tc.want {
			t.Errorf("%s: ListsDataSymbols = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSystemMapAddress(t *testing.T) {
	sysmap, err := ParseKallsyms([]byte("ffffffff81000000 T _text\nffffffff81000000 T _stext\nffffffff8302a0c0 B avenrun\nffffffff82e0b000 D jiffies_64\n"))
	if err != nil {
		t.Fatal(err)
	}
	// KASLR moved the image up by 0x1c000000.
	running, err := ParseKallsyms([]byte("ffffffff9d000000 T _text\nffffffff9d000010 T do_thing\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint64{"avenrun": 0xffffffff9f02a0c0, "jiffies_64": 0xffffffff9ee0b000, "_text": 0xffffffff9d000000} {
		got, err := SystemMapAddress(sysmap, running, name)
		if err != nil || got != want {
			t.Errorf("SystemMapAddress(%s) = %#x, %v; want %#x", name, got, err, want)
		}
	}
	if _, err := SystemMapAddress(sysmap, running, "nope"); err == nil || err.Error() != `no symbol "nope" in System.map` {
		t.Errorf("unknown symbol: %v", err)
	}
	noText, _ := ParseKallsyms([]byte("ffffffff8302a0c0 B avenrun\n"))
	if _, err := SystemMapAddress(noText, running, "avenrun"); err == nil || err.Error() != "cannot relocate System.map: _text is missing from it or from /proc/kallsyms" {
		t.Errorf("map without _text: %v", err)
	}
}

func TestSystemMapPaths(t *testing.T) {
	want := []string{"/boot/System.map-6.1.0-9-amd64", "/lib/modules/6.1.0-9-amd64/System.map", "/lib/modules/6.1.0-9-amd64/build/System.map", "/usr/lib/debug/boot/System.map-6.1.0-9-amd64"}
	if got := SystemMapPaths("6.1.0-9-amd64"); !slices.Equal(got, want) {
		t.Errorf("SystemMapPaths = %q", got)
	}
}
