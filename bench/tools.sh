#!/usr/bin/env bash
# ktrace's ready tools side by side with bpftrace's tools of the same
# name, in one run: per-event cost (bpf_stats run time per workload event)
# and startup (launch to attached). Prints a Markdown table
# (docs/benchmarks.md records a run).
# Usage: sudo bench/tools.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bpftrace >/dev/null || { echo "tools.sh: bpftrace is missing (apt-get install bpftrace)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/ktrace" ./cmd/ktrace
go build -o "$work/toolbench" ./bench/tools
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
"$work/toolbench" -ktrace "$work/ktrace" -rounds "${1:-5}"
