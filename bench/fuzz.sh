#!/usr/bin/env bash
# Runs the fuzz targets for a number of executions each and prints a
# Markdown table: executions, fuzzing time, rate, new corpus entries and
# findings per target (docs/reliability.md records a run).
#
# Usage: bench/fuzz.sh [EXECS] [TARGET...]
#   EXECS    executions per target (default 10000000), passed to go test as
#            -fuzztime ${EXECS}x
#   TARGET   PKG:FuzzName (e.g. ./verify:FuzzMutatedPrograms); the default
#            is the list below, all in user space; "all" adds the other
#            user-space targets of the repository.
# Environment:
#   FUZZ_PARALLEL      fuzzing workers per target (go test -parallel; default
#                      1: the machine is shared, and each worker is one core)
#   FUZZ_MINIMIZETIME  go test -fuzzminimizetime (default 1s). Go minimizes
#                      every new corpus entry, for up to a minute by default,
#                      during which no executions are counted; crashers are
#                      minimized with the same budget.
#   FUZZ_LOGDIR        where the go test logs go (default: a new temporary
#                      directory, printed on stderr)
#   FUZZ_NICE          the niceness to fuzz at (default 19). go test -fuzz
#                      takes an input that runs for 10 s as a hang; at nice
#                      19 beside busy work, a slow input (a mutated program
#                      the verifier explores for half a second) can look
#                      like one: fuzz at 0 when the machine is busy.
#
# go test's default 10-minute timeout would end a long run: -timeout 0.
# Nothing here needs root: no target loads BPF (FuzzMutationDifferential,
# which asks the running kernel's verifier, is left out; run it by naming
# it, as root, under flock /tmp/ktrace-bpf.lock). Everything runs at
# nice 19 (FUZZ_NICE). A crasher stops its target (go test -fuzz stops at the first
# failure) and is written to PKG/testdata/fuzz/FuzzName/; the table names
# it, and the script exits 1 after running the remaining targets.
set -uo pipefail
cd "$(dirname "$0")/.."

execs=${1:-10000000}
shift $(($# > 0 ? 1 : 0))
parallel=${FUZZ_PARALLEL:-1}
minimize=${FUZZ_MINIMIZETIME:-1s}
niceness=${FUZZ_NICE:-19}
logdir=${FUZZ_LOGDIR:-$(mktemp -d /tmp/ktrace-fuzz.XXXXXX)}
mkdir -p "$logdir"

default_targets=(
	./lang/scanner:FuzzScan
	./lang/preprocessor:FuzzPreprocess
	./lang/parser:FuzzCDecl
	./lang/parser:FuzzParse
	./lang/types:FuzzCheck
	./internal/compile:FuzzCompile
	./verify:FuzzMutatedPrograms
	./verify:FuzzProgramBytes
	./uprobe:FuzzParseNotes
	./uprobe:FuzzParseArgs
	./uprobe:FuzzParseLDCache
	./uprobe:FuzzRead
	./internal/elfsym:FuzzRead
)
other_targets=(
	./lang/probe:FuzzParse
	./lang/probe:FuzzMatch
	./internal/kernel:FuzzParseFormat
	./internal/kernel:FuzzEvalConst
	./internal/kernel:FuzzRawBTF
	./internal/kernel:FuzzParseKallsyms
	./output:FuzzSprintf
	./output:FuzzHistBucket
	./output:FuzzPrinters
)
targets=()
if [ $# -eq 0 ]; then
	targets=("${default_targets[@]}")
fi
for t in "$@"; do
	case $t in
	all) targets+=("${default_targets[@]}" "${other_targets[@]}") ;;
	*:Fuzz*) targets+=("$t") ;;
	*)
		echo "fuzz: bad target $t (want PKG:FuzzName or all)" >&2
		exit 2
		;;
	esac
done

# seconds converts a Go duration as go test -fuzz prints it (1h2m3s, 45s)
# to seconds.
seconds() {
	awk -v d="$1" 'BEGIN {
		s = 0
		while (match(d, /^[0-9.]+(h|ms|m|s)/)) {
			tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			n = tok + 0; u = tok; sub(/^[0-9.]+/, "", u)
			s += (u == "h") ? n * 3600 : (u == "m") ? n * 60 : (u == "ms") ? n / 1000 : n
		}
		print s
	}'
}

# human formats seconds as 1h02m, 12m34s or 45s.
human() {
	awk -v s="$1" 'BEGIN {
		s = int(s + 0.5)
		if (s >= 3600) printf "%dh%02dm\n", s / 3600, (s % 3600) / 60
		else if (s >= 60) printf "%dm%02ds\n", s / 60, s % 60
		else printf "%ds\n", s
	}'
}

echo "fuzz: $execs executions per target, $parallel worker(s), logs in $logdir" >&2
rows=()
failed=0
for t in "${targets[@]}"; do
	pkg=${t%%:*}
	name=${t##*:}
	log="$logdir/$(echo "${pkg#./}" | tr / _)_$name.log"
	echo "fuzz: $pkg $name ..." >&2
	start=$(date +%s)
	nice -n "$niceness" go test -run '^$' -fuzz "^$name\$" -fuzztime "${execs}x" \
		-fuzzminimizetime "$minimize" -timeout 0 -parallel "$parallel" "$pkg" >"$log" 2>&1
	rc=$?
	wall=$(($(date +%s) - start))
	# The last progress line holds the totals:
	# fuzz: elapsed: 20m3s, execs: 10000000 (8310/sec), new interesting: 120 (total: 1039)
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1)
	n=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	elapsed=$(sed -nE 's/^fuzz: elapsed: ([0-9hms.]+),.*/\1/p' <<<"$last")
	fresh=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
	secs=$(seconds "${elapsed:-0s}")
	rate=$(awk -v n="${n:-0}" -v s="$secs" 'BEGIN { printf "%d", (s > 0) ? n / s : 0 }')
	finding=none
	if [ "$rc" -ne 0 ]; then
		failed=1
		crasher=$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$log" | tail -n 1)
		if [ -n "$crasher" ]; then
			finding="crasher ${pkg#./}/$crasher"
		else
			finding="failed (exit $rc, see $log)"
		fi
	fi
	echo "fuzz: $name: ${n:-0} executions in ${elapsed:-?} (${rate}/s, ${wall}s with the build), $finding" >&2
	rows+=("| $name | ${pkg#./} | ${n:-0} | $(human "$secs") | ${rate}/s | ${fresh:-0} | $finding |")
done

echo "| Target | Package | Executions | Time | Rate | New corpus entries | Findings |"
echo "|---|---|--:|--:|--:|--:|---|"
printf '%s\n' "${rows[@]}"
exit $failed
