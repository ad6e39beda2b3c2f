package serve

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/otlptest"
)

// TestOTLP sends a script's maps and printf output to a real OTLP
// receiver (the OpenTelemetry Collector's, in this process), over both
// protocols: the counts and one log record per printf, with its script,
// probe, pid, comm and cgroup.
func TestOTLP(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			r := otlptest.Start(t)
			endpoint := r.HTTPURL
			if protocol == "grpc" {
				endpoint = r.GRPCURL()
			}
			startAgent(t, Config{
				OTLP: &OTLPConfig{Endpoint: endpoint, Protocol: protocol, Interval: 200 * time.Millisecond},
				Scripts: []ScriptConfig{{Name: "drops", Program: `tracepoint:skb:kfree_skb /comm == "drop-sender"/ {
	@drops[comm] = count();
	printf("dropped by %s\n", comm);
}`}},
			})
			const drops = 20
			sender := testutil.StartNamedDropSender(t, drops, "drop-sender")
			sender.Go(t)

			var records []otlptest.Record
			otlptest.WaitFor(t, fmt.Sprintf("%d log records", drops), func() bool {
				records = otlptest.Records(r.Logs)
				return len(records) >= drops
			})
			if len(records) != drops {
				t.Errorf("%d log records, want %d", len(records), drops)
			}
			want := fmt.Sprintf("comm=drop-sender,pid=%d,probe=tracepoint:skb:kfree_skb,script=drops", sender.PID)
			for _, rec := range records {
				attrs := rec.Attrs
				// The cgroup is the sender's, named by its path.
				if i := strings.Index(attrs, "cgroup="); i < 0 {
					t.Errorf("no cgroup attribute: %s", attrs)
				} else {
					end := strings.IndexByte(attrs[i:], ',')
					attrs = attrs[:i] + attrs[i+end+1:]
				}
				if rec.Body != "dropped by drop-sender" || attrs != want || !strings.Contains(rec.Resource, "host.name=test-node") {
					t.Errorf("log record %+v; want body %q, attributes %s (and a cgroup), host.name=test-node", rec, "dropped by drop-sender", want)
				}
			}

			otlptest.WaitFor(t, "the count of drops", func() bool {
				m, ok := otlptest.FlattenMetrics(lastMetrics(r)).Metrics["ktrace_drops_drops"]
				return ok && len(m.Points) == 1 && m.Points[0].Int == drops
			})
			batch := otlptest.LastMetrics(t, r.Metrics)
			m := batch.Metrics["ktrace_drops_drops"]
			if !m.Monotonic || m.Points[0].Attrs != "comm=drop-sender,node=test-node" {
				t.Errorf("ktrace_drops_drops: %v", m)
			}
			if up := batch.Metrics["ktrace_script_up"]; len(up.Points) != 1 || up.Points[0].Attrs != "node=test-node,script=drops" || up.Points[0].Int != 1 {
				t.Errorf("ktrace_script_up: %v", up)
			}
		})
	}
}

// lastMetrics is the last batch of metrics r received, or an empty one.
func lastMetrics(r *otlptest.Receiver) pmetric.Metrics {
	all := r.Metrics.AllMetrics()
	if len(all) == 0 {
		return pmetric.NewMetrics()
	}
	return all[len(all)-1]
}
