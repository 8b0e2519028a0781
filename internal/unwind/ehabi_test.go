package unwind

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/ehabi"
)

// ehabiProc is fakeProc with one module's EHABI table.
type ehabiProc struct {
	*fakeProc
	tab *EHABI
}

func (p ehabiProc) EHABI(pc uint64) *EHABI { return p.tab }

const (
	armText = 0x10000 // the module's load bias: link-time 0 is here
	armSP   = 0x7000
)

// armFake is a module at armText with four functions (link-time addresses) described by
// .ARM.exidx at link-time 0x800 and .ARM.extab at 0x900:
//
//	0x100 leaf   inline 0x80b0b0b0: finish (lr is the return address)
//	0x200 mid    inline 0x80a8b0b0: pop {r4, lr}
//	0x300 top    extab, routine 1: 0x01 vsp += 8; 0xaa pop {r4-r6, lr}
//	0x400 start  EXIDX_CANTUNWIND (_start)
//	0x500        EXIDX_CANTUNWIND (end of text)
//
// and a stack of 32-bit words at armSP: mid's {r4, lr} = {0x1111, top+0xc|1} at armSP,
// top's 8 bytes of locals then {r4, r5, r6, lr} = {0x2222, 0x3333, 0x4444, start+0x10|1}.
func armFake(t *testing.T) ehabiProc {
	t.Helper()
	text := make([]byte, 0x1000)
	put := func(b []byte, off int, w uint32) { binary.LittleEndian.PutUint32(b[off:], w) }
	prel := func(target, at int) uint32 { return uint32(target-at) & 0x7fffffff }
	for i, e := range []struct {
		fn   int
		word uint32
	}{
		{0x100, 0x80b0b0b0}, {0x200, 0x80a8b0b0}, {0x300, prel(0x900, 0x800+8*2+4)},
		{0x400, ehabi.EXIDX_CANTUNWIND}, {0x500, ehabi.EXIDX_CANTUNWIND},
	} {
		put(text, 0x800+8*i, prel(e.fn, 0x800+8*i))
		put(text, 0x800+8*i+4, e.word)
	}
	put(text, 0x900, 0x810001aa)
	stack := make([]byte, 0x100)
	for i, w := range []uint32{0x1111, armText + 0x30c | 1, 0xdead, 0xbeef, 0x2222, 0x3333, 0x4444, armText + 0x410 | 1} {
		put(stack, 4*i, w)
	}
	p := &fakeProc{regions: []region{{base: armText, b: text, exec: true}, {base: armSP, b: stack}}}
	tab, err := ehabi.New(ehabi.Config{Data: text[0x800:0x828], Addr: 0x800, Extab: linkTime{p}})
	if err != nil {
		t.Fatal(err)
	}
	return ehabiProc{fakeProc: p, tab: &EHABI{Table: tab, Bias: armText}}
}

// linkTime reads the module's link-time addresses from the fake's memory.
type linkTime struct{ p *fakeProc }

func (l linkTime) ReadAt(b []byte, addr uint64) (int, error) { return l.p.ReadAt(b, addr+armText) }

func armRegs(pc, sp, lr uint64) []uint64 {
	a := arch.ARM
	r := make([]uint64, len(a.RegNames))
	r[a.PC], r[a.SP], r[a.LR], r[a.Reg("r4")], r[a.Reg("r0")] = pc, sp, lr, 0x44, 0xa0
	return r
}

func armWalk(p ehabiProc, regs []uint64) ([]*Frame, error) {
	u := New(Config{Arch: arch.ARM, Mem: p, Modules: p}, regs)
	var out []*Frame
	for u.Next() {
		out = append(out, u.Frame())
	}
	return out, u.Err()
}

// A leaf, two callers and _start, each frame found by its EHABI opcodes; the Thumb bit of
// each return address is cleared from the frame's pc; _start's EXIDX_CANTUNWIND ends the
// stack without an error.
func TestEHABIWalk(t *testing.T) {
	p := armFake(t)
	frames, err := armWalk(p, armRegs(armText+0x110, armSP, armText+0x20b))
	if got, want := summary(frames), "0x10110/context 0x1020a/exidx 0x1030c/exidx 0x10410/exidx "; got != want || err != nil {
		t.Fatalf("got %s(%v), want %s", got, err, want)
	}
	a := arch.ARM
	type want struct {
		sp, cfa uint64
		regs    map[string]uint64 // known, with these values
		unknown []string
	}
	for i, w := range []want{
		{sp: armSP, cfa: armSP, regs: map[string]uint64{"r4": 0x44, "r0": 0xa0}},
		{sp: armSP, cfa: armSP + 8, regs: map[string]uint64{"r4": 0x44, "r15": 0x1020a}, unknown: []string{"r0", "r14"}},
		{sp: armSP + 8, cfa: armSP + 32, regs: map[string]uint64{"r4": 0x1111, "r14": 0x1030d, "r15": 0x1030c}, unknown: []string{"r0", "r12"}},
		{sp: armSP + 32, regs: map[string]uint64{"r4": 0x2222, "r5": 0x3333, "r6": 0x4444, "r14": 0x10411, "r13": armSP + 32}},
	} {
		f := frames[i]
		if f.SP != w.sp || (w.cfa != 0 && (!f.HasCFA || f.CFA != w.cfa)) || (i > 0) != f.ReturnAddress {
			t.Errorf("frame %d: sp %#x cfa %#x (%v) return address %v, want sp %#x cfa %#x", i, f.SP, f.CFA, f.HasCFA, f.ReturnAddress, w.sp, w.cfa)
		}
		for name, v := range w.regs {
			if got, ok := f.Regs.Get(a.Reg(name)); !ok || got != v {
				t.Errorf("frame %d: %s = %#x (known %v), want %#x", i, name, got, ok, v)
			}
		}
		for _, name := range w.unknown {
			if v, ok := f.Regs.Get(a.Reg(name)); ok {
				t.Errorf("frame %d: %s = %#x should be unknown", i, name, v)
			}
		}
		if f.Err != nil {
			t.Errorf("frame %d: %v", i, f.Err)
		}
	}
	if frames[1].LookupPC() != 0x10209 {
		t.Errorf("frame 1 looked up at %#x", frames[1].LookupPC())
	}
}

func TestEHABIErrors(t *testing.T) {
	p := armFake(t)
	// The crash is in _start itself: EXIDX_CANTUNWIND, nothing else finds a caller, and
	// frame 0 says why.
	frames, err := armWalk(p, armRegs(armText+0x404, armSP, 0))
	if len(frames) != 1 || !errors.Is(err, errCantUnwind) || frames[0].Err != err {
		t.Errorf("cantunwind at frame 0: %s %v", summary(frames), err)
	}
	// mid pops {r4, lr} from an unmapped stack: the memory's error is kept.
	frames, err = armWalk(p, armRegs(armText+0x204, 0x9000, 0))
	var fe *fakeErr
	var se *ehabi.StackError
	if len(frames) != 1 || !errors.As(err, &fe) || fe.addr != 0x9000 || !errors.As(err, &se) {
		t.Errorf("unreadable stack: %s %v", summary(frames), err)
	}
	// Below the first entry no table covers the pc.
	frames, err = armWalk(p, armRegs(armText+0x10, armSP, 0))
	if len(frames) != 1 || !errors.Is(err, ErrNoCaller) {
		t.Errorf("no entry: %s %v", summary(frames), err)
	}
	// There, a link register that returns to Thumb code just after a T32 BL (f000 f800,
	// ending at 0x600) gives the caller, found by the scan, the call read before the
	// address without its Thumb bit. Its function (from 0x500) is EXIDX_CANTUNWIND and
	// nothing on the stack is a return address: the stack ends there without an error.
	copy(p.regions[0].b[0x5fc:], []byte{0x00, 0xf0, 0x00, 0xf8})
	frames, err = armWalk(p, armRegs(armText+0x10, armSP, armText+0x601))
	if got, want := summary(frames), "0x10010/context 0x10600/scan "; got != want || err != nil {
		t.Errorf("thumb link register: got %s(%v), want %s", got, err, want)
	}
}

// prologueProc adds symbol tables that know one Thumb function at link-time 0x600.
type prologueProc struct{ ehabiProc }

func (p prologueProc) FunctionStart(pc uint64) (uint64, bool) {
	for _, fn := range []uint64{0x200, 0x600} {
		if pc >= armText+fn && pc < armText+fn+0x100 {
			return armText + fn | 1, true // a Thumb function's symbol has bit 0 set
		}
	}
	return 0, false
}

// A Thumb function that no table describes (it lies in the EXIDX_CANTUNWIND range from
// 0x500): push {r7, lr}; sub sp, #8; then the crash at 0x604. Its caller comes from the
// prologue: CFA = sp + 16, r7 and lr at CFA-8 and CFA-4; then top unwinds by EHABI and
// _start ends the stack.
func TestPrologueWalk(t *testing.T) {
	p := prologueProc{armFake(t)}
	copy(p.regions[0].b[0x600:], []byte{0x80, 0xb5, 0x82, 0xb0, 0x00, 0x20})
	sp0 := uint64(armSP + 0x40)
	for i, w := range []uint32{0xdead, 0xbeef, 0x7777, armText + 0x30d, 0, 0, 0x2222, 0x3333, 0x4444, armText + 0x411} {
		binary.LittleEndian.PutUint32(p.regions[1].b[0x40+4*i:], w)
	}
	u := New(Config{Arch: arch.ARM, Mem: p, Modules: p}, armRegs(armText+0x604, sp0, 0x1234))
	var frames []*Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if got, want := summary(frames), "0x10604/context 0x1030c/prologue 0x10410/exidx "; got != want || u.Err() != nil {
		t.Fatalf("got %s(%v), want %s", got, u.Err(), want)
	}
	if f := frames[0]; f.CFA != sp0+16 {
		t.Errorf("frame 0 CFA %#x", f.CFA)
	}
	if v, ok := frames[1].Regs.Get(arch.ARM.Reg("r7")); !ok || v != 0x7777 || frames[1].SP != sp0+16 {
		t.Errorf("frame 1: r7 %#x %v, sp %#x", v, ok, frames[1].SP)
	}
	// At the function's first instruction no prologue instruction has run: no caller
	// from it (the scan's link-register check is left to find one).
	if f := (&Frame{PC: armText + 0x600, SP: sp0, Regs: newRegisters(len(arch.ARM.RegNames))}); New(Config{Arch: arch.ARM, Mem: p, Modules: p}, nil).stepPrologue(f) != nil {
		t.Error("a prologue at its first instruction found a caller")
	}
}

// A crash at the first instruction of mid (push {r4, lr}, EHABI: pop {r4, lr}), as a
// stack overflow faults there: the table holds only after the push, so the frame is
// unwound from its code, here by the link register, which returns after a T32 BL.
func TestEHABIInPrologue(t *testing.T) {
	p := prologueProc{armFake(t)}
	copy(p.regions[0].b[0x200:], []byte{0x10, 0xb5, 0x00, 0x20})
	copy(p.regions[0].b[0x5fc:], []byte{0x00, 0xf0, 0x00, 0xf8})
	frames, _ := armWalk(p.ehabiProc, armRegs(armText+0x200, armSP, armText+0x601))
	if len(frames) < 2 || frames[1].FoundBy != FoundByEHABI {
		t.Fatalf("without symbols, the table is used: %s", summary(frames))
	}
	u := New(Config{Arch: arch.ARM, Mem: p, Modules: p}, armRegs(armText+0x200, armSP, armText+0x601))
	var got []*Frame
	for u.Next() && len(got) < 2 {
		got = append(got, u.Frame())
	}
	if s, want := summary(got), "0x10200/context 0x10600/scan "; s != want {
		t.Errorf("at the push: got %s, want %s", s, want)
	}
	// After the push the table and the code agree: the table is used.
	u = New(Config{Arch: arch.ARM, Mem: p, Modules: p}, armRegs(armText+0x202, armSP, 0))
	got = got[:0]
	for u.Next() && len(got) < 2 {
		got = append(got, u.Frame())
	}
	if s, want := summary(got), "0x10202/context 0x1030c/exidx "; s != want {
		t.Errorf("after the push: got %s, want %s", s, want)
	}
}
