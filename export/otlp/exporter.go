package otlp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/ktrace/ktrace/metrics"
)

// The attributes of a log record.
const (
	AttrScript = "script" // the script's name
	AttrProbe  = "probe"  // the probe that printed, as the script names it
	AttrPID    = "pid"    // the process id (the kernel's tgid)
	AttrComm   = "comm"   // the thread's command name
	AttrCgroup = "cgroup" // the cgroup, when the event has one
)

// Event is one printf's output with where it came from.
type Event struct {
	// Time is when the probe fired; zero leaves the record with only the
	// time it was observed.
	Time   time.Time
	Script string
	Probe  string
	PID    int
	Comm   string
	// Cgroup is left out of the record when empty.
	Cgroup string
	// Body is the printed text. One trailing newline is dropped: a log
	// record is a line already.
	Body string
}

// Exporter sends a Source's metrics every interval and printf output as
// it comes, both over OTLP.
type Exporter struct {
	meters *sdkmetric.MeterProvider // nil without a Source
	logs   *sdklog.LoggerProvider
	logger log.Logger
}

// New starts exporting src's families (none when src is nil) as cfg
// says; Emit sends log records. Nothing is sent before the first
// interval ends, and nothing connects yet: a collector that is not up
// is retried at each export, not an error here.
func New(ctx context.Context, cfg Config, src metrics.Source) (*Exporter, error) {
	if err := checkInterval(cfg.Interval); err != nil {
		return nil, err
	}
	ep, err := parseEndpoint(cfg.Endpoint, cfg.Insecure, "")
	if err != nil {
		return nil, err
	}
	metricsTarget, err := configureSignal(metricsSignal, EnvMetricsProtocol, cfg, ep, os.Getenv)
	if err != nil {
		return nil, err
	}
	logsTarget, err := configureSignal(logsSignal, EnvLogsProtocol, cfg, ep, os.Getenv)
	if err != nil {
		return nil, err
	}
	res, err := newResource(cfg.Resource)
	if err != nil {
		return nil, err
	}

	e := &Exporter{}
	if src != nil {
		opts := []sdkmetric.PeriodicReaderOption{sdkmetric.WithProducer(NewProducer(src))}
		if cfg.Interval > 0 {
			opts = append(opts, sdkmetric.WithInterval(cfg.Interval))
		}
		e.meters = sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(&metricExporter{client: newClient(metricsTarget)}, opts...)),
		)
	}
	e.logs = sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(&logExporter{client: newClient(logsTarget)})),
	)
	e.logger = e.logs.Logger(ScopeName)
	return e, nil
}

// configureSignal resolves where and how one signal goes: its protocol,
// then the rest.
func configureSignal(sig signal, protocolEnv string, cfg Config, ep *endpoint, getenv func(string) string) (*target, error) {
	proto, err := resolveProtocol(cfg.Protocol, protocolEnv, getenv)
	if err != nil {
		return nil, err
	}
	if proto == ProtocolGRPC {
		if err := ep.forGRPC(cfg.Endpoint); err != nil {
			return nil, err
		}
	}
	return resolveTarget(sig, proto, ep, cfg.Insecure, getenv)
}

// newResource describes this agent: the defaults, then the
// environment's OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, then the
// configured attributes, each overriding the one before.
func newResource(configured map[string]string) (*resource.Resource, error) {
	defaults := []attribute.KeyValue{attribute.String("service.name", "ktrace")}
	if h := hostName(); h != "" {
		defaults = append(defaults, attribute.String("host.name", h))
	}
	env, err := resource.New(context.Background(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("otlp: resource from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME: %w", err)
	}
	res, err := resource.Merge(resource.NewSchemaless(defaults...), env)
	if err != nil {
		return nil, fmt.Errorf("otlp: resource: %w", err)
	}
	var kvs []attribute.KeyValue
	for k, v := range configured {
		if k == "" {
			return nil, fmt.Errorf("otlp: resource attribute with no name (value %q)", v)
		}
		kvs = append(kvs, attribute.String(k, v))
	}
	if res, err = resource.Merge(res, resource.NewSchemaless(kvs...)); err != nil {
		return nil, fmt.Errorf("otlp: resource: %w", err)
	}
	return res, nil
}

// Emit queues one event as a log record; a batch goes out every second
// or when it is full (the SDK's OTEL_BLRP_* variables tune both), and
// when the queue overflows the oldest records are dropped rather than
// the caller being held up. Emit is safe for concurrent use.
func (e *Exporter) Emit(ev Event) {
	var r log.Record
	if !ev.Time.IsZero() {
		r.SetTimestamp(ev.Time)
	}
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(log.SeverityInfo)
	r.SetBody(attribute.StringValue(validUTF8(strings.TrimSuffix(ev.Body, "\n"))))
	r.AddAttributes(
		attribute.String(AttrScript, validUTF8(ev.Script)),
		attribute.String(AttrProbe, validUTF8(ev.Probe)),
		attribute.Int(AttrPID, ev.PID),
		attribute.String(AttrComm, validUTF8(ev.Comm)),
	)
	if ev.Cgroup != "" {
		r.AddAttributes(attribute.String(AttrCgroup, validUTF8(ev.Cgroup)))
	}
	e.logger.Emit(context.Background(), r)
}

// Flush exports the metrics and the queued log records now.
func (e *Exporter) Flush(ctx context.Context) error {
	var err error
	if e.meters != nil {
		err = e.meters.ForceFlush(ctx)
	}
	return errors.Join(err, e.logs.ForceFlush(ctx))
}

// Shutdown exports what is left (a last collection of the metrics and
// the queued log records) and stops. Call it once, when the scripts
// stop.
func (e *Exporter) Shutdown(ctx context.Context) error {
	var err error
	if e.meters != nil {
		err = e.meters.Shutdown(ctx)
	}
	return errors.Join(err, e.logs.Shutdown(ctx))
}
