#!/usr/bin/env bash
# bench/triage.sh [DIR]: `coredig triage DIR` on 25 small cores against `coredig bt` run
# on each of them in turn (the loop is the first command, so the ratio printed for triage
# is triage's time over the loop's). Without DIR, or when DIR holds no core, the first 25
# committed catalogue cores (testdata/catalogue/*.core.zst: C, C++, Go, Rust and CPython
# 3.12 crashes, x86_64 and aarch64) are decompressed into DIR (default
# /var/tmp/coredig-bench-triage), so that neither side pays for decompression.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/var/tmp/coredig-bench-triage}
mkdir -p "$dir"
if ! ls "$dir"/*.core >/dev/null 2>&1; then
	for z in $(ls testdata/catalogue/*.core.zst | head -25); do
		zstd -q -d -f "$z" -o "$dir/$(basename "$z" .zst)"
	done
fi
coredig=${COREDIG_BENCH_BIN:-/tmp/coredig-bench-bin}
go build -o "$coredig" ./cmd/coredig
n=$(ls "$dir"/*.core | wc -l)
echo "cores: $n in $dir ($(du -sh --apparent-size "$dir" | cut -f1))"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"sh -c 'for c in $dir/*.core; do $coredig bt \$c >/dev/null; done'" -- \
	"$coredig triage $dir"
