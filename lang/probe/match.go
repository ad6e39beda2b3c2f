package probe

// Match reports whether name matches a bpftrace glob pattern, where *
// matches any run of characters (including none) and ? any one character.
// Every other character matches itself.
func Match(pattern, name string) bool {
	// Iterative matching with single-star backtracking: linear in
	// practice and never exponential, unlike the naive recursion.
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(name) {
		switch {
		// The star must be tried first: a '*' in the name would otherwise
		// be matched literally against the pattern's '*'.
		case p < len(pattern) && pattern[p] == '*':
			starP, starN = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case starP >= 0:
			starN++
			p, n = starP+1, starN
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
