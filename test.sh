#!/usr/bin/env bash
# The tests, on a fresh Debian machine or a used one: installs the Debian
# packages they need (listed, with the tests that need each, in
# .ci/packages), then runs go test -count=1 with CI=true, so that no test
# skips for want of root or of a tool: a missing prerequisite fails and
# names the package to install. CI runs exactly this (.ci/run, with
# KTRACE_STRICT_VERIFY=1, then the kernel lab: bash .ci/kernellab).
#
#   ./test.sh                              # every package: go test -count=1 ./...
#   ./test.sh -run TestUprobe -v           # flags go to go test, on ./...
#   ./test.sh ./verify ./conformance -run X  # only these packages
#
# Arguments go to go test unchanged. Unless one of them is a package
# pattern (".", or a directory or pattern starting with "./" or "../", such
# as ./verify or ./internal/...), ./... is added, before -args if that is
# given. Import paths are not recognised: write ./verify, not
# github.com/ktrace/ktrace/verify.
#
# Runs as root: the tests load BPF into the running kernel and apt-get
# installs the packages. Not root, it runs itself again with sudo, keeping
# PATH and the CI, KTRACE_* and GO* variables (HOME becomes root's, so the
# Go caches are root's own). Packages are installed only when one is
# missing (checked with dpkg-query), after apt-get update. It mounts
# nothing and changes nothing else.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "test.sh: run me as root: the tests load BPF into the kernel, and apt-get installs what they need" >&2
		exit 1
	fi
	keep=("PATH=$PATH")
	for v in $(compgen -e); do
		case $v in CI | KTRACE_* | GO*) keep+=("$v=${!v}") ;; esac
	done
	exec sudo env "${keep[@]}" bash "$0" "$@"
fi

mapfile -t packages < <(sed 's/#.*//; /^[[:space:]]*$/d; s/[[:space:]]//g' .ci/packages)
if ((${#packages[@]} == 0)); then
	echo "test.sh: no packages in .ci/packages" >&2
	exit 1
fi
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
	# dpkg-query prints only the packages it knows; the rest are missing.
	installed=" $(dpkg-query -W -f='${Package}=${db:Status-Status} ' "${packages[@]}" 2>/dev/null || true) "
	missing=()
	for p in "${packages[@]}"; do
		[[ $installed == *" $p=installed "* ]] || missing+=("$p")
	done
	if ((${#missing[@]})); then
		echo "test.sh: installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
else
	echo "test.sh: no apt-get/dpkg-query (not Debian?): install the equivalents of ${packages[*]} yourself; tests that miss one fail naming it" >&2
fi

if ! command -v go >/dev/null; then
	if [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	else
		echo "test.sh: go is missing: install Go $(awk '$1 == "go" { print $2 }' go.mod) or newer from https://go.dev/dl (into /usr/local/go)" >&2
		exit 1
	fi
fi

export CI=true

# compat/ runs the tool scripts of Debian's bpftrace packages (bookworm's and
# trixie's), which are not part of ktrace's sources: fetch them into their
# cache now (instant when cached; the test runs the same script itself).
bash .ci/bpftrace-tools >/dev/null ||
	echo "test.sh: .ci/bpftrace-tools failed: compat's TestTools will fail" >&2

# Add ./... unless the arguments name packages (see the header).
have_packages=false
for a in "$@"; do
	[[ $a == -args || $a == --args ]] && break
	if [[ $a == . || $a == ./* || $a == ../* ]] && [[ -d $a || $a == *... ]]; then
		have_packages=true
	fi
done
args=()
if $have_packages; then
	args=("$@")
else
	added=false
	for a in "$@"; do
		if ! $added && [[ $a == -args || $a == --args ]]; then
			args+=(./...)
			added=true
		fi
		args+=("$a")
	done
	$added || args+=(./...)
fi

exec go test -count=1 "${args[@]}"
