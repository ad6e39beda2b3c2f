// Package listing answers `ktrace -l` and `-lv` the way bpftrace's probe
// listing does: which probes of which kinds the running kernel (or a
// binary) has, the arguments each passes (-v), and the C definitions of
// kernel types ('struct task_struct').
//
// A search is one or more comma-separated patterns. A pattern is
// KIND:REST, where KIND may be an alias ("k", "t") or a glob over the
// kinds ("*", "*ware"), or a bare REST, which is "*:REST"; REST matches
// each kind's names as a glob, the whole name. A pattern starting with
// "struct ", "union " or "enum " lists kernel types instead.
package listing

import (
	"fmt"
	"os"
	"strings"

	"github.com/ktrace/ktrace/lang/probe"
)

// Options tune a listing.
type Options struct {
	// PID lists the user-space probes of that process's files too, as
	// bpftrace's -l -p does.
	PID int
	// Verbose adds each probe's arguments, one "    DECLARATION" line
	// each, and prints types as C definitions.
	Verbose bool
	// Warn receives warnings about the listing (a kind asked for by name
	// that cannot be attached here); nil drops them.
	Warn func(msg string)
}

// List returns the lines that `bpftrace -l SEARCH` prints for search; an
// empty search lists every probe. Kinds are listed in name order, the
// probes of each sorted. A kind named explicitly that ktrace cannot
// attach on this kernel is still listed, with a warning; a search whose
// kind is a glob leaves such kinds out.
func List(search string, o Options) ([]string, error) {
	var out []string
	for _, pattern := range splitSearch(search) {
		var lines []string
		var err error
		if isTypeSearch(pattern) {
			lines, err = listTypes(pattern, o.Verbose)
		} else {
			lines, err = listProbes(pattern, o)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	return out, nil
}

// splitSearch splits a search at its commas and normalizes the
// whitespace of each pattern ("struct  task_struct" is "struct
// task_struct"); "" and "*" stand for every probe.
func splitSearch(search string) []string {
	var out []string
	for _, p := range strings.Split(search, ",") {
		p = strings.Join(strings.Fields(p), " ")
		if p == "" || p == "*" {
			p = "*:*"
		}
		out = append(out, p)
	}
	return out
}

func isTypeSearch(pattern string) bool {
	for _, prefix := range typeKinds {
		if strings.HasPrefix(pattern, prefix+" ") {
			return true
		}
	}
	return false
}

// listProbes lists the probes one pattern matches.
func listProbes(pattern string, o Options) ([]string, error) {
	if !strings.Contains(pattern, ":") {
		pattern = "*:" + pattern
	}
	kindPattern, rest, _ := strings.Cut(pattern, ":")
	if rest == "" {
		rest = "*"
	}
	globbed := probe.HasWildcard(kindPattern)
	var chosen []*kind
	if globbed {
		chosen = kindsMatching(kindPattern, rest, o.PID)
	} else {
		k, err := kindNamed(kindPattern)
		if err != nil {
			return nil, err
		}
		chosen = []*kind{k}
	}
	var out []string
	for _, k := range chosen {
		if k.usable != nil {
			if err := k.usable(); err != nil {
				if globbed {
					continue
				}
				if o.Warn != nil {
					o.Warn(err.Error())
				}
			}
		}
		lines, err := k.list(rest, o.Verbose, o.PID)
		if err != nil {
			if globbed {
				continue
			}
			return nil, err
		}
		if o.Verbose && k.kind == probe.Uprobe {
			lines = withUprobeParams(lines, o.Warn)
		}
		out = append(out, lines...)
	}
	return out, nil
}

// kindsMatching are the kinds a globbed kind pattern searches: those
// bpftrace lists without being named, and the user-space kinds when the
// pattern names an existing binary ("*:/bin/bash:*").
func kindsMatching(kindPattern, rest string, pid int) []*kind {
	target, _, _ := strings.Cut(rest, ":")
	_, err := os.Stat(target)
	withUser := target != "" && !probe.HasWildcard(target) && err == nil || pid > 0
	var out []*kind
	for _, k := range kinds {
		if (k.unnamed || withUser && k.user && !k.kind.IsReturn()) && probe.Match(kindPattern, k.name) {
			out = append(out, k)
		}
	}
	return out
}

// kindNamed finds a kind by its name or alias. A kind ktrace knows
// but cannot list, or does not know, is an error that says so.
func kindNamed(name string) (*kind, error) {
	want, ok := probe.KindByName(name)
	if !ok { // bpftrace takes kinds in any case ("Kprobe")
		want, ok = probe.KindByName(strings.ToLower(name))
	}
	switch strings.ToLower(name) {
	case "begin", "end":
		return nil, fmt.Errorf("listing %s probes is not supported", strings.ToUpper(name))
	}
	if ok {
		for _, k := range kinds {
			if k.kind == want {
				return k, nil
			}
		}
		return nil, fmt.Errorf("listing %s probes is not supported", want)
	}
	if _, err := probe.Parse(name + ":"); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("listing %s probes is not supported", name)
}
