#!/usr/bin/env bash
# bench/summary.sh [CORE]: time `coredig summary` against eu-stack and gdb on the same
# core, in one run. Without CORE it makes the ~1 GB, 170-thread CPython 3.12 core with
# bench/make-big-core.sh (kept in /var/tmp/coredig-bench for later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/core.sh "$@"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"$coredig summary $core" -- \
	"eu-stack --core $core --executable $exe" -- \
	"gdb -nx -batch -ex 'info threads' $exe $core"
