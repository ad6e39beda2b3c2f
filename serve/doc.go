// Package serve is ktrace's node agent: it runs several bpftrace scripts
// at once, each compiled, loaded, attached and supervised on its own, and
// exports their maps to the engines operators already run — Prometheus
// (/metrics), OpenTelemetry (OTLP metrics and log records) and pprof
// scrapers (/debug/pprof/profile) — instead of being a fleet system of its
// own.
//
// A script that fails to compile or that the kernel rejects is reported
// (in the log, in /scripts and as ktrace_script_up 0) while the others keep
// running. Reload re-reads the set of scripts: new ones start, removed
// ones stop, changed ones are replaced — a changed script that no longer
// compiles or that the kernel refuses leaves its old version running — and
// unchanged ones are not touched. Close detaches everything; every kernel object is held by a
// file descriptor, so even a killed agent leaves nothing behind.
//
// The agent listens on 127.0.0.1:9435 by default. Any other address needs
// TLS (a certificate and key) or an explicit InsecureListen, and a bearer
// token (AuthTokenFile) can guard every endpoint but the health checks.
package serve
