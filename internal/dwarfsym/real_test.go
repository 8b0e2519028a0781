package dwarfsym

import (
	"debug/elf"
	"encoding/hex"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

const libpython = "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"

// libcDebugFile finds the libc6-dbg file of this machine's libc by build-id.
func libcDebugFile(t testing.TB) string {
	t.Helper()
	f, err := elf.Open("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Fatalf("this test reads the host libc: %v", err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatal("libc has no .note.gnu.build-id")
	}
	b, err := s.Data()
	if err != nil || len(b) < 16+20 {
		t.Fatalf("libc build-id note: %v (%d bytes)", err, len(b))
	}
	id := hex.EncodeToString(b[16:])
	p := filepath.Join("/usr/lib/debug/.build-id", id[:2], id[2:]+".debug")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("libc debug file missing (apt-get install libc6-dbg): %v", err)
	}
	return p
}

// textSample returns n random addresses inside sized function symbols of f.
func textSample(t testing.TB, f *elf.File, n int, seed int64) []uint64 {
	funcs := textFuncs(t, f)
	rng := rand.New(rand.NewSource(seed))
	out := make([]uint64, 0, n)
	for len(out) < n {
		s := funcs[rng.Intn(len(funcs))]
		out = append(out, s.Value+uint64(rng.Int63n(int64(s.Size))))
	}
	return out
}

func TestLibcDebugFile(t *testing.T) {
	path := libcDebugFile(t)
	ix, f := openIndex(t, path)

	abort, size := symbolAddr(t, f, "abort")
	var addrs []uint64
	for a := abort; a < abort+size; a++ {
		addrs = append(addrs, a)
	}
	compareSample(t, ix, f, path, addrs)
	// Only abort's unit was decoded, not the thousands of others (views.go).
	if n, all := ix.viewStats(); n != 1 || all {
		t.Errorf("after abort, the view decodes %d of %d units (all: %v), want 1", n, len(ix.units), all)
	}
	fr, err := ix.Lookup(abort)
	want := addr2line(t, path, []uint64{abort})[abort]
	if err != nil || len(fr) != 1 || fr[0].Function != "abort" || filepath.Base(fr[0].File) != "abort.c" ||
		fr[0].Line != want[0].line || fr[0].Entry != abort {
		t.Fatalf("Lookup(abort=%#x) = %+v, %v; want abort abort.c:%d", abort, fr, err, want[0].line)
	}

	strlen, _ := symbolAddr(t, f, "__strlen_avx2")
	fr, err = ix.Lookup(strlen + 8)
	want = addr2line(t, path, []uint64{strlen + 8})[strlen+8]
	if err != nil || len(fr) != 1 || fr[0].Function != "__strlen_avx2" || filepath.Base(fr[0].File) != "strlen-avx2.S" || fr[0].Line != want[0].line {
		t.Fatalf("Lookup(__strlen_avx2+8) = %+v, %v; addr2line %v", fr, err, want)
	}

	compareSample(t, ix, f, path, textSample(t, f, 3000, 1))
}

func TestLibpython(t *testing.T) {
	if _, err := os.Stat(libpython); err != nil {
		t.Fatalf("pyenv CPython 3.12.1 with DWARF is this test's input: %v", err)
	}
	ix, f := openIndex(t, libpython)
	start, size := symbolAddr(t, f, "_PyEval_EvalFrameDefault")
	var addrs []uint64
	for a := start; a < start+size; a += 5 {
		addrs = append(addrs, a)
	}
	compareSample(t, ix, f, libpython, addrs)

	fr, err := ix.Lookup(start)
	want := addr2line(t, libpython, []uint64{start})[start]
	if err != nil || len(fr) != 1 || fr[0].Function != "_PyEval_EvalFrameDefault" || filepath.Base(fr[0].File) != "ceval.c" ||
		fr[0].Line != want[0].line || fr[0].Entry != start {
		t.Fatalf("Lookup(_PyEval_EvalFrameDefault) = %+v, %v; addr2line %v", fr, err, want)
	}
	compareSample(t, ix, f, libpython, textSample(t, f, 3000, 2))
}
