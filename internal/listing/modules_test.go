package listing

import (
	"errors"
	"slices"
	"testing"
)

// TestModuleNames checks how BTF names of vmlinux and of modules are
// listed and matched, with the modules' names given (this machine's
// kernel may have none loaded): "MODULE:NAME", sorted with vmlinux's;
// a REST without a module matches in all.
func TestModuleNames(t *testing.T) {
	vmlinux := func() ([]string, error) { return []string{"lo_open", "vfs_read"}, nil }
	modules := func() ([]string, error) {
		return []string{"loop:lo_open", "loop:loop_queue_rq", "dummy:dummy_xmit"}, nil
	}
	broken := func() ([]string, error) { return nil, errors.New("no module BTF") }
	k := &kind{name: "fentry", names: moduleNames(vmlinux, modules)}
	for _, tt := range []struct {
		rest string
		want []string
	}{
		{"*", []string{"fentry:dummy:dummy_xmit", "fentry:loop:lo_open", "fentry:loop:loop_queue_rq", "fentry:vmlinux:lo_open", "fentry:vmlinux:vfs_read"}},
		{"lo_open", []string{"fentry:loop:lo_open", "fentry:vmlinux:lo_open"}},
		{"loop:*", []string{"fentry:loop:lo_open", "fentry:loop:loop_queue_rq"}},
		{"vmlinux:*", []string{"fentry:vmlinux:lo_open", "fentry:vmlinux:vfs_read"}},
		{"*:loop_*", []string{"fentry:loop:loop_queue_rq"}},
		{"nosuch:*", nil},
	} {
		got, err := k.list(tt.rest, false, 0)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("list(%q) = %q, %v; want %q", tt.rest, got, err, tt.want)
		}
	}
	// Unreadable module BTF leaves vmlinux's names.
	k = &kind{name: "fentry", names: moduleNames(vmlinux, broken)}
	if got, err := k.list("*", false, 0); err != nil || !slices.Equal(got, []string{"fentry:vmlinux:lo_open", "fentry:vmlinux:vfs_read"}) {
		t.Errorf("list with broken modules = %q, %v", got, err)
	}
}

func TestSplitModule(t *testing.T) {
	for _, tt := range []struct{ in, module, fn string }{
		{"vfs_read", "", "vfs_read"},
		{"vmlinux:vfs_read", "vmlinux", "vfs_read"},
		{"loop:lo_open", "loop", "lo_open"},
	} {
		if m, fn := splitModule(tt.in); m != tt.module || fn != tt.fn {
			t.Errorf("splitModule(%q) = %q, %q", tt.in, m, fn)
		}
	}
}

// TestModuleParamsMissing: -lv of a module that is not loaded shows the
// probe without arguments, as for any function BTF does not describe.
func TestModuleParamsMissing(t *testing.T) {
	if got := fentryParams("ktrace_no_such_module:some_func"); got != nil {
		t.Errorf("params = %q", got)
	}
}
