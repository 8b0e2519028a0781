package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

// Benchmarks of whole commands on a core named by COREDIG_BENCH_CORE (the ~1 GB,
// 170-thread CPython core of bench/make-big-core.sh, for instance), in process, so that
// pprof sees them:
//
//	COREDIG_BENCH_CORE=/work/bigcore/core go test -run=NONE -bench=Core/bt \
//		-benchtime=5x -cpuprofile cpu.out -memprofile mem.out ./cmd/coredig
//
// Without the variable they are skipped: no such core ships in the repository.
func BenchmarkCore(b *testing.B) {
	core := os.Getenv("COREDIG_BENCH_CORE")
	if core == "" {
		b.Skip("COREDIG_BENCH_CORE names no core (bench/make-big-core.sh makes one)")
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bt", []string{"bt", core}},
		{"report", []string{core}},
		{"summary", []string{"summary", core}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if code := run(tc.args, strings.NewReader(""), io.Discard, io.Discard); code > exitWarnings {
					b.Fatalf("%v: exit %d", tc.args, code)
				}
			}
		})
	}
}
