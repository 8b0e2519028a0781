#!/usr/bin/env bash
# bench/compressed.sh CORE: the cost of reading a compressed core. Compresses CORE with
# zstd, lz4, xz and gzip (kept next to it as CORE.zst …), then times `coredig summary` on
# each: cold (a fresh cache directory: decompress once into it) and warm (the cached copy
# is reused). Prints the median of RUNS (default 3) runs of each.
set -euo pipefail
cd "$(dirname "$0")/.."
core=${1:?usage: bench/compressed.sh CORE}
go build -o /tmp/coredig-bench-bin ./cmd/coredig
[ -f "$core.zst" ] || zstd -q -T2 -3 "$core" -o "$core.zst"
[ -f "$core.lz4" ] || lz4 -q "$core" "$core.lz4"
[ -f "$core.xz" ] || xz -T2 -k -c "$core" > "$core.xz"
[ -f "$core.gz" ] || gzip -k -c "$core" > "$core.gz"
runs=${RUNS:-3}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time1() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f\n", e - s}'; }
printf "%-6s %12s %10s %10s\n" format compressed cold_s warm_s
printf "%-6s %12s %10s %10s\n" plain "$(stat -c %s "$core")" "$(for i in $(seq "$runs"); do time1 /tmp/coredig-bench-bin summary "$core"; done | median)" -
for ext in zst lz4 xz gz; do
	f="$core.$ext"
	cold=$(for i in $(seq "$runs"); do
		d=$(mktemp -d); XDG_CACHE_HOME=$d time1 /tmp/coredig-bench-bin summary "$f"; rm -rf "$d"
	done | median)
	d=$(mktemp -d)
	XDG_CACHE_HOME=$d /tmp/coredig-bench-bin summary "$f" > /dev/null
	warm=$(for i in $(seq "$runs"); do XDG_CACHE_HOME=$d time1 /tmp/coredig-bench-bin summary "$f"; done | median)
	rm -rf "$d"
	printf "%-6s %12s %10s %10s\n" "$ext" "$(stat -c %s "$f")" "$cold" "$warm"
done
