#!/usr/bin/env bash
# bench/bt.sh [CORE]: `coredig bt` (every thread unwound, with file:line and inlined
# frames) and the full report (`coredig CORE`) against `eu-stack -s` (file:line),
# `eu-stack -s -i` (and inlined frames), plain `eu-stack` and `gdb -batch -ex 'thread
# apply all bt'` on the same core, in one run; and `coredig py` (every Python stack) on
# it too. coredig keeps compressed DWARF sections (Debian's debug files) decompressed in
# $XDG_CACHE_HOME/coredig/sections once read, so the warm-up run fills that cache; the
# "cold" row runs bt with an empty cache each time. Without CORE it uses (or makes) the
# ~1 GB, 170-thread CPython 3.12 core of bench/make-big-core.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/core.sh "$@"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"$coredig bt $core" -- \
	"$coredig $core" -- \
	"sh -c 'd=\$(mktemp -d) && XDG_CACHE_HOME=\$d $coredig bt $core; s=\$?; rm -rf \$d; exit \$s'" -- \
	"$coredig py $core" -- \
	"eu-stack -s --core $core --executable $exe" -- \
	"eu-stack -s -i --core $core --executable $exe" -- \
	"eu-stack --core $core --executable $exe" -- \
	"gdb -nx -batch -ex 'thread apply all bt' $exe $core"
