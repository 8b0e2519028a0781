#!/bin/sh
# make-big-core.sh OUTDIR: make a ~1 GB core of a 170-thread CPython 3.12
# process (bench/mkbigcore/bigcore.py) in OUTDIR and print its path.
#
#   PYTHON             interpreter (default pyenv 3.12.1:
#                      /root/.pyenv/versions/3.12.1/bin/python3.12)
#   BIG_CORE_HEAP_MB   touched heap in MiB (default 900)
#   BIG_CORE_STACK_KB  worker thread stack size in KiB (default 512)
#
# Needs kernel.core_pattern to name a file (e.g. "core", not a "|" pipe),
# a hard RLIMIT_CORE that allows ~1 GB, ~2 GB of free memory and ~1 GB of
# disk in OUTDIR. The core is written by the kernel as OUTDIR/core or
# OUTDIR/core.PID (per core_uses_pid); the script prints its path on stdout
# and timing and size on stderr.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/root/.pyenv/versions/3.12.1/bin/python3.12}
[ -x "$py" ] || { echo "python interpreter $py not found (set PYTHON)" >&2; exit 1; }

pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
'|'*) echo "kernel.core_pattern is a pipe ($pattern): no core file would be written here; run 'sysctl -w kernel.core_pattern=core' as root" >&2; exit 1 ;;
/*) echo "kernel.core_pattern is an absolute path ($pattern): the core would not land in OUTDIR; run 'sysctl -w kernel.core_pattern=core' as root" >&2; exit 1 ;;
'') echo "kernel.core_pattern is empty: cores are off" >&2; exit 1 ;;
esac
case "$pattern" in
*/*|*%*) echo "kernel.core_pattern '$pattern' has a directory or % specifiers; this script expects a plain file name such as 'core'" >&2; exit 1 ;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
ulimit -c unlimited 2>/dev/null || { echo "cannot raise RLIMIT_CORE (ulimit -c unlimited failed)" >&2; exit 1; }

start=$(date +%s.%N)
set +e
(cd "$out" && exec "$py" "$here/mkbigcore/bigcore.py") >"$out/bigcore.stdout" 2>"$out/bigcore.stderr"
status=$?
set -e
end=$(date +%s.%N)

pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$out/bigcore.stdout")
if [ -z "$pid" ]; then
	echo "bigcore.py did not reach its crash (exit status $status); stderr:" >&2
	cat "$out/bigcore.stderr" >&2
	exit 1
fi
if [ "$(cat /proc/sys/kernel/core_uses_pid)" = 1 ]; then
	core="$out/$pattern.$pid"
else
	core="$out/$pattern"
fi
if [ ! -f "$core" ]; then
	echo "no core at $core (exit status $status, want 139 for SIGSEGV with core)" >&2
	exit 1
fi
size=$(stat -c %s "$core")
disk=$(du -k "$core" | cut -f1)
secs=$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')
echo "made $core: $size bytes ($((disk / 1024)) MiB on disk), pid $pid, $(cat "$out/bigcore.stdout" | tr -d '\n'), in ${secs}s" >&2
echo "$core"
