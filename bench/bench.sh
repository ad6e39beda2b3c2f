#!/usr/bin/env bash
# Side-by-side benchmark of ktrace and Debian's bpftrace, in one run:
#   1. startup: wall time and peak RSS of a drop counter that exits at once
#   2. per-event cost of @[pid, comm] = count() (and more scripts) on
#      raw_syscalls:sys_enter under a getppid() loop, from the kernel's own
#      accounting (kernel.bpf_stats_enabled=1, run_time_ns / run_cnt)
#   3. the static binary's size, and the Go benchmarks
#   4. what one counter increment costs in each kind of map (bench/mapcost)
# Runs are interleaved (ktrace, bpftrace, ktrace, ...) and medians reported,
# so background load affects both tracers alike; compare the ratios.
# Usage: sudo bench/bench.sh [ROUNDS]   (writes a Markdown table to stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"; sysctl -qw kernel.bpf_stats_enabled=0' EXIT

for tool in bpftrace bpftool /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install bpftrace bpftool time)" >&2; exit 1; }
done
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$work/ktrace" ./cmd/ktrace
go build -o "$work/getppid" ./bench/getppid
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# --- startup --------------------------------------------------------------
# startup_of NAME SCRIPT: interleaved whole-process runs of both tracers;
# sets kt_wall_NAME, bt_wall_NAME (ms) and kt_rss_NAME, bt_rss_NAME (MiB).
startup_of() {
	local name=$1 script=$2
	"$work/ktrace" -q -e "$script" >/dev/null # warm the page cache and ktrace's BTF fact cache
	bpftrace -e "$script" >/dev/null 2>&1 || true
	: >"$work/kt.startup.$name"; : >"$work/bt.startup.$name"
	for _ in $(seq "$rounds"); do
		/usr/bin/time -f "%e %M" -o "$work/t" "$work/ktrace" -q -e "$script" >/dev/null; cat "$work/t" >>"$work/kt.startup.$name"
		/usr/bin/time -f "%e %M" -o "$work/t" bpftrace -e "$script" >/dev/null 2>&1; cat "$work/t" >>"$work/bt.startup.$name"
	done
	printf -v "kt_wall_$name" '%s' "$(awk '{print $1*1000}' "$work/kt.startup.$name" | median)"
	printf -v "bt_wall_$name" '%s' "$(awk '{print $1*1000}' "$work/bt.startup.$name" | median)"
	printf -v "kt_rss_$name" '%s' "$(awk '{print $2/1024}' "$work/kt.startup.$name" | median)"
	printf -v "bt_rss_$name" '%s' "$(awk '{print $2/1024}' "$work/bt.startup.$name" | median)"
}
startup='tracepoint:skb:kfree_skb { @[pid, comm] = count(); } BEGIN { exit(); }'
startup_btf='tracepoint:sched:sched_switch { @[curtask->comm] = count(); } BEGIN { exit(); }'
startup_of plain "$startup"
startup_of btf "$startup_btf"
# startup_rows NAME SCRIPT: the two Markdown rows of one startup script.
startup_rows() {
	local name=$1 ktw btw ktr btr
	ktw=kt_wall_$name btw=bt_wall_$name ktr=kt_rss_$name btr=bt_rss_$name
	printf '| `%s` | wall time | %.0f ms | %.0f ms | **%.3f×** |\n' "$2" "${!ktw}" "${!btw}" "$(echo "${!ktw} ${!btw}" | awk '{print $1/$2}')"
	printf '| | peak RSS | %.1f MiB | %.1f MiB | **%.2f×** |\n' "${!ktr}" "${!btr}" "$(echo "${!ktr} ${!btr}" | awk '{print $1/$2}')"
}

# --- per-event cost -------------------------------------------------------
# progs_of PID: ids of the BPF programs a process holds open.
progs_of() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u
}
# cost TRACER SCRIPT: ns/event and xlated instructions of the program on
# sys_enter while the getppid loop runs.
cost() {
	local tracer=$1 script=$2 pid id
	case $tracer in
	ktrace) "$work/ktrace" -q -e "$script" >/dev/null 2>&1 & pid=$! ;;
	bpftrace) bpftrace -e "$script" >/dev/null 2>&1 & pid=$! ;;
	esac
	for _ in $(seq 100); do # wait until attached
		id=""
		for p in $(progs_of "$pid"); do
			if bpftool prog show id "$p" 2>/dev/null | grep ': tracepoint ' >/dev/null; then
				id=$p
				break
			fi
		done
		[ -n "$id" ] && break
		sleep 0.1
	done
	sleep 0.3
	"$work/getppid" 325000
	bpftool -j prog show id "$id" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["run_time_ns"]/max(p["run_cnt"],1), p["bytes_xlated"]//8)'
	stop "$pid"
}
# stop PID: Ctrl-C, then SIGKILL if the tracer has not exited within 10 s
# (bpftrace 0.17 now and then hangs on exit).
stop() {
	kill -INT "$1" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
sysctl -qw kernel.bpf_stats_enabled=1
declare -A scripts=(
	[count]='tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); }'
	[comm]='tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
	[hist]='tracepoint:raw_syscalls:sys_enter { @ = hist(args->id); }'
	[lhist]='tracepoint:raw_syscalls:sys_enter { @ = lhist(args->id, 0, 500, 10); }'
)
per_event_rows=""
for name in count comm hist lhist; do
	: >"$work/kt.$name"; : >"$work/bt.$name"
	for _ in $(seq "$rounds"); do
		cost ktrace "${scripts[$name]}" >>"$work/kt.$name"
		cost bpftrace "${scripts[$name]}" >>"$work/bt.$name"
	done
	kt=$(awk '{print $1}' "$work/kt.$name" | median); bt=$(awk '{print $1}' "$work/bt.$name" | median)
	kti=$(awk '{print $2}' "$work/kt.$name" | median); bti=$(awk '{print $2}' "$work/bt.$name" | median)
	# Each round's two runs are neighbours in time: their ratio cancels
	# the machine's drift better than a ratio of medians.
	ratios=$(paste "$work/kt.$name" "$work/bt.$name" | awk '{print $1/$3}')
	ratio=$(echo "$ratios" | median)
	range=$(echo "$ratios" | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.2f–%.2f", lo, hi}')
	per_event_rows+=$(printf '| `%s` | %.0f ns, %d insns | %.0f ns, %d insns | **%.2f×** (%s) |\n' "${scripts[$name]}" "$kt" "$kti" "$bt" "$bti" "$ratio" "$range")
	per_event_rows+=$'\n'
done

size=$(stat -c %s "$work/ktrace")
cat <<TABLE
Benchmark: $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs, $rounds interleaved rounds, medians.
bpftrace: $(bpftrace --version). ktrace: static binary, $(awk "BEGIN {printf \"%.1f\", $size/1048576}") MiB ($size bytes).

| startup (whole process, until exit) | | ktrace | bpftrace | ratio |
|---|---|---|---|---|
$(startup_rows plain "$startup")
$(startup_rows btf "$startup_btf")

| per-event cost on raw_syscalls:sys_enter | ktrace | bpftrace | ratio (median of rounds; range) |
|---|---|---|---|
${per_event_rows}
TABLE

# --- in-process Go benchmarks (no bpftrace equivalent) ----------------------
echo
echo '| Go benchmark | time/op | allocs |'
echo '|---|---|---|'
go test -run '^$' -bench 'BenchmarkCompile200Lines|BenchmarkKernelFrames|BenchmarkTypical|BenchmarkLarge|BenchmarkLoop|BenchmarkRecordFormat|BenchmarkPrintLargeMap|BenchmarkReadLargeMap' -benchmem \
	./internal/compile ./internal/kernel ./verify ./output ./internal/maps 2>/dev/null |
	awk '/^Benchmark/ {t=$3; u=$4; if (u=="ns/op") {v=t/1e6; printf "| `%s` | %.3f ms | %s allocs |\n", $1, v, $(NF-1)}}'

# --- what one map access costs (hand-written programs, no tracer) --------
echo
go run ./bench/mapcost "$rounds"
