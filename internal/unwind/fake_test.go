package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/cfi"
)

// fakeErr stands for the core's typed memory error.
type fakeErr struct{ addr uint64 }

func (e *fakeErr) Error() string { return fmt.Sprintf("memory at %#x: not dumped", e.addr) }

type region struct {
	base uint64
	b    []byte
	exec bool
}

// fakeProc is memory made of regions plus modules with optional CFI.
type fakeProc struct {
	regions []region
	tables  []CFI
}

func (p *fakeProc) ReadAt(b []byte, addr uint64) (int, error) {
	for _, r := range p.regions {
		if addr >= r.base && addr-r.base < uint64(len(r.b)) {
			n := copy(b, r.b[addr-r.base:])
			if n < len(b) {
				return n, &fakeErr{addr + uint64(n)}
			}
			return n, nil
		}
	}
	return 0, &fakeErr{addr}
}

func (p *fakeProc) CFI(pc uint64) []CFI { return p.tables }

func (p *fakeProc) Executable(addr uint64) bool {
	for _, r := range p.regions {
		if r.exec && addr >= r.base && addr-r.base < uint64(len(r.b)) {
			return true
		}
	}
	return false
}

const (
	textBase  = 0x400000
	stackBase = 0x7000
)

// newFake returns text with call sites ("e8 rel32" ending at textBase+0x105 and +0x205)
// and an empty stack of 0x100 bytes.
func newFake() *fakeProc {
	text := make([]byte, 0x1000)
	for _, ret := range []int{0x105, 0x205, 0x305} {
		text[ret-5] = 0xe8
	}
	return &fakeProc{regions: []region{
		{base: textBase, b: text, exec: true},
		{base: stackBase, b: make([]byte, 0x100)},
	}}
}

func (p *fakeProc) put(addr, v uint64) {
	for _, r := range p.regions {
		if addr >= r.base && addr-r.base+8 <= uint64(len(r.b)) {
			binary.LittleEndian.PutUint64(r.b[addr-r.base:], v)
			return
		}
	}
	panic("fake: no region") // a mistake in the test itself
}

func x86Regs(rip, rsp, rbp uint64) []uint64 {
	r := make([]uint64, len(arch.AMD64.RegNames))
	r[arch.AMD64.PC], r[arch.AMD64.SP], r[arch.AMD64.FP] = rip, rsp, rbp
	return r
}

func walk(p *fakeProc, regs []uint64, depth, scan int) ([]*Frame, error) {
	u := New(Config{Arch: arch.AMD64, Mem: p, Modules: p, MaxDepth: depth, ScanWords: scan}, regs)
	var out []*Frame
	for u.Next() {
		out = append(out, u.Frame())
	}
	return out, u.Err()
}

func summary(frames []*Frame) string {
	s := ""
	for _, f := range frames {
		s += fmt.Sprintf("%#x/%s ", f.PC, f.FoundBy)
	}
	return s
}

func TestFramePointerChain(t *testing.T) {
	p := newFake()
	p.put(0x7010, 0x7030) // saved rbp
	p.put(0x7018, textBase+0x105)
	p.put(0x7030, 0) // the outermost frame marks the chain's end with rbp = 0
	p.put(0x7038, textBase+0x205)
	frames, err := walk(p, x86Regs(textBase+0x10, 0x7000, 0x7010), 0, -1)
	if got, want := summary(frames), "0x400010/context 0x400105/frame_pointer 0x400205/frame_pointer "; got != want || err != nil {
		t.Fatalf("got %s(%v), want %s", got, err, want)
	}
	if frames[1].SP != 0x7020 || frames[1].CFA != 0x7040 || !frames[1].ReturnAddress || frames[1].LookupPC() != textBase+0x104 {
		t.Errorf("frame 1: %+v", frames[1])
	}
	if v, ok := frames[2].Regs.Get(arch.AMD64.FP); !ok || v != 0 {
		t.Errorf("frame 2 rbp %#x %v", v, ok)
	}
	if _, ok := frames[1].Regs.Get(arch.AMD64.Reg("rax")); ok {
		t.Error("rax (caller-saved) should be unknown in frame 1")
	}
}

func TestMaxDepth(t *testing.T) {
	p := newFake()
	p.put(0x7010, 0x7030)
	p.put(0x7018, textBase+0x105)
	p.put(0x7038, textBase+0x205)
	frames, err := walk(p, x86Regs(textBase+0x10, 0x7000, 0x7010), 2, -1)
	if len(frames) != 2 || !errors.Is(err, ErrMaxDepth) {
		t.Errorf("%d frames, %v", len(frames), err)
	}
}

func TestScan(t *testing.T) {
	p := newFake()
	p.put(0x7000, 0x1234)         // junk
	p.put(0x7008, textBase+0x100) // in text, but not after a call
	p.put(0x7010, textBase+0x305) // a return address
	frames, err := walk(p, x86Regs(textBase+0x10, 0x7000, 0x7003), 2, 0)
	if got, want := summary(frames), "0x400010/context 0x400305/scan "; got != want || !errors.Is(err, ErrMaxDepth) {
		t.Fatalf("got %s(%v), want %s", got, err, want)
	}
	if frames[1].SP != 0x7018 || frames[0].CFA != 0x7018 {
		t.Errorf("scan frame sp %#x, cfa %#x", frames[1].SP, frames[0].CFA)
	}
	// A call through a NULL pointer: pc 0, the return address at the top of the stack.
	p.put(0x7000, textBase+0x205)
	frames, _ = walk(p, x86Regs(0, 0x7000, 0x7010), 2, 0)
	if got, want := summary(frames), "0x0/context 0x400205/scan "; got != want {
		t.Errorf("wild call: got %s, want %s", got, want)
	}
}

// A scan that finds a return address into the code that starts a thread (glibc's clone
// child, Config.ThreadStart) ends the stack at the frame it scanned from, quietly; other
// return addresses the scan finds are frames as before.
func TestScanEndsAtThreadStart(t *testing.T) {
	p := newFake()
	p.put(0x7010, textBase+0x305) // the return address after clone's call of start_thread
	var asked []uint64
	u := New(Config{Arch: arch.AMD64, Mem: p, Modules: p, ThreadStart: func(pc uint64) bool {
		asked = append(asked, pc)
		return pc >= textBase+0x300 && pc < textBase+0x340
	}}, x86Regs(textBase+0x10, 0x7000, 0x7003))
	var frames []*Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if got, want := summary(frames), "0x400010/context "; got != want || u.Err() != nil || frames[0].Err != nil {
		t.Fatalf("got %s(%v), want %s and no error", got, u.Err(), want)
	}
	if len(asked) != 1 || asked[0] != textBase+0x304 {
		t.Errorf("ThreadStart asked %#x, want the return address's lookup pc %#x", asked, textBase+0x304)
	}
	// Another return address goes on being a frame.
	u = New(Config{Arch: arch.AMD64, Mem: p, Modules: p, MaxDepth: 2,
		ThreadStart: func(pc uint64) bool { return pc >= textBase+0x200 && pc < textBase+0x240 }}, x86Regs(textBase+0x10, 0x7000, 0x7003))
	frames = frames[:0]
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if got, want := summary(frames), "0x400010/context 0x400305/scan "; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// debugFrame builds a .debug_frame with one CIE (the given initial instructions, code
// alignment 1, data alignment -8, return address column 16) and one FDE for [begin, end).
func debugFrame(t *testing.T, begin, end uint64, initial ...byte) *cfi.Table {
	t.Helper()
	cie := []byte{0xff, 0xff, 0xff, 0xff, 1, 0, 1, 0x78, 16}
	cie = append(cie, initial...)
	for len(cie)%8 != 4 {
		cie = append(cie, 0)
	}
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cie)))
	b = append(b, cie...)
	fde := binary.LittleEndian.AppendUint32(nil, 0)
	fde = binary.LittleEndian.AppendUint64(fde, begin)
	fde = binary.LittleEndian.AppendUint64(fde, end-begin)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fde)))
	b = append(b, fde...)
	tab, err := cfi.New(cfi.Config{Section: cfi.DebugFrame, Data: b, PtrSize: 8, Order: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestCFIMemoryError(t *testing.T) {
	p := newFake()
	// CFA = rsp+8, return address at CFA-8: the stack pointer is outside any region.
	p.tables = []CFI{{Table: debugFrame(t, textBase, textBase+0x1000, cfi.DW_CFA_def_cfa, 7, 8, cfi.DW_CFA_offset|16, 1)}}
	frames, err := walk(p, x86Regs(textBase+0x10, 0x9000, 0), 0, -1)
	var fe *fakeErr
	if len(frames) != 1 || !errors.As(frames[0].Err, &fe) || fe.addr != 0x9000 || err != frames[0].Err {
		t.Fatalf("frames %s, frame error %v, err %v", summary(frames), frames[0].Err, err)
	}
	if !frames[0].HasCFA || frames[0].CFA != 0x9008 {
		t.Errorf("CFA %#x known %v", frames[0].CFA, frames[0].HasCFA)
	}
}

func TestCFANotIncreasing(t *testing.T) {
	p := newFake()
	// CFA = rbp+16, rbp saved at CFA-16, return address at CFA-8: a frame record whose
	// saved rbp points to itself loops.
	p.tables = []CFI{{Table: debugFrame(t, textBase, textBase+0x1000,
		cfi.DW_CFA_def_cfa, 6, 16, cfi.DW_CFA_offset|16, 1, cfi.DW_CFA_offset|6, 2)}}
	p.put(0x7010, 0x7010)
	p.put(0x7018, textBase+0x105)
	frames, err := walk(p, x86Regs(textBase+0x10, 0x7000, 0x7010), 0, -1)
	if len(frames) != 2 || !errors.Is(err, ErrCFANotIncrease) || !errors.Is(frames[1].Err, ErrCFANotIncrease) {
		t.Errorf("frames %s, err %v", summary(frames), err)
	}
	// An undefined return address ends the stack normally.
	p.tables = []CFI{{Table: debugFrame(t, textBase, textBase+0x1000, cfi.DW_CFA_def_cfa, 7, 8, cfi.DW_CFA_undefined, 16)}}
	frames, err = walk(p, x86Regs(textBase+0x10, 0x7000, 0x7010), 0, 0)
	if len(frames) != 1 || err != nil || frames[0].Err != nil || frames[0].CFA != 0x7008 {
		t.Errorf("outermost frame: %s, %v", summary(frames), err)
	}
}
