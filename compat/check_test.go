package compat

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The tools print with printf, time() and bpftrace's map printing; these
// helpers read that output for the checks in tools_test.go.

// hasLine checks that some line of out matches the regular expression.
func hasLine(out, re string) error {
	if countLines(out, re) == 0 {
		return fmt.Errorf("no line matches %q", re)
	}
	return nil
}

// countLines counts the lines of out that match the regular expression.
func countLines(out, re string) int {
	rx := regexp.MustCompile(re)
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if rx.MatchString(l) {
			n++
		}
	}
	return n
}

// bucket is one line of a printed hist() or lhist(): "[16K, 32K)  64 |@@@|".
type bucket struct {
	label string // what is between the brackets: "16K, 32K"
	lo    int64  // the bucket's lower bound, with K/M/G applied
	count int64
}

var (
	bucketLine = regexp.MustCompile(`^[\[(]([^\])]*)[\])]\s+(\d+)\s*\|`)
	mapLine    = regexp.MustCompile(`^(@[^:]*?):\s*(-?\d+)?\s*$`)
	mapStart   = regexp.MustCompile(`^@`)
)

// histograms returns the printed histograms of out by map name and key as
// printed ("@usecs", "@[dd]"); a key that spans lines (a stack) is cut
// after its first line ("@usecs[").
func histograms(out string) map[string][]bucket {
	h := map[string][]bucket{}
	name := ""
	for _, l := range strings.Split(out, "\n") {
		if mapStart.MatchString(l) {
			name = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), ":"))
			continue
		}
		m := bucketLine.FindStringSubmatch(l)
		if m == nil || name == "" {
			continue
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		b := bucket{label: m[1], count: n}
		lo, _, _ := strings.Cut(m[1], ",")
		b.lo, _ = parseSize(strings.TrimSpace(lo))
		h[name] = append(h[name], b)
	}
	return h
}

// parseSize reads a histogram bound: "16K", "1M", "-1", "...".
func parseSize(s string) (int64, bool) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err == nil
}

// samples sums the counts of the histograms whose printed name starts with
// prefix, counting only buckets whose lower bound is at least min.
func samples(hists map[string][]bucket, prefix string, min int64) int64 {
	var n int64
	for name, bs := range hists {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, b := range bs {
			if b.lo >= min {
				n += b.count
			}
		}
	}
	return n
}

// atLeastSamples checks that the histograms named by prefix hold at least
// want samples in buckets from min up.
func atLeastSamples(out, prefix string, min, want int64) error {
	h := histograms(out)
	if got := samples(h, prefix, min); got < want {
		names := make([]string, 0, len(h))
		for n := range h {
			names = append(names, n)
		}
		return fmt.Errorf("histograms %s* hold %d samples from %d up, want at least %d (histograms printed: %q)", prefix, got, min, want, names)
	}
	return nil
}

// mapValues returns the printed scalar map entries of out: "@[vfs_write]:
// 1003" gives "@[vfs_write]" → 1003. An entry printed more than once (by an
// interval probe) is summed.
func mapValues(out string) map[string]int64 {
	v := map[string]int64{}
	for _, l := range strings.Split(out, "\n") {
		m := mapLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil || m[2] == "" {
			continue
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		v[m[1]] += n
	}
	return v
}

// atLeast checks that the map entry key was printed with a total of at
// least want.
func atLeast(out, key string, want int64) error {
	if got := mapValues(out)[key]; got < want {
		return fmt.Errorf("%s totals %d, want at least %d", key, got, want)
	}
	return nil
}

// all runs the checks in order and returns the first error.
func all(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
