package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace"
)

// The -c, -p, --unsafe and program options ("-- --name=value") of the
// script command; the work is done by the ktrace package.

// programArgs parses what follows "--": named parameters (--name=value,
// or a bare --name for a boolean) for getopt(), the rest positional
// parameters, as in bpftrace.
func (o *scriptOptions) programArgs(args []string) error {
	for _, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" {
			o.params = append(o.params, a)
			continue
		}
		if !hasValue {
			value = "true"
		}
		if o.named == nil {
			o.named = map[string]string{}
		}
		o.named[name] = value
	}
	return nil
}

// parsePid parses -p's argument.
func parsePid(s string) (int, error) {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || strings.TrimSpace(s) != s {
		return 0, fmt.Errorf("pid '%s' is not a valid decimal number", s)
	}
	return pid, nil
}

// checkChildOptions rejects -c with -p, as bpftrace does.
func (o *scriptOptions) checkChildOptions() error {
	if o.hasChild && o.pid != 0 {
		return errors.New("cannot use both -c and -p")
	}
	return nil
}

// startChild starts -c's command, held until the probes are attached. Its
// output goes to the terminal, not to -o's file, as in bpftrace.
func (o *scriptOptions) startChild(stdin io.Reader, stdout, stderr io.Writer) error {
	if !o.hasChild {
		return nil
	}
	if stdin == nil {
		stdin = os.Stdin
	}
	c, err := ktrace.StartChild(o.child, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	o.childProc = c
	return nil
}
