#!/usr/bin/env bash
# Fetches the core dumps that elfutils' own test suite ships (tests/*.core.bz2 and their
# executables) from Debian's elfutils source package, and unpacks them into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/coredig/elfutils-cores/
# They are cores written by real Linux kernels on real machines of many architectures
# (ppc64le, s390x, s390, ppc, sparc64, x32, m68k, riscv64, 32-bit ARM, aarch64, i386),
# which this x86_64 machine cannot make: qemu-user writes its own, simpler cores. The files
# stay out of the repository (elfutils' tests are GPL-3.0); tests that read them fail with a
# pointer here when they are missing. Needs apt's deb-src entries (added when missing, as
# root) and Debian's archive. Prints the directory. Idempotent: a complete cache is reused.
set -euo pipefail
dest=${XDG_CACHE_HOME:-$HOME/.cache}/coredig/elfutils-cores
if [ -f "$dest/.complete" ]; then echo "$dest"; exit 0; fi
sources=/etc/apt/sources.list.d/debian.sources
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	if [ "$(id -u)" != 0 ] || [ ! -f "$sources" ]; then
		echo "elfutils-cores.sh: apt has no deb-src entries; add them (Types: deb deb-src in $sources) as root" >&2
		exit 1
	fi
	sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
	apt-get update -qq
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source --download-only -qq elfutils >/dev/null 2>&1) || {
	echo "elfutils-cores.sh: apt-get source elfutils failed (is deb-src reachable?)" >&2; exit 1; }
tarball=$(ls "$work"/elfutils_*.orig.tar.* | grep -v "\.asc$" | head -n 1)
mkdir -p "$dest"
# Only the test cores, their executables and libraries, and the scripts that say what
# elfutils expects of them.
tar -xf "$tarball" -C "$work" --wildcards '*/tests/backtrace.*' '*/tests/*core*' \
	'*/tests/testfile6[3-9]*' '*/tests/testfile7[01]*' '*/tests/run-backtrace-*.sh'
for f in "$work"/elfutils-*/tests/*; do
	name=$(basename "$f")
	case "$name" in
		*.bz2) bzip2 -dc "$f" > "$dest/${name%.bz2}";;
		*) cp "$f" "$dest/$name";;
	esac
done
basename "$tarball" > "$dest/.complete"
echo "$dest"
