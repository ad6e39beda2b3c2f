package syscalls

import "sync"

// Name returns the name of system call nr ("read" for 0 on x86-64).
func Name(nr int64) (string, bool) {
	if nr < 0 || nr >= int64(len(names)) || names[nr] == "" {
		return "", false
	}
	return names[nr], true
}

var (
	numbersOnce sync.Once
	numbers     map[string]int64
)

// Number returns the number of the system call called name.
func Number(name string) (int64, bool) {
	numbersOnce.Do(func() {
		numbers = make(map[string]int64, len(names))
		for nr, n := range names {
			if n != "" {
				numbers[n] = int64(nr)
			}
		}
	})
	nr, ok := numbers[name]
	return nr, ok
}

// All calls fn for every system call of this architecture, by number.
func All(fn func(nr int64, name string)) {
	for nr, n := range names {
		if n != "" {
			fn(int64(nr), n)
		}
	}
}

// Available reports whether ktrace has a table for this architecture.
func Available() bool { return len(names) > 0 }
