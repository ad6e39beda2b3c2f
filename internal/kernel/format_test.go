package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf/btf"
)

const kfreeSkbFormat = `name: kfree_skb
ID: 2310
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * skbaddr;	offset:8;	size:8;	signed:0;
	field:void * location;	offset:16;	size:8;	signed:0;
	field:void * rx_sk;	offset:24;	size:8;	signed:0;
	field:unsigned short protocol;	offset:32;	size:2;	signed:0;
	field:enum skb_drop_reason reason;	offset:36;	size:4;	signed:0;

print fmt: "skbaddr=%p rx_sk=%p protocol=%u location=%pS reason: %s", REC->skbaddr, REC->rx_sk, REC->protocol, REC->location, __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" }, { 4, "SOCKET_CLOSE" }, { 128, "MAX" })
`

func TestParseFormatKfreeSkb(t *testing.T) {
	f, err := ParseFormat([]byte(kfreeSkbFormat))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "kfree_skb" || f.ID != 2310 || len(f.Fields) != 9 {
		t.Fatalf("name %q id %d fields %d", f.Name, f.ID, len(f.Fields))
	}
	want := Field{Name: "reason", Decl: "enum skb_drop_reason reason", Type: "enum skb_drop_reason", Offset: 36, Size: 4, Enum: "skb_drop_reason"}
	if got := *f.Field("reason"); got != want {
		t.Errorf("reason = %+v\nwant     %+v", got, want)
	}
	want = Field{Name: "skbaddr", Decl: "void * skbaddr", Type: "void *", Offset: 8, Size: 8, Pointer: true}
	if got := *f.Field("skbaddr"); got != want {
		t.Errorf("skbaddr = %+v\nwant      %+v", got, want)
	}
	want = Field{Name: "common_pid", Decl: "int common_pid", Type: "int", Offset: 4, Size: 4, Signed: true, Common: true}
	if got := *f.Field("common_pid"); got != want {
		t.Errorf("common_pid = %+v\nwant         %+v", got, want)
	}
	if f.Field("nope") != nil {
		t.Error("Field(nope) != nil")
	}
	if n := len(f.EventFields()); n != 5 {
		t.Errorf("EventFields = %d, want 5", n)
	}
	wantSyms := map[string]map[int64]string{"reason": {2: "NOT_SPECIFIED", 3: "NO_SOCKET", 4: "SOCKET_CLOSE", 128: "MAX"}}
	if !reflect.DeepEqual(f.Symbols, wantSyms) {
		t.Errorf("Symbols = %v", f.Symbols)
	}
	if name, ok := f.SymbolName("reason", 3); !ok || name != "NO_SOCKET" {
		t.Errorf("SymbolName(reason, 3) = %q, %v", name, ok)
	}
	if _, ok := f.SymbolName("protocol", 3); ok {
		t.Error("protocol has no table")
	}
	if !strings.HasPrefix(f.PrintFmt, `"skbaddr=%p`) || !strings.HasSuffix(f.PrintFmt, `{ 128, "MAX" })`) {
		t.Errorf("PrintFmt = %q", f.PrintFmt)
	}
}

func TestParseFormatFieldKinds(t *testing.T) {
	text := `name: x
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:unsigned long args[6];	offset:24;	size:48;	signed:0;
	field:__data_loc char[] filename;	offset:72;	size:4;	signed:0;
	field:__rel_loc char[] rel;	offset:76;	size:4;	signed:0;
	field:const char * name;	offset:80;	size:8;	signed:0;
	field:const void *const ptr;	offset:88;	size:8;	signed:0;
	field:struct iocb * * iocbpp;	offset:96;	size:8;	signed:0;
	field:__data_loc cpumask_t cpumask;	offset:104;	size:4;	signed:0;
	field:const enum landlock_rule_type rule;	offset:108;	size:4;	signed:0;	future:1;
	field:u8 fsid[0x10];	offset:112;	size:16;	signed:0;
	field:char name2[LEN];	offset:128;	size:16;	signed:0;

print fmt: "a=%s
b", REC->prev_comm
`
	f, err := ParseFormat([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	tests := []Field{
		{Name: "prev_comm", Decl: "char prev_comm[16]", Type: "char", Offset: 8, Size: 16, ArrayLen: 16},
		{Name: "args", Decl: "unsigned long args[6]", Type: "unsigned long", Offset: 24, Size: 48, ArrayLen: 6},
		{Name: "filename", Decl: "__data_loc char[] filename", Type: "__data_loc char[]", Offset: 72, Size: 4, DataLoc: true},
		{Name: "rel", Decl: "__rel_loc char[] rel", Type: "__rel_loc char[]", Offset: 76, Size: 4, RelLoc: true},
		{Name: "name", Decl: "const char * name", Type: "const char *", Offset: 80, Size: 8, Pointer: true},
		{Name: "ptr", Decl: "const void *const ptr", Type: "const void *const", Offset: 88, Size: 8, Pointer: true},
		{Name: "iocbpp", Decl: "struct iocb * * iocbpp", Type: "struct iocb * *", Offset: 96, Size: 8, Pointer: true},
		{Name: "cpumask", Decl: "__data_loc cpumask_t cpumask", Type: "__data_loc cpumask_t", Offset: 104, Size: 4, DataLoc: true},
		{Name: "rule", Decl: "const enum landlock_rule_type rule", Type: "const enum landlock_rule_type", Offset: 108, Size: 4, Enum: "landlock_rule_type"},
		{Name: "fsid", Decl: "u8 fsid[0x10]", Type: "u8", Offset: 112, Size: 16, ArrayLen: 16},
		{Name: "name2", Decl: "char name2[LEN]", Type: "char", Offset: 128, Size: 16},
	}
	for _, want := range tests {
		got := f.Field(want.Name)
		if got == nil {
			t.Errorf("no field %s", want.Name)
			continue
		}
		if *got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", want.Name, *got, want)
		}
	}
	if f.PrintFmt != "\"a=%s\nb\", REC->prev_comm" {
		t.Errorf("multi-line print fmt = %q", f.PrintFmt)
	}
}

func TestParseFormatTables(t *testing.T) {
	pf := `"prev_state=%s%s x=%s y=%s z=%s w=%s", (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }) : "R", "", ` +
		`__print_symbolic(REC->err, { -9ULL, "EBADF" }, { (1u << 5), "BIT5" }, { TCP_LISTEN, "LISTEN" }, { ( int) (( __kernel_rwf_t)0x00000004), "CAST" }, { 3, "dup" }, { 3, "DUPLICATE" }), ` +
		`__print_symbolic((((REC->ioprio) >> 13) & (8 - 1)), { 0, "NONE" }), ` +
		`__print_flags_u64(REC->big, "", { 0x8000000000000000ULL, "TOP" }), ` +
		`__print_symbolic(REC->s, { 1, "a \"quoted\", comma" }), ` +
		`__print_flags(REC->prev_state, "|", { 0x00000001, "S" }, { 0x00000004, "T" })`
	syms, flags := parsePrintTables(pf)
	wantSyms := map[string]map[int64]string{
		"err": {-9: "EBADF", 32: "BIT5", 4: "CAST", 3: "dup"},
		"s":   {1: `a "quoted", comma`},
	}
	if !reflect.DeepEqual(syms, wantSyms) {
		t.Errorf("symbols = %#v\nwant      %#v", syms, wantSyms)
	}
	wantFlags := map[string]FlagTable{
		"prev_state": {Delim: "|", Flags: []Flag{{1, "S"}, {2, "D"}, {4, "T"}}},
		"big":        {Delim: "", Flags: []Flag{{1 << 63, "TOP"}}},
	}
	if !reflect.DeepEqual(flags, wantFlags) {
		t.Errorf("flags = %#v\nwant    %#v", flags, wantFlags)
	}
}

// TestSymbolsOnlyForEnumFields: a __print_symbolic table names the values
// of a field declared as an enum; over a field declared as an integer it
// is left out, since such a field prints as a number.
func TestSymbolsOnlyForEnumFields(t *testing.T) {
	const head = "ID: 9\nformat:\n"
	const tables = `print fmt: "%s %s", __print_symbolic(REC->state, { 1, "ONE" }), __print_symbolic(REC->reason, { 2, "TWO" })`
	tests := []struct {
		name, fields string
		want         map[string]map[int64]string
	}{
		{"enum field keeps its table", "\tfield:enum skb_drop_reason reason;\toffset:8;\tsize:4;\tsigned:0;\n",
			map[string]map[int64]string{"reason": {2: "TWO"}}},
		{"const enum field keeps its table", "\tfield:const enum skb_drop_reason reason;\toffset:8;\tsize:4;\tsigned:0;\n",
			map[string]map[int64]string{"reason": {2: "TWO"}}},
		{"int field loses its table", "\tfield:int state;\toffset:8;\tsize:4;\tsigned:1;\n", nil},
		{"u16 field loses its table", "\tfield:__u16 state;\toffset:8;\tsize:2;\tsigned:0;\n", nil},
		{"both", "\tfield:int state;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:enum r reason;\toffset:12;\tsize:4;\tsigned:0;\n",
			map[string]map[int64]string{"reason": {2: "TWO"}}},
		{"enum pointer is no enum", "\tfield:enum r * reason;\toffset:8;\tsize:8;\tsigned:0;\n", nil},
		{"table for no field", "", nil},
	}
	for _, tt := range tests {
		f, err := ParseFormat([]byte(head + tt.fields + "\n" + tables + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(f.Symbols, tt.want) {
			t.Errorf("%s: Symbols = %v, want %v", tt.name, f.Symbols, tt.want)
		}
	}
}

func TestParseFormatErrors(t *testing.T) {
	const id = "ID: 1\n"
	tests := []struct {
		text string
		want string
	}{
		{"", "no ID line"},
		{"name: x\n", "no ID line"},
		{"ID: x\n", `line 1: bad ID "x"`},
		{"ID: 99999999999\n", `line 1: bad ID "99999999999"`},
		{"garbage\n", `line 1: unexpected "garbage"`},
		{id + "\tfield:int;\toffset:0;\tsize:4;\n", "line 2: field int has no type"},
		{id + "\tfield:int x;\toffset:a;\tsize:4;\n", `line 2: field x: bad offset "a"`},
		{id + "\tfield:int x;\toffset:0;\n", "line 2: field x lacks offset or size"},
		{id + "\tfield:int x[;\toffset:0;\tsize:4;\n", `line 2: no field name in "int x["`},
		{id + "\tfield:int x];\toffset:0;\tsize:4;\n", `line 2: unbalanced ']' in "int x]"`},
		{id + "\tfield:int x;\tfoo;\n", `line 2: malformed field attribute "foo"`},
		{id + "\tfield:;\toffset:0;\tsize:4;\n", `line 2: no field name in ""`},
		{id + "\toffset:0;\tsize:4;\n", `line 2: unexpected "offset:0;\tsize:4;"`},
		{id + "\tfield:int x;\tsize:4;\tsigned:z;\n", `line 2: field x: bad signed "z"`},
	}
	for _, tt := range tests {
		_, err := ParseFormat([]byte(tt.text))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseFormat(%q) error = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestEvalConst(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"3", 3, true},
		{"0x1f", 31, true},
		{"010", 8, true},
		{"0b101", 5, true},
		{"-9ULL", ^uint64(8), true},
		{"(1u << 5)", 32, true},
		{"(1ULL << 63)", 1 << 63, true},
		{"0x1 | 0x2 | 0x4", 7, true},
		{"((((0x0 | 0x1 | 0x2) + 1) << 1) - 1)", 7, true},
		{"2 + 3 * 4", 14, true},
		{"(2 + 3) * 4", 20, true},
		{"~0 & 0xff", 255, true},
		{"!0", 1, true},
		{"10 / 3 % 2", 1, true},
		{"1 ^ 3", 2, true},
		{"16 >> 2", 4, true},
		{"1 << 64", 0, true},
		{"'A'", 65, true},
		{`'\n'`, 10, true},
		{"( int) (( __kernel_rwf_t)0x00000004)", 4, true},
		{"(unsigned char)0x1ff", 0xff, true},
		{"(int)0xffffffff", ^uint64(0), true},
		{"(u16)-1", 0xffff, true},
		{"(void *)16", 16, true},
		{"TCP_LISTEN", 0, false},
		{"(1 << BTRFS_ORDERED_IO_DONE)", 0, false},
		{"(FOO) + 1", 0, false},
		{"1 / 0", 0, false},
		{"1 % 0", 0, false},
		{"(1", 0, false},
		{"1 && 2", 0, false},
		{"", 0, false},
		{"1 2", 0, false},
		{"0x", 0, false},
		{"99999999999999999999999", 0, false},
		{strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500), 0, false},
	}
	for _, tt := range tests {
		got, ok := evalConst(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("evalConst(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTracepointFormatMissing(t *testing.T) {
	requireRoot(t)
	for _, tc := range [][2]string{{"skb", "kfree_sbk"}, {"nosuchsystem", "x"}, {"..", "skb"}, {"skb/../skb", "kfree_skb"}, {"", "x"}} {
		_, err := TracepointFormat(tc[0], tc[1])
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s:%s: err = %v, want ErrNotExist", tc[0], tc[1], err)
			continue
		}
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Kind != "tracepoint" || nf.Name != tc[0]+":"+tc[1] {
			t.Errorf("%s:%s: err = %#v", tc[0], tc[1], err)
		}
		if want := "tracepoint " + tc[0] + ":" + tc[1] + " not found"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
}

var (
	kernelSpecOnce sync.Once
	kernelSpec     *btf.Spec
	kernelSpecErr  error
)

// cilium/ebpf's BTF decoder is the independent source the raw reader and
// the format parser are checked against.
func loadKernelSpec(t *testing.T) *btf.Spec {
	t.Helper()
	kernelSpecOnce.Do(func() { kernelSpec, kernelSpecErr = btf.LoadKernelSpec() })
	if kernelSpecErr != nil {
		t.Fatal(kernelSpecErr)
	}
	return kernelSpec
}

// TestTracepointFormatKfreeSkb checks the live skb:kfree_skb format
// against BTF: field offsets and sizes against struct
// trace_event_raw_kfree_skb, and the reason symbol table against enum
// skb_drop_reason.
func TestTracepointFormatKfreeSkb(t *testing.T) {
	requireRoot(t)
	f, err := TracepointFormat("skb", "kfree_skb")
	if err != nil {
		t.Fatal(err)
	}
	if f.System != "skb" || f.Name != "kfree_skb" {
		t.Errorf("System/Name = %q/%q", f.System, f.Name)
	}
	root, _ := Tracefs()
	idText, err := os.ReadFile(filepath.Join(root, "events/skb/kfree_skb/id"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(idText)); got != strconv.FormatUint(uint64(f.ID), 10) {
		t.Errorf("ID %d, events/skb/kfree_skb/id says %s", f.ID, got)
	}
	again, _ := TracepointFormat("skb", "kfree_skb")
	if again != f {
		t.Error("format not cached")
	}

	// inet_sock_set_state's print fmt has tables for oldstate, newstate
	// (int), family and protocol (__u16): integers, so none is kept.
	sock, err := TracepointFormat("sock", "inet_sock_set_state")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sock.PrintFmt, "__print_symbolic(REC->oldstate") || sock.Field("oldstate").Type != "int" {
		t.Fatalf("sock:inet_sock_set_state is not as expected: oldstate %+v, print fmt %q", sock.Field("oldstate"), sock.PrintFmt)
	}
	if sock.Symbols != nil {
		t.Errorf("sock:inet_sock_set_state: Symbols = %v, want none", sock.Symbols)
	}

	spec := loadKernelSpec(t)
	var raw *btf.Struct
	if err := spec.TypeByName("trace_event_raw_kfree_skb", &raw); err != nil {
		t.Fatal(err)
	}
	if !checkAgainstBTF(t, f, raw) {
		t.Error("kfree_skb fields do not match BTF")
	}
	reason := f.Field("reason")
	if reason == nil || reason.Enum != "skb_drop_reason" || reason.Size != 4 {
		t.Fatalf("reason field = %+v", reason)
	}

	var enum *btf.Enum
	if err := spec.TypeByName("skb_drop_reason", &enum); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, v := range enum.Values {
		name, ok := strings.CutPrefix(v.Name, "SKB_DROP_REASON_")
		if !ok {
			continue
		}
		got, ok := f.SymbolName("reason", int64(v.Value))
		if !ok {
			continue // the table may omit internal values
		}
		if got != name {
			t.Errorf("reason %d: table says %q, BTF enum says %q", v.Value, got, name)
		}
		checked++
	}
	if checked < 10 || checked < len(f.Symbols["reason"])-1 {
		t.Errorf("only %d of %d table entries matched enum values", checked, len(f.Symbols["reason"]))
	}
	if got, ok := f.SymbolName("reason", enumValue(t, enum, "SKB_DROP_REASON_NO_SOCKET")); !ok || got != "NO_SOCKET" {
		t.Errorf("NO_SOCKET not decoded: %q %v", got, ok)
	}
}

func enumValue(t *testing.T, e *btf.Enum, name string) int64 {
	for _, v := range e.Values {
		if v.Name == name {
			return int64(v.Value)
		}
	}
	t.Fatalf("enum %s has no %s", e.Name, name)
	return 0
}

// checkAgainstBTF compares every field of f with the trace_event_raw
// struct the kernel builds the record from. It reports false (without
// failing) when the struct's members are not exactly f's fields, which
// happens when an event shares its name with an unrelated class.
func checkAgainstBTF(t *testing.T, f *Format, raw *btf.Struct) bool {
	t.Helper()
	members := map[string]btf.Member{}
	var entry *btf.Struct
	for _, m := range raw.Members {
		if m.Name == "ent" {
			entry, _ = btf.As[*btf.Struct](m.Type)
			continue
		}
		if m.Name == "__data" {
			continue
		}
		members[strings.TrimPrefix(m.Name, "__data_loc_")] = m
	}
	if entry == nil || len(members) != len(f.EventFields()) {
		return false
	}
	for _, fl := range f.Fields {
		var m btf.Member
		var ok bool
		if fl.Common {
			for _, em := range entry.Members {
				if "common_"+em.Name == fl.Name {
					m, ok = em, true
				}
			}
		} else {
			m, ok = members[fl.Name]
		}
		if !ok {
			return false
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Errorf("%s:%s %s: %v", f.System, f.Name, fl.Name, err)
			continue
		}
		if uint32(m.Offset.Bytes()) != fl.Offset || uint32(size) != fl.Size {
			t.Errorf("%s:%s field %s: format offset %d size %d, BTF offset %d size %d",
				f.System, f.Name, fl.Name, fl.Offset, fl.Size, m.Offset.Bytes(), size)
		}
	}
	return true
}

// TestAllFormatsAgainstBTF parses every tracepoint on this machine and,
// for every event with a trace_event_raw_<event> struct in BTF,
// cross-checks offsets and sizes.
func TestAllFormatsAgainstBTF(t *testing.T) {
	requireRoot(t)
	names, err := Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	spec := loadKernelSpec(t)
	compared := 0
	for _, n := range names {
		sys, ev, _ := strings.Cut(n, ":")
		f, err := TracepointFormat(sys, ev)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		var raw *btf.Struct
		if spec.TypeByName("trace_event_raw_"+ev, &raw) != nil {
			continue
		}
		if checkAgainstBTF(t, f, raw) {
			compared++
		}
	}
	if compared < 100 {
		t.Errorf("only %d formats could be compared with BTF", compared)
	}
	t.Logf("%d tracepoints parsed, %d cross-checked against BTF", len(names), compared)
}

func TestTracepoints(t *testing.T) {
	requireRoot(t)
	names, err := Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(names) {
		t.Error("not sorted")
	}
	if _, found := slices.BinarySearch(names, "skb:kfree_skb"); !found {
		t.Error("skb:kfree_skb missing")
	}
	// Independent source: the event directories themselves.
	root, _ := Tracefs()
	dirs, err := filepath.Glob(filepath.Join(root, "events/*/*/format"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range dirs {
		ev := filepath.Base(filepath.Dir(d))
		sys := filepath.Base(filepath.Dir(filepath.Dir(d)))
		if sys != "ftrace" { // the tracer's own formats, not tracepoints
			want = append(want, sys+":"+ev)
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("Tracepoints() has %d names, events/ has %d", len(names), len(want))
	}
	walked, err := walkEvents(root)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(walked)
	if !slices.Equal(walked, want) {
		t.Errorf("walkEvents has %d names, events/ has %d", len(walked), len(want))
	}
}
