package otlp

import (
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// logsPB converts a batch of records, grouped by resource and then by
// instrumentation scope, each group in the order of its first record.
func logsPB(records []sdklog.Record) *lpb.LogsData {
	type scopeKey struct {
		name, version, schemaURL string
		attrs                    attribute.Distinct
	}
	type resourceGroup struct {
		pb     *lpb.ResourceLogs
		scopes map[scopeKey]*lpb.ScopeLogs
	}
	out := &lpb.LogsData{}
	// A LoggerProvider gives all its records the same *Resource.
	groups := map[*resource.Resource]*resourceGroup{}
	for i := range records {
		r := &records[i]
		res := r.Resource()
		g, ok := groups[res]
		if !ok {
			g = &resourceGroup{
				pb:     &lpb.ResourceLogs{Resource: resourcePB(res), SchemaUrl: schemaURL(res)},
				scopes: map[scopeKey]*lpb.ScopeLogs{},
			}
			groups[res] = g
			out.ResourceLogs = append(out.ResourceLogs, g.pb)
		}
		scope := r.InstrumentationScope()
		key := scopeKey{scope.Name, scope.Version, scope.SchemaURL, scope.Attributes.Equivalent()}
		sl, ok := g.scopes[key]
		if !ok {
			sl = &lpb.ScopeLogs{Scope: scopePB(scope), SchemaUrl: scope.SchemaURL}
			g.scopes[key] = sl
			g.pb.ScopeLogs = append(g.pb.ScopeLogs, sl)
		}
		sl.LogRecords = append(sl.LogRecords, logRecordPB(r))
	}
	return out
}

func logRecordPB(r *sdklog.Record) *lpb.LogRecord {
	pb := &lpb.LogRecord{
		TimeUnixNano:         unixNano(r.Timestamp()),
		ObservedTimeUnixNano: unixNano(r.ObservedTimestamp()),
		// The API's severities are OTLP's numbers: 1 (TRACE) to 24 (FATAL4).
		SeverityNumber:         lpb.SeverityNumber(r.Severity()),
		SeverityText:           r.SeverityText(),
		DroppedAttributesCount: uint32(r.DroppedAttributes()),
		Flags:                  uint32(r.TraceFlags()),
		EventName:              r.EventName(),
	}
	if body := r.Body(); body.Type() != attribute.EMPTY {
		pb.Body = anyValuePB(body)
	}
	if n := r.AttributesLen(); n > 0 {
		pb.Attributes = make([]*cpb.KeyValue, 0, n)
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			pb.Attributes = append(pb.Attributes, keyValuePB(kv))
			return true
		})
	}
	if id := r.TraceID(); id.IsValid() {
		pb.TraceId = id[:]
	}
	if id := r.SpanID(); id.IsValid() {
		pb.SpanId = id[:]
	}
	return pb
}
