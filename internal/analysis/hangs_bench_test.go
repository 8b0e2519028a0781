package analysis

import (
	"syscall"
	"testing"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// BenchmarkHangs170 measures what explaining a hang adds to `bt` on a 170-thread
// CPython 3.12 process (testdata/src/hang_many.py): "bt" is the whole report as `coredig
// bt` builds it (a fresh analysis each time: unwinding, symbolizing, Python stacks, the
// waits), "hangs" is the hang explanation alone on that report. The product's budget:
// hangs is at most 20% of bt without it (hangs / (bt - hangs) <= 0.2).
func BenchmarkHangs170(b *testing.B) {
	spec := testcore.PythonSpec("hang_many.py", "3.12.1")
	spec.KillWith = syscall.SIGABRT
	tc := testcore.Make(b, spec)
	openFull := func(b *testing.B) *Analysis {
		c, err := core.Open(tc.Path)
		if err != nil {
			b.Fatal(err)
		}
		a := New(c, symbolize.Options{})
		b.Cleanup(func() { a.Close(); c.Close() })
		return a
	}
	b.Run("bt", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			a := openFull(b)
			r := a.Full(FullOptions{})
			if len(r.Threads) < 170 || r.Diagnosis == nil || r.Diagnosis.Kind != "blocked" {
				b.Fatalf("%d threads, diagnosis %+v: want 170 threads (and the announcer, if it has not exited yet), blocked", len(r.Threads), r.Diagnosis)
			}
		}
	})
	b.Run("hangs", func(b *testing.B) {
		a := openFull(b)
		r := a.Full(FullOptions{})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if d := a.Hangs(r); d == nil || d.Kind != "blocked" {
				b.Fatalf("diagnosis %+v, want blocked", d)
			}
		}
	})
}
