package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Format is the record layout of one tracepoint, as the kernel describes it
// in tracefs events/SYSTEM/EVENT/format. A Format returned by
// TracepointFormat is shared by all callers and must not be modified.
type Format struct {
	// System is the tracepoint's category ("skb"); Name its event name
	// ("kfree_skb"). Both are empty when parsed with ParseFormat from text
	// that has no "name:" line, and System is only known to
	// TracepointFormat.
	System, Name string
	// ID is the event id, used as the perf event config.
	ID uint32
	// Fields are all fields in file order, the common_ ones first.
	Fields []Field
	// PrintFmt is everything after "print fmt: ": the quoted format string
	// and its arguments, exactly as written.
	PrintFmt string
	// Symbols holds the __print_symbolic tables of PrintFmt for fields
	// declared as enums ("enum skb_drop_reason reason"), keyed by the
	// field they decode and then by value: a value of such a field has a
	// name. A table over a field of another type ("int oldstate" of
	// sock:inet_sock_set_state, "__u16 family") is left out: that field
	// is an integer, which bpftrace prints as a number, and the table
	// only says how the kernel's own trace output shows it. Only tables
	// whose argument is the field itself (REC->field, possibly masked
	// with &) are keyed; a table over a computed expression cannot decode
	// the raw field. Entries whose value is not a constant (an unexpanded
	// enum name) are left out. Negative values appear as themselves
	// (int64), 64-bit masks as their two's complement.
	Symbols map[string]map[int64]string
	// Flags holds the __print_flags tables of PrintFmt, keyed like
	// Symbols, each in print order.
	Flags map[string]FlagTable
}

// FlagTable is one __print_flags table: the names of bits of a field, and
// the delimiter the kernel prints between them.
type FlagTable struct {
	Delim string
	Flags []Flag
}

// Flag is one entry of a __print_flags table.
type Flag struct {
	Value uint64
	Name  string
}

// Field is one field of a tracepoint record.
type Field struct {
	// Name is the field name, e.g. "comm".
	Name string
	// Decl is the declaration exactly as written, e.g. "char comm[16]",
	// "__data_loc char[] name", "void * skbaddr"; what `bpftrace -lv` shows.
	Decl string
	// Type is the declaration without the name and array length:
	// "char", "__data_loc char[]", "void *", "enum skb_drop_reason".
	Type string
	// Offset and Size are in bytes from the start of the record.
	Offset, Size uint32
	// Signed is the kernel's "signed:" flag.
	Signed bool
	// Common is true for the common_ header fields every event carries.
	Common bool
	// ArrayLen is N for a fixed array "T name[N]", 0 for anything else
	// (including an array whose length is not a plain number).
	ArrayLen uint32
	// DataLoc is true for "__data_loc T[] name": the field is a 32-bit
	// word, length<<16 | offset, locating variable-length data (usually a
	// string) inside the record; the offset counts from the record start.
	DataLoc bool
	// RelLoc is like DataLoc ("__rel_loc") but the offset counts from the
	// end of this field.
	RelLoc bool
	// Pointer is true when the field holds a pointer (the type has a '*').
	Pointer bool
	// Enum is the enum's name when the type is "enum NAME", else "".
	Enum string
}

// Field returns the field called name, or nil.
func (f *Format) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// EventFields returns the fields after the common_ header, the ones a
// script usually means by args.
func (f *Format) EventFields() []Field {
	var out []Field
	for _, fl := range f.Fields {
		if !fl.Common {
			out = append(out, fl)
		}
	}
	return out
}

// SymbolName returns the name __print_symbolic prints for value in field,
// e.g. SymbolName("reason", 3) == "NO_SOCKET" for skb:kfree_skb.
func (f *Format) SymbolName(field string, value int64) (string, bool) {
	name, ok := f.Symbols[field][value]
	return name, ok
}

var formatCache sync.Map // "system:event" → *Format

// TracepointFormat reads and parses the format of tracepoint system:event,
// mounting tracefs first if needed. Results are cached for the life of the
// process.
//
// A tracepoint that does not exist gives a *NotFoundError (which matches
// os.ErrNotExist), so callers can tell "no such tracepoint" from "cannot
// read tracefs".
func TracepointFormat(system, event string) (*Format, error) {
	key := system + ":" + event
	if f, ok := formatCache.Load(key); ok {
		return f.(*Format), nil
	}
	if !validEventName(system) || !validEventName(event) {
		return nil, &NotFoundError{Kind: "tracepoint", Name: key}
	}
	root, err := Tracefs()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, "events", system, event, "format")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotFoundError{Kind: "tracepoint", Name: key}
	}
	if err != nil {
		return nil, MissingPrivilege("reading "+path, err)
	}
	f, err := ParseFormat(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.System = system
	if f.Name == "" {
		f.Name = event
	}
	actual, _ := formatCache.LoadOrStore(key, f)
	return actual.(*Format), nil
}

// validEventName rejects names that could escape the events directory;
// real system and event names are C identifiers (plus the odd '-' or '.').
func validEventName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsAny(s, "/\x00")
}

// ParseFormat parses the text of a tracefs format file. It never panics;
// malformed input gives an error naming the offending line.
func ParseFormat(text []byte) (*Format, error) {
	f := &Format{}
	sawID := false
	lineNo := 0
	for len(text) > 0 {
		raw := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			raw, text = text[:i+1], text[i+1:]
		} else {
			text = nil
		}
		lineNo++
		line := strings.TrimSpace(string(raw))
		if strings.HasPrefix(line, "print fmt:") {
			// The print fmt is the last item and may span lines: format
			// strings can hold raw newlines.
			all := string(raw) + string(text)
			_, after, _ := strings.Cut(all, "print fmt:")
			f.PrintFmt = strings.TrimSpace(after)
			break
		}
		switch {
		case line == "", line == "format:":
		case strings.HasPrefix(line, "name:"):
			f.Name = strings.TrimSpace(line[len("name:"):])
		case strings.HasPrefix(line, "ID:"):
			v := strings.TrimSpace(line[len("ID:"):])
			id, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad ID %q", lineNo, truncate(v, 20))
			}
			f.ID = uint32(id)
			sawID = true
		case strings.HasPrefix(line, "field:"):
			fl, err := parseFieldLine(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			f.Fields = append(f.Fields, fl)
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", lineNo, truncate(line, 40))
		}
	}
	if !sawID {
		return nil, errors.New("no ID line")
	}
	f.Symbols, f.Flags = parsePrintTables(f.PrintFmt)
	f.Symbols = enumTables(f.Symbols, f.Fields)
	return f, nil
}

// enumTables keeps the tables of the fields declared as enums (see
// Format.Symbols); it returns nil when none is left.
func enumTables(tables map[string]map[int64]string, fields []Field) map[string]map[int64]string {
	var kept map[string]map[int64]string
	for _, fl := range fields {
		if t := tables[fl.Name]; t != nil && fl.Enum != "" {
			if kept == nil {
				kept = map[string]map[int64]string{}
			}
			kept[fl.Name] = t
		}
	}
	return kept
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseFieldLine parses
//
//	field:unsigned long args[6];	offset:16;	size:48;	signed:0;
func parseFieldLine(line string) (Field, error) {
	var fl Field
	var haveOff, haveSize bool
	for part := range strings.SplitSeq(line, ";") {
		part = strings.TrimSpace(part)
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			if part == "" {
				continue
			}
			return fl, fmt.Errorf("malformed field attribute %q", truncate(part, 40))
		}
		switch key {
		case "field":
			if err := parseFieldDecl(strings.TrimSpace(val), &fl); err != nil {
				return fl, err
			}
		case "offset", "size", "signed":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return fl, fmt.Errorf("field %s: bad %s %q", fl.Name, key, truncate(val, 20))
			}
			switch key {
			case "offset":
				fl.Offset, haveOff = uint32(n), true
			case "size":
				fl.Size, haveSize = uint32(n), true
			case "signed":
				fl.Signed = n != 0
			}
		default:
			// Newer kernels may add attributes; ignoring them is safe.
		}
	}
	if fl.Name == "" {
		return fl, errors.New("field without a name")
	}
	if !haveOff || !haveSize {
		return fl, fmt.Errorf("field %s lacks offset or size", fl.Name)
	}
	return fl, nil
}

// parseFieldDecl splits a C declaration like "const char * filename" or
// "char comm[16]" or "__data_loc char[] name" into its parts.
func parseFieldDecl(decl string, fl *Field) error {
	fl.Decl = decl
	rest := decl
	// A trailing "[N]" belongs to the name (C puts array bounds after the
	// declarator), unlike the "[]" of __data_loc types which precedes it.
	if strings.HasSuffix(rest, "]") {
		open := strings.LastIndexByte(rest, '[')
		if open < 0 {
			return fmt.Errorf("unbalanced ']' in %q", truncate(decl, 40))
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(rest[open+1:len(rest)-1]), 0, 32); err == nil {
			fl.ArrayLen = uint32(n)
		}
		rest = strings.TrimSpace(rest[:open])
	}
	end := len(rest)
	start := end
	for start > 0 && isIdentChar(rest[start-1]) {
		start--
	}
	if start == end {
		return fmt.Errorf("no field name in %q", truncate(decl, 40))
	}
	fl.Name = rest[start:end]
	fl.Type = strings.TrimSpace(rest[:start])
	if fl.Type == "" {
		return fmt.Errorf("field %s has no type", fl.Name)
	}
	fl.Common = strings.HasPrefix(fl.Name, "common_")
	switch {
	case strings.HasPrefix(fl.Type, "__data_loc "):
		fl.DataLoc = true
	case strings.HasPrefix(fl.Type, "__rel_loc "):
		fl.RelLoc = true
	}
	fl.Pointer = !fl.DataLoc && !fl.RelLoc && strings.Contains(fl.Type, "*")
	base := strings.TrimPrefix(fl.Type, "const ")
	if name, ok := strings.CutPrefix(base, "enum "); ok && !fl.Pointer {
		fl.Enum, _, _ = strings.Cut(strings.TrimSpace(name), " ")
	}
	return nil
}

// parsePrintTables finds every __print_symbolic and __print_flags call in a
// print fmt and turns the ones over a plain field into lookup tables.
func parsePrintTables(pf string) (map[string]map[int64]string, map[string]FlagTable) {
	var syms map[string]map[int64]string
	var flags map[string]FlagTable
	for i := 0; i < len(pf); {
		c := pf[i]
		if c == '"' {
			i = skipString(pf, i)
			continue
		}
		if !isIdentChar(c) {
			i++
			continue
		}
		start := i
		for i < len(pf) && isIdentChar(pf[i]) {
			i++
		}
		fn := pf[start:i]
		isSym := fn == "__print_symbolic" || fn == "__print_symbolic_u64"
		isFlags := fn == "__print_flags" || fn == "__print_flags_u64"
		if !isSym && !isFlags {
			continue
		}
		j := i
		for j < len(pf) && pf[j] == ' ' {
			j++
		}
		if j >= len(pf) || pf[j] != '(' {
			continue
		}
		args, _ := splitArgs(pf, j)
		if args == nil {
			// Unbalanced; nothing after this can be trusted.
			break
		}
		// Continue inside the call rather than after it: an argument may
		// itself contain a nested table (rare, but cheap to allow).
		i = j + 1
		if len(args) < 1 {
			continue
		}
		field := tableField(args[0])
		if field == "" {
			continue
		}
		entries := args[1:]
		delim := ""
		if isFlags {
			if len(entries) == 0 {
				continue
			}
			d, ok := unquoteC(strings.TrimSpace(entries[0]))
			if !ok {
				continue
			}
			delim, entries = d, entries[1:]
		}
		for _, e := range entries {
			v, name, ok := parseTableEntry(e)
			if !ok {
				continue
			}
			if isSym {
				if syms == nil {
					syms = map[string]map[int64]string{}
				}
				if syms[field] == nil {
					syms[field] = map[int64]string{}
				}
				if _, dup := syms[field][int64(v)]; !dup {
					syms[field][int64(v)] = name
				}
			} else {
				if flags == nil {
					flags = map[string]FlagTable{}
				}
				t := flags[field]
				t.Delim = delim
				t.Flags = append(t.Flags, Flag{Value: v, Name: name})
				flags[field] = t
			}
		}
	}
	for k, t := range flags {
		// The same field may be decoded by more than one call; keep each
		// flag once, in first-seen order.
		seen := map[Flag]bool{}
		t.Flags = slices.DeleteFunc(t.Flags, func(f Flag) bool {
			dup := seen[f]
			seen[f] = true
			return dup
		})
		flags[k] = t
	}
	return syms, flags
}

// skipString returns the index just past the C string literal at s[i].
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// splitArgs splits the parenthesised argument list starting at s[open]
// ('(') into its top-level comma-separated arguments. It returns nil if the
// list is not closed.
func splitArgs(s string, open int) ([]string, int) {
	var args []string
	depth := 0
	start := open + 1
	for i := open; i < len(s); {
		switch s[i] {
		case '"':
			i = skipString(s, i)
			continue
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
			if depth == 0 {
				if a := strings.TrimSpace(s[start:i]); a != "" || len(args) > 0 {
					args = append(args, a)
				}
				if args == nil {
					args = []string{}
				}
				return args, i + 1
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
		i++
	}
	return nil, len(s)
}

// tableField returns the field a table decodes when its argument is
// REC->field, optionally in parentheses and optionally masked
// ("REC->prev_state & (...)"); otherwise "".
func tableField(arg string) string {
	arg = stripParens(strings.TrimSpace(arg))
	rest, ok := strings.CutPrefix(arg, "REC->")
	if !ok {
		return ""
	}
	n := 0
	for n < len(rest) && isIdentChar(rest[n]) {
		n++
	}
	name, tail := rest[:n], strings.TrimSpace(rest[n:])
	if name == "" {
		return ""
	}
	if tail == "" || (tail[0] == '&' && !strings.HasPrefix(tail, "&&") && !strings.Contains(tail, "REC->")) {
		return name
	}
	return ""
}

// stripParens removes parentheses that enclose the whole expression.
func stripParens(s string) string {
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		if _, end := splitArgs(s, 0); end != len(s) {
			return s
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// parseTableEntry parses `{ 3, "NO_SOCKET" }`.
func parseTableEntry(e string) (uint64, string, bool) {
	e = strings.TrimSpace(e)
	if len(e) < 2 || e[0] != '{' || e[len(e)-1] != '}' {
		return 0, "", false
	}
	parts, _ := splitArgs("("+e[1:len(e)-1]+")", 0)
	if len(parts) != 2 {
		return 0, "", false
	}
	v, ok := evalConst(parts[0])
	if !ok {
		return 0, "", false
	}
	name, ok := unquoteC(parts[1])
	if !ok {
		return 0, "", false
	}
	return v, name, true
}

// unquoteC decodes a C string literal with the few escapes kernels use.
func unquoteC(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), true
}

var tracepointList struct {
	mu    sync.Mutex
	names []string
}

// TracepointEvents returns the event names of every tracepoint, without
// their systems, sorted and unique: the raw tracepoints a kernel without
// BTF is known to have.
func TracepointEvents() ([]string, error) {
	tps, err := Tracepoints()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, tp := range tps {
		_, ev, _ := strings.Cut(tp, ":")
		names = append(names, ev)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Tracepoints returns every tracepoint as "system:event", sorted. The list
// is read once per process (from available_events, or by walking events/
// when that file is unreadable) and shared: callers must not modify it.
func Tracepoints() ([]string, error) {
	tracepointList.mu.Lock()
	defer tracepointList.mu.Unlock()
	if tracepointList.names != nil {
		return tracepointList.names, nil
	}
	root, err := Tracefs()
	if err != nil {
		return nil, err
	}
	names, err := readAvailableEvents(root)
	if err != nil {
		names, err = walkEvents(root)
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	tracepointList.names = names
	return names, nil
}

func readAvailableEvents(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "available_events"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, bytes.Count(data, []byte{'\n'}))
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if bytes.IndexByte(line, ':') > 0 {
			names = append(names, string(line))
		}
	}
	return names, nil
}

func walkEvents(root string) ([]string, error) {
	dir := filepath.Join(root, "events")
	systems, err := os.ReadDir(dir)
	if err != nil {
		return nil, MissingPrivilege("listing "+dir, err)
	}
	var names []string
	for _, s := range systems {
		// events/ftrace holds the tracer's own record formats (function,
		// print, ...), which are not tracepoints and cannot be attached to;
		// available_events leaves them out too.
		if !s.IsDir() || s.Name() == "ftrace" {
			continue
		}
		events, err := os.ReadDir(filepath.Join(dir, s.Name()))
		if err != nil {
			continue
		}
		for _, e := range events {
			if e.IsDir() {
				names = append(names, s.Name()+":"+e.Name())
			}
		}
	}
	return names, nil
}
