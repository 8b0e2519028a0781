package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coredig/coredig/internal/testcore"
)

// Benchmarks of capturing, not timed tests: compare the plain and the run variants.
//
//	go test -run=NONE -bench=Capture -benchtime=3x ./cmd/coredig

func benchCommand(b *testing.B, traced bool, argv ...string) {
	exe := selfAsCoredigB(b)
	for i := 0; i < b.N; i++ {
		args := argv
		if traced {
			args = append([]string{exe, "run", "--core-dir", b.TempDir(), "--"}, argv...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "COREDIG_TEST_AS_MAIN=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// BenchmarkCaptureForkExec: a loop of 300 fork+exec (sh running /bin/true).
func BenchmarkCaptureForkExec(b *testing.B) {
	loop := "i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done"
	b.Run("plain", func(b *testing.B) { benchCommand(b, false, "sh", "-c", loop) })
	b.Run("run", func(b *testing.B) { benchCommand(b, true, "sh", "-c", loop) })
}

// BenchmarkCapturePython: a CPU-bound CPython workload.
func BenchmarkCapturePython(b *testing.B) {
	py := testcore.PyenvPython("3.12.1")
	w := "s = 0\nfor i in range(3000000): s += i * i\n"
	b.Run("plain", func(b *testing.B) { benchCommand(b, false, py, "-c", w) })
	b.Run("run", func(b *testing.B) { benchCommand(b, true, py, "-c", w) })
}

// BenchmarkCapture1GiB: gcore and a live bt of a process with 1 GiB of touched heap.
func BenchmarkCapture1GiB(b *testing.B) {
	py := testcore.PyenvPython("3.12.1")
	cmd := exec.Command(py, "-c", "import time\nb = b'x' * (1 << 30)\nprint('ready', flush=True)\ntime.sleep(3600)\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		b.Fatal(err)
	}
	pid := fmt.Sprint(cmd.Process.Pid)
	b.Run("gcore", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "core")
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if code, _, errs := runCmd("gcore", pid, "-o", path); code != 0 {
				b.Fatal(errs)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/gcore")
			os.Remove(path)
		}
	})
	b.Run("live-bt", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if code, _, errs := runCmd("bt", pid); code != 0 {
				b.Fatal(errs)
			}
			// The process is stopped for all of it.
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-paused/bt")
		}
	})
}

// selfAsCoredigB is selfAsCoredig for benchmarks.
func selfAsCoredigB(b *testing.B) string {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	return self
}
