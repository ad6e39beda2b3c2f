package kernel

import (
	"fmt"
	"os"
)

// NotFoundError reports that something ktrace looked for (a tracepoint, a
// kernel symbol, a BTF struct or member) does not exist on this kernel.
//
// It matches os.ErrNotExist with errors.Is, so callers that only care about
// "missing" need not know the type; callers that want to suggest
// alternatives can use errors.As to learn what was missing.
type NotFoundError struct {
	// Kind is what was looked for, e.g. "tracepoint", "kernel symbol",
	// "BTF struct", "member".
	Kind string
	// Name is the name that was looked for, e.g. "skb:kfree_skb".
	Name string
	// Where optionally says where the lookup happened, e.g. "struct
	// task_struct" for a missing member; empty when it adds nothing.
	Where string
}

// Error says what was not found, e.g. "tracepoint skb:kfree_sbk not found".
func (e *NotFoundError) Error() string {
	if e.Where != "" {
		return fmt.Sprintf("%s %s not found in %s", e.Kind, e.Name, e.Where)
	}
	return fmt.Sprintf("%s %s not found", e.Kind, e.Name)
}

// Is makes errors.Is(err, os.ErrNotExist) true for a NotFoundError.
func (e *NotFoundError) Is(target error) bool { return target == os.ErrNotExist }
