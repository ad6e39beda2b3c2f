#!/usr/bin/env bash
# Regenerates names_*.go from Debian trixie's linux-libc-dev, which ships
# the kernel's unistd_64.h of every architecture under usr/lib/linux/uapi.
# A private apt state is used, so the system's is untouched and nothing is
# installed. Run it from anywhere; commit the names_*.go it writes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{lists,cache,etc}
echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$work/etc/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${opts[@]}" update >/dev/null
(cd "$work" && apt-get "${opts[@]}" download linux-libc-dev >/dev/null 2>&1)
deb=$(ls "$work"/linux-libc-dev_*.deb)
dpkg-deb -x "$deb" "$work/x"
version=$(dpkg-deb -f "$deb" Version)
go run gen.go "$work/x/usr/lib/linux/uapi" "$version"
echo "names_*.go written from linux-libc-dev $version"
