// Package flamegraph turns sampled stacks into flame graphs: folded
// stacks ("comm;outer;inner 12", one line per distinct stack, the format
// of Brendan Gregg's FlameGraph tools) and a self-contained interactive
// SVG. The SVG needs nothing but a browser: frames are rectangles whose
// widths are their share of the samples, with the full name and counts in
// a tooltip, names cut to fit, click-to-zoom and a regular-expression
// search in a few lines of inline JavaScript.
package flamegraph

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Sample is one distinct stack and how often it was seen.
type Sample struct {
	// Frames are the frames outermost first: for a profile, the command,
	// then the user frames from main down, then the kernel frames.
	Frames []string
	Count  uint64
}

// frameReplacer keeps frame names on one line and free of separators.
var frameReplacer = strings.NewReplacer(";", ":", "\n", " ")

// WriteFolded writes samples as folded stacks, one line per distinct
// stack: the frames joined by ';', a space and the count, sorted by
// stack. Samples with the same frames (say, the same functions at
// different offsets) add up. Semicolons in frame names become ':' so
// that the line parses back.
func WriteFolded(w io.Writer, samples []Sample) error {
	counts := map[string]uint64{}
	for _, s := range samples {
		if s.Count == 0 {
			continue
		}
		names := make([]string, len(s.Frames))
		for i, f := range s.Frames {
			names[i] = frameReplacer.Replace(f)
		}
		counts[strings.Join(names, ";")] += s.Count
	}
	stacks := make([]string, 0, len(counts))
	for s := range counts {
		stacks = append(stacks, s)
	}
	slices.Sort(stacks)
	bw := bufio.NewWriter(w)
	for _, s := range stacks {
		bw.WriteString(s)
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatUint(counts[s], 10))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ParseFolded reads folded stacks. Lines with the same stack add up;
// blank lines and lines without a count are errors.
func ParseFolded(r io.Reader) ([]Sample, error) {
	var out []Sample
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("line %d: no count: %q", n, line)
		}
		count, err := strconv.ParseUint(line[i+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad count %q", n, line[i+1:])
		}
		stack := line[:i]
		if j, ok := index[stack]; ok {
			out[j].Count += count
			continue
		}
		index[stack] = len(out)
		var frames []string
		if stack != "" {
			frames = strings.Split(stack, ";")
		}
		out = append(out, Sample{Frames: frames, Count: count})
	}
	return out, sc.Err()
}

// node is a frame in the merged call tree.
type node struct {
	name     string
	count    uint64 // samples in this frame and below
	children []*node
	index    map[string]*node
}

func (n *node) child(name string) *node {
	if c := n.index[name]; c != nil {
		return c
	}
	if n.index == nil {
		n.index = map[string]*node{}
	}
	c := &node{name: name}
	n.index[name] = c
	n.children = append(n.children, c)
	return c
}

// tree merges samples into a call tree under a root called "all";
// children are sorted by name, as flame graphs order them.
func tree(samples []Sample) (*node, int) {
	root := &node{name: "all"}
	depth := 0
	for _, s := range samples {
		root.count += s.Count
		n := root
		for _, f := range s.Frames {
			n = n.child(f)
			n.count += s.Count
		}
		depth = max(depth, len(s.Frames))
	}
	var sortTree func(n *node)
	sortTree = func(n *node) {
		slices.SortFunc(n.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
		for _, c := range n.children {
			sortTree(c)
		}
	}
	sortTree(root)
	return root, depth
}
