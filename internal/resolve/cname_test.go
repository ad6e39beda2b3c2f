package resolve

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestCName checks C declarators as bpftrace -lv writes members.
func TestCName(t *testing.T) {
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	file := &btf.Struct{Name: "file"}
	sizeT := &btf.Typedef{Name: "size_t", Type: &btf.Int{Name: "long unsigned int", Size: 8}}
	fn := func(ret btf.Type, params ...btf.Type) *btf.Pointer {
		fp := &btf.FuncProto{Return: ret}
		for _, p := range params {
			fp.Params = append(fp.Params, btf.FuncParam{Type: p})
		}
		return &btf.Pointer{Target: fp}
	}
	tests := []struct {
		t    btf.Type
		name string
		want string
	}{
		{&btf.Pointer{Target: &btf.Const{Type: char}}, "name", "const char *name"},
		{&btf.Const{Type: &btf.Pointer{Target: char}}, "p", "char *const p"},
		{&btf.Pointer{Target: &btf.Volatile{Type: intT}}, "", "volatile int *"},
		{&btf.Array{Type: &btf.Pointer{Target: char}, Nelems: 4}, "argv", "char *argv[4]"},
		{&btf.Pointer{Target: &btf.Array{Type: intT, Nelems: 4}}, "rows", "int (*rows)[4]"},
		{fn(sizeT, &btf.Pointer{Target: file}, &btf.Pointer{Target: &btf.TypeTag{Value: "user", Type: char}}, sizeT), "read",
			"size_t (*read)(struct file *, char *, size_t)"},
		{fn(&btf.Pointer{Target: file}, intT), "open", "struct file * (*open)(int)"},
		{fn(&btf.Void{}), "done", "void (*done)(void)"},
		{fn(intT, &btf.Pointer{Target: &btf.Const{Type: char}}, &btf.Void{}), "printk", "int (*printk)(const char *, ...)"},
		{&btf.Array{Type: fn(&btf.Void{}, intT), Nelems: 2}, "handlers", "void (*handlers[2])(int)"},
	}
	for _, tt := range tests {
		if got := CName(tt.t, tt.name); got != tt.want {
			t.Errorf("CName(%s) = %q, want %q", tt.want, got, tt.want)
		}
	}
}

// TestFormatStructAnonymousMembers checks that members of unnamed struct
// and union types are written in place, named or not.
func TestFormatStructAnonymousMembers(t *testing.T) {
	intT := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	s := &btf.Struct{Name: "outer", Members: []btf.Member{
		{Name: "backlog", Type: &btf.Struct{Members: []btf.Member{{Name: "len", Type: intT}}}},
		{Name: "", Type: &btf.Union{Members: []btf.Member{{Name: "a", Type: intT}, {Name: "b", Type: intT}}}},
		{Name: "empty", Type: &btf.Struct{}},
		{Name: "flag", Type: intT, BitfieldSize: 3},
	}}
	got := formatStruct("struct outer", s)
	want := strings.Join([]string{
		"struct outer {",
		"\tstruct {",
		"\t\tint len;",
		"\t} backlog;",
		"\tunion {",
		"\t\tint a;",
		"\t\tint b;",
		"\t};",
		"\tstruct {} empty;",
		"\tint flag: 3;",
		"};",
		"",
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
