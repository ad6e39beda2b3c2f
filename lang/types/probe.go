package types

import (
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/uprobe"
)

// AttachPoint is one concrete attach point after wildcard expansion.
type AttachPoint struct {
	Kind probe.Kind
	// Name is the canonical full name that the `probe` builtin returns,
	// e.g. "tracepoint:skb:kfree_skb".
	Name string
	// Target is what to attach to: "skb:kfree_skb", "vfs_read".
	Target string
	// Fields are the tracepoint's record fields (the `args` struct).
	Fields []*Field
	// UserArgs marks tracepoints whose pointer fields point into user
	// memory (the syscalls category).
	UserArgs bool
	// Spec is the attach point as parsed, with its wildcards expanded.
	Spec probe.Spec
	// User is where a uprobe, uretprobe or usdt attach point attaches in
	// its binary (file offset, USDT arguments and semaphore); nil for the
	// other kinds.
	User *uprobe.Target
	// LoadArgs, when set, types the attach point's arguments on first use
	// of args (from the function's or raw tracepoint's BTF prototype): a
	// script that never touches args does not pay for loading BTF.
	LoadArgs func() ([]*Field, error)
	// Ret is the traced function's return type (fexit, kretprobe), when
	// known from BTF; set by LoadArgs.
	Ret *Type
	// UserTypes, when set, resolves a C type name from the debug
	// information of a uprobe's binary (casts to its structs).
	UserTypes func(name string) (*Type, error)
}

// Field is one member of a probe's `args`.
type Field struct {
	Name   string
	Type   *Type
	Offset int
	// DataLoc marks a __data_loc field: a u32 holding (length << 16 | offset)
	// of a string stored later in the record.
	DataLoc bool
	// Arg, when positive, makes the field the (Arg-1)th argument of a
	// function or raw tracepoint rather than a record field: fentry and
	// raw tracepoint contexts are arrays of u64 arguments, kprobes read
	// the argument registers.
	Arg int
}

// Args types the attach point's arguments, loading them on first use.
func (a *AttachPoint) Args() ([]*Field, error) {
	if a.Fields == nil && a.LoadArgs != nil {
		fields, err := a.LoadArgs()
		if err != nil {
			return nil, err
		}
		a.Fields = fields
		a.LoadArgs = nil
	}
	return a.Fields, nil
}

// Field returns the named field, or nil.
func (a *AttachPoint) Field(name string) *Field {
	for _, f := range a.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Resolver turns the raw text of an attach point into concrete attach
// points, expanding wildcards. Errors are plain sentences; the checker
// positions them.
type Resolver interface {
	Resolve(raw string) ([]*AttachPoint, error)
}
