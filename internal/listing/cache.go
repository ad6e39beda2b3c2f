package listing

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"

	"github.com/ktrace/ktrace/internal/kernel"
)

// A listing reads long lists of names (55,000 BTF functions, kallsyms)
// and loads a program or two to see which kinds attach here: 20 to 80 ms
// that `ktrace -l` would pay on every run. The answers are kept on disk
// per kernel (kernel.WriteCacheFile): BTF's names cannot change until the
// kernel does, the kprobe functions until a module loads or unloads, and
// whether a kind attaches until the kernel or ktrace's privileges change.

// cachedNames returns the names compute returns, from the cache file
// list-KEY when it was written for this kernel and variant.
func cachedNames(key, variant string, compute func() ([]string, error)) ([]string, error) {
	file := "list-" + key
	if body, ok := kernel.ReadCacheFile(file, variant); ok {
		if len(body) == 0 {
			return nil, nil
		}
		return strings.Split(strings.TrimSuffix(string(body), "\n"), "\n"), nil
	}
	names, err := compute()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	kernel.WriteCacheFile(file, variant, []byte(b.String()))
	return names, nil
}

// modulesVariant identifies the loaded modules, whose functions join the
// kprobe functions.
func modulesVariant() string {
	data, err := os.ReadFile("/proc/modules")
	if err != nil {
		return "modules?"
	}
	var names strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		name, _, _ := strings.Cut(line, " ")
		names.WriteString(name + " ")
	}
	h := fnv.New64a()
	h.Write([]byte(names.String()))
	return fmt.Sprintf("modules=%x", h.Sum64())
}

// usability caches, per kind, why it does not attach here ("" when it
// does), for one set of effective capabilities.
var usability = struct {
	sync.Mutex
	loaded  bool
	reasons map[string]string
}{}

func cachedUsable(kind string, check func() error) func() error {
	return func() error {
		usability.Lock()
		defer usability.Unlock()
		caps, _ := kernel.EffectiveCapabilities()
		variant := fmt.Sprintf("caps=%x", caps)
		if !usability.loaded {
			usability.loaded = true
			usability.reasons = map[string]string{}
			if body, ok := kernel.ReadCacheFile("list-usable", variant); ok {
				for _, line := range strings.Split(string(body), "\n") {
					if k, reason, ok := strings.Cut(line, "\t"); ok {
						usability.reasons[k] = reason
					}
				}
			}
		}
		reason, known := usability.reasons[kind]
		if !known {
			if err := check(); err != nil {
				reason = strings.ReplaceAll(err.Error(), "\n", " ")
			}
			usability.reasons[kind] = reason
			var b strings.Builder
			for k, r := range usability.reasons {
				b.WriteString(k + "\t" + r + "\n")
			}
			kernel.WriteCacheFile("list-usable", variant, []byte(b.String()))
		}
		if reason != "" {
			return errors.New(reason)
		}
		return nil
	}
}
