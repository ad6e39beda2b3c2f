package strftime

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

var layouts = []string{
	"%a %A %b %B %h", "%c", "%C %d %D %e %F", "%g %G %V", "%H %I %j %k %l", "%m %M %n %p %P",
	"%r %R %s %S %t %T", "%u %U %w %W", "%x %X %y %Y", "%z %%", "%-d %_m %0e %^a %10A %-H:%-M",
	"plain text", "%J|%q %", "%5Y|%3d|%_3d|%-j", "%Ey %OH",
}

var times = []int64{0, 951782400, 1700000000, 1735689599, 1767225600, 2000000000, 1230768000, 1262217600}

// TestMatchesGlibc compares Format with glibc's strftime, through
// Python's time.strftime, in UTC and the C locale.
func TestMatchesGlibc(t *testing.T) {
	python := testutil.RequireTool(t, "python3", "python3")
	// One Python run formats every case, separated by NULs.
	args := []string{"-c", `import sys, time
cases = sys.argv[1:]
out = []
for i in range(0, len(cases), 2):
    out.append(time.strftime(cases[i], time.gmtime(int(cases[i+1]))))
sys.stdout.write("\0".join(out))`}
	var want []string
	for _, sec := range times {
		for _, layout := range layouts {
			args = append(args, layout, strconv.FormatInt(sec, 10))
			want = append(want, Format(layout, time.Unix(sec, 0).UTC()))
		}
	}
	cmd := exec.Command(python, args...)
	cmd.Env = []string{"LC_ALL=C", "TZ=UTC"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	glibc := strings.Split(string(out), "\x00")
	if len(glibc) != len(want) {
		t.Fatalf("python3 printed %d results for %d cases", len(glibc), len(want))
	}
	for i, w := range want {
		if w != glibc[i] {
			t.Errorf("%q at %s: got %q, glibc says %q", args[2+2*i], args[3+2*i], w, glibc[i])
		}
	}
}

func TestMicroseconds(t *testing.T) {
	tm := time.Date(2024, 2, 29, 13, 4, 5, 123456789, time.UTC)
	if got := Format("%H:%M:%S.%f|%-f", tm); got != "13:04:05.123456|123456" {
		t.Errorf("got %q", got)
	}
	if got := Format("%f", tm.Add(-tm.Sub(tm.Truncate(time.Second))+7000)); got != "000007" {
		t.Errorf("got %q", got)
	}
}
