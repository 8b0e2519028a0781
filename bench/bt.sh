#!/usr/bin/env bash
# bench/bt.sh [CORE]: `coredig bt` (every thread unwound, with file:line and inlined
# frames) against `eu-stack` and `gdb -batch -ex 'thread apply all bt'` on the same core,
# in one run; and `coredig py` (every Python stack) on it too. Without CORE it uses (or
# makes) the ~1 GB, 170-thread CPython 3.12 core of bench/make-big-core.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/core.sh "$@"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"$coredig bt $core" -- \
	"$coredig py $core" -- \
	"eu-stack --core $core --executable $exe" -- \
	"eu-stack -s -i --core $core --executable $exe" -- \
	"gdb -nx -batch -ex 'thread apply all bt' $exe $core"
