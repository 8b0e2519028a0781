package unwind

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
)

// ppc64's back chain: the word at a frame's r1 is its caller's r1, and the frame's return
// address is in the LR save doubleword 16 bytes into the caller's frame. A zero back
// chain ends the stack; the chain vouches for no callee-saved register (r31 here).
func TestBackChainPPC64LE(t *testing.T) {
	a := arch.PPC64LE
	p := newFake()
	text := p.regions[0].b
	for _, ret := range []int{0x108, 0x208} {
		binary.LittleEndian.PutUint32(text[ret-4:], 0x48000001) // bl
	}
	p.put(0x7000, 0x7040) // frame 0's back chain
	p.put(0x7050, textBase+0x108)
	p.put(0x7040, 0x7080) // frame 1's
	p.put(0x7090, textBase+0x208)
	p.put(0x7080, 0) // the outermost frame's
	regs := make([]uint64, len(a.RegNames))
	regs[a.PC], regs[a.SP], regs[a.Reg("r31")] = textBase+0x10, 0x7000, 0x1234
	u := New(Config{Arch: a, Mem: p, Modules: p, ScanWords: -1, ContextIsReturn: true}, regs)
	var frames []*Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if got, want := summary(frames), "0x400010/context 0x400108/frame_pointer 0x400208/frame_pointer "; got != want || u.Err() != nil {
		t.Fatalf("got %s(%v), want %s", got, u.Err(), want)
	}
	if frames[1].SP != 0x7040 || frames[2].SP != 0x7080 || frames[0].CFA != 0x7040 {
		t.Errorf("sp %#x, %#x; cfa %#x", frames[1].SP, frames[2].SP, frames[0].CFA)
	}
	if v, ok := frames[1].Regs.Get(a.Reg("r31")); ok {
		t.Errorf("frame 1 keeps r31 = %#x, which the chain does not say", v)
	}

	// A word at r1 below it is no chain: the back chain gives nothing.
	p.put(0x7000, 0x6000)
	u = New(Config{Arch: a, Mem: p, Modules: p, ScanWords: -1, ContextIsReturn: true}, regs)
	for u.Next() {
	}
	if u.Err() == nil {
		t.Errorf("a back chain below the stack pointer was followed")
	}
}

// An aarch64 frame 0 that no table describes and whose frame record (at x29) does not
// hold the link register is a leaf: its caller is at x30, with its own x29 and sp, and the
// record at x29 is that caller's. When the record holds x30, the frame pointer is
// followed instead.
func TestLeafLinkRegisterARM64(t *testing.T) {
	a := arch.ARM64
	p := newFake()
	text := p.regions[0].b
	for _, ret := range []int{0x108, 0x208} {
		binary.LittleEndian.PutUint32(text[ret-4:], 0x94000000) // bl
	}
	p.put(0x7020, 0) // the caller's record: the outermost frame's saved x29 ...
	p.put(0x7028, textBase+0x208)
	regs := make([]uint64, len(a.RegNames))
	regs[a.PC], regs[a.SP], regs[a.FP], regs[a.LR] = textBase+0x10, 0x7000, 0x7020, textBase+0x108
	walk := func() string {
		u := New(Config{Arch: a, Mem: p, Modules: p, ScanWords: -1}, regs)
		var frames []*Frame
		for u.Next() {
			frames = append(frames, u.Frame())
		}
		return summary(frames)
	}
	if got, want := walk(), "0x400010/context 0x400108/scan 0x400208/frame_pointer "; got != want {
		t.Errorf("leaf: got %s, want %s", got, want)
	}
	p.put(0x7028, textBase+0x108) // the record holds x30: frame 0 saved it
	if got, want := walk(), "0x400010/context 0x400108/frame_pointer "; got != want {
		t.Errorf("framed: got %s, want %s", got, want)
	}
}

// FuzzBackChainLeaf unwinds ppc64le's back chain and aarch64's leaf and frame-record
// steps over a fuzzed stack and registers, with calls in the text: the walk ends within
// MaxDepth, its frames numbered in order, and never panics.
func FuzzBackChainLeaf(f *testing.F) {
	seed := make([]byte, 0x100)
	binary.LittleEndian.PutUint64(seed[0:], stackBase+0x40)
	binary.LittleEndian.PutUint64(seed[0x50:], textBase+0x108)
	f.Add(seed, false, uint64(textBase+0x10), uint64(stackBase), uint64(textBase+0x108), uint64(stackBase+0x20))
	f.Add(seed, true, uint64(textBase+0x10), uint64(stackBase), uint64(textBase+0x108), uint64(stackBase+0x20))
	f.Fuzz(func(t *testing.T, stack []byte, arm bool, pc, sp, lr, fp uint64) {
		if len(stack) > 1<<12 {
			stack = stack[:1<<12]
		}
		p := newFake()
		p.regions[1].b = stack
		text := p.regions[0].b
		a := arch.PPC64LE
		call := uint32(0x48000001) // bl
		if arm {
			a, call = arch.ARM64, 0x94000000
		}
		for _, ret := range []int{0x108, 0x208, 0x308} {
			binary.LittleEndian.PutUint32(text[ret-4:], call)
		}
		regs := make([]uint64, len(a.RegNames))
		regs[a.PC], regs[a.SP], regs[a.LR] = pc, sp, lr
		if a.FP >= 0 {
			regs[a.FP] = fp
		}
		u := New(Config{Arch: a, Mem: p, Modules: p, MaxDepth: 64, ScanWords: 32, ContextIsReturn: !arm}, regs)
		n := 0
		for u.Next() {
			if fr := u.Frame(); fr.Index != n {
				t.Fatalf("frame index %d, want %d", fr.Index, n)
			}
			n++
		}
		if n == 0 || n > 64 {
			t.Fatalf("%d frames", n)
		}
	})
}
