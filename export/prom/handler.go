package prom

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// Logger receives the errors of gathering and serving metrics; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Handler serves the metrics of g: in Prometheus's text format, or in
// OpenMetrics when the scraper asks for it. A metric that g fails to
// gather (such as two collectors giving the same series) is left out and
// logged; the rest is served, so one bad metric never fails a scrape.
func Handler(g prometheus.Gatherer, opts *HandlerOptions) http.Handler {
	log := slog.Default()
	if opts != nil && opts.Logger != nil {
		log = opts.Logger
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          errorLog{log},
	})
}

// errorLog is promhttp's Logger over slog: one record per error.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) {
	var prefix []string
	for _, x := range v {
		if err, ok := x.(error); ok {
			var multi prometheus.MultiError
			if errors.As(err, &multi) {
				for _, e := range multi {
					l.log.Error("prometheus export: " + strings.Join(append(prefix, e.Error()), " "))
				}
				return
			}
		}
		prefix = append(prefix, fmt.Sprint(x))
	}
	l.log.Error("prometheus export: " + strings.Join(prefix, " "))
}
