package analysis

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/coredig/coredig/internal/core"
	"github.com/coredig/coredig/internal/symbolize"
	"github.com/coredig/coredig/internal/testcore"
)

// FuzzFull runs the whole analysis (modules, unwinding, symbolization, Python, diagnosis)
// over mutations of a real core: the committed static crasher's core, whole. It must
// never panic, hang or grow without bound, whatever the bytes.
//
// It is slow and stays so, about 190 executions a second on one worker (57,276 in 300 s
// with minimization off; the baseline pass over the seeds alone takes about 40 s): every
// input is a whole 372 KiB core and every execution runs the whole pipeline, with the
// executable's DWARF. It is
// here for what only the joined pipeline does; each layer has a fast sibling over the
// same parser: FuzzNewCore and FuzzNotes (core), FuzzTable (cfi), FuzzEval (expr),
// FuzzStep (unwind), FuzzLookup (dwarfsym), FuzzWalk (python), FuzzClassify (diagnose),
// FuzzDecode (disasm). Run it with minimization off, or the minimizer spends the budget
// on one large input:
//
//	go test ./internal/analysis -run '^$' -fuzz '^FuzzFull$' -fuzzminimizetime 0
func FuzzFull(f *testing.F) {
	zf, err := os.ReadFile(filepath.Join(testcore.RepoRoot(f), "testdata", "fixtures", "static-deref", "core.zst"))
	if err != nil {
		f.Fatal(err)
	}
	d, _ := zstd.NewReader(nil)
	seed, err := d.DecodeAll(zf, nil)
	d.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	exe := filepath.Join(testcore.RepoRoot(f), "testdata", "fixtures", "static-deref", "static-deref")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := core.NewCore(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		a := New(c, symbolize.Options{ExePath: exe})
		defer a.Close()
		r := a.Full(FullOptions{MaxDepth: 64})
		if len(r.Threads) != len(c.Threads) {
			t.Fatalf("%d report threads for %d core threads", len(r.Threads), len(c.Threads))
		}
	})
}
