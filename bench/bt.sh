#!/usr/bin/env bash
# bench/bt.sh [CORE]: `coredig bt` (every thread unwound, with file:line and inlined
# frames) against `eu-stack` and `gdb -batch -ex 'thread apply all bt'` on the same core,
# in one run; and `coredig py` (every Python stack) on it too. Without CORE it uses (or
# makes) the ~1 GB, 170-thread CPython 3.12 core of bench/make-big-core.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
core=${1:-}
if [ -z "$core" ]; then
	dir=/var/tmp/coredig-bench
	mkdir -p "$dir"
	core=$(ls "$dir"/core* 2>/dev/null | head -1 || true)
	[ -n "$core" ] || core=$(sh bench/make-big-core.sh "$dir")
fi
go build -o /tmp/coredig-bench-bin ./cmd/coredig
exe=$(/tmp/coredig-bench-bin summary --format json "$core" | sed -n 's/.*"executable": "\(.*\)".*/\1/p' | head -1)
echo "core: $core ($(du -h --apparent-size "$core" | cut -f1)), executable: $exe"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"/tmp/coredig-bench-bin bt $core" -- \
	"/tmp/coredig-bench-bin py $core" -- \
	"eu-stack --core $core --executable $exe" -- \
	"eu-stack -s -i --core $core --executable $exe" -- \
	"gdb -nx -batch -ex 'thread apply all bt' $exe $core"
