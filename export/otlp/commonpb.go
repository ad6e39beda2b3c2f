package otlp

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	rpb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// This file and metricpb.go and logpb.go turn the SDK's data into OTLP's
// protobuf messages.

// unixNano is t as OTLP has times: nanoseconds since the epoch, and 0
// for unknown (the zero time, or one before the epoch, which uint64
// cannot hold).
func unixNano(t time.Time) uint64 {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint64(t.UnixNano())
}

func resourcePB(r *resource.Resource) *rpb.Resource {
	if r == nil {
		return &rpb.Resource{}
	}
	return &rpb.Resource{Attributes: keyValuesPB(r.Iter())}
}

// schemaURL is r's schema URL, none for no resource.
func schemaURL(r *resource.Resource) string {
	if r == nil {
		return ""
	}
	return r.SchemaURL()
}

func scopePB(s instrumentation.Scope) *cpb.InstrumentationScope {
	iter := s.Attributes.Iter()
	return &cpb.InstrumentationScope{Name: s.Name, Version: s.Version, Attributes: keyValuesPB(iter)}
}

func keyValuesPB(iter attribute.Iterator) []*cpb.KeyValue {
	if iter.Len() == 0 {
		return nil
	}
	out := make([]*cpb.KeyValue, 0, iter.Len())
	for iter.Next() {
		out = append(out, keyValuePB(iter.Attribute()))
	}
	return out
}

func keyValuePB(kv attribute.KeyValue) *cpb.KeyValue {
	return &cpb.KeyValue{Key: string(kv.Key), Value: anyValuePB(kv.Value)}
}

// anyValuePB converts every type of attribute value, the slices and
// maps of log bodies included; an empty value has no value set, which
// is how OTLP writes one.
func anyValuePB(v attribute.Value) *cpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &cpb.AnyValue{Value: &cpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &cpb.AnyValue{Value: &cpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &cpb.AnyValue{Value: &cpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.STRING:
		return &cpb.AnyValue{Value: &cpb.AnyValue_StringValue{StringValue: v.AsString()}}
	case attribute.BYTESLICE:
		return &cpb.AnyValue{Value: &cpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}}
	case attribute.BOOLSLICE:
		return arrayPB(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return arrayPB(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return arrayPB(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return arrayPB(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return arrayPB(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		kvs := v.AsMap()
		list := &cpb.KeyValueList{Values: make([]*cpb.KeyValue, 0, len(kvs))}
		for _, kv := range kvs {
			list.Values = append(list.Values, keyValuePB(kv))
		}
		return &cpb.AnyValue{Value: &cpb.AnyValue_KvlistValue{KvlistValue: list}}
	}
	return &cpb.AnyValue{}
}

func arrayPB[T any](elems []T, value func(T) attribute.Value) *cpb.AnyValue {
	arr := &cpb.ArrayValue{Values: make([]*cpb.AnyValue, 0, len(elems))}
	for _, e := range elems {
		arr.Values = append(arr.Values, anyValuePB(value(e)))
	}
	return &cpb.AnyValue{Value: &cpb.AnyValue_ArrayValue{ArrayValue: arr}}
}
