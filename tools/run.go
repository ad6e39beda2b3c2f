package tools

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ktrace/ktrace"
)

// Run runs tool t with its command line args: it prints the help with -h,
// the script with --script, and otherwise traces until ctx ends, the
// script exits, -d passes or the last of [interval [count]] reports is
// printed. A bad command line gives a *UsageError.
func Run(ctx context.Context, t *Tool, args []string, stdout, stderr io.Writer) error {
	c, err := t.Parse(args)
	if err != nil {
		return err
	}
	c.Kernel = NewKernel()
	switch {
	case c.Help:
		_, err := io.WriteString(stdout, t.Help(c.Kernel))
		return err
	case c.PrintScript:
		src, err := c.Script(true)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, src)
		return err
	}
	return c.Run(ctx, stdout, stderr)
}

// Header is what the tool prints on standard error once attached.
func (c *Config) Header() string {
	if c.Tool.Greeting != nil {
		return c.Tool.Greeting(c)
	}
	return c.Tool.Header
}

// Run traces with the configuration c (see the package function Run).
func (c *Config) Run(ctx context.Context, stdout, stderr io.Writer) error {
	t := c.Tool
	if c.Kernel == nil {
		c.Kernel = NewKernel()
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		return err
	}
	src, err := c.Script(false)
	if err != nil {
		return err
	}
	prog, err := ktrace.Compile(t.Name+".bt", []byte(src), nil)
	if err != nil {
		return fmt.Errorf("compiling the %s script (ktrace %s --script shows it): %w", t.Name, t.Name, err)
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var events *eventWriter
	var scriptOut io.Writer = out
	if c.events() {
		events = newEventWriter(c, stdout)
		scriptOut = events
	}
	start := time.Now()
	sess, err := prog.Start(ctx, &ktrace.StartOptions{Output: scriptOut, Errors: stderr})
	if err != nil {
		return err
	}
	defer sess.Close()
	if t.Caveat != nil {
		if s := t.Caveat(c.Kernel); s != "" {
			fmt.Fprintf(stderr, "Note: %s\n", s)
		}
	}
	if h := c.Header(); h != "" {
		fmt.Fprintln(stderr, h)
	}
	if events != nil {
		events.heading()
	}
	var deadline <-chan time.Time
	if c.Duration > 0 {
		timer := time.NewTimer(c.Duration)
		defer timer.Stop()
		deadline = timer.C
	}
	var tick <-chan time.Time
	if c.reports() && c.Interval > 0 {
		ticker := time.NewTicker(c.Interval)
		defer ticker.Stop()
		tick = ticker.C
	}
	r := &Reporter{Config: c, Session: sess, Out: out, Err: stderr, Start: start}
	report := func(final bool) error {
		r.Final = final
		r.Count++
		err := t.Report(r)
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
		return err
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sess.Done():
			break loop
		case <-deadline:
			break loop
		case <-tick:
			if err := report(false); err != nil {
				return err
			}
			if c.Count > 0 && r.Count >= c.Count {
				return sess.Stop()
			}
		}
	}
	if err := sess.Stop(); err != nil {
		return err
	}
	if c.reports() {
		if err := report(true); err != nil {
			return err
		}
	}
	if events != nil && events.err != nil {
		return events.err
	}
	return sess.Err()
}
