package serve_test

import (
	"context"
	"log"
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
	hup, stopHUP := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHUP()
	go func() {
		<-hup.Done()
		agent.Reload()
	}()
	// Prometheus scrapes http://127.0.0.1:9435/metrics meanwhile.
	if err := agent.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
