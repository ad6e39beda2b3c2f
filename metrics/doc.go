// Package metrics turns a running script's maps into metrics that any
// engine can take: Prometheus (package export/prom) and OpenTelemetry
// (package export/otlp) read the same Families.
//
// The model is deliberately small: a Family is one metric (one script map,
// or one of the agent's own metrics) of one Kind, and its Series are its
// label sets with their values. Engines convert it to their own types at
// collection time, so nothing polls the maps between scrapes.
package metrics
