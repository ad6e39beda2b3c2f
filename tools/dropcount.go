package tools

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/dropcount.bt
var dropcountScript string

var dropcountTemplate = template.Must(template.New("dropcount").Parse(dropcountScript))

// DropcountOptions configure Dropcount.
type DropcountOptions struct {
	// Probe is "tracepoint" (default), "kprobe" or "kretprobe".
	Probe string
	// Interval between reports; zero means one second.
	Interval time.Duration
	// Count stops after this many reports; zero runs until ctx ends.
	Count int
	// PID limits counting to one process; zero counts every process.
	PID int
	// Reasons breaks the counts down by drop reason.
	Reasons bool
	// JSON prints each row as one JSON object (time, pid, comm, reason
	// with Reasons, drop_counts) instead of the text table.
	JSON bool
	// Out receives the reports.
	Out io.Writer
	// Started, if set, is called once the probes are attached.
	Started func(attachPoints int)
}

// reasonArg is the index of the drop-reason argument of each drop function.
var reasonArg = map[string]int{"sk_skb_reason_drop": 2, "kfree_skb_reason": 1}

// DropcountScript returns the script Dropcount runs, and a function naming
// drop reasons for it (nil when the script does not break down by reason).
func DropcountScript(opts DropcountOptions) (string, func(int64) string, error) {
	var data struct{ Probe, Reason string }
	var names func(int64) string
	switch opts.Probe {
	case "", "tracepoint":
		data.Probe = "tracepoint:skb:kfree_skb"
		if opts.Reasons {
			data.Reason = "args.reason"
			f, err := kernel.TracepointFormat("skb", "kfree_skb")
			if err != nil {
				return "", nil, err
			}
			names = func(v int64) string { return f.Symbols["reason"][v] }
		}
	case "kprobe", "kretprobe":
		if kerr := kernel.HaveKprobes(); kerr != nil {
			if ferr := kernel.HaveFentry(); ferr != nil {
				return "", nil, fmt.Errorf("--probe %s: this kernel has no kprobes (%v) and no fentry/fexit to fall back on (%v); use --probe tracepoint", opts.Probe, kerr, ferr)
			}
		}
		fn, err := kernel.DropFunction()
		if err != nil {
			return "", nil, fmt.Errorf("finding the kernel's drop function: %w", err)
		}
		data.Probe = opts.Probe + ":" + fn
		if opts.Reasons {
			idx, ok := reasonArg[fn]
			switch {
			case opts.Probe == "kretprobe":
				return "", nil, errors.New("--reasons needs --probe tracepoint or kprobe: a kretprobe cannot see the function's arguments")
			case !ok:
				return "", nil, fmt.Errorf("--reasons: this kernel's drop function %s has no reason argument; use --probe tracepoint", fn)
			}
			data.Reason = "arg" + strconv.Itoa(idx)
			enum, err := kernel.EnumValues("skb_drop_reason")
			if err != nil {
				return "", nil, fmt.Errorf("--reasons: reading drop reason names from BTF: %w", err)
			}
			names = func(v int64) string { return strings.TrimPrefix(enum[v], "SKB_DROP_REASON_") }
		}
	default:
		return "", nil, fmt.Errorf("unknown --probe %q: use tracepoint, kprobe or kretprobe", opts.Probe)
	}
	var b strings.Builder
	if err := dropcountTemplate.Execute(&b, data); err != nil {
		return "", nil, err
	}
	return b.String(), names, nil
}

// Dropcount counts packet drops per process and prints a PID COMM
// DROP_COUNTS table every interval, busiest first, like BCC's kfree_skb
// example. It returns when ctx ends or after opts.Count reports.
func Dropcount(ctx context.Context, opts DropcountOptions) error {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.PID < 0 {
		return fmt.Errorf("-p needs a positive PID, not %d", opts.PID)
	}
	src, names, err := DropcountScript(opts)
	if err != nil {
		return err
	}
	prog, err := ktrace.Compile("dropcount.bt", []byte(src), &ktrace.Options{Params: []string{strconv.Itoa(opts.PID)}})
	if err != nil {
		return err
	}
	sess, err := prog.Start(ctx, nil)
	if err != nil {
		return err
	}
	defer sess.Close()
	if opts.Started != nil {
		opts.Started(prog.AttachPoints())
	}
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for n := 0; opts.Count == 0 || n < opts.Count; n++ {
		select {
		case <-ctx.Done():
			// Report what the last partial interval counted.
			return report(sess, opts, names)
		case <-tick.C:
		}
		if err := report(sess, opts, names); err != nil {
			return err
		}
	}
	return nil
}

// report prints and clears the counts of one interval.
func report(sess *ktrace.Session, opts DropcountOptions, names func(int64) string) error {
	m, err := sess.TakeMap("@drops")
	if err != nil {
		return err
	}
	sort.SliceStable(m.Entries, func(i, j int) bool {
		return m.Entries[i].Value.(uint64) > m.Entries[j].Value.(uint64)
	})
	w := opts.Out
	now := time.Now().Format("15:04:05")
	if opts.JSON {
		for _, e := range m.Entries {
			k := e.Key.(output.Tuple)
			reason := ""
			if names != nil {
				reason = `,"reason":` + jsonString(reasonName(k[2], names))
			}
			fmt.Fprintf(w, `{"time":"%s","pid":%s,"comm":%s%s,"drop_counts":%d}`+"\n", now, output.Text(k[0]), jsonString(output.Text(k[1])), reason, e.Value)
		}
		return nil
	}
	fmt.Fprintln(w, now)
	if names != nil {
		fmt.Fprintf(w, "%-8s %-16s %-24s %s\n", "PID", "COMM", "REASON", "DROP_COUNTS")
	} else {
		fmt.Fprintf(w, "%-8s %-16s %s\n", "PID", "COMM", "DROP_COUNTS")
	}
	for _, e := range m.Entries {
		k := e.Key.(output.Tuple)
		if names != nil {
			fmt.Fprintf(w, "%-8s %-16s %-24s %d\n", output.Text(k[0]), output.Text(k[1]), reasonName(k[2], names), e.Value)
		} else {
			fmt.Fprintf(w, "%-8s %-16s %d\n", output.Text(k[0]), output.Text(k[1]), e.Value)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func reasonName(v any, names func(int64) string) string {
	var n int64
	switch v := v.(type) {
	case output.Enum:
		if v.Name != "" {
			return v.Name
		}
		n = v.Value
	case uint64:
		n = int64(v)
	case int64:
		n = v
	}
	if s := names(n); s != "" {
		return s
	}
	return strconv.FormatInt(n, 10)
}
