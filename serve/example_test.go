package serve_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ktrace/ktrace/serve"
)

// An agent embedded in a Go program: one script, served on loopback
// until SIGTERM, reloaded on SIGHUP.
func Example() {
	agent, err := serve.New(serve.Config{
		Scripts: []serve.ScriptConfig{{
			Name:    "drops",
			Program: "tracepoint:skb:kfree_skb { @drops[args.reason, comm] = count(); }",
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			agent.Reload() // errors are logged; the running set stays
		}
	}()
	// Prometheus scrapes http://127.0.0.1:9435/metrics meanwhile.
	if err := agent.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
