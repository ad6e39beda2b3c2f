package output

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Expectations from bpftrace's own runtime tests (tests/runtime/json-output
// in the bpftrace repository, as of the 0.24-0.26 sources): the program,
// then the line bpftrace must print, byte for byte.
func TestJSONMatchesBpftraceRuntimeTests(t *testing.T) {
	cases := []struct {
		name  string
		print func(p Printer)
		want  string
	}{
		{"printf", func(p Printer) { p.Printf(sprintf(t, "test %d", int64(5))) },
			`{"type": "printf", "data": "test 5"}`},
		{"printf_escaping", func(p Printer) { p.Printf("test \r \n \t \\ \" bar") },
			`{"type": "printf", "data": "test \r \n \t \\ \" bar"}`},
		{"syscall", func(p Printer) { p.System("a b c\n") },
			`{"type": "syscall", "data": "a b c\n"}`},
		{"join_delim", func(p Printer) { p.Join("/bin/echo,'A'") },
			`{"type": "join", "data": "/bin/echo,'A'"}`},
		{"strerror", func(p Printer) { p.Value("Argument list too long") },
			`{"type": "value", "data": "Argument list too long"}`},
		{"tuple", func(p Printer) {
			p.Map(mapOf("@", false, Entry{nil, Tuple{int64(1), int64(2), "string", Tuple{int64(4), int64(5)}}}))
		}, `{"type": "map", "data": {"@": [1,2,"string",[4,5]]}}`},
		{"tuple_with_struct", func(p Printer) {
			p.Map(mapOf("@", false, Entry{nil, Tuple{int64(0), Record{{"m", int64(2)}, {"n", int64(3)}}}}))
		}, `{"type": "map", "data": {"@": [0,{"m": 2, "n": 3}]}}`},
		{"tuple_with_escaped_string", func(p Printer) {
			p.Map(mapOf("@", false, Entry{nil, Tuple{int64(1), int64(2), `string with "quotes"`}}))
		}, `{"type": "map", "data": {"@": [1,2,"string with \"quotes\""]}}`},
		{"print_non_map", func(p Printer) { p.Value(int64(5)) }, `{"type": "value", "data": 5}`},
		{"print_non_map_builtin", func(p Printer) { p.Value("bpftrace") }, `{"type": "value", "data": "bpftrace"}`},
		{"print_non_map_tuple", func(p Printer) { p.Value(Tuple{int64(1), int64(2), "string"}) },
			`{"type": "value", "data": [1,2,"string"]}`},
		{"print_non_map_struct", func(p Printer) { p.Value(Record{{"m", int64(2)}, {"n", int64(3)}}) },
			`{"type": "value", "data": {"m": 2, "n": 3}}`},
		{"print_non_map_nested_struct", func(p Printer) {
			p.Value(Record{{"y", Record{{"m", []any{int64(2)}}}}, {"a", Record{{"n", int64(3)}}}})
		}, `{"type": "value", "data": {"y": {"m": [2]}, "a": {"n": 3}}}`},
		{"print_avg_map_args", func(p Printer) {
			m := mapOf("@", true, Entry{"a", Avg{statsOfValues(false, 10)}}, Entry{"b", Avg{statsOfValues(false, 20)}},
				Entry{"c", Avg{statsOfValues(false, 30)}}, Entry{"d", Avg{statsOfValues(false, 40)}})
			m.Top, m.Div = 2, 10
			p.Map(m)
		}, `{"type": "stats", "data": {"@": {"c": 3, "d": 4}}}`},
		{"print_avg_map_with_large_top", func(p Printer) {
			m := mapOf("@", true, Entry{"a", Avg{statsOfValues(false, 10)}}, Entry{"b", Avg{statsOfValues(false, 20)}},
				Entry{"c", Avg{statsOfValues(false, 30)}}, Entry{"d", Avg{statsOfValues(false, 40)}})
			m.Top, m.Div = 10, 10
			p.Map(m)
		}, `{"type": "stats", "data": {"@": {"a": 1, "b": 2, "c": 3, "d": 4}}}`},
		{"print_hist_with_top_arg", func(p Printer) {
			m := mapOf("@", true, Entry{int64(1), histOf(0, 10)}, Entry{int64(2), histOf(0, 20)}, Entry{int64(3), histOf(0, 30)})
			m.Top = 2
			p.Map(m)
		}, `{"type": "hist", "data": {"@": {"2": [{"min": 16, "max": 31, "count": 1}], "3": [{"min": 16, "max": 31, "count": 1}]}}}`},
		{"print_hist_with_large_top_arg", func(p Printer) {
			m := mapOf("@", true, Entry{int64(1), histOf(0, 10)}, Entry{int64(2), histOf(0, 20)}, Entry{int64(3), histOf(0, 30)})
			m.Top = 10
			p.Map(m)
		}, `{"type": "hist", "data": {"@": {"1": [{"min": 8, "max": 15, "count": 1}], "2": [{"min": 16, "max": 31, "count": 1}], "3": [{"min": 16, "max": 31, "count": 1}]}}}`},
		{"helper_error", func(p Printer) {
			p.HelperError(HelperError{Helper: "probe_read", Retcode: -14, Msg: "Bad address", At: Location{File: "stdin", Line: 1, Col: 37}})
		}, `{"type": "helper_error", "msg": "Bad address", "helper": "probe_read", "retcode": -14, "filename": "stdin", "line": 1, "col": 37}`},
		// bpftrace's JSON helper_error carries Strerror(-retcode), not the
		// text output's longer message for a full map (json.cpp).
		{"helper_error map full", func(p Printer) {
			p.HelperError(HelperError{Helper: "map_update_elem", Retcode: -7, Msg: "Map full; can't update element. Try increasing max_map_keys config",
				At: Location{File: "full.bt", Line: 1, Col: 61}})
		}, `{"type": "helper_error", "msg": "Argument list too long", "helper": "map_update_elem", "retcode": -7, "filename": "full.bt", "line": 1, "col": 61}`},
		{"print_hex_values", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, Pointer(0x32)})) },
			`{"type": "map", "data": {"@": 50}}`},
		{"enum_not_symbolized", func(p Printer) { p.Value(Enum{333, "FOO"}) }, `{"type": "value", "data": 333}`},
		{"enum_symbolized_printf", func(p Printer) {
			p.Printf(sprintf(t, "%d %s %d %s %d %s\n", Enum{1, "ONE"}, Enum{1, "ONE"}, Enum{2, "TWO"}, Enum{2, "TWO"},
				Enum{99999, "OTHER"}, Enum{99999, "OTHER"}))
		}, `{"type": "printf", "data": "1 ONE 2 TWO 99999 OTHER\n"}`},
		{"print bool type", func(p Printer) { p.Value(Tuple{true, false}) }, `{"type": "value", "data": [true,false]}`},
		{"attached probes", func(p Printer) { p.AttachedProbes(1) },
			`{"type": "attached_probes", "count": 1, "data": {"probes": 1}}`},
	}
	for _, c := range cases {
		var b bytes.Buffer
		c.print(NewJSON(&b))
		if got := b.String(); got != c.want+"\n" {
			t.Errorf("%s:\n got %s want %s", c.name, got, c.want)
		}
	}
}

// Text expectations from bpftrace's runtime tests (tests/runtime in the
// bpftrace repository, current sources): the values a program leaves, and
// the lines bpftrace prints for them, stderr after "--- stderr ---".
func TestTextMatchesBpftraceRuntimeTests(t *testing.T) {
	cases := []struct {
		name  string
		print func(p Printer)
		want  string
	}{
		// call: begin { @stats = stats(1); @stats = stats(2); @stats = stats(3); }
		{"stats", func(p Printer) { p.Map(mapOf("@stats", false, Entry{nil, statsOfValues(false, 1, 2, 3)})) },
			"@stats: { .count = 3, .average = 2, .total = 6 }\n"},
		// signed_ints: begin { @=stats(-10); @=stats(-5); @=stats(5); exit() }
		{"stats with negative values", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, statsOfValues(true, -10, -5, 5)})) },
			"@: { .count = 3, .average = -3, .total = -10 }\n"},
		// call: print_empty_scalar_stats_map, print(@) before any stats()
		{"empty stats", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, Stats{}})) },
			"@: { .count = 0, .average = 0, .total = 0 }\n"},
		{"keyed stats", func(p Printer) {
			p.Map(mapOf("@", true, Entry{"zsh", statsOfValues(false, 10)}, Entry{"curl", statsOfValues(false, 2)}))
		}, "@[curl]: { .count = 1, .average = 2, .total = 2 }\n@[zsh]: { .count = 1, .average = 10, .total = 10 }\n"},
		// signed_ints: avg with negative values prints the average alone
		{"avg with negative values", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, Avg{statsOfValues(true, -10, -5, 5)}})) },
			"@: -3\n"},
		// pointers: begin { @=(int8*) 0x32; @+=1; }
		{"pointer map value", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, Pointer(0x33)})) }, "@: 0x33\n"},
		// pointers: begin { @=(int64*) 0x32; @+=1; }
		{"pointer hex is lowercase", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, Pointer(0x3a)})) }, "@: 0x3a\n"},
		{"pointer key and tuple", func(p Printer) {
			p.Map(mapOf("@m", true, Entry{Pointer(0x33), Tuple{Pointer(0xff), int64(2)}}))
		}, "@m[0x33]: (0xff, 2)\n"},
		{"pointer print", func(p Printer) { p.Value(Pointer(0x33)) }, "0x33\n"},
		{"enum by name, unknown value by number", func(p Printer) { p.Value(Tuple{Enum{1, "ONE"}, Enum{7, ""}}) },
			"(ONE, 7)\n"},
		// many tests: EXPECT Attached 1 probe / Attached 3 probes
		{"attached 1 probe", func(p Printer) { p.AttachedProbes(1) }, "--- stderr ---\nAttached 1 probe\n"},
		{"attached 3 probes", func(p Printer) { p.AttachedProbes(3) }, "--- stderr ---\nAttached 3 probes\n"},
	}
	for _, c := range cases {
		var out, errs bytes.Buffer
		p := NewText(&out)
		p.Err = &errs
		c.print(p)
		got := out.String()
		if errs.Len() > 0 {
			got += "--- stderr ---\n" + errs.String()
		}
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Expectations from the JSON files of bpftrace's runtime tests
// (tests/runtime/outputs/*.json), which bpftrace compares as parsed JSON.
func TestJSONMatchesBpftraceOutputFiles(t *testing.T) {
	var k3 []int64
	for i := int64(0); i < 1024; i++ {
		k3 = append(k3, i)
	}
	var k3want []string
	for i := 0; i < 16; i++ {
		k3want = append(k3want, bucketJSON(int64(i), int64(i), 1))
	}
	for lo, w := int64(16), int64(2); lo < 1024; w *= 2 {
		for j := 0; j < 8; j++ {
			k3want = append(k3want, bucketJSON(lo, lo+w-1, w))
			lo += w
		}
	}
	cases := []struct {
		name  string
		print func(p Printer)
		want  string
	}{
		{"scalar", func(p Printer) { p.Map(mapOf("@scalar", false, Entry{nil, int64(5)})) },
			`{"type": "map", "data": {"@scalar": 5}}`},
		{"scalar_str", func(p Printer) { p.Map(mapOf("@scalar_str", false, Entry{nil, "a b \n d e"})) },
			`{"type": "map", "data": {"@scalar_str": "a b \n d e"}}`},
		{"complex", func(p Printer) { p.Map(mapOf("@complex", true, Entry{Tuple{"bpftrace", int64(2)}, int64(5)})) },
			`{"type": "map", "data": {"@complex": {"bpftrace,2": 5}}}`},
		{"map", func(p Printer) { p.Map(mapOf("@map", true, Entry{"key1", int64(2)}, Entry{"key2", int64(3)})) },
			`{"type": "map", "data": {"@map": {"key1": 2, "key2": 3}}}`},
		{"histogram", func(p Printer) { p.Map(mapOf("@hist", false, Entry{nil, histOf(0, 2, 1025)})) },
			`{"type": "hist", "data": {"@hist": [{"min": 2, "max": 3, "count": 1}, {"min": 4, "max": 7, "count": 0},
			{"min": 8, "max": 15, "count": 0}, {"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0},
			{"min": 64, "max": 127, "count": 0}, {"min": 128, "max": 255, "count": 0}, {"min": 256, "max": 511, "count": 0},
			{"min": 512, "max": 1023, "count": 0}, {"min": 1024, "max": 2047, "count": 1}]}}`},
		{"histogram zero", func(p Printer) {
			h := histOf(0, 2)
			h.Counts = make([]uint64, len(h.Counts))
			p.Map(mapOf("@hist", false, Entry{nil, h}))
		}, `{"type": "hist", "data": {"@hist": []}}`},
		{"multiple histograms", func(p Printer) {
			p.Map(mapOf("@", true, Entry{"bpftrace", histOf(0, 2)}, Entry{"curl", histOf(0, -1, 0, 511, 1024, 1025)}))
		}, `{"type": "hist", "data": {"@": {"bpftrace": [{"min": 2, "max": 3, "count": 1}], "curl": [
			{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 1}, {"min": 1, "max": 1, "count": 0},
			{"min": 2, "max": 3, "count": 0}, {"min": 4, "max": 7, "count": 0}, {"min": 8, "max": 15, "count": 0},
			{"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, {"min": 64, "max": 127, "count": 0},
			{"min": 128, "max": 255, "count": 0}, {"min": 256, "max": 511, "count": 1}, {"min": 512, "max": 1023, "count": 0},
			{"min": 1024, "max": 2047, "count": 2}]}}}`},
		{"histogram-finegrain", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, histOf(3, k3...)})) },
			`{"type": "hist", "data": {"@": [` + strings.Join(k3want, ",") + `]}}`},
		{"hist_10g", func(p Printer) { p.Map(mapOf("@", false, Entry{nil, histOf(0, 10<<30)})) },
			`{"type": "hist", "data": {"@": [{"min": 8589934592, "max": 17179869183, "count": 1}]}}`},
		{"linear histogram", func(p Printer) { p.Map(mapOf("@h", false, Entry{nil, lhistOf(0, 100, 10, 2, 50, 1000)})) },
			`{"type": "hist", "data": {"@h": [{"min": 0, "max": 9, "count": 1}, {"min": 10, "max": 19, "count": 0},
			{"min": 20, "max": 29, "count": 0}, {"min": 30, "max": 39, "count": 0}, {"min": 40, "max": 49, "count": 0},
			{"min": 50, "max": 59, "count": 1}, {"min": 60, "max": 69, "count": 0}, {"min": 70, "max": 79, "count": 0},
			{"min": 80, "max": 89, "count": 0}, {"min": 90, "max": 99, "count": 0}, {"min": 100, "count": 1}]}}`},
		{"linear histogram zero", func(p Printer) {
			h := lhistOf(0, 100, 10, 2)
			h.Counts = make([]uint64, len(h.Counts))
			p.Map(mapOf("@h", false, Entry{nil, h}))
		}, `{"type": "hist", "data": {"@h": []}}`},
		{"multiple linear histograms", func(p Printer) {
			p.Map(mapOf("@stats", true, Entry{"bpftrace", lhistOf(0, 100, 10, 2, 1000)}, Entry{"curl", lhistOf(0, 100, 10, 50)}))
		}, `{"type": "hist", "data": {"@stats": {"curl": [{"min": 50, "max": 59, "count": 1}], "bpftrace": [
			{"min": 0, "max": 9, "count": 1}, {"min": 10, "max": 19, "count": 0}, {"min": 20, "max": 29, "count": 0},
			{"min": 30, "max": 39, "count": 0}, {"min": 40, "max": 49, "count": 0}, {"min": 50, "max": 59, "count": 0},
			{"min": 60, "max": 69, "count": 0}, {"min": 70, "max": 79, "count": 0}, {"min": 80, "max": 89, "count": 0},
			{"min": 90, "max": 99, "count": 0}, {"min": 100, "count": 1}]}}}`},
		{"stats", func(p Printer) { p.Map(mapOf("@stats", false, Entry{nil, statsOfValues(false, 2, 10)})) },
			`{"type": "stats", "data": {"@stats": {"count": 2, "average": 6, "total": 12}}}`},
		{"multiple stats", func(p Printer) {
			p.Map(mapOf("@stats", true, Entry{"curl", statsOfValues(false, 2)}, Entry{"zsh", statsOfValues(false, 10)}))
		}, `{"type": "stats", "data": {"@stats": {"curl": {"count": 1, "average": 2, "total": 2}, "zsh": {"count": 1, "average": 10, "total": 10}}}}`},
	}
	for _, c := range cases {
		var b bytes.Buffer
		c.print(NewJSON(&b))
		var got, want any
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Errorf("%s: output %q is not JSON: %v", c.name, b.String(), err)
			continue
		}
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("%s: bad expectation: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, b.String(), c.want)
		}
		// Keyed maps: the object keys must also come in bpftrace's order.
		if strings.Contains(c.want, `"curl"`) {
			if gi, wi := strings.Index(b.String(), `"curl"`), strings.Index(b.String(), `"bpftrace"`); (gi < wi) != (strings.Index(c.want, `"curl"`) < strings.Index(c.want, `"bpftrace"`)) {
				t.Errorf("%s: key order differs", c.name)
			}
		}
	}
}

func bucketJSON(min, max, count int64) string {
	return `{"min": ` + jsonInt(min) + `, "max": ` + jsonInt(max) + `, "count": ` + jsonInt(count) + `}`
}
