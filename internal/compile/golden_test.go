package compile_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/compile"
)

// goldenScripts print from every kind of probe the static front end
// compiles, with each record kind that carries values.
var goldenScripts = []string{
	`tracepoint:skb:kfree_skb { printf("drop %d %s\n", args.reason, comm); }`,
	`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { printf("%s %d\n", probe, pid); }`,
	`BEGIN { printf("hello\n"); print(5); cat("/dev/null"); } END { printf("bye %d\n", tid); }`,
	`profile:hz:99 { printf("%d\n", cpu); } interval:s:1 { printf("tick\n"); }`,
	`rawtracepoint:sched_switch { printf("%d %s\n", nsecs, comm); errorf("e %d", 1); warnf("w"); }`,
}

// goldenPath holds the code generated for goldenScripts without any
// option: what every existing script costs per event. An option that
// adds work to records (Options.EventContext) must leave it as it is.
const goldenPath = "testdata/printf.golden"

// TestPrintfCodeUnchanged compares the code and record layouts of
// goldenScripts with the golden file. KTRACE_WRITE_GOLDEN=1 rewrites it,
// for a change that means to alter the code.
func TestPrintfCodeUnchanged(t *testing.T) {
	var b strings.Builder
	for _, src := range goldenScripts {
		cp, err := compileSource(src, compile.Options{TaskCommOffset: 1752})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		writeProgram(&b, src, cp)
	}
	got := b.String()
	if os.Getenv("KTRACE_WRITE_GOLDEN") == "1" {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the code generated for printf programs changed; if that is meant, run KTRACE_WRITE_GOLDEN=1 go test ./internal/compile -run TestPrintfCodeUnchanged\n%s", firstDifference(got, string(want)))
	}
}

// writeProgram writes a compiled script's record layouts and programs,
// in a stable order.
func writeProgram(b *strings.Builder, src string, cp *compile.Program) {
	fmt.Fprintf(b, "== %s\n", src)
	for i, ev := range cp.Events {
		fmt.Fprintf(b, "event %d: kind %d, size %d, args", i, ev.Kind, ev.Size)
		for _, a := range ev.Args {
			fmt.Fprintf(b, " %s@%d", a.Type, a.Offset)
		}
		b.WriteString("\n")
	}
	for _, p := range cp.Probes {
		fmt.Fprintf(b, "probe %s: %s\n", p.Point.Name, p.Program)
	}
	names := make([]string, 0, len(cp.Collection.Programs))
	for name := range cp.Collection.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(b, "program %s:\n%v", name, cp.Collection.Programs[name].Instructions)
	}
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}
