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
// never panic, hang or grow without bound, whatever the bytes. The inputs are large
// (372 KiB), so run it with a short minimization budget:
//
//	go test ./internal/analysis -run XXX -fuzz FuzzFull -fuzzminimizetime 1s
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
