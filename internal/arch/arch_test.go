package arch

import (
	"debug/elf"
	"testing"
)

func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		a                *Arch
		nregs, pc, sp    int
		regsEnd, prsSize int
		ra               string
	}{
		{AMD64, 27, 16, 19, 112 + 216, 336, "rip"},
		{ARM64, 34, 32, 31, 112 + 272, 392, "x30"},
	} {
		if len(tc.a.RegNames) != tc.nregs || tc.a.PC != tc.pc || tc.a.SP != tc.sp {
			t.Errorf("%s: regs %d pc %d sp %d", tc.a.Name, len(tc.a.RegNames), tc.a.PC, tc.a.SP)
		}
		if tc.a.PrStatus.Regs+tc.a.PrStatus.RegsSize != tc.regsEnd || tc.a.PrStatus.Size != tc.prsSize {
			t.Errorf("%s: prstatus layout %+v", tc.a.Name, tc.a.PrStatus)
		}
		if got := tc.a.RegNames[tc.a.FromDWARF(uint64(tc.a.DWARFRA))]; got != tc.ra {
			t.Errorf("%s: return address column maps to %s, want %s", tc.a.Name, got, tc.ra)
		}
	}
	if AMD64.RegNames[AMD64.FromDWARF(7)] != "rsp" || AMD64.RegNames[AMD64.FromDWARF(6)] != "rbp" {
		t.Error("x86_64 DWARF 6/7 are not rbp/rsp")
	}
	if AMD64.FromDWARF(17) != -1 || AMD64.FromDWARF(1000) != -1 {
		t.Error("untracked DWARF registers must map to -1")
	}
	if a, err := ForMachine(elf.EM_AARCH64, elf.ELFCLASS64); err != nil || a != ARM64 {
		t.Errorf("ForMachine(aarch64) = %v, %v", a, err)
	}
	if _, err := ForMachine(elf.EM_386, elf.ELFCLASS32); err == nil {
		t.Error("i386 is not supported yet and must say so")
	}
	if !AMD64.Canonical(0x7fff_ffff_f000) || AMD64.Canonical(0x8000_0000_0000) || !AMD64.Canonical(0xffff_8000_0000_0000) {
		t.Error("canonical address check is wrong")
	}
}
