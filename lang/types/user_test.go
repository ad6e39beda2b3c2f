package types_test

import (
	"testing"
)

// User-space probes against the Static resolver: every function exists,
// and every USDT probe has the 8 arguments of resolve.StaticUSDTArgs.
func TestCheckUserProbes(t *testing.T) {
	for _, src := range []string{
		`uprobe:/bin/app:f { @[probe, func] = count(); @a = arg0 + arg5; printf("%s\n", str(arg1)); }`,
		`uretprobe:/bin/app:f { @[func] = sum(retval); }`,
		`usdt:/bin/app:p:n { @ = arg0 + arg7; print(func); }`,
		`uprobe:/bin/app:f, usdt:/bin/app:p:n { @[func] = count(); }`,
	} {
		if _, err := check(t, src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	for _, c := range []struct{ src, want string }{
		{`usdt:/bin/app:p:n { @ = arg8; }`, "test.bt:1:25: ERROR: arg8 is not available: usdt:/bin/app:p:n has 8 arguments (arg0..arg7)"},
		{`uprobe:/bin/app:f { @ = arg6; }`, "test.bt:1:25: ERROR: arg6 is not available in uprobe probes"},
		{`uretprobe:/bin/app:f { @ = arg0; }`, "test.bt:1:28: ERROR: arg0 is not available in uretprobe probes; return probes only see retval"},
		{`usdt:/bin/app:p:n { @ = retval; }`, "test.bt:1:25: ERROR: retval is not available in usdt probes"},
		{`uprobe:/bin/app:f { @ = args.x; }`, "test.bt:1:25: ERROR: uprobe:/bin/app:f: stat /bin/app: no such file or directory"},
		{`uprobe:/bin/app:f, kprobe:f { print(func); }`, "test.bt:1:1: ERROR: func has a different type in kernel and user-space probes: split this probe's attach points into two probes"},
	} {
		_, err := check(t, c.src)
		if err == nil {
			t.Errorf("%s: no error", c.src)
			continue
		}
		if got := firstLine(err.Error()); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
