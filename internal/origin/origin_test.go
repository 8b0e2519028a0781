package origin

import (
	"testing"

	"github.com/coredig/coredig/internal/arch"
	"github.com/coredig/coredig/internal/disasm"
)

// The backward search's control flow on hand-made x86_64 code: the one predecessor
// across a branch, padding after a jump skipped, two paths refused, a loop stopped.
func TestWalkPredecessors(t *testing.T) {
	s := &Search{Arch: arch.AMD64}
	mov := func(pc uint64, dst string) disasm.Inst {
		return disasm.Inst{PC: pc, Len: 3, Mnemonic: "mov", Text: "mov $1,%" + dst, RegArgs: []string{dst}, Dest: dst}
	}
	jmp := func(pc, target uint64, mnem string) disasm.Inst {
		return disasm.Inst{PC: pc, Len: 2, Mnemonic: mnem, Text: mnem, IsBranch: true, Target: target, NoFallThrough: mnem == "jmp"}
	}
	nop := disasm.Inst{PC: 0x106, Len: 1, Mnemonic: "nop", Text: "nop"}
	// 0x100 mov rbx; 0x103 je 0x107; 0x105 (jmp 0x110); 0x106 nop (padding); 0x107 mov rdi
	insts := []disasm.Inst{mov(0x100, "rbx"), jmp(0x103, 0x107, "je"), jmp(0x105, 0x110, "jmp"), nop, mov(0x107, "rdi")}
	w := s.newWalk(insts, nil, nil, 0, nil, 0)
	if p, err := w.pred(4); err != nil || p != 1 {
		t.Errorf("pred of 0x107 = %d, %v; want the je (1): the padding after the jmp never runs", p, err)
	}
	if p, err := w.pred(0); err != nil || p != -1 {
		t.Errorf("pred of the entry = %d, %v", p, err)
	}
	// A second branch to 0x107 from 0x100's successor: two paths.
	insts2 := []disasm.Inst{mov(0x100, "rbx"), jmp(0x103, 0x107, "je"), jmp(0x105, 0x107, "jne"), mov(0x107, "rdi")}
	w = s.newWalk(insts2, nil, nil, 0, nil, 0)
	if _, err := w.pred(3); err == nil {
		t.Error("two paths into 0x107 were not refused")
	} else if err.Error() != "set on more than one path" {
		t.Errorf("two paths: %v", err)
	}
	// A cycle that no path enters (after a ret): each step has one predecessor, round
	// and round; the search must stop.
	ret := disasm.Inst{PC: 0x100, Len: 2, Mnemonic: "ret", Text: "ret", IsReturn: true, NoFallThrough: true}
	loop := []disasm.Inst{ret, mov(0x102, "rax"), jmp(0x105, 0x102, "jmp")}
	w = s.newWalk(loop, nil, nil, 0, nil, 0)
	if v := w.trace(1, "rdi", 0); v.present || v.how != "set inside a loop" {
		t.Errorf("trace in a loop = %+v", v)
	}
	// Straight code: the register is an argument never set.
	w = s.newWalk(insts[:2], nil, nil, 0, nil, 0)
	if v := w.trace(2, "rdi", 0); v.arg != 1 {
		t.Errorf("rdi at the top of a function = %+v, want argument 1", v)
	}
	if v := w.trace(2, "rdi", 0); v.how != "not set in this function: argument 1, passed in rdi by the caller" {
		t.Errorf("rdi at the top of a function: how %q", v.how)
	}
	if v := w.trace(2, "r10", 0); v.arg != 0 || v.how != "not set in this function before the fault" {
		t.Errorf("r10 at the top of a function = %+v", v)
	}
}
