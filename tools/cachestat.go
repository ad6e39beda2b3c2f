package tools

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

//go:embed scripts/cachestat.bt
var cachestatScript string

// Cachestat summarizes page cache hits and misses: BCC's cachestat.
var Cachestat = &Tool{
	Name:    "cachestat",
	Summary: "Page cache hits, misses and dirtied pages per interval, with the buffer and cache sizes",
	Description: `Prints every interval (1 second by default) the page cache's hits and
misses, the pages dirtied, the hit ratio, and the size of the buffers and
the page cache (from /proc/meminfo).`,
	Caveat: func(k *Kernel) string {
		if k.FunctionProbes() {
			return ""
		}
		return cachestatCaveat
	},
	CaveatDoc: "Where the kernel has no kprobes (nor fentry): " + cachestatCaveat,
	Common:    Interval,
	Flags: []Flag{
		{Short: "T", Long: "timestamp", Kind: Bool, Help: "include a time column"},
	},
	Script: cachestatScript,
	Header: "Tracing the page cache... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if c.Interval == 0 {
			c.Interval = time.Second
		}
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		k := c.Kernel
		if k == nil {
			k = checkKernel()
		}
		pick := func(names ...string) string {
			for _, n := range names {
				if k.Function(n) {
					return n
				}
			}
			return names[0]
		}
		if k.FunctionProbes() {
			// The page functions became folio functions in 5.16-5.18.
			c.Flags["add"] = pick("filemap_add_folio", "add_to_page_cache_lru")
			c.Flags["accessed"] = pick("folio_mark_accessed", "mark_page_accessed")
			switch {
			case k.Function("folio_account_dirtied"):
				c.Flags["dirtied"] = "kprobe:folio_account_dirtied"
			case k.Function("account_page_dirtied"):
				c.Flags["dirtied"] = "kprobe:account_page_dirtied"
			case k.Tracepoint("writeback:writeback_dirty_folio"):
				c.Flags["dirtied"] = "tracepoint:writeback:writeback_dirty_folio"
			default:
				c.Flags["dirtied"] = "tracepoint:writeback:writeback_dirty_page"
			}
			return nil
		}
		c.Flags["dirtied"] = "writeback_dirty_folio"
		if !k.Tracepoint("writeback:writeback_dirty_folio") {
			c.Flags["dirtied"] = "writeback_dirty_page"
		}
		return nil
	},
	Report: reportCachestat,
	Examples: []Example{
		{"cachestat", "page cache statistics every second"},
		{"cachestat -T 5 3", "every 5 seconds, 3 times, with the time"},
	},
	Probes:    "kprobe:{filemap_add_folio,folio_mark_accessed,folio_account_dirtied,mark_buffer_dirty}; without kprobes tracepoint:filemap:mm_filemap_add_to_page_cache, tracepoint:writeback:writeback_dirty_folio",
	MinKernel: "4.7",
}

const cachestatCaveat = "no tracepoint marks a page cache access, so HITS and HITRATIO are unknown (-); " +
	"MISSES are the pages added to the cache outside write() calls, DIRTIES the folios dirtied (not BCC's mark_buffer_dirty calls)"

func reportCachestat(r *Reporter) error {
	c := r.Config
	exact := c.Kernel.FunctionProbes()
	value := func(name string) (int64, error) {
		m, err := r.Map(name)
		if err != nil {
			return 0, err
		}
		var n int64
		for _, e := range m.Entries {
			n += int64(asUint(e.Value))
		}
		return n, nil
	}
	misses, err := value("@misses")
	if err != nil {
		return err
	}
	var hits, total, dirties int64
	if exact {
		var dirtied, mbd int64
		if total, err = value("@total"); err == nil {
			if dirtied, err = value("@dirtied"); err == nil {
				mbd, err = value("@mbd")
			}
		}
		if err != nil {
			return err
		}
		// As BCC: accesses by writes and pages added by writes are
		// not reads.
		total, misses, dirties = max(total-mbd, 0), max(misses-dirtied, 0), mbd
		hits = total - misses
		if hits < 0 {
			misses, hits = total, 0
		}
	} else if dirties, err = value("@dirties"); err != nil {
		return err
	}
	buffers, cached, err := meminfo()
	if err != nil {
		return err
	}
	ratio := 0.0
	if total > 0 {
		ratio = float64(hits) / float64(total)
	}
	if c.JSON {
		hitsJSON, ratioJSON := json.RawMessage("null"), json.RawMessage("null")
		if exact {
			hitsJSON = json.RawMessage(strconv.FormatInt(hits, 10))
			ratioJSON = json.RawMessage(strconv.FormatFloat(100*ratio, 'f', 2, 64))
		}
		r.JSON(Field{"hits", hitsJSON}, Field{"misses", misses}, Field{"dirties", dirties}, Field{"hitratio", ratioJSON},
			Field{"buffers_mb", buffers / 1024}, Field{"cached_mb", cached / 1024})
		return nil
	}
	if r.Count == 1 {
		if c.Timestamp == "T" {
			fmt.Fprintf(r.Out, "%-8s ", "TIME")
		}
		fmt.Fprintf(r.Out, "%8s %8s %8s %8s %12s %10s\n", "HITS", "MISSES", "DIRTIES", "HITRATIO", "BUFFERS_MB", "CACHED_MB")
	}
	if c.Timestamp == "T" {
		fmt.Fprintf(r.Out, "%-8s ", time.Now().Format("15:04:05"))
	}
	hitsText, ratioText := "-", "-"
	if exact {
		hitsText, ratioText = strconv.FormatInt(hits, 10), fmt.Sprintf("%7.2f%%", 100*ratio)
	}
	fmt.Fprintf(r.Out, "%8s %8d %8d %8s %12d %10d\n", hitsText, misses, dirties, ratioText, buffers/1024, cached/1024)
	return nil
}

// meminfo returns the Buffers and Cached sizes of /proc/meminfo, in kB.
func meminfo() (buffers, cached uint64, err error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), ":")
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseUint(f[0], 10, 64)
		switch name {
		case "Buffers":
			buffers = n
		case "Cached":
			cached = n
		}
	}
	return buffers, cached, sc.Err()
}
