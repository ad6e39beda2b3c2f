package resolve

import (
	"slices"
	"testing"

	"github.com/ktrace/ktrace/internal/kernel"
)

// TestExpandModuleErrors checks, word for word, the errors of fentry,
// fexit and rawtracepoint specs naming a module that is not loaded.
func TestExpandModuleErrors(t *testing.T) {
	if _, err := kernel.BTFFunctions(); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	for _, tt := range []struct{ spec, want string }{
		{"fentry:ktrace_nomod:some_func", "module ktrace_nomod has no BTF loaded (no /sys/kernel/btf/ktrace_nomod): load it first"},
		{"fexit:ktrace_nomod:some_*", "module ktrace_nomod has no BTF loaded (no /sys/kernel/btf/ktrace_nomod): load it first"},
		{"rawtracepoint:ktrace_nomod:some_event", "module ktrace_nomod has no BTF loaded (no /sys/kernel/btf/ktrace_nomod): load it first"},
		{"fentry:ktrace_nomod*:vfs_read", "fentry:ktrace_nomod*:vfs_read matches no BTF function"},
		{"fentry:vmlinux:ktrace_no_such_function", "No matches for fentry vmlinux:ktrace_no_such_function."},
	} {
		_, err := Expand(mustParse(t, tt.spec))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Expand(%s) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

// TestExpandVmlinuxModule: "vmlinux" names the kernel's own BTF, also
// through a wildcard, which then names it in the specs it returns.
func TestExpandVmlinuxModule(t *testing.T) {
	if _, err := kernel.BTFFunctions(); err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	for _, tt := range []struct {
		spec string
		want []string
	}{
		{"fentry:vmlinux:vfs_read", []string{"fentry:vmlinux:vfs_read"}},
		{"fentry:vmlinu*:vfs_read", []string{"fentry:vmlinux:vfs_read"}},
		{"fentry:vfs_read", []string{"fentry:vfs_read"}},
		{"rawtracepoint:vmlinux:sched_switch", []string{"rawtracepoint:vmlinux:sched_switch"}},
	} {
		got, err := Expand(mustParse(t, tt.spec))
		if err != nil || !slices.Equal(specStrings(got), tt.want) {
			t.Errorf("Expand(%s) = %q, %v; want %q", tt.spec, specStrings(got), err, tt.want)
		}
	}
}

// TestModuleLoop checks expansion and typing against the loop module's
// BTF where loop is loaded: in the kernel lab, whose cmd/ktrace tests
// load it before this package's run (this machine's kernel has no
// modules).
func TestModuleLoop(t *testing.T) {
	if !kernel.HasModuleBTF("loop") {
		t.Skip("module loop is not loaded (the kernel lab loads it)")
	}
	for _, tt := range []struct {
		spec string
		want []string
	}{
		{"fentry:loop_control_ioctl", []string{"fentry:loop:loop_control_ioctl"}},
		{"fexit:loop:loop_control_ioctl", []string{"fexit:loop:loop_control_ioctl"}},
		{"fentry:lo*:loop_control_ioc*", []string{"fentry:loop:loop_control_ioctl"}},
		{"fentry:*loop_control_ioctl", []string{"fentry:loop:loop_control_ioctl"}},
	} {
		got, err := Expand(mustParse(t, tt.spec))
		if err != nil || !slices.Equal(specStrings(got), tt.want) {
			t.Errorf("Expand(%s) = %q, %v; want %q", tt.spec, specStrings(got), err, tt.want)
		}
	}
	if _, err := Expand(mustParse(t, "fentry:loop:loop_control_ioctlx")); err == nil || err.Error() != "No matches for fentry loop:loop_control_ioctlx; did you mean fentry:loop:loop_control_ioctl?" {
		t.Errorf("misspelt module function: %v", err)
	}
	kt := NewKernelTypes(64)
	fields, ret, err := kt.ModuleFuncArgs("loop", "loop_control_ioctl")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"file", "cmd", "parm"}) || ret.Size != 8 {
		t.Errorf("loop_control_ioctl args = %q, return size %d", names, ret.Size)
	}
	typ, err := kt.Type("struct loop_device")
	if err != nil {
		t.Fatal(err)
	}
	if kt.Origin(typ) != "loop" {
		t.Errorf("struct loop_device comes from %q, want loop", kt.Origin(typ))
	}
	if m, err := kt.Member(typ, "lo_number"); err != nil || m.Type.Size != 4 {
		t.Errorf("lo_number = %+v, %v", m, err)
	}
}
