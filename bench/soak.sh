#!/usr/bin/env bash
# Soak test (issue 14; not in CI): a syscount-like aggregation, a printf
# stream and interval prints under a steady getppid() load, through the
# public Go API, for MINUTES (default 30), then a 5 s SIGSTOP and a SIGKILL.
# Checks that RSS, goroutines and fds stay flat after the first minute, that
# every event is delivered or counted lost, that a stopped tracer counts and
# reports its loss and resumes, and that after SIGKILL no BPF program, map
# or link of the tracer remains. See bench/soak/main.go.
# Usage: sudo bench/soak.sh [MINUTES] [FLAGS]   (1-2 minutes for a quick check;
#   FLAGS go to the soak program: -rate, -stop, -keep, ...; -h lists them)
# Prints a Markdown summary on stdout, progress on stderr; exits 1 if a
# check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=30
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
	minutes=$1
	shift
fi
command -v bpftool >/dev/null || { echo "soak: bpftool is missing (apt-get install bpftool)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/soak" ./bench/soak
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
"$work/soak" -minutes "$minutes" "$@"
