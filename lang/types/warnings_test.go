package types_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// warnings returns the checker's warnings for src, one line each (the
// message without the source line and caret), failing on errors.
func warnings(t *testing.T, src string) []string {
	t.Helper()
	info, err := check(t, src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	var out []string
	for _, w := range info.Warnings {
		out = append(out, firstLine(w.Error()))
	}
	return out
}

// TestShapeWarnings checks the warnings bpftrace emits about a program's
// shape: unused map declarations, unreachable statements and variables
// read before they are assigned.
func TestShapeWarnings(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		// Unused map: only a declaration nothing mentions; a map that
		// is only assigned still prints at exit.
		{`let @a = hash(2); BEGIN { print(1); }`, []string{"test.bt:1:1: WARNING: Unused map: @a"}},
		{`let @a = hash(2); BEGIN { @a = 1; }`, nil},
		{`let @a = hash(2); BEGIN { @b = 1; }`, []string{"test.bt:1:1: WARNING: Unused map: @a"}},
		{`let @a = hash(2); BEGIN /@a == 0/ { @a = 1; }`, nil},
		{`let @a = hash(2); BEGIN { @a[1] = 1; for ($kv : @a) { print($kv); } }`, nil},
		{`let @a = hash(2); macro m(@x) { @x = 1 } BEGIN { m(@a); }`, nil},
		{`let @a = hash(2); macro unused(@x) { @x = 1 } BEGIN { @b = 1; }`, []string{"test.bt:1:1: WARNING: Unused map: @a"}},
		{`BEGIN { @a = 1; }`, nil},

		// Unreachable statement: the first statement after one that
		// always leaves its block, once per block.
		{`BEGIN { exit(); print(1); print(2); }`, []string{"test.bt:1:17: WARNING: Unreachable statement."}},
		{`BEGIN { return; print(1); }`, []string{"test.bt:1:17: WARNING: Unreachable statement."}},
		{`BEGIN { $i = 0; while ($i < 2) { $i++; break; $i++; } }`, []string{"test.bt:1:47: WARNING: Unreachable statement."}},
		{`BEGIN { if (1) { exit(); } else { return; } print(1); }`, []string{"test.bt:1:45: WARNING: Unreachable statement."}},
		{`BEGIN { if (1) { exit(); } print(1); }`, nil},
		{`BEGIN { { exit(); } print(1); }`, []string{"test.bt:1:21: WARNING: Unreachable statement."}},
		{`BEGIN { if (1) { exit(); print(1); } }`, []string{"test.bt:1:26: WARNING: Unreachable statement."}},
		{`BEGIN { print(1); exit(); }`, nil},

		// Variables declared without a value.
		{`BEGIN { let $x; print($x); }`, []string{
			"test.bt:1:23: WARNING: Variable used before it was assigned: $x",
			"test.bt:1:9: WARNING: Variable $x was never assigned to.",
		}},
		{`BEGIN { let $x; }`, []string{"test.bt:1:9: WARNING: Variable $x was never assigned to."}},
		{`BEGIN { let $x; $x = 1; print($x); }`, nil},
		{`BEGIN { let $x; $x = $x + 1; }`, []string{"test.bt:1:22: WARNING: Variable used before it was assigned: $x"}},
		{`BEGIN { let $x; $x++; print($x); }`, []string{"test.bt:1:17: WARNING: Variable used before it was assigned: $x"}},
		{`BEGIN { let $x; if (1) { $x = 1; } else { $x = 2; } print($x); }`, nil},
		{`BEGIN { let $x = 1; print($x); }`, nil},
		{`BEGIN { $x = 1; print($x); }`, nil},
	} {
		got := warnings(t, tc.src)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

// TestShapeWarningsFullText checks one warning as printed: position,
// message, source line and caret.
func TestShapeWarningsFullText(t *testing.T) {
	info, err := check(t, `BEGIN { exit(); @a = 2; }`)
	if err != nil {
		t.Fatal(err)
	}
	want := "test.bt:1:17: WARNING: Unreachable statement.\nBEGIN { exit(); @a = 2; }\n                ^~~~~~"
	if got := info.Warnings.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestUnusedMapIsNotCompiled checks that an unused declared map is left
// out of the program's maps rather than reported as never assigned.
func TestUnusedMapIsNotCompiled(t *testing.T) {
	info, err := check(t, `let @a = hash(2); BEGIN { @b = 1; }`)
	if err != nil {
		t.Fatal(err)
	}
	if info.Map("a") != nil {
		t.Error("the unused map @a is still among the maps")
	}
	for _, m := range info.Maps {
		if m.Name == "a" {
			t.Error("the unused map @a is still in Info.Maps")
		}
	}
}

// noMatchResolver resolves attach points from a table; a missing entry
// is a wildcard that matched nothing, as internal/resolve reports it.
type noMatchResolver map[string]bool

type noMatchErr string

func (e noMatchErr) Error() string        { return string(e) }
func (e noMatchErr) Is(target error) bool { return target == probe.ErrNoMatch }

func (r noMatchResolver) Resolve(raw string) ([]*types.AttachPoint, error) {
	if !r[raw] {
		return nil, noMatchErr(raw + " matches no tracepoint")
	}
	return resolve.Static(64, formats.All()).Resolve(raw)
}

// TestMissingProbePhrases checks bpftrace's phrases for attach points
// that name nothing, under each missing_probes setting.
func TestMissingProbePhrases(t *testing.T) {
	known := noMatchResolver{"tracepoint:sched:sched_switch": true, "BEGIN": true}
	for _, tc := range []struct {
		src           string
		err, warnings string
	}{
		{src: `tracepoint:sched:zz_nope { }`,
			err: "test.bt:1:1: ERROR: No matches for tracepoint sched:zz_nope."},
		{src: `config = { missing_probes = "warn" } tracepoint:sched:zz_nope { } BEGIN { }`,
			warnings: "test.bt:1:38: WARNING: No matches for tracepoint sched:zz_nope. Skipping.\n" +
				"test.bt:1:38: WARNING: Probe has no valid attach points. It is being removed which may cause issues with program behavior."},
		{src: `config = { missing_probes = "ignore" } tracepoint:sched:zz_nope { } BEGIN { }`},
		{src: `tracepoint:zz:* { }`,
			err: "test.bt:1:1: ERROR: Probe has no valid attach points: tracepoint:zz:* matches no tracepoint. If this is expected, set the 'missing_probes' config variable to 'warn'."},
		{src: `config = { missing_probes = "warn" } tracepoint:zz:* { } BEGIN { }`,
			warnings: "test.bt:1:38: WARNING: Probe has no valid attach points: tracepoint:zz:* matches no tracepoint. It is being removed which may cause issues with program behavior."},
		{src: `tracepoint:zz:*, tracepoint:sched:sched_switch { }`},
	} {
		f := lang.NewFile("test.bt", []byte(tc.src))
		prog, err := parser.Parse(f)
		if err != nil {
			t.Fatalf("parse %q: %v", tc.src, err)
		}
		r := types.Resolver(known)
		if !strings.Contains(tc.src, "zz:*") {
			r = resolve.Static(64, formats.All())
		}
		info, err := types.Check(prog, r, types.Config{})
		var gotErr string
		var list lang.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				gotErr += firstLine(e.Error())
			}
		} else if err != nil {
			gotErr = fmt.Sprint(err)
		}
		if gotErr != tc.err {
			t.Errorf("%s: error\n got %q\nwant %q", tc.src, gotErr, tc.err)
		}
		if err != nil {
			continue
		}
		var ws []string
		for _, w := range info.Warnings {
			ws = append(ws, firstLine(w.Error()))
		}
		if got := strings.Join(ws, "\n"); got != tc.warnings {
			t.Errorf("%s: warnings\n got %q\nwant %q", tc.src, got, tc.warnings)
		}
	}
}
