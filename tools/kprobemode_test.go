package tools

import (
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
)

// TestKprobeScripts: on a kernel with kprobes the tools pick the exact
// kernel function probes; their scripts (which cannot be compiled where
// kprobes are missing) parse, and name those probes.
func TestKprobeScripts(t *testing.T) {
	withKprobes := &Kernel{kprobes: func() bool { return true }, fentry: func() bool { return false }, types: NewKernel().types}
	saved := checkKernel
	checkKernel = func() *Kernel { return withKprobes }
	defer func() { checkKernel = saved }()
	for _, tc := range []struct {
		tool string
		args []string
		want []string
	}{
		{"funccount", []string{"vfs_*"}, []string{"kprobe:vfs_*"}},
		{"stackcount", []string{"-K", "p::vfs_read"}, []string{"kprobe:vfs_read", "@counts[kstack]"}},
		{"argdist", []string{"-H", "r::vfs_read():int", "-C", "p::vfs_read(void *file, char *buf, size_t count):size_t:count"}, []string{"kretprobe:vfs_read", "hist((int32)(retval))", "(uint64)((uint64)arg2)"}},
		{"trace", []string{`r::vfs_read (retval < 0) "%d", retval`}, []string{"kretprobe:vfs_read", "(retval < 0)"}},
		{"vfsstat", nil, []string{"kprobe:vfs_read { @ops[0] = count(); }", "kprobe:vfs_rmdir { @ops[7] = count(); }"}},
		{"cachestat", nil, []string{"kprobe:mark_buffer_dirty", "@total = count()"}},
	} {
		tool := Lookup(tc.tool)
		c, err := tool.Parse(tc.args)
		if err != nil {
			t.Errorf("%s %q: %v", tc.tool, tc.args, err)
			continue
		}
		c.Kernel = withKprobes
		for _, standalone := range []bool{false, true} {
			src, err := c.Script(standalone)
			if err == nil {
				_, err = parser.Parse(lang.NewFile(tc.tool+".bt", []byte(src)))
			}
			if err != nil {
				t.Errorf("%s %q: %v\n%s", tc.tool, tc.args, err, src)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(src, w) {
					t.Errorf("%s %q: the script has no %q:\n%s", tc.tool, tc.args, w, src)
				}
			}
		}
	}
}
