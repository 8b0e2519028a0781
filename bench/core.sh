# bench/core.sh: sourced by the bench scripts. Sets $core (the first argument, else the
# ~1 GB, 170-thread CPython 3.12 core kept in /var/tmp/coredig-bench, made once with
# bench/make-big-core.sh), builds coredig into $coredig and sets $exe to the core's
# executable.
core=${1:-}
if [ -z "$core" ]; then
	dir=/var/tmp/coredig-bench
	mkdir -p "$dir"
	core=$(ls "$dir"/core* 2>/dev/null | head -1 || true)
	[ -n "$core" ] || core=$(sh bench/make-big-core.sh "$dir")
fi
coredig=${COREDIG_BENCH_BIN:-/tmp/coredig-bench-bin}
go build -o "$coredig" ./cmd/coredig
exe=$("$coredig" summary --format json "$core" | sed -n 's/.*"executable": "\(.*\)".*/\1/p' | head -1)
echo "core: $core ($(du -h --apparent-size "$core" | cut -f1)), executable: $exe"
