// Package formats holds tracepoint format files captured from a real
// kernel (6.18), so front-end tests and fuzzers type-check against fixed
// layouts instead of whatever machine they run on.
package formats

import (
	"embed"
	"strings"
)

//go:embed *.format
var files embed.FS

// All returns the captured formats keyed "system:event".
func All() map[string]string {
	out := map[string]string{}
	entries, _ := files.ReadDir(".")
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".format")
		for _, sys := range []string{"raw_syscalls", "syscalls", "sched", "skb"} {
			if strings.HasPrefix(name, sys+"_") {
				out[sys+":"+strings.TrimPrefix(name, sys+"_")] = string(b)
			}
		}
	}
	return out
}
