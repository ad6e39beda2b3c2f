package kernel_test

import (
	"fmt"

	"github.com/ktrace/ktrace/internal/kernel"
)

// ParseFormat turns a tracefs format file into fields and symbol tables;
// TracepointFormat does the same for a live tracepoint.
func ExampleParseFormat() {
	f, err := kernel.ParseFormat([]byte(`name: kfree_skb
ID: 2310
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:void * skbaddr;	offset:8;	size:8;	signed:0;
	field:enum skb_drop_reason reason;	offset:36;	size:4;	signed:0;

print fmt: "reason: %s", __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" })
`))
	if err != nil {
		panic(err)
	}
	for _, fl := range f.EventFields() {
		fmt.Printf("%-28s offset %2d size %d\n", fl.Decl, fl.Offset, fl.Size)
	}
	name, _ := f.SymbolName("reason", 3)
	fmt.Println("reason 3 is", name)
	// Output:
	// void * skbaddr               offset  8 size 8
	// enum skb_drop_reason reason  offset 36 size 4
	// reason 3 is NO_SOCKET
}
