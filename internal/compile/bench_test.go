package compile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/compile"
)

// script200 is a 200-line script in the style of real tools: several
// probes, predicates, maps with tuple keys, aggregations, conditionals and
// printf calls.
func script200() string {
	var b strings.Builder
	b.WriteString("config = { max_strlen = 32 }\n")
	probes := []string{"tracepoint:skb:kfree_skb", "tracepoint:sched:sched_switch", "tracepoint:raw_syscalls:sys_enter", "BEGIN", "interval:s:1"}
	line := 1
	for i := 0; line < 200; i++ {
		p := probes[i%len(probes)]
		fmt.Fprintf(&b, "%s /pid > %d/ {\n", p, i)
		line++
		for j := 0; j < 8 && line < 196; j++ {
			switch j % 4 {
			case 0:
				fmt.Fprintf(&b, "\t@c%d[pid, comm] = count();\n", i)
			case 1:
				fmt.Fprintf(&b, "\t$v%d = (nsecs / 1000 + %d) * 3 %% 7;\n", j, j)
			case 2:
				fmt.Fprintf(&b, "\tif ($v%d > %d && cpu != 1) { @h%d = hist($v%d); } else { @s%d = sum($v%d); }\n", j-1, j, i, j-1, i, j-1)
			case 3:
				fmt.Fprintf(&b, "\tprintf(\"%%-8d %%s %%d\\n\", pid, comm, $v%d);\n", j-2)
			}
			line++
		}
		b.WriteString("}\n")
		line++
	}
	return b.String()
}

// BenchmarkCompile200Lines measures the front end and code generation of a
// 200-line script (target: 20 ms).
func BenchmarkCompile200Lines(b *testing.B) {
	src := script200()
	if n := strings.Count(src, "\n"); n < 195 {
		b.Fatalf("script has %d lines", n)
	}
	for b.Loop() {
		if _, err := compileSource(src, compile.Options{TaskCommOffset: 1752}); err != nil {
			b.Fatal(err)
		}
	}
}
