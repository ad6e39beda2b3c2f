package probe_test

import (
	"fmt"

	"github.com/ktrace/ktrace/lang/probe"
)

func ExampleParse() {
	for _, text := range []string{"t:skb:kfree_skb", "kprobe:vfs_read+16", "interval:ms:250", "tracepiont:skb:kfree_skb"} {
		spec, err := probe.Parse(text)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("%-24s type=%s wildcard=%v period=%v\n", spec, spec.Kind, spec.IsWildcard(), spec.Period())
	}
	// Output:
	// tracepoint:skb:kfree_skb type=tracepoint wildcard=false period=0s
	// kprobe:vfs_read+16       type=kprobe wildcard=false period=0s
	// interval:ms:250          type=interval wildcard=false period=250ms
	// error: unknown probe type "tracepiont"; did you mean "tracepoint"?
}
