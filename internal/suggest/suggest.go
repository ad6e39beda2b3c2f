// Package suggest finds the names closest to a misspelt one, for "did you
// mean" hints in error messages.
package suggest

import (
	"fmt"
	"sort"
	"strings"
)

// Closest returns up to n candidates within a small edit distance of name,
// best first. The distance allowed grows with the name's length, so short
// names only match near-identical candidates.
func Closest(name string, candidates []string, n int) []string {
	limit := 1 + len(name)/4
	type scored struct {
		s string
		d int
	}
	var hits []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == name {
			continue
		}
		seen[c] = true
		if d := Distance(name, c); d <= limit {
			hits = append(hits, scored{c, d})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].s < hits[j].s
	})
	var out []string
	for i := 0; i < len(hits) && i < n; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

// Distance is the Damerau–Levenshtein (optimal string alignment) distance:
// insertions, deletions, substitutions and swaps of adjacent bytes each
// cost one.
func Distance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		// Names this long are not typos worth correcting.
		return 1 << 30
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Phrase formats suggestions as "'a'", "'a' or 'b'", "'a', 'b' or 'c'",
// quoting each with q (a format such as "'%s'" or "%q").
func Phrase(q string, names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf(q, n)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// Best returns the candidates at the smallest distance from name, at most n.
func Best(name string, candidates []string, n int) []string {
	all := Closest(name, candidates, len(candidates))
	if len(all) == 0 {
		return nil
	}
	d := Distance(name, all[0])
	var out []string
	for _, c := range all {
		if Distance(name, c) != d || len(out) == n {
			break
		}
		out = append(out, c)
	}
	return out
}
