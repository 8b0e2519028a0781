#!/usr/bin/env bash
# bench/goroutines.sh [N]: a Go program with N goroutines (default 20000) parked on a
# channel at depths 0-19 dies by GOTRACEBACK=crash; then `coredig bt` (every thread and
# goroutine unwound, with file:line, grouped) runs against gdb with Go's runtime-gdb.py
# (`info goroutines`, which lists each goroutine's state and top function only) on that
# core, in one run. coredig unwinds at most 10,000 goroutine stacks and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
dir=/var/tmp/coredig-bench-go-$n
mkdir -p "$dir"
if [ ! -f "$dir/core" ]; then
	cat >"$dir/main.go" <<GO
package main

import (
	"fmt"
	"os"
	"time"
)

type T struct {
	pad [0x60]byte
	x   int64
}

//go:noinline
func waitOn(ch chan int, depth int) int {
	if depth > 0 {
		return waitOn(ch, depth-1)
	}
	return <-ch
}

func main() {
	ch := make(chan int)
	for i := 0; i < $n; i++ {
		go waitOn(ch, i%20)
	}
	time.Sleep(2 * time.Second)
	fmt.Println("ready")
	os.Stdout.Sync()
	var t *T
	fmt.Println(t.x)
}
GO
	(cd "$dir" && GOFLAGS= GO111MODULE=off go build -o goroutines main.go)
	[ "$(cat /proc/sys/kernel/core_pattern)" = core ] || { echo "core_pattern must be 'core'" >&2; exit 1; }
	(cd "$dir" && ulimit -c unlimited && GOTRACEBACK=crash ./goroutines >/dev/null 2>&1 || true)
	[ -f "$dir/core" ] || { echo "no core in $dir" >&2; exit 1; }
fi
coredig=/tmp/coredig-bench-bin
go build -o "$coredig" ./cmd/coredig
echo "core: $dir/core ($(du -h --apparent-size "$dir/core" | cut -f1)), $n goroutines"
go run ./bench/peers -n "${RUNS:-5}" -- \
	"$coredig bt $dir/core" -- \
	"gdb -nx -batch -iex 'add-auto-load-safe-path $(go env GOROOT)/src/runtime' -ex 'info goroutines' $dir/goroutines $dir/core"
