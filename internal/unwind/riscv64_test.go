package unwind

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// riscv64's frame pointer s0 is the frame's CFA; the frame record (the caller's s0, then
// ra) sits just below it (arch.RISCV64.FrameRecord = -16), not at it as on x86_64.
func TestFramePointerChainRISCV64(t *testing.T) {
	a := arch.RISCV64
	p := newFake()
	p.put(0x7010, 0x7040) // frame 0's record: the caller's s0 ...
	p.put(0x7018, textBase+0x105)
	p.put(0x7030, 0) // ... and the outermost frame's: s0 = 0 ends the chain
	p.put(0x7038, textBase+0x205)
	regs := make([]uint64, len(a.RegNames))
	regs[a.PC], regs[a.SP], regs[a.FP] = textBase+0x10, 0x7000, 0x7020
	u := New(Config{Arch: a, Mem: p, Modules: p, ScanWords: -1}, regs)
	var frames []*Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if got, want := summary(frames), "0x400010/context 0x400105/frame_pointer 0x400205/frame_pointer "; got != want || u.Err() != nil {
		t.Fatalf("got %s(%v), want %s", got, u.Err(), want)
	}
	if frames[1].SP != 0x7020 || frames[1].CFA != 0x7040 {
		t.Errorf("frame 1: sp %#x cfa %#x, want 0x7020 and 0x7040", frames[1].SP, frames[1].CFA)
	}
	if v, ok := frames[1].Regs.Get(a.FP); !ok || v != 0x7040 {
		t.Errorf("frame 1 s0 %#x %v", v, ok)
	}
}
