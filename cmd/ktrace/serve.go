package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/serve"
)

const serveUsage = `usage: ktrace serve [--script NAME=FILE.bt ...] [--scripts DIR] [--config FILE.yaml] [options]

Runs the scripts at once, each on its own, and serves their maps as metrics:
/metrics (Prometheus), /healthz, /readyz, /scripts (JSON) and
/debug/pprof/profile?seconds=N. SIGHUP reloads the scripts; SIGTERM and
SIGINT detach everything and exit 0. Listens on 127.0.0.1:9435 unless told
otherwise; another address needs --tls-cert/--tls-key or --insecure-listen.

`

func serveCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var flags serve.Flags
	flags.Register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ktrace serve: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (scripts are given with --script NAME=FILE)", fs.Arg(0))
	}
	cfg := flags.Config
	if len(cfg.Scripts) == 0 && cfg.ScriptsDir == "" && cfg.ConfigFile == "" {
		return fail("no scripts: give --script NAME=FILE.bt, --scripts DIR or --config FILE")
	}
	var handler slog.Handler
	switch flags.LogFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return fail("--log-format %q: use text or json", flags.LogFormat)
	}
	cfg.Logger = slog.New(handler)
	if flags.OTLPFlags != (serve.OTLPConfig{}) || otlpFromEnv() {
		cfg.OTLP = &flags.OTLPFlags
	}
	if err := ktrace.CheckPrivileges(); err != nil {
		fmt.Fprintln(stderr, "ktrace serve:", err)
		return 1
	}
	agent, err := serve.New(cfg)
	if err != nil {
		return fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := agent.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "ktrace serve:", err)
		return 1
	}
	for {
		select {
		case <-hup:
			cfg.Logger.Info("reloading (SIGHUP)")
			agent.Reload()
		case <-ctx.Done():
			if err := agent.Close(); err != nil && !strings.Contains(err.Error(), "context") {
				cfg.Logger.Error("closing", "error", err)
			}
			return 0
		}
	}
}

// otlpFromEnv reports whether the environment names an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, or one of a signal's), which turns OTLP
// on as --otlp-endpoint does.
func otlpFromEnv() bool {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}
