#!/usr/bin/env bash
# Fuzz every Fuzz* target in the module, one after another, each for SECONDS (default 20).
#
#   bash scripts/fuzz.sh [SECONDS]
#
# Prints one line per target: package, target, executions, new corpus entries (Go's "new
# interesting" count, kept in the Go build cache, not in the tree), crashers, and ok/FAIL.
# A target fails when go test fails: a crasher (its input is printed here, and left in the
# package's testdata/fuzz/<Target>/ for `go test` to replay), a build error, or a seed that
# fails. The exit status is 1 when any target failed. A bare "context deadline exceeded" at
# the -fuzztime boundary, with no input written and nothing else failing, is Go 1.26's own
# race (golang/go#75804): the line says so and the target is not counted as failed.
#
# Minimization is off (-fuzzminimizetime 0): on large seeds Go's minimizer can spend the
# whole budget minimizing and hardly fuzz at all. A crasher is therefore kept as found, not
# minimized.
#
# Environment, for campaigns and for narrowing a run:
#   FUZZ_TIME      the -fuzztime value instead of SECONDS, e.g. 10000000x (executions)
#   FUZZ_TOTAL     seconds of fuzzing to share among all targets: each gets FUZZ_TOTAL divided
#                  by their number, at most SECONDS and at least 3 (what CI uses)
#   FUZZ_PARALLEL  -parallel (default: go's, GOMAXPROCS)
#   FUZZ_MATCH     an extended regex over "pkg/dir Target"; only matching targets run
#   FUZZ_LOG       a directory for each target's whole go test output (default: a temp dir)
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
case "$seconds" in
	'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2;;
esac
fuzztime=${FUZZ_TIME:-${seconds}s}
logdir=${FUZZ_LOG:-$(mktemp -d)}
mkdir -p "$logdir"
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then parallel=(-parallel "$FUZZ_PARALLEL"); fi

# "dir Target" for every fuzz target, in a stable order.
targets=$(grep -rHoE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' --include='*_test.go' . |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort)
if [ -n "${FUZZ_MATCH:-}" ]; then
	targets=$(grep -E -- "$FUZZ_MATCH" <<<"$targets" || true)
fi
if [ -z "$targets" ]; then echo "fuzz.sh: no fuzz targets" >&2; exit 1; fi
ntargets=$(grep -c . <<<"$targets")
if [ -n "${FUZZ_TOTAL:-}" ]; then
	share=$((FUZZ_TOTAL / ntargets))
	seconds=$((share < seconds ? share : seconds))
	seconds=$((seconds < 3 ? 3 : seconds))
	fuzztime=${seconds}s
fi
echo "fuzz.sh: $ntargets targets, -fuzztime $fuzztime each"

# The go test of the target now running leads its own process group (setsid), so that an
# interrupt stops it, its test binary and the fuzz workers together.
child=
trap 'if [ -n "$child" ]; then kill -- "-$child" 2>/dev/null; fi; exit 130' INT TERM

failed=0
printf '%-28s %-24s %12s %6s %8s %s\n' package target execs new crashers result
while read -r dir target; do
	corpus="$dir/testdata/fuzz/$target"
	before=$(ls "$corpus" 2>/dev/null | sort)
	log="$logdir/${dir//\//_}.$target.log"
	start=$(date +%s)
	setsid go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 0 \
		"${parallel[@]}" "./$dir" >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=
	took=$(($(date +%s) - start))
	last=$(grep -E '^fuzz: elapsed: ' "$log" | tail -n 1)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	newc=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
	after=$(ls "$corpus" 2>/dev/null | sort)
	crashers=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
	ncrash=$(grep -c . <<<"$crashers")
	result=ok
	if [ "$rc" != 0 ] && [ "$ncrash" = 0 ] && grep -qx '    context deadline exceeded' "$log" &&
		! grep -qE 'panic:|Failing input|_test\.go:[0-9]+:' "$log"; then
		# Go 1.26's fuzzing coordinator can report its own -fuzztime deadline as a failure
		# when a worker is mid-call at that moment (golang/go#75804, fixed in Go 1.27): no
		# input is written and nothing failed. Said loudly, not counted as a failure.
		result="ok, but go test reported the fuzztime deadline as a failure (golang/go#75804; no input written)"
	elif [ "$rc" != 0 ]; then
		result=FAIL
		failed=1
	elif [ -z "$execs" ]; then
		result="ok, baseline only" # the time ran out while replaying the corpus: no fuzzing
	fi
	printf '%-28s %-24s %12s %6s %8s %s (%ss)\n' "$dir" "$target" "${execs:-?}" "${newc:-?}" \
		"$ncrash" "$result" "$took"
	if [ "$result" = FAIL ]; then
		echo "---- go test output, $dir $target (last 60 lines; whole log: $log)"
		tail -n 60 "$log"
		for c in $crashers; do
			echo "---- crasher $corpus/$c ($(wc -c <"$corpus/$c") bytes; first 64 KiB):"
			head -c 65536 "$corpus/$c"
			echo
		done
		echo "----"
	fi
done <<<"$targets"
exit "$failed"
