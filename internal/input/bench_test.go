package input

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Benchmarks measure the one-time cost of opening a compressed ~1 GB core
// (decompression into the cache) and the cost of a later open that reuses
// the cache. The core is $COREDIG_BENCH_CORE if set, else one made once by
// testdata/bigcore.c under os.TempDir()/coredig-bench-1g (kept for later
// runs). Compressed copies are FILE.zst, .lz4, .xz, .gz beside it, made
// with the CLIs at their default levels (xz with -T2) when missing.
//
//	go test -run XXX -bench . -benchtime 1x ./internal/input

var benchExt = map[string]string{Zstd: ".zst", LZ4: ".lz4", XZ: ".xz", Gzip: ".gz"}

func benchCore(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("COREDIG_BENCH_CORE"); p != "" {
		return p
	}
	dir := filepath.Join(os.TempDir(), "coredig-bench-1g")
	core := filepath.Join(dir, "core")
	if _, err := os.Stat(core); err == nil {
		return core
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	exe := filepath.Join(dir, "bigcore")
	if out, err := exec.Command("gcc", "-O2", "-o", exe, "testdata/bigcore.c").CombinedOutput(); err != nil {
		b.Fatalf("gcc must build testdata/bigcore.c for the benchmark core: %v\n%s", err, out)
	}
	// The kernel writes "core" in the cwd (core_pattern "core") once the
	// core rlimit is raised; bigcore then aborts.
	cmd := exec.Command("sh", "-c", "ulimit -c unlimited && exec ./bigcore 1024 /lib/x86_64-linux-gnu/libc.so.6 /usr/bin/gdb /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/bin/qemu-aarch64")
	cmd.Dir = dir
	_ = cmd.Run() // dies with SIGABRT by design
	if _, err := os.Stat(core); err != nil {
		pat, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
		b.Fatalf("bigcore did not leave %s (core_pattern is %q; it must be \"core\"): %v", core, pat, err)
	}
	return core
}

func benchCompressed(b *testing.B, core, format string) string {
	b.Helper()
	p := core + benchExt[format]
	if _, err := os.Stat(p); err == nil {
		return p
	}
	start := time.Now()
	compress(b, format, core, p+".tmp")
	if err := os.Rename(p+".tmp", p); err != nil {
		b.Fatal(err)
	}
	b.Logf("compressed %s with the %s CLI in %v", p, format, time.Since(start))
	return p
}

func BenchmarkDecompress(b *testing.B) {
	core := benchCore(b)
	st, err := os.Stat(core)
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{Zstd, LZ4, XZ, Gzip} {
		b.Run(format, func(b *testing.B) {
			p := benchCompressed(b, core, format)
			cst, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				cache := b.TempDir()
				b.StartTimer()
				s, err := Open(p, Options{CacheDir: cache})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if s.Size() != st.Size() {
					b.Fatalf("decompressed %d bytes, core has %d", s.Size(), st.Size())
				}
				b.ReportMetric(s.Elapsed.Seconds(), "s-decompress")
				s.Close()
				os.Remove(s.CachePath)
				b.StartTimer()
			}
			b.ReportMetric(float64(cst.Size())/(1<<20), "compressed-MiB")
		})
	}
}

func BenchmarkReuseCache(b *testing.B) {
	core := benchCore(b)
	p := benchCompressed(b, core, Zstd)
	cache := b.TempDir()
	s, err := Open(p, Options{CacheDir: cache})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ResetTimer()
	for range b.N {
		s, err := Open(p, Options{CacheDir: cache})
		if err != nil {
			b.Fatal(err)
		}
		if s.Elapsed != 0 {
			b.Fatalf("cache not reused: %s", s.Method)
		}
		s.Close()
	}
}
