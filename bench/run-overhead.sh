#!/usr/bin/env bash
# bench/run-overhead.sh: the cost of `coredig run` against running the same command plainly,
# for the two workloads issue 9 names: a CPU-bound CPython loop (budget: within 5% of the
# plain wall time) and a shell loop of 300 fork+exec (budget: within 1.5x). Plain and traced
# runs alternate (bench/peers), RUNS of each (default 21) after one warm-up; the medians of
# the wall time and of the CPU time (user+sys of the whole tree, coredig's own included) are
# printed with their ratios to the plain run. On a loaded machine the wall time varies by
# 2-3x from run to run while the CPU time stays within a few percent: read both.
#
#	RUNS=21 PYTHON=/root/.pyenv/versions/3.12.1/bin/python3.12 bash bench/run-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-21}
py=${PYTHON:-${PYENV_ROOT:-/root/.pyenv}/versions/3.12.1/bin/python3.12}
tmp=$(mktemp -d /tmp/coredig-run-overhead.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
coredig=$tmp/coredig
go build -o "$coredig" ./cmd/coredig
run="$coredig run --core-dir $tmp/cores --"

loop='i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done'
echo "== 300 fork+exec: sh -c '$loop'"
go run ./bench/peers -cpu -n "$runs" -- "sh -c '$loop'" -- "$run sh -c '$loop'"

work='exec("s = 0\nfor i in range(3000000): s += i * i")'
echo "== CPython ($("$py" -V 2>&1)): a CPU-bound loop of 3,000,000 iterations"
go run ./bench/peers -cpu -n "$runs" -- "$py -c '$work'" -- "$run $py -c '$work'"
