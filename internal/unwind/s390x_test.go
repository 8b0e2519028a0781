package unwind

import (
	"encoding/binary"
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/dwarf/cfi"
)

// s390x: the CFA is the caller's r15 plus 160 (Arch.CFABias), and a leaf function's CFI
// may keep a call-saved general register in a floating-point register (GCC's
// "DW_CFA_register r12 in f2", DWARF 17), which the thread's NT_PRFPREG supplies.
func TestS390XLeafCFI(t *testing.T) {
	a := arch.S390X
	be := binary.BigEndian
	// .debug_frame, big-endian: a CIE (code alignment 1, data alignment -8, return
	// address column 14) whose initial instructions are the leaf's whole CFI, and one FDE.
	cie := []byte{0xff, 0xff, 0xff, 0xff, 1, 0, 1, 0x78, 14,
		cfi.DW_CFA_def_cfa, 15, 0xa0, 0x01, // CFA = r15 + 160
		cfi.DW_CFA_register, 12, 17} // r12 in f2
	for len(cie)%8 != 4 {
		cie = append(cie, 0)
	}
	b := be.AppendUint32(nil, uint32(len(cie)))
	b = append(b, cie...)
	fde := be.AppendUint32(nil, 0)
	fde = be.AppendUint64(fde, textBase)
	fde = be.AppendUint64(fde, 0x1000)
	b = be.AppendUint32(b, uint32(len(fde)))
	b = append(b, fde...)
	tab, err := cfi.New(cfi.Config{Section: cfi.DebugFrame, Data: b, PtrSize: 8, Order: be})
	if err != nil {
		t.Fatal(err)
	}
	p := newFake()
	p.tables = []CFI{{Table: tab}}
	regs := make([]uint64, len(a.RegNames))
	regs[a.PC], regs[a.SP], regs[a.LR] = textBase+0x10, stackBase, textBase+0x106
	regs[a.Reg("r12")], regs[a.Reg("f2")] = 0xdead, 0x1234
	u := New(Config{Arch: a, Mem: p, Modules: p, MaxDepth: 2, ScanWords: -1}, regs)
	var frames []*Frame
	for u.Next() {
		frames = append(frames, u.Frame())
	}
	if len(frames) != 2 {
		t.Fatalf("%d frames (%v)", len(frames), u.Err())
	}
	if frames[0].CFA != stackBase+160 {
		t.Errorf("frame 0 CFA %#x, want r15+160", frames[0].CFA)
	}
	f := frames[1]
	r12, _ := f.Regs.Get(a.Reg("r12"))
	r15, _ := f.Regs.Get(a.SP)
	if f.PC != textBase+0x106 || f.SP != stackBase || r15 != stackBase || r12 != 0x1234 {
		t.Errorf("frame 1: pc %#x sp %#x r15 %#x r12 %#x; want pc %#x, sp and r15 %#x, r12 from f2 0x1234",
			f.PC, f.SP, r15, r12, textBase+0x106, stackBase)
	}
	if _, ok := f.Regs.Get(a.Reg("f2")); ok {
		t.Error("f2 (call-clobbered) should be unknown in the caller")
	}
}
