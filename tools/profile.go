package tools

import (
	"context"
	_ "embed"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/profile.bt
var profileScript string

var profileTemplate = template.Must(template.New("profile").Parse(profileScript))

// ProfileOptions configure Profile.
type ProfileOptions struct {
	// Hz is the sampling rate on each CPU; zero means 99.
	Hz int
	// PID limits sampling to one process; zero samples every process.
	PID int
	// Duration stops sampling after this long; zero samples until ctx
	// ends.
	Duration time.Duration
	// Started, if set, is called once the probes are attached.
	Started func()
}

// ProfileScript returns the script Profile runs.
func ProfileScript(opts ProfileOptions) (string, error) {
	if opts.Hz == 0 {
		opts.Hz = 99
	}
	if opts.Hz < 0 {
		return "", fmt.Errorf("-F needs a positive rate, not %d", opts.Hz)
	}
	var b strings.Builder
	if err := profileTemplate.Execute(&b, struct{ Hz int }{opts.Hz}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Profile samples the stacks of every CPU (or of one process) and returns
// how often each was seen, as flame graph samples: the command, then the
// user frames from the outermost in, then the kernel frames, marked with
// flamegraph.KernelSuffix.
func Profile(ctx context.Context, opts ProfileOptions) ([]flamegraph.Sample, error) {
	if opts.PID < 0 {
		return nil, fmt.Errorf("-p needs a positive PID, not %d", opts.PID)
	}
	src, err := ProfileScript(opts)
	if err != nil {
		return nil, err
	}
	prog, err := ktrace.Compile("profile.bt", []byte(src), &ktrace.Options{Params: []string{strconv.Itoa(opts.PID)}})
	if err != nil {
		return nil, err
	}
	sess, err := prog.Start(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if opts.Started != nil {
		opts.Started()
	}
	var timeout <-chan time.Time
	if opts.Duration > 0 {
		t := time.NewTimer(opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	}
	if err := sess.Stop(); err != nil {
		return nil, err
	}
	m, err := sess.Map("@samples")
	if err != nil {
		return nil, err
	}
	return Samples(m), nil
}

// Samples turns a map keyed by (comm, kstack, ustack) into flame graph
// samples.
func Samples(m *output.Map) []flamegraph.Sample {
	var out []flamegraph.Sample
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		n, _ := e.Value.(uint64)
		if !ok || len(k) != 3 || n == 0 {
			continue
		}
		comm, _ := k[0].(string)
		kstack, _ := k[1].(output.Stack)
		ustack, _ := k[2].(output.Stack)
		frames := []string{comm}
		for i := len(ustack.Frames) - 1; i >= 0; i-- {
			frames = append(frames, userFrameName(ustack.Frames[i]))
		}
		for i := len(kstack.Frames) - 1; i >= 0; i-- {
			frames = append(frames, kstack.Frames[i].Name()+flamegraph.KernelSuffix)
		}
		out = append(out, flamegraph.Sample{Frames: frames, Count: n})
	}
	return out
}

// userFrameName names a user frame for a flame graph: its function, or
// the file it is in (so that unknown frames of one library merge), or
// [unknown].
func userFrameName(f output.Frame) string {
	switch {
	case f.Symbol != "":
		return f.Symbol
	case f.Module != "":
		return "[" + filepath.Base(f.Module) + "]"
	}
	return "[unknown]"
}
