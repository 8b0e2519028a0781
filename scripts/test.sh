#!/usr/bin/env bash
# The whole test suite, as the README gives it and as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Tests make real kernel core dumps; say plainly when this machine cannot.
pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
	\|*)
		if [ "$(id -u)" = 0 ]; then
			echo "test.sh: core_pattern pipes cores to a program ($pattern); setting it to 'core' for the tests"
			echo core > /proc/sys/kernel/core_pattern
		else
			echo "test.sh: core_pattern is '$pattern': cores go to a program, not a file; tests need 'core' (sysctl kernel.core_pattern=core)" >&2
			exit 1
		fi;;
esac
ulimit -c unlimited
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test"
go test -count=1 -timeout 40m ./...
