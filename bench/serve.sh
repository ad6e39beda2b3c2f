#!/usr/bin/env bash
# ktrace serve as operators run it: a scrape of a map with 10,000 series
# (time and extra RSS) and the idle agent's CPU. Prints Markdown table rows
# (docs/benchmarks.md records a run). Usage: sudo bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/ktrace" ./cmd/ktrace
go build -o "$work/servebench" ./bench/serve
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
"$work/servebench" -ktrace "$work/ktrace" "$@"
