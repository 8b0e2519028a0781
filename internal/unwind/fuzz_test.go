package unwind

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/cfi"
)

const (
	fuzzLibcBias = 0x7f0000000000
	fuzzStack    = 0x7ffd00000000
)

var fuzzLibc struct {
	once  sync.Once
	bytes []byte
	table *cfi.Table
	err   error
}

// libcForFuzz loads the real libc's bytes and .eh_frame (with .eh_frame_hdr) once.
func libcForFuzz(t testing.TB) ([]byte, *cfi.Table) {
	const path = "/lib/x86_64-linux-gnu/libc.so.6"
	fuzzLibc.once.Do(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			fuzzLibc.err = err
			return
		}
		f, err := elf.Open(path)
		if err != nil {
			fuzzLibc.err = err
			return
		}
		defer f.Close()
		eh, hdr := f.Section(".eh_frame"), f.Section(".eh_frame_hdr")
		ehData, _ := eh.Data()
		hdrData, _ := hdr.Data()
		fuzzLibc.bytes = b
		fuzzLibc.table, fuzzLibc.err = cfi.New(cfi.Config{Data: ehData, Addr: eh.Addr, PtrSize: 8,
			Order: binary.LittleEndian, Hdr: hdrData, HdrAddr: hdr.Addr})
	})
	if fuzzLibc.err != nil {
		t.Fatalf("%s is needed by this fuzz target: %v", path, fuzzLibc.err)
	}
	return fuzzLibc.bytes, fuzzLibc.table
}

// FuzzStep unwinds from fuzzed registers over a fuzzed stack, with the real libc's code and
// CFI mapped (its file image at a fixed bias, standing in for its text).
func FuzzStep(f *testing.F) {
	_, _ = libcForFuzz(f)
	// Seed: a thread blocked in __futex_abstimed_wait_common (libc 0x85f16, CFA rsp+64)
	// called from pthread_cond_wait (return address 0x885d8, CFA rsp+192 there), called
	// from start_thread (0x891f5), as in the cores of the tests.
	stack := make([]byte, 512)
	binary.LittleEndian.PutUint64(stack[56:], fuzzLibcBias+0x885d8)
	binary.LittleEndian.PutUint64(stack[64+184:], fuzzLibcBias+0x891f5)
	f.Add(stack, uint64(fuzzLibcBias+0x85f16), uint64(fuzzStack), uint64(fuzzStack+0x40))
	f.Add(stack, uint64(0), uint64(fuzzStack), uint64(0))
	// The x86_64 signal trampoline __restore_rt and a frame record chain.
	f.Add(stack[:256], uint64(fuzzLibcBias+0x3c050), uint64(fuzzStack+8), uint64(fuzzStack+16))
	f.Fuzz(func(t *testing.T, stack []byte, rip, rsp, rbp uint64) {
		img, tab := libcForFuzz(t)
		if len(stack) > 1<<16 {
			stack = stack[:1<<16]
		}
		p := &fakeProc{
			regions: []region{{base: fuzzLibcBias, b: img, exec: true}, {base: fuzzStack, b: stack}},
			tables:  []CFI{{Table: tab, Bias: fuzzLibcBias}},
		}
		u := New(Config{Arch: arch.AMD64, Mem: p, Modules: p, MaxDepth: 64, ScanWords: 64}, x86Regs(rip, rsp, rbp))
		n := 0
		for u.Next() {
			fr := u.Frame()
			if fr.Index != n {
				t.Fatalf("frame index %d, want %d", fr.Index, n)
			}
			n++
		}
		if n == 0 || n > 64 {
			t.Fatalf("%d frames", n)
		}
		if err := u.Err(); err != nil && !errors.Is(err, ErrMaxDepth) && u.Frame() != nil {
			t.Fatalf("Frame after the end: %v", u.Frame())
		}
	})
}

// The fuzz seed itself unwinds through the real libc CFI as the cores do.
func TestLibcCFIOverFakeStack(t *testing.T) {
	img, tab := libcForFuzz(t)
	stack := make([]byte, 512)
	binary.LittleEndian.PutUint64(stack[56:], fuzzLibcBias+0x885d8)
	binary.LittleEndian.PutUint64(stack[64+184:], fuzzLibcBias+0x891f5)
	p := &fakeProc{
		regions: []region{{base: fuzzLibcBias, b: img, exec: true}, {base: fuzzStack, b: stack}},
		tables:  []CFI{{Table: tab, Bias: fuzzLibcBias}},
	}
	frames, err := walk(p, x86Regs(fuzzLibcBias+0x85f16, fuzzStack, 0), 3, -1)
	want := "0x7f0000085f16/context 0x7f00000885d8/cfi 0x7f00000891f5/cfi "
	if got := summary(frames); got != want || !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("got %s(%v), want %s", got, err, want)
	}
	if frames[0].CFA != fuzzStack+64 || frames[1].CFA != fuzzStack+64+192 {
		t.Errorf("CFAs %#x %#x", frames[0].CFA, frames[1].CFA)
	}
}
